"""`quizbot questions --lint`: make every question the glossary allows and find the defects a
teacher would refuse that a program can see.

It re-checks the finished questions from the outside (it does not trust the generator's own
rules): a part of the answer visible in the clue that no wrong option shares, a blank on a plain
word, text cut short, an explanation that is a fragment, options in mixed scripts or of mixed
kinds, a confusable entry offered as a wrong option, a wall of text, a clue that leans on a
pronoun, a header that names the entry. Each problem is one line,
`file:line: entry-id: type: problem`, like the glossary check's.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from bot.content.model import Entry, Glossary, Question, QuestionType
from bot.content.questions import CLUE_LIMIT, MAX_BLANKS, QuestionGenerator, script_of
from bot.content.text import BLANK, ELLIPSIS, has_cjk, key, mentions, normalise

_T = QuestionType
_PRONOUN = re.compile(r"^(?:it|its|this|these|they|their|those|such)\b|^(?:它|其|这|该)")
_SENTENCE_END = ("。", ".", "!", "?", "！", "？", ")", "）", "”", '"')


@dataclass(frozen=True, slots=True)
class Finding:
    entry: Entry
    qtype: QuestionType
    problem: str

    def __str__(self) -> str:
        where = f"{self.entry.file}:{self.entry.line}" if self.entry.file else "-"
        return f"{where}: {self.entry.id}: {self.qtype.value}: {self.problem}"


class Linter:
    def __init__(self, glossary: Glossary) -> None:
        self.glossary = glossary
        self.generator = QuestionGenerator(glossary, seed=0)
        self.parts = self.generator.parts
        self._by_term: dict[tuple[str, str], Entry] = {}
        for entry in glossary.entries:
            self._by_term.setdefault((entry.lang, key(entry.term)), entry)
        self._names = {(e.lang, key(n)) for e in glossary.entries for n in e.names}

    def check(self, q: Question) -> list[str]:
        """What a teacher would refuse in `q` that can be seen by a program."""
        entry = self.glossary.get(q.entry_id)
        if entry is None:
            return ["names an entry that is not in the glossary"]
        problems: list[str] = []
        clue = q.prompt.split("\n", 1)[1] if "\n" in q.prompt else ""
        texts = [q.prompt, q.explanation, *q.options]
        if any(ELLIPSIS in t for t in texts):
            problems.append("text cut short (…)")
        problems += self._explanation(q)
        if q.options:
            problems += self._options(q, entry)
        if clue:
            problems += self._clue(q, entry, clue)
        if q.type == _T.DEFINITION_TO_TERM:
            problems += self._uncovered(q, entry, self._clang(clue, entry), "the clue")
        elif q.type == _T.TERM_TO_DEFINITION:
            right = q.options[q.correct_option or 0]
            problems += self._uncovered(q, entry, self._clang(right, entry), "the right option")
        elif q.type == _T.FILL_IN:
            for part in sorted(self.parts.visible(clue, entry)):
                problems.append(f'leak: the clue shows "{_label(part)}" of the answer')
        elif q.type == _T.CLOZE:
            problems += self._cloze(q, entry, clue)
        return problems

    def _clang(self, text: str, entry: Entry) -> set[str]:
        return self.parts.visible(text, entry) | self.parts.shared_words(text, entry)

    def _explanation(self, q: Question) -> list[str]:
        text = q.explanation.strip()
        words = len(text.split()) if q.lang == "en" else len(text)
        if (
            not text.endswith(_SENTENCE_END)
            or words < (5 if q.lang == "en" else 8)
            or re.search(r"(?:^|[\s：:])\d{1,2}[.。]$", text)
            or "←" in text
        ):
            return [f'explanation is a fragment: "{text}"']
        return []

    def _options(self, q: Question, entry: Entry) -> list[str]:
        problems = []
        scripts = {script_of(o) for o in q.options}
        if len(scripts) > 1:
            problems.append(f"options in mixed scripts: {list(q.options)}")
        if len(q.options) < 3:
            problems.append(f"only {len(q.options)} options")
        answer_entry = entry
        if q.type == _T.TRANSLATION:
            twins = self.parts.twins(entry)
            answer_entry = twins[0] if twins else entry
        kind = self.generator.kind_of(answer_entry)
        for i, option in enumerate(q.options):
            if i == q.correct_option:
                continue
            other = self._entry_of_option(q, option, answer_entry.lang)
            if other is None:
                continue
            other_kind = self.generator.kind_of(other)
            if kind and other_kind and other_kind != kind:
                problems.append(f'option "{option}" is a {other_kind}, the answer a {kind}')
            if self.generator._confusable(answer_entry, other):
                problems.append(f'option "{option}" is marked confusable with the answer')
        return problems

    def _entry_of_option(self, q: Question, option: str, lang: str) -> Entry | None:
        if q.type == _T.TERM_TO_DEFINITION:
            return next(
                (e for e in self.glossary.entries if e.lang == lang and e.gist.strip() == option),
                None,
            )
        return self._by_term.get((lang, key(option)))

    def _clue(self, q: Question, entry: Entry, clue: str) -> list[str]:
        problems = []
        limit = CLUE_LIMIT[q.lang]
        if len(clue) > limit:
            problems.append(f"wall of text: a clue of {len(clue)} characters (at most {limit})")
        if _PRONOUN.match(clue.replace(BLANK, "").strip().lower()):
            problems.append(f'the clue opens on a pronoun: "{clue[:20]}"')
        header = q.prompt.split("\n", 1)[0]
        if q.type == _T.CLOZE and mentions(header, entry.names):
            problems.append(f'the header names the entry: "{header}"')
        if q.type in (_T.FILL_IN, _T.CLOZE):
            blanks = clue.count(BLANK)
            if not 1 <= blanks <= MAX_BLANKS:
                problems.append(f"{blanks} blanks (1 to {MAX_BLANKS} make a fair prompt)")
        return problems

    def _uncovered(self, q: Question, entry: Entry, shown: set[str], where: str) -> list[str]:
        wrong = [o for i, o in enumerate(q.options) if i != q.correct_option]
        problems = []
        for part in sorted(shown):
            if not any(part in self._clang(o, entry) for o in wrong):
                problems.append(
                    f'leak: {where} shows "{_label(part)}" of the answer, and no wrong option does'
                )
        return problems

    def _cloze(self, q: Question, entry: Entry, clue: str) -> list[str]:
        problems = []
        answer_key = (q.lang, key(q.answer))
        keywords = {normalise(k.split("|")[0]) for k in entry.keywords}
        owner = next(
            (e for e in self.glossary.entries if e.lang == q.lang and q.answer in e.names), None
        )
        if answer_key not in self._names and normalise(q.answer) not in keywords:
            problems.append(f'a blank on a plain word: "{q.answer}" is no term nor keyword')
        if owner is not None:
            for part in sorted(self.parts.visible(clue, owner)):
                problems.append(f'leak: the sentence shows "{_label(part)}" of the blank')
        elif mentions(clue, [q.answer]):
            problems.append(f'leak: "{q.answer}" is also visible in the sentence')
        if has_cjk(q.answer) != has_cjk(clue.replace(BLANK, "")) and q.lang == "zh":
            problems.append(f'the blank "{q.answer}" is in another script than its sentence')
        return problems


def _label(part: str) -> str:
    for prefix in ("acronym:", "initials:", "word:"):
        if part.startswith(prefix):
            return part[len(prefix) :] + (" spelt out" if prefix == "acronym:" else "")
    return part


def lint(glossary: Glossary, seeds: Iterable[int] = range(3)) -> tuple[list[Finding], Counter]:
    """Every question each seed makes for every entry and type: the problems found, and how
    many questions were made per (language, type)."""
    linter = Linter(glossary)
    findings: dict[str, Finding] = {}
    made: Counter = Counter()
    for seed in seeds:
        generator = QuestionGenerator(glossary, seed=seed)
        for entry in glossary.entries:
            for qtype in QuestionType:
                question = generator.make(entry, qtype)
                if question is None:
                    continue
                if seed == 0:
                    made[(entry.lang, qtype.value)] += 1
                for problem in linter.check(question):
                    finding = Finding(entry, qtype, problem)
                    findings.setdefault(str(finding), finding)
    return list(findings.values()), made


__all__ = ["Finding", "Linter", "lint"]
