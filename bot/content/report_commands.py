"""`quizbot content reports ...`: the curator's side of learners' question reports.

`reports` lists open reports grouped by glossary entry (one line per entry, then one per
report); `reports accept ID...` / `reports reject ID...` (or `--entry ENTRY`: all of that
entry's open reports) review them. Accepting a "my answer should count" report of a typed
question proposes the answer as an alias: the file and line of the entry and the YAML line to
put there. Nothing here edits the content files; `reports aliases` lists every proposal of
accepted reports whose answer the glossary does not accept yet.

An entry with open reports from HOLD_BACK_REPORTERS different users is held back from new
questions until its reports are reviewed; the listing says so.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

REASON_NAMES = {
    "wrong_key": "wrong answer key",
    "should_count": "my answer should count",
    "unclear": "unclear",
}
# What an accepted report of the other reasons asks of the entry.
FIXES = {
    "wrong_key": "fix the answer key (the definition, gist or term the question was made from)",
    "unclear": "make the question clear (the clue or definition it was made from)",
}
PROMPT_SHOWN = 100  # characters of a question's prompt shown in a listing line
ANSWER_SHOWN = 60


def register(content: argparse._SubParsersAction) -> None:
    """Add `reports` to the `quizbot content` actions."""
    reports = content.add_parser(
        "reports",
        help="list and review learners' reports of wrong questions",
        description="List the questions learners reported as wrong, grouped by glossary entry: "
        "one line per entry (where it is defined, its term, the reports by reason, the answers "
        "that learners say should count, and whether it is held back from new questions), then "
        "one line per report (its id, reason, the reporter's answer, the question as asked and "
        "its key, who and when). Review them with 'accept' and 'reject'. The content files are "
        "never edited here.",
    )
    reports.add_argument(
        "--status", choices=("open", "accepted", "rejected", "all"), default="open",
        help="which reports to list (default open)",
    )  # fmt: skip
    reports.add_argument(
        "--entry", dest="entry_filter", metavar="ENTRY", help="only the reports of this entry"
    )
    reports.set_defaults(func=run_list)
    actions = reports.add_subparsers(dest="report_action", metavar="ACTION")
    for name, outcome, text in (
        ("accept", "accepted", "accept reports; prints alias proposals for answers that count"),
        ("reject", "rejected", "reject reports: the question stands as it is"),
    ):
        review = actions.add_parser(
            name,
            help=text,
            description=text[0].upper() + text[1:] + ". Only open reports change. Accepting a "
            "'my answer should count' report of a typed question prints the entry's file and "
            "line and its aliases line with the answer added, for you to edit.",
        )
        review.add_argument("ids", nargs="*", type=_report_id, metavar="ID", help="report ids")
        review.add_argument(
            "--entry", dest="entry", metavar="ENTRY", help="every open report of this entry"
        )
        review.set_defaults(func=run_review, outcome=outcome)
    aliases = actions.add_parser(
        "aliases",
        help="alias proposals of accepted reports",
        description="One line per entry: the answers of accepted 'my answer should count' "
        "reports that the glossary does not accept yet, as the entry's aliases line.",
    )
    aliases.set_defaults(func=run_aliases)


def _report_id(raw: str) -> int:
    value = raw.lstrip("#")
    if not value.isdigit() or len(value) > 10:
        raise argparse.ArgumentTypeError(f"not a report id: {raw!r}")
    return int(value)


# ------------------------------------------------------------------ the commands


def run_list(args: argparse.Namespace) -> int:
    statuses = ("open", "accepted", "rejected") if args.status == "all" else (args.status,)

    async def work(uow, glossary) -> int:
        from bot.core.reports import held_back

        rows = await uow.reports.listed(statuses, entry_id=args.entry_filter)
        held = await held_back(uow)
        if not rows:
            print("no reports" if args.status == "all" else f"no {args.status} reports")
            return 0
        by_entry: dict[str, list] = {}
        for row in rows:
            by_entry.setdefault(row[0].entry_id, []).append(row)
        for entry_id, found in by_entry.items():
            print(_entry_line(entry_id, [r for r, *_ in found], glossary, entry_id in held))
            for report, name, platform, _chat in found:
                print("  " + _report_line(report, name, platform, show_status=len(statuses) > 1))
        return 0

    return _run(work)


def run_review(args: argparse.Namespace) -> int:
    if not args.ids and not args.entry:
        print("quizbot: give report ids, or --entry ENTRY", file=sys.stderr)
        return 2

    async def work(uow, glossary) -> int:
        reports = await uow.reports.by_ids(sorted(set(args.ids)))
        missing = sorted(set(args.ids) - {r.id for r in reports})
        if args.entry:
            of_entry = await uow.reports.listed(("open",), entry_id=args.entry)
            known = {r.id for r in reports}
            reports += [r for r, *_ in of_entry if r.id not in known]
            if not of_entry:
                print(f"{args.entry}: no open reports")
        before = {r.id: r.status for r in reports}  # read before the update changes them
        now = datetime.now(UTC)
        await uow.reports.review([r.id for r in reports if r.status == "open"], args.outcome, now)
        await uow.commit()
        accepted: list = []
        for report in sorted(reports, key=lambda r: r.id):
            if before[report.id] != "open":
                print(f"#{report.id}: already {before[report.id]}; unchanged")
                continue
            print(f"#{report.id} {args.outcome}: {report.entry_id}, {_reason_text(report)}")
            if args.outcome == "accepted":
                accepted.append(report)
        for line in _proposals(accepted, glossary):
            print(line)
        for report_id in missing:
            print(f"#{report_id}: no such report", file=sys.stderr)
        return 1 if missing else 0

    return _run(work)


def run_aliases(args: argparse.Namespace) -> int:
    async def work(uow, glossary) -> int:
        rows = await uow.reports.listed(("accepted",))
        lines = _proposals([r for r, *_ in rows if r.reason == "should_count"], glossary)
        for line in lines:
            print(line)
        if not lines:
            print("no alias proposals")
        return 0

    return _run(work)


def _run(work: Callable[..., Awaitable[int]]) -> int:
    """Run `work(uow, glossary)` in one transaction on the configured database (migrated to
    the newest schema first), with the glossary as it reads now (problems or not)."""
    from bot.config import load_settings
    from bot.content.glossary import check_paths
    from bot.storage import db
    from bot.storage.uow import unit_of_work_factory

    settings = load_settings()
    glossary, _problems = check_paths(list(settings.content_paths) or None)

    async def main() -> int:
        await db.upgrade(settings.database_url)
        engine = db.create_engine(settings.database_url)
        try:
            async with unit_of_work_factory(db.session_factory(engine))() as uow:
                return await work(uow, glossary)
        finally:
            await engine.dispose()

    return asyncio.run(main())


# ------------------------------------------------------------------ lines


def _entry_line(entry_id: str, reports: list, glossary, held: bool) -> str:
    entry = glossary.get(entry_id)
    users = len({r.user_id for r in reports})
    counts = []
    for reason, name in REASON_NAMES.items():
        mine = [r for r in reports if r.reason == reason]
        if not mine:
            continue
        text = f"{name} {len(mine)}"
        answers = _unique(r.answer for r in mine if r.answer and reason == "should_count")
        if answers:
            text += " (" + ", ".join(_quoted(a) for a in answers) + ")"
        counts.append(text)
    term = _quoted(entry.term) if entry else "(not in the glossary)"
    line = (
        f"{_where(entry)}: {entry_id} {term}: {len(reports)} report(s) from {users} "
        f"user(s): {'; '.join(counts)}"
    )
    if held:
        line += "; held back from new questions until reviewed"
    return line


def _report_line(report, name: str, platform: str, *, show_status: bool) -> str:
    question = report.question or {}
    status = f" [{report.status}]" if show_status else ""
    answer = f" answered {_quoted(report.answer, ANSWER_SHOWN)}" if report.answer else ""
    kind = question.get("type", "?")
    prompt = _quoted(question.get("prompt", ""), PROMPT_SHOWN)
    key = question.get("answer", "")
    options = question.get("options") or []
    correct = question.get("correct_option")
    if options and isinstance(correct, int) and 0 <= correct < len(options):
        key = f"{'ABCDEFGHIJ'[correct]}) {key}"
    when = report.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    return (
        f"#{report.id}{status} {REASON_NAMES.get(report.reason, report.reason)}{answer} · "
        f"{kind}: {prompt} → {_quoted(key, ANSWER_SHOWN)} · {_one_line(name)} ({platform}), "
        f"{when} UTC"
    )


def _reason_text(report) -> str:
    text = REASON_NAMES.get(report.reason, report.reason)
    if report.answer:
        text += f", answered {_quoted(report.answer, ANSWER_SHOWN)}"
    return text


def _proposals(accepted: list, glossary) -> list[str]:
    """What accepted "my answer should count" reports ask of the content, one line per
    entry: the aliases line with the new answers (typed questions), or a note that a second
    option was defended (multiple choice)."""
    typed: dict[str, list[str]] = {}
    chosen: dict[str, list[str]] = {}
    other: dict[tuple[str, str], list[int]] = {}
    for report in accepted:
        if report.reason != "should_count":
            other.setdefault((report.entry_id, report.reason), []).append(report.id)
            continue
        if not (report.answer or "").strip():
            continue
        table = chosen if (report.question or {}).get("options") else typed
        table.setdefault(report.entry_id, []).append(report.answer.strip())
    lines = []
    for entry_id, answers in typed.items():
        entry = glossary.get(entry_id)
        if entry is None:
            lines.append(f"{entry_id}: not in the glossary any more; no alias to propose")
            continue
        known = {name.casefold() for name in entry.names}
        new = [a for a in _unique(answers) if a.casefold() not in known]
        if not new:
            lines.append(f"{_where(entry)}: {entry_id}: accepted already (term or alias)")
            continue
        aliases = ", ".join(json.dumps(a, ensure_ascii=False) for a in (*entry.aliases, *new))
        lines.append(f"{_where(entry)}: {entry_id}: alias proposal: aliases: [{aliases}]")
    for entry_id, answers in chosen.items():
        entry = glossary.get(entry_id)
        picked = ", ".join(_quoted(a) for a in _unique(answers))
        lines.append(
            f"{_where(entry) if entry else entry_id}: {entry_id}: multiple choice, option(s) "
            f"{picked} defended as right too: keep such entries apart (links.related) or "
            "sharpen the clue; no alias to add"
        )
    for (entry_id, reason), ids in other.items():
        entry = glossary.get(entry_id)
        todo = FIXES.get(reason, "review the entry")
        numbers = ", ".join(f"#{i}" for i in ids)
        lines.append(f"{_where(entry) if entry else entry_id}: {entry_id}: {todo} ({numbers})")
    return lines


def _where(entry) -> str:
    if entry is None or not entry.file:
        return "(not in the glossary)"
    path = entry.file
    try:
        path = os.path.relpath(Path(path).resolve(), Path.cwd())
    except ValueError:  # another drive (Windows)
        pass
    return f"{path}:{entry.line}" if entry.line else path


def _unique(values) -> list[str]:
    seen, out = set(), []
    for value in values:
        key = value.strip().casefold()
        if key and key not in seen:
            seen.add(key)
            out.append(value.strip())
    return out


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _quoted(text: str, limit: int | None = None) -> str:
    text = _one_line(text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return json.dumps(text, ensure_ascii=False)
