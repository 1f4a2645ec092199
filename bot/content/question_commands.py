"""`quizbot questions`: print generated questions as JSON Lines (one question per line)."""

from __future__ import annotations

import argparse
import json
import sys

from bot.content.model import Glossary, QuestionType
from bot.content.questions import QuestionGenerator

MULTIPLE_CHOICE = tuple(t for t in QuestionType if t.is_multiple_choice)
TYPED = tuple(t for t in QuestionType if not t.is_multiple_choice)
TYPE_CHOICES = {
    **{str(t): (t,) for t in QuestionType},
    "mc": MULTIPLE_CHOICE,
    "typed": TYPED,
    "mixed": None,
}


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "questions",
        help="print generated questions as JSON Lines",
        description="Generate quiz questions from the glossary and print them as JSON Lines.",
    )
    parser.add_argument("--count", type=int, default=10, help="how many questions (default 10)")
    parser.add_argument("--seed", type=int, default=None, help="same seed, same output")
    parser.add_argument("--lang", choices=("en", "zh", "mixed"), default="mixed")
    parser.add_argument("--type", dest="qtype", choices=tuple(TYPE_CHOICES), default="mixed")
    parser.add_argument(
        "--lint",
        action="store_true",
        help="make every question the glossary allows (several seeds) and list the defects a "
        "teacher would refuse; exit 1 if there is any",
    )
    parser.add_argument(
        "--seeds", type=int, default=5, help="with --lint: how many seeds to try (default 5)"
    )
    parser.set_defaults(func=run)


class GlossaryUnavailable(Exception):
    """The glossary failed to load; `problems` are the loader's messages."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _load_glossary() -> Glossary:
    # Imported late so that this module (and its tests) do not depend on the loader's details.
    from bot.content.glossary import GlossaryError, load_glossary

    try:
        return load_glossary()
    except GlossaryError as err:
        problems = err.problems
        raise GlossaryUnavailable([str(p) for p in problems]) from err


def run(args: argparse.Namespace) -> int:
    if args.count < 0:
        print("--count must be 0 or more", file=sys.stderr)
        return 2
    try:
        glossary = _load_glossary()
    except GlossaryUnavailable as err:
        print("The glossary has problems:", file=sys.stderr)
        for problem in err.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    if args.lint:
        return _lint(glossary, args.seeds)
    generator = QuestionGenerator(glossary, seed=args.seed)
    questions = generator.generate(args.count, lang=args.lang, types=TYPE_CHOICES[args.qtype])
    for question in questions:
        print(json.dumps(question.to_json(), ensure_ascii=False))
    if len(questions) < args.count:
        print(f"only {len(questions)} questions could be made", file=sys.stderr)
    return 0


def _lint(glossary: Glossary, seeds: int) -> int:
    from bot.content.lint import lint

    findings, made = lint(glossary, range(max(seeds, 1)))
    for finding in sorted(findings, key=str):
        print(finding)
    langs = sorted({lang for lang, _ in made})
    for lang in langs:
        entries = len(glossary.in_lang(lang))
        counts = ", ".join(f"{t} {made[(lang, t)]}" for t in (str(q) for q in QuestionType))
        print(f"{lang}: {entries} entries; questions made: {counts}", file=sys.stderr)
    if findings:
        print(f"{len(findings)} problems", file=sys.stderr)
        return 1
    print("ok: no problems found", file=sys.stderr)
    return 0
