"""What of an answer a text gives away: its names, and the parts a learner would recognise.

A clue that hides the whole term can still single it out by a part of it: a component word or
one of its inflections ("normalizing" for Batch normalization, "load" for Data loader), the
expansion of an abbreviation ("end of sequence" for EOS token), another glossary name inside
the term ("backpropagation" for Backpropagation through time), or in Chinese one of the term's
morphemes (超参数 and 搜索 for 超参数搜索). `Parts` finds them; a question shows none of them, or,
in multiple choice, only those that a wrong option shows too (then they point at no option).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from bot.content.model import Entry, Glossary
from bot.content.text import has_cjk, is_cjk, mentions, normalise, word_bases

# Words that many terms share: seeing one tells nothing about which term is meant.
GENERIC_EN = frozenset(
    """a an the of and or for from in on to by with via into over through between using vs
    versus learning machine model models network networks neural deep function functions data
    algorithm algorithms method methods technique techniques layer layers training problem
    process system value values based set strategy policy dilemma trade off tradeoff approach
    convolutional""".split()
)
GENERIC_ZH = ("模型", "学习", "网络", "神经", "函数", "算法", "方法", "数据", "问题", "机器")
# Words an acronym's expansion may skip ("EOS" = End Of Sequence keeps "of"; both are tried).
_SMALL_WORDS = frozenset("a an the of and or for from in on to by with".split())
_MIN_PREFIX = 6  # letters two words must share to count as one word's inflection


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z][a-z0-9]*", normalise(text))


# What may follow a word to make another form of it ("load" + "er", "drop" + "out"): a longer
# word that merely starts with a shorter one ("momentum", "moment") is another word.
_ENDINGS = frozenset(
    """s es ed d er ers ing ings ion ions ation ations ization isation ment ments al ally ly ive
    ity ness able ible ous out or ors ize ise izes ises izing ising ized ised ization""".split()
)


@lru_cache(maxsize=65536)
def _stem_alike(a: str, b: str) -> bool:
    """Whether two English words are forms of one word, or one is the stem the other is made
    of: "normalize" ~ "normalizing", "convolving" ~ "convolution", "load" ~ "loader",
    "dropping" ~ "dropout"; but not "moment" ~ "momentum"."""
    if a == b:
        return True
    for x in word_bases(a) | {a}:
        for y in word_bases(b) | {b}:
            short, long_ = sorted((x, y), key=len)
            if short == long_:
                return True
            if len(short) >= 4 and long_.startswith(short) and long_[len(short) :] in _ENDINGS:
                return True
            common = 0
            for c, d in zip(x, y, strict=False):
                if c != d:
                    break
                common += 1
            if _MIN_PREFIX <= common < len(short) and common >= 0.75 * len(short):
                return True
    return False


@lru_cache(maxsize=4096)
def _acronym_expansions(acronym: str) -> tuple[str, ...]:
    """Regexes of word sequences whose initials spell `acronym`: "EOS" -> "end of sequence",
    "BERT" -> "bidirectional encoder representations from transformers" (a small word may
    sit between the spelled ones)."""
    letters = [c for c in acronym.lower() if c.isalpha()]
    small = "|".join(sorted(_SMALL_WORDS))
    words = [f"{c}[a-z0-9'’-]*" for c in letters]
    strict = r"\b" + r"\s+".join(words) + r"\b"
    loose = r"\b" + rf"\s+(?:(?:{small})\s+)?".join(words) + r"\b"
    return (strict, loose)


def _is_acronym(name: str) -> bool:
    return bool(re.fullmatch(r"[A-Z][A-Z0-9]{1,5}", name)) and sum(c.isalpha() for c in name) >= 2


class Parts:
    """The recognisable parts of each entry's names, for one glossary."""

    def __init__(self, glossary: Glossary) -> None:
        self.glossary = glossary
        self._names_by_lang: dict[str, list[tuple[str, str]]] = {}
        for entry in glossary.entries:
            for name in entry.names:
                self._names_by_lang.setdefault(entry.lang, []).append((entry.id, name))
        self._cache: dict[str, tuple[tuple[str, ...], ...]] = {}

    def twins(self, entry: Entry) -> list[Entry]:
        twins = {e.id: e for e in self.glossary.translations_of(entry) if e.lang != entry.lang}
        for other in self.glossary.entries:
            if entry.id in other.translations and other.lang != entry.lang:
                twins.setdefault(other.id, other)
        return list(twins.values())

    def names(self, entry: Entry) -> tuple[str, ...]:
        """Every name of the concept, in both languages."""
        names = list(entry.names)
        for twin in self.twins(entry):
            names.extend(twin.names)
        return tuple(dict.fromkeys(n for n in names if n.strip()))

    def of(self, entry: Entry) -> tuple[tuple[str, ...], ...]:
        """The parts of the entry's names: each a tuple of forms any of which gives it away
        (a name; a component word; an acronym's expansion; a glossary name inside a name; a
        Chinese morpheme)."""
        if entry.id not in self._cache:
            self._cache[entry.id] = tuple(dict.fromkeys(self._find(entry)))
        return self._cache[entry.id]

    def _find(self, entry: Entry) -> Iterable[tuple[str, ...]]:
        names = self.names(entry)
        yield names
        for name in names:
            if has_cjk(name):
                yield from ((m,) for m in _morphemes(name))
            else:
                for word in _words(name):
                    if word not in GENERIC_EN and (len(word) >= 3 or word.isupper()):
                        yield (word,)
                if _is_acronym(name):
                    yield (f"acronym:{name}",)
                words = [w for w in re.findall(r"[A-Za-z][A-Za-z0-9]*", name)]
                if len(words) >= 2:
                    initials = "".join(w[0] for w in words if w.lower() not in _SMALL_WORDS)
                    if len(initials) >= 2:
                        yield (f"initials:{initials.upper()}",)
            # Another glossary name inside this one (a name of a different concept).
            for other_id, other in self._names_by_lang.get(entry.lang, []):
                if other_id != entry.id and len(other) < len(name) and mentions(name, [other]):
                    yield (other,)

    def shared_words(self, text: str, entry: Entry) -> set[str]:
        """Every word of the entry's term (the text a multiple-choice option shows) that
        `text` shows, generic ones included ("layer" for Bottleneck layer): a word that the clue
        shares with the right option alone singles it out, however common the word."""
        if entry.lang == "zh":  # the generic morphemes `of` leaves out ("网络" in 生成对抗网络)
            return {f"word:{m}" for m in (*GENERIC_ZH, "层") if m in entry.term and m in text}
        text_words = _words(text)
        found = set()
        for word in _words(entry.term):
            if word in _SMALL_WORDS or len(word) < 3:
                continue
            if any(_stem_alike(word, w) for w in text_words):
                found.add(f"word:{word}")
        return found

    def visible(self, text: str, entry: Entry) -> set[str]:
        """The parts of `entry`'s names that `text` shows, each as a label."""
        found = set()
        text_words = _words(text)
        for forms in self.of(entry):
            for form in forms:
                if _shows(text, text_words, form):
                    found.add(forms[0])
                    break
        return found


def _shows(text: str, text_words: list[str], form: str) -> bool:
    if form.startswith("word:"):
        return any(_stem_alike(form[5:], w) for w in text_words)
    if form.startswith("acronym:"):
        return any(re.search(p, text, re.IGNORECASE) for p in _acronym_expansions(form[8:]))
    if form.startswith("initials:"):
        return re.search(rf"(?<![A-Za-z0-9]){re.escape(form[9:])}(?![A-Za-z0-9])", text) is not None
    if has_cjk(form):
        return mentions(text, [form], inflect=False)
    if " " in form or not form.isalpha():
        return mentions(text, [form])
    return any(_stem_alike(form, w) for w in text_words)


def _morphemes(name: str) -> list[str]:
    """The meaningful two-character pieces of a Chinese term (its bigrams that are not generic),
    or the term itself when it is one character."""
    han = "".join(ch for ch in name if is_cjk(ch))
    if len(han) <= 2:
        return [han] if han and han not in GENERIC_ZH else []
    pieces = [han[i : i + 2] for i in range(len(han) - 1)]
    return [p for p in pieces if p not in GENERIC_ZH]


__all__ = ["GENERIC_EN", "GENERIC_ZH", "Parts"]
