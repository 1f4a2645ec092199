"""`quizbot content ...`: check, dump and import glossary content; review question reports."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from bot.content.glossary import check_paths, check_texts
from bot.content.importer import UnreadableDocument, import_files, render_draft, summary
from bot.content.report_commands import register as register_reports


def register(subparsers: argparse._SubParsersAction) -> None:
    content = subparsers.add_parser(
        "content",
        help="check, dump and import glossary content",
        description="Work with the glossary: validate it, print it, or draft new entries from "
        "raw documents. The glossary is every *.yaml file in the content directory "
        "($QUIZBOT_CONTENT_DIR, else content/ in the project); content/README.md describes "
        "the format.",
    )
    sub = content.add_subparsers(dest="content_command", metavar="ACTION")
    content.set_defaults(func=lambda args: _help(content))

    check = sub.add_parser(
        "check",
        help="validate glossary files",
        description="Validate glossary files against the schema and the rules between entries "
        "(unique ids, no name shared by two entries, links that resolve, gists of at most 100 "
        "characters that do not name the term ...). Prints one line per problem, "
        "'file:line: entry-id: what is wrong'. Exit status 1 if anything is wrong, else 0.",
    )
    _add_paths(check)
    check.set_defaults(func=run_check)

    dump = sub.add_parser(
        "dump",
        help="print the glossary as JSON Lines",
        description="Print the loaded glossary as JSON Lines, one entry per line, with the keys "
        "id, term, aliases, lang, definition, gist, tags, source and links. Refuses (exit "
        "status 1) when the glossary has problems: run 'quizbot content check' to see them.",
    )
    _add_paths(dump)
    dump.set_defaults(func=run_dump)

    imp = sub.add_parser(
        "import",
        help="draft glossary entries from raw documents",
        description="Read raw documents ('Term: definition' lines, flashcard decks, "
        "encyclopedia snippets or blog teasers; the layout is detected per file), drop page "
        "noise, and write a draft glossary YAML for a person to review. A summary of what was "
        "kept and what was skipped, and why, goes to stderr, followed by what the draft still "
        "breaks of the glossary rules.",
    )
    imp.add_argument("files", nargs="+", type=Path, metavar="FILE", help="UTF-8 text documents")
    imp.add_argument(
        "--lang", choices=("en", "zh"), default=None,
        help="language of the documents (default: detected per file from its characters)",
    )  # fmt: skip
    imp.add_argument(
        "--out", type=Path, default=None, metavar="PATH",
        help="write the draft here instead of to stdout",
    )  # fmt: skip
    imp.add_argument("--force", action="store_true", help="overwrite the --out file if it exists")
    imp.set_defaults(func=run_import)

    register_reports(sub)


def _add_paths(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths", nargs="*", type=Path, metavar="PATH",
        help="glossary files or directories (default: the content directory)",
    )  # fmt: skip


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def run_check(args: argparse.Namespace) -> int:
    glossary, problems = check_paths(args.paths or None)  # none given: the content folder
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    counts = ", ".join(f"{lang} {len(glossary.in_lang(lang))}" for lang in ("en", "zh"))
    print(f"ok: {len(glossary)} entries ({counts})", file=sys.stderr)
    return 0


def run_dump(args: argparse.Namespace) -> int:
    glossary, problems = check_paths(args.paths or None)
    if problems:
        for problem in problems:
            print(problem, file=sys.stderr)
        print("the glossary has problems; nothing dumped", file=sys.stderr)
        return 1
    try:
        for entry in glossary.entries:
            print(json.dumps(entry.to_json(), ensure_ascii=False))
        sys.stdout.flush()
    except BrokenPipeError:
        # `quizbot content dump | head`: the reader has gone, which is fine.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 0


def run_import(args: argparse.Namespace) -> int:
    out: Path | None = args.out
    if out is not None and out.exists() and not args.force:
        print(f"quizbot: {out} exists; choose another --out or add --force", file=sys.stderr)
        return 1
    try:
        results = import_files(args.files, lang=args.lang)
    except UnreadableDocument as err:
        print(f"quizbot: cannot import {err}", file=sys.stderr)
        return 1
    for result in results:
        print("\n".join(summary(result)), file=sys.stderr)
    if not any(r.drafts for r in results):
        print("quizbot: no glossary entries found; nothing written", file=sys.stderr)
        return 1
    draft = render_draft(results)
    name = str(out) if out is not None else "<draft>"
    _, problems = check_texts([(name, draft)])
    if problems:
        print(
            f"the draft breaks {len(problems)} glossary rule(s); fix them by hand:", file=sys.stderr
        )
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
    if out is None:
        sys.stdout.write(draft)
    else:
        try:
            out.write_text(draft, encoding="utf-8")
        except OSError as err:
            print(f"quizbot: cannot write {out}: {err.strerror or err}", file=sys.stderr)
            return 1
        print(
            f"wrote {sum(len(r.drafts) for r in results)} draft entries to {out}", file=sys.stderr
        )
    return 0
