"""Turn raw documents into a draft glossary for a person to review.

Three layouts are recognised, one per file, automatically:

* ``term-definition``: one ``Term: definition`` per line (ASCII or full-width colon), possibly
  mixed with headings followed by a paragraph or a numbered list (study notes);
* ``flashcards``: a short term line, then one or more definition paragraphs; ``Purpose:`` lines
  and ``- item: text`` bullets belong to the card above them;
* ``paragraphs``: encyclopedia snippets whose first words name the term ("Transfer learning (TL)
  is ...", "In machine learning, X or Y is ...", "X 是 ...") and blog teasers (a heading, a
  paragraph, a read-more marker).

Page furniture is dropped with a reason (titles, language switchers, citation markers, read-more
links, progress indicators, site disclaimers, teasers of related articles). The importer does not
judge meaning: a draft still needs a person to fix spellings, merge duplicates and write gists that
do not name the term. `quizbot content check` on the draft says what is left to do.
"""

from __future__ import annotations

import html
import itertools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.content.text import has_cjk, is_cjk, key, shorten, split_sentences

GIST_MAX = 100


class UnreadableDocument(Exception):
    """A file the importer cannot read; the message is one line for the user."""


@dataclass
class Draft:
    """One entry found in a document."""

    term: str
    line: int
    definition: str = ""
    aliases: list[str] = field(default_factory=list)
    body_lines: list[int] = field(default_factory=list)
    accepts_text: bool = False  # a heading collects the paragraphs that follow it
    from_bullets: list[str] = field(default_factory=list)  # terms its bullets defined

    def add(self, text: str, line: int) -> None:
        text = text.strip()
        if not text:
            return
        if self.definition and not re.search(r"[.!?:;。！？：；)）\"”]$", self.definition):
            self.definition += "。" if has_cjk(text[:1]) else "."
        joiner = "" if has_cjk(self.definition[-1:] + text[:1]) else " "
        self.definition = f"{self.definition}{joiner}{text}" if self.definition else text
        self.body_lines.append(line)


@dataclass
class Skip:
    """Lines `first` to `last` left out, or only the `lines` listed when some between them
    were kept (a heading and its text, without the bullets that became entries)."""

    first: int
    last: int
    reason: str
    lines: tuple[int, ...] = ()

    def __str__(self) -> str:
        runs: list[list[int]] = [] if self.lines else [[self.first, self.last]]
        for number in sorted(set(self.lines)):
            if runs and number <= runs[-1][1] + 1:
                runs[-1][1] = max(runs[-1][1], number)
            else:
                runs.append([number, number])
        where = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs)
        plural = len(runs) > 1 or runs[0][0] != runs[0][1]
        return f"skipped {'lines' if plural else 'line'} {where}: {self.reason}"


@dataclass
class ImportResult:
    source: str
    layout: str
    lang: str
    drafts: list[Draft] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- reading ----------------------------------------------------------------------------------


def read_document(path: Path) -> str:
    """The text of a raw document; raises `UnreadableDocument` with a one-line reason."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise UnreadableDocument(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UnreadableDocument(f"{path}: is a directory, not a document") from None
    except OSError as exc:
        raise UnreadableDocument(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if b"\0" in data:
        raise UnreadableDocument(f"{path}: binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UnreadableDocument(
            f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); "
            "convert it first, e.g. iconv -f GBK -t UTF-8"
        ) from None
    if not text.strip():
        raise UnreadableDocument(f"{path}: empty file")
    return text


def detect_lang(text: str) -> str:
    """ "zh" when Han characters are at least a third of the letters, else "en"."""
    han = sum(1 for ch in text if is_cjk(ch))
    latin = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    return "zh" if han and han * 3 >= han + latin else "en"


# --- cleaning ---------------------------------------------------------------------------------

_CITATION = re.compile(r"\s*\[\s*\d+\s*\]")
_AUTHOR_YEAR = re.compile(
    r"\s*[(（]\s*[A-Z][A-Za-z\-]+(?: (?:et al\.?|and [A-Z][A-Za-z\-]+))?,? \d{4}\s*[)）]"
)
_READ_MORE_INLINE = re.compile(r"(阅读全文|阅读更多|Read more|Continue reading)\s*[»›>]+", re.I)


def clean_text(text: str, lang: str) -> str:
    """A line without citation markers, HTML entities and read-more links."""
    text = html.unescape(text)
    text = _CITATION.sub(" ", text)
    text = _AUTHOR_YEAR.sub("", text)
    text = _READ_MORE_INLINE.sub("", text)
    text = " ".join(text.split())
    text = re.sub(r"\s+([,.;:!?)])", r"\1", text)
    text = re.sub(r"\(\s+", "(", text)
    if lang == "zh":
        text = chinese_punctuation(text)
    return text.strip()


_ZH_MARKS = {",": "，", ":": "：", ";": "；", "?": "？", "!": "！"}
_TRANSPARENT = " \t“”‘’\"'（）()"
_ZH_TIGHT = "\u4e00-\u9fff。，；：！？、（）“”《》"


def chinese_punctuation(text: str) -> str:
    """ASCII punctuation next to Chinese text written the Chinese way (scraped pages lose it)."""

    def mark(m: re.Match[str]) -> str:
        before = text[: m.start()].rstrip(_TRANSPARENT)[-1:]
        after = text[m.end() :].lstrip(_TRANSPARENT)[:1]
        if has_cjk(before) or has_cjk(after):
            return _ZH_MARKS[m.group().strip()]
        return m.group()

    text = re.sub(r"\s*[,:;?!](?!\d)\s*", mark, text)

    def brackets(m: re.Match[str]) -> str:
        inner = m.group(1)
        before = text[: m.start()][-1:]
        if has_cjk(inner) or has_cjk(before):
            return f"（{inner.strip()}）"
        return m.group()

    text = re.sub(r"\s*\(([^()]*)\)", brackets, text)
    # Chinese needs no spaces between sentences or around its punctuation.
    return re.sub(rf"(?<=[{_ZH_TIGHT}])\s+(?=[{_ZH_TIGHT}])", "", text)


# --- classifying lines ------------------------------------------------------------------------

_BULLET = re.compile(r"^(?:[•·●▪◦*\-–]|\d{1,2}[.)、])\s*")
_SENTENCE_END = re.compile(r"[.!?。！？)）\"”’]$")
_TERM_COLON = re.compile(r"^(?P<term>[^:：]{1,60}?)\s*[:：]\s*(?P<definition>\S.*)$")
_LANGUAGE_NAMES = re.compile(
    r"English|简体中文|繁體中文|中文|日本語|Español|Français|Deutsch", re.I
)
_NOISE_LINES = [
    (
        re.compile(r"^\(?\s*\d+\s+(?:cards|terms|flashcards|words)\s*\)?$", re.I),
        "card count header",
    ),
    (
        re.compile(r"^(?:阅读全文|阅读更多|read more|continue reading)\s*[»›>]*$", re.I),
        "read-more link",
    ),
    (re.compile(r"^\d{1,3}\s*%$"), "page furniture (progress indicator)"),
    (re.compile(r"^(?:search results|results from .*)$", re.I), "search-results page header"),
]
_DISCLAIMER = re.compile(
    r"本文来自互联网用户投稿|不代表本站立场|如若转载|侵权|版权归|免责声明|all rights reserved|"
    r"disclaimer|copyright ©",
    re.I,
)
_RELATED = re.compile(r"^(?:相关文章|相关推荐|推荐阅读|猜你喜欢|related articles|related posts|"
                      r"you may also like)\s*[:：]?$", re.I)  # fmt: skip


def _words(text: str) -> int:
    return len(text.split()) if not has_cjk(text) else len(text)


def _is_short(text: str) -> bool:
    """Short enough to be a term or a heading."""
    if has_cjk(text):
        return len(text) <= 16
    return len(text) <= 60 and len(text.split()) <= 8


def _term_colon(text: str) -> tuple[str, str] | None:
    """(term, definition) for a "Term: definition" line."""
    m = _TERM_COLON.match(text)
    if not m:
        return None
    term, definition = m.group("term").strip(), m.group("definition").strip()
    if not _is_short(term) or re.search(r"[.,;!?。，；！？]|https?", term):
        return None
    if has_cjk(term) and len(term) > 12:
        return None
    return term, definition


def _is_list_of_names(definition: str) -> bool:
    """ "二项分类、多项分类;层次分类": names separated by commas, no sentence."""
    parts = [p for p in re.split(r"[、,，;；]", definition) if p.strip()]
    if len(parts) < 3 or re.search(r"[.。!?！？]", definition):
        return False
    return all(_words(p.strip()) <= (12 if has_cjk(p) else 4) for p in parts)


@dataclass
class _Line:
    number: int
    text: str
    kind: str  # "text", "bullet", "break"


def _clean_lines(raw: str, lang: str, result: ImportResult) -> list[_Line]:
    """Lines worth reading, with noise recorded in `result.skipped`."""
    lines = raw.splitlines()
    out: list[_Line] = []
    title: str | None = None
    for index, original in enumerate(lines):
        number = index + 1
        text = original.strip()
        if not text:
            continue
        if _RELATED.match(text):
            last = len(lines)
            result.skipped.append(Skip(number, last, f"teasers of related articles after “{text}”"))
            break
        if _DISCLAIMER.search(text):
            result.skipped.append(Skip(number, number, "site disclaimer"))
            continue
        noise = next((why for regex, why in _NOISE_LINES if regex.match(text)), None)
        if noise:
            result.skipped.append(Skip(number, number, noise))
            if noise == "read-more link":
                out.append(_Line(number, "", "break"))
            continue
        if "|" in text and _LANGUAGE_NAMES.search(text) and len(text) < 80:
            result.skipped.append(Skip(number, number, "language switcher"))
            continue
        if title is None:
            title = text
            if _term_colon(text) is None and _is_short(clean_text(text, lang)):
                result.skipped.append(Skip(number, number, f"document title (“{text}”)"))
                continue
        elif _is_short(text) and key(text) and key(text) in key(title):
            result.skipped.append(Skip(number, number, "repeats the document title"))
            continue
        bullet = _BULLET.match(text)
        if bullet and len(text) > bullet.end():
            out.append(_Line(number, clean_text(text[bullet.end() :], lang), "bullet"))
        else:
            out.append(_Line(number, clean_text(text, lang), "text"))
    return [line for line in out if line.text or line.kind == "break"]


def _is_heading(line: _Line) -> bool:
    text = line.text
    return (
        line.kind == "text"
        and _is_short(text)
        and not re.search(r"[.!?:;。！？：；]$", text)
        and _term_colon(text) is None
    )


def detect_layout(lines: list[_Line]) -> str:
    content = [line for line in lines if line.kind != "break"]
    colon = sum(1 for line in content if line.kind == "text" and _term_colon(line.text))
    if colon >= 3 and colon * 10 >= 3 * len(content):
        return "term-definition"
    breaks = sum(1 for line in lines if line.kind == "break")
    cards = sum(
        1
        for a, b in itertools.pairwise(content)
        if _is_heading(a) and b.kind == "text" and not _is_heading(b)
    )
    if breaks < 2 and cards >= 3 and cards * 4 >= len(content):
        return "flashcards"
    return "paragraphs"


# --- parsing per layout -----------------------------------------------------------------------


def _split_term(term: str) -> tuple[str, list[str]]:
    """ "Feature detector (kernel, filter)" -> ("Feature detector", ["kernel", "filter"])."""
    m = re.match(r"^(.+?)\s*[(（]([^()（）]+)[)）]$", term)
    if not m:
        return term, []
    aliases = [a.strip() for a in re.split(r"[,，、/]|\bor\b", m.group(2)) if a.strip()]
    return m.group(1).strip(), aliases


def _parse_term_definition(lines: list[_Line], result: ImportResult) -> None:
    current: Draft | None = None
    for line in lines:
        if line.kind == "break":
            current = _close(current, result)
            continue
        pair = _term_colon(line.text) if line.kind == "text" else None
        if pair:
            current = _close(current, result)
            term, definition = pair
            if _is_list_of_names(definition):
                result.skipped.append(
                    Skip(line.number, line.number, f"“{term}” lists names, no definition")
                )
                continue
            term, aliases = _split_term(term)
            result.drafts.append(Draft(term, line.number, aliases=aliases))
            result.drafts[-1].add(definition, line.number)
        elif _is_heading(line):
            current = _close(current, result)
            term, aliases = _split_term(line.text)
            current = Draft(term, line.number, aliases=aliases, accepts_text=True)
        elif current is not None:
            current.add(line.text, line.number)
        else:
            why = (
                "bullet point that names no term"
                if line.kind == "bullet"
                else "text that names no term"
            )
            result.skipped.append(Skip(line.number, line.number, why))
    _close(current, result)


def _close(draft: Draft | None, result: ImportResult) -> None:
    """Finish a heading-started draft: keep it only if something followed the heading."""
    if draft is None:
        return None
    if not draft.definition:
        result.skipped.append(
            Skip(draft.line, draft.line, f"“{draft.term}” has no definition after it")
        )
    elif draft.from_bullets:
        # The heading and the text under it are left out; the bullets between them that
        # define terms were kept as entries of their own, and are not among the skipped lines.
        skipped = (draft.line, *draft.body_lines)
        terms = (
            "、".join(draft.from_bullets) if has_cjk(draft.term) else ", ".join(draft.from_bullets)
        )
        result.skipped.append(
            Skip(
                draft.line,
                max(skipped),
                f"heading “{draft.term}”{' and the text under it' if draft.body_lines else ''}: "
                f"its bullets define the terms ({terms})",
                lines=skipped,
            )
        )
    else:
        result.drafts.append(draft)
    return None


def _parse_flashcards(lines: list[_Line], result: ImportResult) -> None:
    card: Draft | None = None
    has_prose = False

    def finish() -> None:
        nonlocal card, has_prose
        if card is None:
            return
        if has_prose:
            result.drafts.append(card)
        elif result.drafts and card.definition:
            parent = result.drafts[-1]
            parent.add(f"{card.term}: {card.definition}", card.line)
            result.notes.append(
                f"line {card.line}: “{card.term}” heads a list, not a card; "
                f"folded into the definition of {parent.term}"
            )
        else:
            result.skipped.append(
                Skip(card.line, card.line, f"“{card.term}” has no definition after it")
            )
        card, has_prose = None, False

    for line in lines:
        if line.kind == "break":
            continue
        if _is_heading(line):
            finish()
            term, aliases = _split_term(line.text)
            card = Draft(term, line.number, aliases=aliases)
            continue
        if card is None:
            why = (
                "bullet point that names no term"
                if line.kind == "bullet"
                else "text before the first card"
            )
            result.skipped.append(Skip(line.number, line.number, why))
            continue
        text = line.text
        labelled = _term_colon(text) if line.kind == "text" else None
        if labelled and re.fullmatch(r"purpose|example|examples|note|goal", labelled[0], re.I):
            text = labelled[1]  # "Purpose: The goal ..." reads as a sentence of the card
        card.add(text, line.number)
        if line.kind == "text" and not text.endswith(":"):
            has_prose = True
    finish()


_EN_FIRST_WORDS = re.compile(
    r"^(?:In [^,]{1,40}, )?(?:(?:An?|The) )?"
    r"(?P<term>[A-Za-z0-9][A-Za-z0-9\- ]{0,60}?)"
    r"(?: \((?P<abbr>[^()]{1,60})\))?"
    r"(?: or (?P<alt>[A-Za-z0-9\- ]{1,40}?))?"
    r" (?:is|are|refers to)\b"
)
_ZH_FIRST_WORDS = re.compile(
    r"^(?P<term>[^，,。：:；;（()）“”\s][^，,。：:；;（()）“”]{0,19}?)\s*(?:是指|指的是|就是|是)"
)
_ZH_NOT_TERMS = re.compile(r"^(?:这|那|它|我们|你|他|她|其|简单来说|总之|因此|所以)")


def _first_words_term(text: str) -> tuple[str, list[str]] | None:
    """The term named by the first words of an encyclopedia-style paragraph."""
    if has_cjk(text[:30]):
        m = _ZH_FIRST_WORDS.match(text)
        if not m or _ZH_NOT_TERMS.match(m.group("term")):
            return None
        return m.group("term").strip(), []
    m = _EN_FIRST_WORDS.match(text)
    if not m or len(m.group("term").split()) > 6:
        return None
    term = m.group("term").strip()
    aliases = []
    if m.group("abbr"):
        aliases.append(m.group("abbr").strip())
    if m.group("alt"):
        alt = m.group("alt").strip()
        if " " not in alt and " " in term:  # "hyperparameter optimization or tuning"
            alt = term.rsplit(" ", 1)[0] + " " + alt
        aliases.append(alt)
    return term[:1].upper() + term[1:], aliases


def _names(draft: Draft) -> list[str]:
    return [draft.term, *draft.aliases]


def _parse_paragraphs(lines: list[_Line], result: ImportResult) -> None:
    current: Draft | None = None
    block_text = ""  # what the current heading's block has said, to recognise term bullets
    for line in lines:
        if line.kind == "break":
            current = _close(current, result)
            block_text = ""
            continue
        if _is_heading(line):
            current = _close(current, result)
            term, aliases = _split_term(line.text)
            current = Draft(term, line.number, aliases=aliases, accepts_text=True)
            block_text = line.text
            continue
        if current is not None and line.kind == "bullet":
            pair = _term_colon(line.text)
            if pair and key(pair[0]) and key(pair[0]) in key(block_text):
                # "• 训练损失:..." under "关于训练损失和验证损失": the bullet defines a term.
                draft = Draft(pair[0], line.number)
                draft.add(pair[1], line.number)
                result.drafts.append(draft)
                current.from_bullets.append(pair[0])
                continue
            current.add(line.text, line.number)
            continue
        if current is not None:
            current.add(line.text, line.number)
            block_text += line.text
            continue
        named = _first_words_term(line.text) if line.kind == "text" else None
        if named:
            term, aliases = named
            draft = Draft(term, line.number, aliases=aliases)
            draft.add(line.text, line.number)
            result.drafts.append(draft)
            continue
        owner = _entry_spoken_of(line.text, result.drafts)
        if owner is not None:
            owner.add(line.text, line.number)
            result.notes.append(f"line {line.number}: speaks of {owner.term} again; merged into it")
            continue
        why = (
            "bullet point that names no term"
            if line.kind == "bullet"
            else "paragraph that names no term"
        )
        result.skipped.append(Skip(line.number, line.number, why))
    _close(current, result)


def _entry_spoken_of(text: str, drafts: list[Draft]) -> Draft | None:
    """The draft whose name begins one of the paragraph's sentences."""
    for sentence in split_sentences(text):
        start = key(sentence[:80])
        for draft in drafts:
            if any(key(name) and start.startswith(key(name)) for name in _names(draft)):
                return draft
    return None


def _trim_unfinished(draft: Draft, result: ImportResult) -> None:
    """A definition that stops mid-sentence is cut back to its last whole sentence."""
    text = draft.definition.rstrip()
    if _SENTENCE_END.search(text) or text.endswith(":") or text.endswith("："):
        return
    sentences = split_sentences(text)
    if len(sentences) == 1:
        draft.definition = text + (
            "。" if has_cjk(text[-1:]) else "."
        )  # a note without a full stop
        return
    if len(sentences) > 1:
        draft.definition = (
            " ".join(sentences[:-1]) if not has_cjk(text) else "".join(sentences[:-1])
        )
        result.notes.append(
            f"line {draft.line}: the definition of {draft.term} stops mid-sentence; "
            "trimmed to its last whole sentence"
        )


def parse_document(text: str, source: str, lang: str | None = None) -> ImportResult:
    """Everything the importer finds in one document's text."""
    lang = lang or detect_lang(text)
    result = ImportResult(source=source, layout="", lang=lang)
    lines = _clean_lines(text, lang, result)
    result.layout = detect_layout(lines)
    parse = {
        "term-definition": _parse_term_definition,
        "flashcards": _parse_flashcards,
        "paragraphs": _parse_paragraphs,
    }[result.layout]
    parse(lines, result)
    for draft in result.drafts:
        if lang == "zh":  # list items and paragraphs joined: punctuation between them too
            draft.definition = chinese_punctuation(draft.definition)
        _trim_unfinished(draft, result)
    result.drafts.sort(key=lambda d: d.line)
    result.skipped.sort(key=lambda s: s.first)
    return result


def import_files(paths: Iterable[Path], lang: str | None = None) -> list[ImportResult]:
    """Parse every file; raises `UnreadableDocument` for the first file that cannot be read."""
    texts = [(Path(p), read_document(Path(p))) for p in paths]
    return [parse_document(text, path.name, lang) for path, text in texts]


# --- the draft --------------------------------------------------------------------------------


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _english_gloss(draft: Draft) -> str | None:
    """ "目标函数(objective function)" -> "objective function"."""
    pattern = re.escape(draft.term) + r"\s*[（(]\s*([A-Za-z][A-Za-z \-]*)"
    m = re.search(pattern, draft.definition)
    return m.group(1).strip() if m else None


def _draft_id(draft: Draft, lang: str, taken: set[str]) -> str:
    if lang == "zh":
        english = _english_gloss(draft) or ("".join(c for c in draft.term if c.isascii()) or "")
        base = "zh-" + (slugify(english) or f"entry-{draft.line}")
    else:
        base = slugify(draft.term) or f"entry-{draft.line}"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    taken.add(candidate)
    return candidate


def draft_gist(term: str, definition: str) -> str:
    """First sentence of the definition without a leading "A <term> is", cut to fit a poll
    option. Other mentions of the term are left for the reviewer (the check reports them)."""
    sentences = split_sentences(definition)
    first = sentences[0] if sentences else definition
    name = re.escape(term)
    if has_cjk(term):
        first = re.sub(rf"^{name}[，,]?\s*(?:简单来说[，,]?)?\s*(?:就是|是指|是)?", "", first)
    else:
        lead = rf"^(?:In [^,]{{1,40}}, )?(?:(?:an?|the) )?{name}s?(?: \([^()]*\))?"
        first = re.sub(lead + r" (?:is|are|refers to) ", "", first, flags=re.I)
        first = re.sub(lead + r" (?=[a-z]+s )", "", first, flags=re.I)  # "A gradient measures"
    first = first.strip()
    return shorten(first[:1].upper() + first[1:], GIST_MAX)


def _q(text: str) -> str:
    """A double-quoted YAML scalar (JSON strings are valid YAML)."""
    return (
        json.dumps(text, ensure_ascii=False)
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _qlist(items: Iterable[str]) -> str:
    return "[" + ", ".join(_q(i) for i in items) + "]"


def render_draft(results: list[ImportResult]) -> str:
    """The draft glossary YAML for all results, ids unique across them."""
    sources = ", ".join(r.source for r in results)
    out = [
        f"# Draft glossary made by `quizbot content import` from {sources}.",
        "# Review every entry against its source: fix spellings, merge duplicates, rewrite gists",
        "# so that they do not name the term, add tags and links. Then: quizbot content check",
        "entries:",
    ]
    taken: set[str] = set()
    for result in results:
        for draft in result.drafts:
            aliases = []
            for alias in draft.aliases:
                if key(alias) and key(alias) not in {key(a) for a in [draft.term, *aliases]}:
                    aliases.append(alias)
            if result.lang == "zh":
                gloss = _english_gloss(draft)
                if gloss and key(gloss) not in {key(a) for a in aliases}:
                    aliases.append(gloss)
            entry_id = _draft_id(draft, result.lang, taken)
            out += [
                f"  - id: {_q(entry_id)}  # {result.source} line {draft.line}",
                f"    term: {_q(draft.term)}",
                f"    aliases: {_qlist(aliases)}",
                f"    lang: {_q(result.lang)}",
                f"    definition: {_q(draft.definition)}",
                f"    gist: {_q(draft_gist(draft.term, draft.definition))}",
                "    tags: []",
                f"    source: {_q(result.source)}",
                "    links:",
                "      translations: []",
                "      related: []",
                "",
            ]
    if out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def summary(result: ImportResult) -> list[str]:
    """What was kept and what was skipped, for stderr."""
    lines = [f"{result.source}: layout {result.layout}, language {result.lang}"]
    events: list[tuple[int, str]] = [
        (d.line, f"kept line {d.line}: {d.term}") for d in result.drafts
    ]
    events += [(s.first, str(s)) for s in result.skipped]
    events += [(int(re.match(r"line (\d+)", n).group(1)), n) for n in result.notes]
    lines += [f"  {text}" for _, text in sorted(events, key=lambda e: e[0])]
    lines.append(f"  {len(result.drafts)} entries kept, {len(result.skipped)} skips")
    return lines
