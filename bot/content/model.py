"""Plain data shared by the glossary loader, the question generator and the quiz engine.

Nothing here does I/O: a `Glossary` is built by `bot.content.glossary.load_glossary`, a
`Question` by `bot.content.questions`; the engine and the adapters only read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

LANGUAGES = ("en", "zh")


@dataclass(frozen=True, slots=True)
class Entry:
    """One glossary term in one language."""

    id: str
    term: str
    lang: str  # "en" or "zh"
    definition: str
    gist: str  # one line, at most 100 characters
    aliases: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    source: str = ""
    kind: str = ""  # what sort of thing it is (glossary.KINDS); "" when not curated
    clue: str = ""  # a defining phrase that names neither the term nor any part of it
    # Words of the clue or definition worth a blank, each with the other answers a fair marker
    # accepts in its place: "ground truth|true values".
    keywords: tuple[str, ...] = ()
    translations: tuple[str, ...] = ()  # ids of the same concept in the other language
    related: tuple[str, ...] = ()  # ids of entries a learner may confuse with this one
    file: str = ""  # where it was loaded from, for error messages
    line: int = 0

    @property
    def names(self) -> tuple[str, ...]:
        """The term and every alias: all the accepted spellings of this entry."""
        return (self.term, *self.aliases)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "term": self.term,
            "aliases": list(self.aliases),
            "lang": self.lang,
            "definition": self.definition,
            "gist": self.gist,
            "tags": list(self.tags),
            "source": self.source,
            "kind": self.kind,
            "clue": self.clue,
            "keywords": list(self.keywords),
            "links": {"translations": list(self.translations), "related": list(self.related)},
        }


@dataclass(frozen=True, slots=True)
class Glossary:
    entries: tuple[Entry, ...]
    by_id: dict[str, Entry] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not self.by_id:
            self.by_id.update({e.id: e for e in self.entries})

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, entry_id: str) -> Entry | None:
        return self.by_id.get(entry_id)

    def in_lang(self, lang: str) -> list[Entry]:
        return [e for e in self.entries if e.lang == lang]

    def translations_of(self, entry: Entry) -> list[Entry]:
        return [self.by_id[i] for i in entry.translations if i in self.by_id]


class QuestionType(StrEnum):
    DEFINITION_TO_TERM = "def_term"  # multiple choice: clue is a definition, options are terms
    TERM_TO_DEFINITION = "term_def"  # multiple choice: clue is a term, options are gists
    FILL_IN = "fill"  # typed: definition with the term masked
    CLOZE = "cloze"  # typed: a key word of the definition masked
    TRANSLATION = "translate"  # multiple choice: pick the other-language twin

    @property
    def is_multiple_choice(self) -> bool:
        return self in (
            QuestionType.DEFINITION_TO_TERM,
            QuestionType.TERM_TO_DEFINITION,
            QuestionType.TRANSLATION,
        )


@dataclass(frozen=True, slots=True)
class Question:
    """A platform-neutral question. Adapters render it; the engine grades against it."""

    type: QuestionType
    lang: str
    prompt: str  # <= 300 characters
    answer: str  # the canonical right answer (for MC: the text of the right option)
    accepted: tuple[str, ...]  # every accepted typed answer (aliases included)
    entry_id: str
    explanation: str  # <= 200 characters, shown after answering
    options: tuple[str, ...] = ()  # multiple choice only, each <= 100 characters
    correct_option: int | None = None  # index into options

    @property
    def is_multiple_choice(self) -> bool:
        return bool(self.options)

    def to_json(self) -> dict:
        return {
            "type": str(self.type),
            "lang": self.lang,
            "prompt": self.prompt,
            "options": list(self.options),
            "answer": self.answer,
            "correct_option": self.correct_option,
            "accepted": list(self.accepted),
            "entry_id": self.entry_id,
            "explanation": self.explanation,
        }

    @classmethod
    def from_json(cls, data: dict) -> Question:
        return cls(
            type=QuestionType(data["type"]),
            lang=data["lang"],
            prompt=data["prompt"],
            answer=data["answer"],
            accepted=tuple(data["accepted"]),
            entry_id=data["entry_id"],
            explanation=data["explanation"],
            options=tuple(data.get("options") or ()),
            correct_option=data.get("correct_option"),
        )
