"""Load and validate the glossary: YAML files of entries (see content/README.md for the format).

`check_paths` never raises for bad content: every problem (a YAML syntax error, a missing file, a
schema violation, two entries sharing a name ...) becomes a `Problem` that points at a file and a
line. `load_glossary` is the strict form the bot uses at start-up: any problem is fatal.

Rules that exist because of how the glossary is used:

* every value is text: YAML reads unquoted `yes`, `no`, `on`, `null` and numbers as something else;
* a name (term or alias) belongs to one entry per language, so a question never has two right
  answers; entries in different languages may share a name only when they are translations;
* a gist fits a Telegram poll option (100 characters) and does not name its own term, because it
  is offered as an option to "which is the meaning of X?".
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.content.model import LANGUAGES, Entry, Glossary
from bot.content.text import has_cjk, key, mentions, singular_key

GIST_MAX = 100
TERM_MAX = 100  # a term is a poll option too

# Topic tags. A fixed list, so that topics can be offered as a menu; add new ones here and in
# content/README.md.
TAGS = (
    "basics",
    "training",
    "optimization",
    "architecture",
    "data",
    "evaluation",
    "regularization",
    "transfer-learning",
    "nlp",
    "vision",
    "rl",
    "tools",
    "applications",
)

# What sort of thing an entry names: multiple-choice options are drawn from one kind, so that
# none stands out by its grammar or category. Add new ones here and in content/README.md.
KINDS = ("method", "model", "component", "measure", "data", "problem", "field", "tool")
CLUE_MAX = {"en": 200, "zh": 100}

REQUIRED = ("id", "term", "lang", "definition", "gist")
TEXT_FIELDS = ("id", "term", "lang", "definition", "gist", "source", "kind", "clue")
LIST_FIELDS = ("aliases", "tags", "keywords")
LINK_FIELDS = ("translations", "related")
KNOWN_FIELDS = (*TEXT_FIELDS, *LIST_FIELDS, "links")
ONE_LINE = ("id", "term", "lang", "gist", "source", "kind", "clue")

ID_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
GLOSSARY_SUFFIXES = (".yaml", ".yml")

_STR_TAG = "tag:yaml.org,2002:str"
_TYPE_NAMES = {
    "bool": "a true/false value",
    "int": "a number",
    "float": "a number",
    "null": "an empty value",
    "timestamp": "a date",
}


def default_content_dir() -> Path:
    """`QUIZBOT_CONTENT_DIR` if set, else the `content/` folder of the project."""
    configured = os.environ.get("QUIZBOT_CONTENT_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "content"


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    entry_id: str  # "-" when no entry is concerned or its id is unknown
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.entry_id}: {self.message}"


class GlossaryError(Exception):
    """The glossary has problems; `str()` lists them one per line, as `content check` does."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class _Raw:
    """One entry as read from YAML, with the line of every field for error messages."""

    file: str
    line: int
    values: dict[str, Any] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def id(self) -> str:
        value = self.values.get("id")
        return value if isinstance(value, str) and value else "-"

    def at(self, name: str) -> int:
        return self.lines.get(name, self.line)

    def names(self) -> list[tuple[str, str]]:
        """(field, name) for the term and each alias."""
        out = [("term", self.values["term"])] if self.values.get("term") else []
        out += [(f"aliases[{i}]", a) for i, a in enumerate(self.values.get("aliases", ()))]
        return out


# --- reading files ----------------------------------------------------------------------------


def expand_paths(paths: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    """Files to read: files as given, directories as their `*.yaml` / `*.yml` files, sorted."""
    files: list[Path] = []
    problems: list[Problem] = []
    seen: set[Path] = set()
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.suffix in GLOSSARY_SUFFIXES and p.is_file() and not p.name.startswith(".")
            )
            if not found:
                problems.append(Problem(str(path), 1, "-", "no glossary files (*.yaml) here"))
        else:
            found = [path]
        for p in found:
            resolved = p.resolve()
            if resolved not in seen:
                seen.add(resolved)
                files.append(p)
    return files, problems


def _read_text(path: Path, file: str) -> tuple[str | None, list[Problem]]:
    def fail(line: int, message: str) -> tuple[None, list[Problem]]:
        return None, [Problem(file, line, "-", message)]

    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return fail(1, "no such file")
    except IsADirectoryError:
        return fail(1, "is a directory, not a glossary file")
    except PermissionError:
        return fail(1, "cannot read the file: permission denied")
    except OSError as exc:
        return fail(1, f"cannot read the file: {exc.strerror or exc}")
    if b"\0" in data:
        return fail(data[: data.index(b"\0")].count(b"\n") + 1, "binary data, not a text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return fail(line, f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8")
    if not text.strip():
        return fail(1, 'empty file; expected a mapping with an "entries:" list')
    return text, []


# --- YAML nodes -> raw entries ----------------------------------------------------------------


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _compose(text: str, file: str) -> tuple[yaml.Node | None, list[Problem]]:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader), []
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark and "end of stream" in (exc.problem or ""):
            mark = exc.context_mark  # an unclosed quote: point at where it opened
        line = mark.line + 1 if mark else 1
        detail = exc.problem or "cannot parse"
        if exc.context:
            detail = f"{detail} ({exc.context})"
        return None, [Problem(file, line, "-", f"YAML syntax error: {detail}")]
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        return None, [Problem(file, line, "-", f"YAML cannot read it: {exc.reason}")]
    except yaml.YAMLError as exc:  # anything else PyYAML raises without a position
        return None, [Problem(file, 1, "-", f"YAML error: {exc}")]


def _text_value(node: yaml.Node, name: str) -> tuple[str | None, str | None]:
    """(value, None) for a text scalar, else (None, why it is not text)."""
    if isinstance(node, yaml.ScalarNode):
        if node.tag == _STR_TAG:
            return node.value, None
        kind = node.tag.rsplit(":", 1)[-1]
        if kind == "null" and node.value in ("", "~"):
            return None, f"{name}: is empty"
        what = _TYPE_NAMES.get(kind, f"a {kind} value")
        return None, (
            f'{name}: YAML reads {node.value} as {what}, not text; put it in quotes: "{node.value}"'
        )
    kind = "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"
    return None, f"{name}: must be text in quotes, not {kind}"


def _mapping_items(
    node: yaml.MappingNode, file: str, entry_id: str, problems: list[Problem]
) -> list[tuple[str, yaml.Node, int]]:
    """(key, value node, line of the key); reports non-text and repeated keys."""
    items: list[tuple[str, yaml.Node, int]] = []
    first_line: dict[str, int] = {}
    for key_node, value_node in node.value:
        line = _line(key_node)
        if not (isinstance(key_node, yaml.ScalarNode) and key_node.tag == _STR_TAG):
            shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
            problems.append(Problem(file, line, entry_id, f"unknown key {shown}"))
            continue
        name = key_node.value
        if name in first_line:
            problems.append(
                Problem(
                    file,
                    line,
                    entry_id,
                    f'duplicate key "{name}" (first at line {first_line[name]})',
                )
            )
            continue
        first_line[name] = line
        items.append((name, value_node, line))
    return items


def _text_list(node: yaml.Node, name: str, raw: _Raw, problems: list[Problem]) -> list[str] | None:
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
        return []  # `aliases:` with nothing after it: no aliases
    if not isinstance(node, yaml.SequenceNode):
        problems.append(
            Problem(raw.file, _line(node), raw.id, f'{name}: must be a list like ["a", "b"]')
        )
        return None
    values: list[str] = []
    for i, item in enumerate(node.value):
        value, why = _text_value(item, f"{name}[{i}]")
        if why:
            problems.append(Problem(raw.file, _line(item), raw.id, why))
            continue
        value = value.strip()
        if not value:
            problems.append(Problem(raw.file, _line(item), raw.id, f"{name}[{i}]: is empty"))
            continue
        raw.lines[f"{name}[{len(values)}]"] = _line(item)
        values.append(value)
    return values


def _parse_entry(node: yaml.Node, file: str) -> tuple[_Raw | None, list[Problem]]:
    problems: list[Problem] = []
    raw = _Raw(file, _line(node))
    if not isinstance(node, yaml.MappingNode):
        message = "an entry must be a mapping of keys (id, term, lang, definition, gist ...)"
        return None, [Problem(file, raw.line, "-", message)]

    # The id first, so that every other message can name the entry.
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == "id":
            value, _ = _text_value(value_node, "id")
            if value is not None:
                raw.values["id"] = value.strip()
            break

    for name, value_node, line in _mapping_items(node, file, raw.id, problems):
        raw.lines[name] = line
        if name in TEXT_FIELDS:
            value, why = _text_value(value_node, name)
            if why:
                problems.append(Problem(file, line, raw.id, why))
                raw.values.pop(name, None)
                continue
            raw.values[name] = value.strip()
        elif name in LIST_FIELDS:
            values = _text_list(value_node, name, raw, problems)
            if values is not None:
                raw.values[name] = values
        elif name == "links":
            _parse_links(value_node, raw, problems)
        else:
            known = ", ".join(KNOWN_FIELDS)
            problems.append(
                Problem(file, line, raw.id, f'unknown key "{name}"; known keys: {known}')
            )

    for name in REQUIRED:
        if name not in raw.lines:
            problems.append(Problem(file, raw.line, raw.id, f'missing required key "{name}"'))
    return raw, problems


def _parse_links(node: yaml.Node, raw: _Raw, problems: list[Problem]) -> None:
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
        return
    if not isinstance(node, yaml.MappingNode):
        message = "links: must be a mapping with translations: [...] and related: [...]"
        problems.append(Problem(raw.file, _line(node), raw.id, message))
        return
    for name, value_node, line in _mapping_items(node, raw.file, raw.id, problems):
        if name not in LINK_FIELDS:
            message = f'links: unknown key "{name}"; use translations or related'
            problems.append(Problem(raw.file, line, raw.id, message))
            continue
        raw.lines[f"links.{name}"] = line
        values = _text_list(value_node, f"links.{name}", raw, problems)
        if values is not None:
            raw.values[name] = values
            for i in range(len(values)):
                raw.lines[f"{name}[{i}]"] = raw.lines.pop(f"links.{name}[{i}]", line)


def _parse_file(text: str, file: str) -> tuple[list[_Raw], list[Problem]]:
    root, problems = _compose(text, file)
    if problems:
        return [], problems
    if root is None:
        return [], [Problem(file, 1, "-", 'empty file; expected a mapping with an "entries:" list')]
    if not isinstance(root, yaml.MappingNode):
        message = 'expected a mapping with an "entries:" list at the top of the file'
        return [], [Problem(file, _line(root), "-", message)]
    entries_node = None
    for name, value_node, line in _mapping_items(root, file, "-", problems):
        if name == "entries":
            entries_node = value_node
        else:
            message = f'unknown top-level key "{name}"; a glossary file holds only "entries:"'
            problems.append(Problem(file, line, "-", message))
    if entries_node is None:
        problems.append(Problem(file, _line(root), "-", 'no "entries:" list'))
        return [], problems
    if not isinstance(entries_node, yaml.SequenceNode):
        problems.append(Problem(file, _line(entries_node), "-", '"entries" must be a list'))
        return [], problems
    if not entries_node.value:
        problems.append(Problem(file, _line(entries_node), "-", '"entries" is empty'))
    raws: list[_Raw] = []
    for item in entries_node.value:
        raw, entry_problems = _parse_entry(item, file)
        problems += entry_problems
        if raw is not None:
            raws.append(raw)
    return raws, problems


# --- rules ------------------------------------------------------------------------------------


def _check_entry(raw: _Raw) -> list[Problem]:
    """Rules about one entry on its own."""
    out: list[Problem] = []
    v = raw.values

    def report(name: str, message: str) -> None:
        out.append(Problem(raw.file, raw.at(name), raw.id, f"{name}: {message}"))

    for name in TEXT_FIELDS:
        if name in v and not v[name] and name != "source":
            report(name, "is empty")
    for name in ONE_LINE:
        if "\n" in v.get(name, ""):
            report(name, "must be one line")
    for i, alias in enumerate(v.get("aliases", ())):
        if "\n" in alias:
            report(f"aliases[{i}]", "must be one line")

    if v.get("id") and not ID_RE.fullmatch(v["id"]):
        report("id", 'must be a lowercase ASCII slug such as "loss-function" or "zh-loss-function"')
    lang = v.get("lang")
    if lang and lang not in LANGUAGES:
        report("lang", f'unknown language "{lang}"; use one of: {", ".join(LANGUAGES)}')

    term = v.get("term", "")
    if len(term) > TERM_MAX:
        report("term", f"{len(term)} characters; at most {TERM_MAX} fit in a poll option")

    # Names inside one entry: a repeated spelling is noise (case, spaces, hyphens ignored).
    seen: dict[str, str] = {}
    for name, value in raw.names():
        k = key(value)
        if not k:
            report(name, f'"{value}" has no letters')
        elif k in seen:
            report(name, f'"{value}" repeats "{seen[k]}"')
        else:
            seen[k] = value

    gist = v.get("gist", "")
    names = [value for _, value in raw.names()]
    if gist:
        if len(gist) > GIST_MAX:
            report("gist", f"{len(gist)} characters; at most {GIST_MAX} fit in a poll option")
        named = [n for n in names if mentions(gist, [n])]
        if named:
            report("gist", f'names the term ("{named[0]}"); describe it without naming it')

    definition = v.get("definition", "")
    if definition:
        bare = key(definition)
        if any(bare == key(n) for n in names):
            report("definition", "only repeats the term; say what it means")

    kind = v.get("kind")
    if kind and kind not in KINDS:
        report("kind", f'unknown kind "{kind}"; known kinds: {", ".join(KINDS)}')
    clue = v.get("clue", "")
    if clue:
        limit = CLUE_MAX.get(lang or "", CLUE_MAX["en"])
        if len(clue) > limit:
            report("clue", f"{len(clue)} characters; at most {limit}: one defining phrase")
        named = [n for n in names if mentions(clue, [n])]
        if named:
            report("clue", f'names the term ("{named[0]}"); describe it without naming it')
    for i, keyword in enumerate(v.get("keywords", ())):
        word, *others = keyword.split("|")
        if word not in clue and word not in definition:
            report(f"keywords[{i}]", f'"{word}" is in neither the clue nor the definition')
        if not word.strip() or any(not o.strip() for o in others):
            report(f"keywords[{i}]", f'"{keyword}": an empty alternative')

    if lang == "zh":
        for name in ("definition", "gist", "clue"):
            if v.get(name) and not has_cjk(v[name]):
                report(name, "a zh entry needs Chinese text here")
    elif lang == "en":
        for name in ("term", "gist", "clue"):
            if v.get(name) and has_cjk(v[name]):
                report(name, "an en entry has Chinese characters here")

    tags = v.get("tags", [])
    for i, tag in enumerate(tags):
        if tag not in TAGS:
            report(f"tags[{i}]", f'unknown tag "{tag}"; known tags: {", ".join(TAGS)}')
        elif tag in tags[:i]:
            report(f"tags[{i}]", f'"{tag}" is listed twice')

    for kind in LINK_FIELDS:
        ids = v.get(kind, [])
        for i, target in enumerate(ids):
            where = f"{kind}[{i}]"
            if target == v.get("id"):
                out.append(
                    Problem(raw.file, raw.at(where), raw.id, f"links.{kind}: links to itself")
                )
            elif target in ids[:i]:
                message = f'links.{kind}: "{target}" is listed twice'
                out.append(Problem(raw.file, raw.at(where), raw.id, message))
    both = set(v.get("translations", [])) & set(v.get("related", []))
    for target in sorted(both):
        message = f'links.related: "{target}" is already a translation'
        out.append(Problem(raw.file, raw.at("links.related"), raw.id, message))
    return out


def _check_across(raws: list[_Raw]) -> list[Problem]:
    """Rules between entries: unique ids and names, links that resolve both ways."""
    out: list[Problem] = []
    by_id: dict[str, _Raw] = {}
    for raw in raws:
        entry_id = raw.values.get("id")
        if not entry_id:
            continue
        if entry_id in by_id:
            first = by_id[entry_id]
            message = f"id: duplicate id; first defined at {first.file}:{first.line}"
            out.append(Problem(raw.file, raw.at("id"), raw.id, message))
        else:
            by_id[entry_id] = raw

    def translations(raw: _Raw) -> set[str]:
        return set(raw.values.get("translations", []))

    # A name may be shared only by translations of each other (e.g. "dropout" in en and zh).
    owners: dict[str, list[tuple[_Raw, str]]] = {}
    for raw in raws:
        for name, value in raw.names():
            owners.setdefault(singular_key(value), []).append((raw, name))
    for holders in owners.values():
        for i, (raw, name) in enumerate(holders):
            for other, other_name in holders[:i]:
                if other is raw:
                    continue  # a singular/plural pair inside one entry is fine
                same_lang = raw.values.get("lang") == other.values.get("lang")
                linked = other.id in translations(raw) or raw.id in translations(other)
                if same_lang or not linked:
                    shown = raw.values["term"] if name == "term" else _alias(raw, name)
                    message = (
                        f'{name}: "{shown}" is also a name of {other.id} '
                        f"({other.file}:{other.at(other_name)}); a question could have two "
                        "right answers"
                    )
                    out.append(Problem(raw.file, raw.at(name), raw.id, message))
                    break

    gists: dict[tuple[str, str], _Raw] = {}
    for raw in raws:
        gist = raw.values.get("gist")
        if not gist:
            continue
        k = (raw.values.get("lang", ""), key(gist))
        if k in gists:
            other = gists[k]
            message = f"gist: same as the gist of {other.id} ({other.file}:{other.at('gist')})"
            out.append(Problem(raw.file, raw.at("gist"), raw.id, message))
        else:
            gists[k] = raw

    for raw in raws:
        for kind in LINK_FIELDS:
            for i, target in enumerate(raw.values.get(kind, [])):
                line = raw.at(f"{kind}[{i}]")
                other = by_id.get(target)
                if target == raw.values.get("id"):
                    continue  # reported by _check_entry
                if other is None:
                    message = f'links.{kind}: unknown id "{target}"'
                    out.append(Problem(raw.file, line, raw.id, message))
                elif kind == "translations":
                    lang = raw.values.get("lang")
                    if lang and lang == other.values.get("lang"):
                        message = (
                            f'links.translations: "{target}" is also {lang}; a translation is '
                            "in another language (same-language twins should be one entry)"
                        )
                        out.append(Problem(raw.file, line, raw.id, message))
                    elif raw.id not in translations(other):
                        message = (
                            f'links.translations: "{target}" does not list "{raw.id}" back '
                            "among its translations"
                        )
                        out.append(Problem(raw.file, line, raw.id, message))
    return out


def _alias(raw: _Raw, name: str) -> str:
    index = int(name[len("aliases[") : -1])
    return raw.values["aliases"][index]


def _to_entry(raw: _Raw) -> Entry:
    v = raw.values
    return Entry(
        id=v["id"],
        term=v["term"],
        lang=v["lang"],
        definition=v["definition"],
        gist=v["gist"],
        aliases=tuple(v.get("aliases", ())),
        tags=tuple(v.get("tags", ())),
        source=v.get("source", ""),
        kind=v.get("kind", ""),
        clue=v.get("clue", ""),
        keywords=tuple(v.get("keywords", ())),
        translations=tuple(v.get("translations", ())),
        related=tuple(v.get("related", ())),
        file=raw.file,
        line=raw.line,
    )


# --- public API -------------------------------------------------------------------------------


def check_texts(texts: Sequence[tuple[str, str]]) -> tuple[Glossary, list[Problem]]:
    """Validate glossary files given as (file name, YAML text) pairs, as one glossary."""
    raws: list[_Raw] = []
    problems: list[Problem] = []
    for file, text in texts:
        file_raws, file_problems = _parse_file(text, file)
        raws += file_raws
        problems += file_problems
    for raw in raws:
        problems += _check_entry(raw)
    problems += _check_across(raws)
    return _build(raws, problems, [file for file, _ in texts])


def _build(
    raws: list[_Raw], problems: list[Problem], order: list[str]
) -> tuple[Glossary, list[Problem]]:
    rank = {file: i for i, file in enumerate(order)}
    problems.sort(key=lambda p: (rank.get(p.file, len(rank)), p.line))
    # The glossary holds every entry complete enough to build, even when others are broken, so
    # that `content dump` and the error messages can still show what was read.
    seen: set[str] = set()
    entries = []
    for raw in raws:
        if all(raw.values.get(name) for name in REQUIRED) and raw.values["id"] not in seen:
            seen.add(raw.values["id"])
            entries.append(_to_entry(raw))
    return Glossary(tuple(entries)), problems


def check_paths(paths: Sequence[Path] | None = None) -> tuple[Glossary, list[Problem]]:
    """Read and validate glossary files and directories (default: the content directory).

    Returns the entries that could be read and every problem found; never raises for bad
    content.
    """
    files, problems = expand_paths(paths if paths is not None else [default_content_dir()])
    texts: list[tuple[str, str]] = []
    for path in files:
        text, read_problems = _read_text(path, str(path))
        problems += read_problems
        if text is not None:
            texts.append((str(path), text))
    glossary, found = check_texts(texts)
    order = [str(p) for p in files]
    all_problems = problems + found
    rank = {file: i for i, file in enumerate(order)}
    all_problems.sort(key=lambda p: (rank.get(p.file, -1), p.line))
    return glossary, all_problems


def load_glossary(paths: Sequence[Path] | None = None) -> Glossary:
    """The validated glossary; raises `GlossaryError` listing every problem if there are any."""
    glossary, problems = check_paths(paths)
    if problems:
        raise GlossaryError(problems)
    return glossary
