"""Text utilities shared by question generation and grading.

* `normalise` / `key`: the forms two strings are compared in (width, case, quotes, punctuation,
  spacing, Traditional -> Simplified Chinese).
* `term_pattern` / `mask` / `mentions`: find a term and its recognisable forms inside a text
  (case, plural, hyphen/space variants, simple inflections; substrings for Chinese).
* `shorten`: cut a text to a limit at a sentence or word boundary, never leaving a dangling
  fragment.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import opencc

BLANK = "____"
ELLIPSIS = "…"

_T2S = opencc.OpenCC("t2s")

# Quote-like characters folded to plain ones before punctuation is dropped.
_QUOTES = str.maketrans({c: "'" for c in "‘’‚‛′`´"} | {c: '"' for c in "“”„‟″«»「」『』"})
# Dashes and hyphens that join the parts of a term ("fine-tuning", "fine‑tuning").
_DASHES = "-‐‑‒–—"


def is_cjk(ch: str) -> bool:
    """True for a Han character (the only Chinese script the glossary uses)."""
    return (
        "\u4e00" <= ch <= "\u9fff"
        or "\u3400" <= ch <= "\u4dbf"
        or "\uf900" <= ch <= "\ufaff"
        or "\U00020000" <= ch <= "\U0002ffff"
    )


def has_cjk(text: str) -> bool:
    return any(is_cjk(ch) for ch in text)


def strip_invisible(text: str) -> str:
    """Drop control and format characters (RTL marks, zero-width joiners, NUL, BEL ...).

    Line breaks and tabs become spaces so that words on either side stay apart.
    """
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in "\t\n\r\v\f" or cat in ("Zl", "Zp"):
            out.append(" ")
        elif cat in ("Cc", "Cf", "Cs", "Co", "Cn"):
            continue
        else:
            out.append(ch)
    return "".join(out)


def to_simplified(text: str) -> str:
    return _T2S.convert(text) if has_cjk(text) else text


@lru_cache(maxsize=8192)
def normalise(text: str) -> str:
    """Comparable form: NFKC (full-width -> ASCII), Simplified Chinese, case-folded, quotes and
    punctuation dropped (apostrophes vanish, other marks become spaces), single spaces."""
    text = strip_invisible(text)
    text = unicodedata.normalize("NFKC", text)
    text = to_simplified(text)
    text = text.casefold().translate(_QUOTES)
    out = []
    for ch in text:
        if ch == "'":
            continue  # "it's" -> "its", "model's" -> "models"
        cat = unicodedata.category(ch)
        out.append(" " if cat[0] in "PSZ" else ch)
    return " ".join("".join(out).split())


def key(text: str) -> str:
    """`normalise` without spaces: "Fine-tuning", "fine tuning" and "FINETUNING" share a key."""
    return normalise(text).replace(" ", "")


def singular_key(text: str) -> str:
    """`key` with a trailing English plural removed, so "Hyperparameters" ~ "hyperparameter"."""
    k = key(text)
    if len(k) <= 4 or not k[-1:].isascii() or not k[-1:].isalpha():
        return k
    if k.endswith("ies"):
        return k[:-3] + "y"
    if k.endswith(("sses", "xes", "ches", "shes")):
        return k[:-2]
    if k.endswith("s") and not k.endswith(("ss", "us", "is")):
        return k[:-1]
    return k


# --- finding a term inside a text -------------------------------------------------------------

_LATIN_BEFORE = r"(?<![A-Za-z0-9])"
_LATIN_AFTER = r"(?![A-Za-z0-9])"
_BETWEEN_WORDS = r"[\s\-‐‑‒–—_]*"  # "fine-tuning", "fine tuning", "finetuning"
_INSIDE_LONG_WORD = r"[\s\-‐‑]?"  # "backpropagation", "back-propagation", "back propagation"
_LONG_WORD = 8


def word_bases(word: str) -> set[str]:
    """The word and the stems it may be an inflection of ("tuning" -> tun, tune)."""
    bases = {word}
    if len(word) < 5 or not word.isalpha():
        return bases
    if word.endswith("ies"):
        bases.add(word[:-3] + "y")
    elif word.endswith(("sses", "xes", "ches", "shes")):
        bases.add(word[:-2])
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        bases.add(word[:-1])
    for w in list(bases):
        if w.endswith("ing") and len(w) >= 6:
            stem = w[:-3]
            bases |= {stem, stem + "e"}
            if len(stem) >= 4 and stem[-1] == stem[-2]:
                bases.add(stem[:-1])  # "embedding" -> "embed"
        elif w.endswith("ed") and len(w) >= 5:
            stem = w[:-2]
            bases |= {stem, w[:-1]}
            if len(stem) >= 4 and stem[-1] == stem[-2]:
                bases.add(stem[:-1])
        elif w.endswith("ation") and len(w) >= 9:
            stem = w[:-5]
            bases |= {stem, stem + "e", w[:-3] + "e"}  # "propagation" -> propagate
        elif w.endswith("ly") and len(w) >= 6:
            bases.add(w[:-2])
    return {b for b in bases if len(b) >= 3}


def _spell(word: str) -> str:
    """Regex for one word; long words may be split by a space or hyphen anywhere."""
    if len(word) >= _LONG_WORD:
        return _INSIDE_LONG_WORD.join(re.escape(c) for c in word)
    return re.escape(word)


def _last_word_pattern(word: str, inflect: bool) -> str:
    """Regex for the last word of a name: plurals always, other simple inflections if asked
    ("tune" -> tunes, tuned, tuning; "embedding" -> embed, embeds, embedded)."""
    word = word.lower()
    if not word[-1:].isalpha():
        return _spell(word) + "s?"  # "T5s"
    bases = word_bases(word) if inflect else {word, singular_key(word)}
    parts = []
    for base in sorted(bases, key=lambda b: (-len(b), b)):
        if inflect and len(base) >= 4:
            parts.append(_spell(base) + "(?:s|es|ed|d|ings?|ly|ers?|ations?)?")
            if base.endswith("e"):
                parts.append(_spell(base[:-1]) + "(?:ings?|ations?|ed)")
        else:
            parts.append(_spell(base) + "(?:s|es)?")
        if base.endswith("y"):
            parts.append(_spell(base[:-1]) + "(?:ies|ied)")
    return "(?:" + "|".join(parts) + ")"


@lru_cache(maxsize=4096)
def term_pattern(name: str, inflect: bool = True) -> str:
    """Regex source (use with re.IGNORECASE) matching `name` and its recognisable forms."""
    name = unicodedata.normalize("NFKC", name).strip()
    if not name:
        return r"(?!x)x"
    if has_cjk(name):
        variants = {name, to_simplified(name)}
        return "|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True))
    words = re.findall(r"[^\W_]+", name.lower())
    if not words:
        return re.escape(name)
    head = [_spell(w) for w in words[:-1]]
    tail = _last_word_pattern(words[-1], inflect)
    return _LATIN_BEFORE + _BETWEEN_WORDS.join([*head, tail]) + _LATIN_AFTER


@lru_cache(maxsize=8192)
def name_regex(name: str, inflect: bool = True) -> re.Pattern[str]:
    """Compiled, case-insensitive `term_pattern` of one name (cached: compiling is the cost)."""
    return re.compile(term_pattern(name, inflect), re.IGNORECASE)


def _regexes(names: Iterable[str], inflect: bool) -> list[re.Pattern[str]]:
    """One regex per name, longest name first so "BPTT" never splits a longer match."""
    unique = sorted({n for n in names if n and n.strip()}, key=lambda n: (-len(n), n))
    return [name_regex(n, inflect) for n in unique]


@lru_cache(maxsize=8192)
def _folded(text: str) -> str:
    """`text` with full-width forms folded and Traditional Chinese made Simplified."""
    if text.isascii():
        return text
    return to_simplified(unicodedata.normalize("NFKC", strip_invisible(text)))


def mask(text: str, names: Iterable[str], blank: str = BLANK) -> str:
    """Replace every recognisable form of every name with `blank`."""
    for regex in _regexes(names, inflect=True):
        text = regex.sub(blank, text)
    # "____-____" or "____ ____" left by two adjacent matches reads as one gap
    return re.sub(rf"{re.escape(blank)}(?:[\s\-‐‑]*{re.escape(blank)})+", blank, text)


def mentions(text: str, names: Iterable[str], inflect: bool = True) -> bool:
    """True when `text` contains a recognisable form of any of `names`.

    Checks the text as written and its folded form (full-width, Traditional Chinese).
    """
    folded = _folded(text)
    for regex in _regexes(names, inflect):
        if regex.search(text) or (folded is not text and regex.search(folded)):
            return True
    return False


# --- noise ------------------------------------------------------------------------------------

_NOISE = [
    re.compile(r"\[\s*\d+\s*\]"),  # citation markers
    re.compile(r"\[\s*citation needed\s*\]", re.IGNORECASE),
    re.compile(r"https?://\S+|www\.\S+"),
    re.compile(r"阅读全文\s*»?"),
    re.compile(r"[»«]"),
]


def strip_noise(text: str) -> str:
    """Remove page furniture that must never reach a learner (citations, links, read-more)."""
    for regex in _NOISE:
        text = regex.sub(" ", text)
    text = re.sub(r"[ \t]+([,.;:!?)\uff0c\u3002\uff1b\uff1a\uff01\uff1f\uff09])", r"\1", text)
    return " ".join(text.split())


# --- shortening -------------------------------------------------------------------------------

_ABBREVIATIONS = {"e.g", "i.e", "etc", "vs", "cf", "dr", "mr", "mrs", "no", "fig", "al", "approx"}
_SENTENCE_END = re.compile(r"[.!?](?=[\"')\]]*(?:\s|$))|[\u3002\uff01\uff1f]")
_CLAUSE_END = re.compile(r"[,;:\uff0c\uff1b\uff1a\u3001]")
# Words a cut text must not end on: they promise something that the cut removed.
_DANGLING_EN = {
    "a", "an", "the", "and", "or", "but", "nor", "of", "to", "in", "on", "at", "by", "for", "from",
    "with", "without", "into", "onto", "as", "than", "that", "which", "who", "whose", "where",
    "when", "while", "is", "are", "was", "were", "be", "been", "being", "its", "their", "his",
    "her", "our", "your", "my", "this", "these", "those", "such", "e.g", "i.e", "via", "between",
    "both", "either", "neither", "not", "if", "so", "because", "like", "about", "over", "under",
    "through", "can", "could", "will", "would", "should", "may", "might", "must", "has", "have",
    "had", "do", "does", "it", "each", "every", "some", "any", "more", "most", "less", "very",
}  # fmt: skip
_DANGLING_ZH = "的和与及或是在对把被将从向为以而并且但如由等地得了着就也都还又即"
_TRAILING_JUNK = (
    " \t,;:\u3001\uff0c\uff1b\uff1a-\u2010\u2011\u2013\u2014/\u00b7(\uff08[{\"'\u201c\u2018"
)
_OPENERS = {
    "(": ")", "[": "]", "\uff08": "\uff09", "\u201c": "\u201d",
    "\u300c": "\u300d", "\u300a": "\u300b",
}  # fmt: skip


def _sentence_ends(text: str) -> list[int]:
    """Offsets just after each sentence end, ignoring abbreviations ("e.g.") and decimals."""
    ends = []
    for m in _SENTENCE_END.finditer(text):
        if m.group() == ".":
            before = re.search(r"([A-Za-z.]+)$", text[: m.start()])
            word = before.group(1).lower().strip(".") if before else ""
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
        end = m.end()
        while end < len(text) and text[end] in "\"')]”’":
            end += 1
        ends.append(end)
    return ends


def split_sentences(text: str) -> list[str]:
    sentences, start = [], 0
    for end in [*_sentence_ends(text), len(text)]:
        if text[start:end].strip():
            sentences.append(text[start:end].strip())
        start = end
    return sentences


@lru_cache(maxsize=4096)
def first_sentence(text: str) -> str:
    parts = split_sentences(text)
    return parts[0] if parts else text.strip()


def _unbalanced_opener(text: str) -> int:
    """Index of the last opening bracket/quote without its closer, or -1."""
    stack: list[int] = []
    for i, ch in enumerate(text):
        if ch in _OPENERS:
            stack.append(i)
        elif stack and ch == _OPENERS[text[stack[-1]]]:
            stack.pop()
    return stack[-1] if stack else -1


def _tidy_cut(text: str) -> str:
    """Strip what must not end a cut text: open brackets, joiners, dangling words."""
    while True:
        before = text
        opener = _unbalanced_opener(text)
        if opener >= 0:
            text = text[:opener]
        text = text.rstrip(_TRAILING_JUNK)
        if text and text[-1] in _DANGLING_ZH:
            text = text[:-1]
        m = re.search(r"([A-Za-z.]+)$", text)
        if m and m.group(1).lower().rstrip(".") in _DANGLING_EN:
            text = text[: m.start()]
        if text == before:
            return text


def _word_boundaries(text: str, limit: int) -> list[int]:
    """Cut positions <= limit that fall between words (never inside a Latin word or a number)."""
    cuts = []
    for i in range(1, min(limit, len(text)) + 1):
        if i == len(text):
            cuts.append(i)
            continue
        a, b = text[i - 1], text[i]
        if a.isspace() or b.isspace():
            cuts.append(i)
        elif is_cjk(a) or is_cjk(b):
            if not (a.isascii() and a.isalnum() and b.isascii() and b.isalnum()):
                cuts.append(i)
        elif not a.isalnum() and a not in "'’-" and not b.isalnum():
            cuts.append(i)
        elif not a.isalnum() and a in ",;:)]\uff0c\uff1b\uff1a\uff09\u3001" and b.isalnum():
            cuts.append(i)
    return cuts


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters.

    Prefers whole sentences (no ellipsis needed); otherwise cuts at a clause or word boundary,
    drops a dangling tail ("... of the", an open parenthesis) and appends "…".
    """
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ""
    # Whole sentences, if they keep at least 40% of the room.
    ends = [e for e in _sentence_ends(text) if e <= limit]
    if ends and ends[-1] >= 0.4 * limit:
        return text[: ends[-1]].rstrip()
    room = limit - len(ELLIPSIS)
    cuts = _word_boundaries(text, room)
    # A clause boundary not too far back reads better than an arbitrary word boundary.
    clause_cuts = [c for c in cuts if _CLAUSE_END.match(text[c - 1]) and c >= 0.6 * room]
    for cut in (clause_cuts[-1:] or []) + cuts[::-1][:40]:
        head = _tidy_cut(text[:cut].rstrip())
        if len(head) >= min(12, room // 2):
            return head + ELLIPSIS
    # Nothing sensible (e.g. one giant word): fall back to the longest tidy prefix of words.
    head = _tidy_cut(text[: cuts[-1]] if cuts else "")
    return head + ELLIPSIS if head else ""
