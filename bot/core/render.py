"""Plain-text renderings of questions, results and boards, in the chat's interface language.

Every adapter gets these as `Reply.text`; richer adapters may build native widgets from the
structured fields instead, but the words come from the same catalogue.
"""

from __future__ import annotations

from bot.content.model import Question
from bot.core import engine
from bot.core.replies import Standing
from bot.i18n import t

MEDALS = ("🥇", "🥈", "🥉")
OPTION_LABELS = "ABCDEFGHIJ"
TABLE_ROWS = 20  # a round table longer than this would not fit a Discord message


def number(lang: str, value: int) -> str:
    """A count or a score as a reader expects it: thousands grouped, 46,656. Chinese groups
    digits in threes with the same comma (CLDR's zh number pattern is #,##0), so one format
    serves both languages; every number a user reads goes through here."""
    return f"{value:,}"


def question_text(lang: str, question: Question, position: int, total: int, typed_hint: str) -> str:
    lines = [t(lang, "question.header", position=position, total=total), question.prompt]
    if question.options:
        lines.append("")
        lines += [f"{OPTION_LABELS[i]}) {opt}" for i, opt in enumerate(question.options)]
    elif typed_hint:
        lines.append("")
        lines.append(typed_hint)
    return "\n".join(lines)


def answer_line(lang: str, question: Question) -> str:
    if question.options and question.correct_option is not None:
        label = OPTION_LABELS[question.correct_option]
        return t(lang, "result.answer_option", label=label, answer=question.answer)
    return t(lang, "result.answer", answer=question.answer)


def short_name(name: str, limit: int = 32) -> str:
    """Display names are the users' own text: keep them short enough for any board."""
    name = " ".join(name.split())
    return name if len(name) <= limit else name[: limit - 1] + "…"


def standing_line(lang: str, row: Standing) -> str:
    prefix = MEDALS[row.rank - 1] if row.rank <= len(MEDALS) else f"{row.rank}."
    mark = " ◀" if row.is_caller else ""
    return (
        t(
            lang,
            "board.row",
            prefix=prefix,
            name=row.name,
            points=number(lang, row.points),
            correct=number(lang, row.correct),
            accuracy=round(row.accuracy * 100),
        )
        + mark
    )


def result_text(
    lang: str, question: Question, winners: list[str], top: list[Standing], solo: bool
) -> str:
    lines = [answer_line(lang, question)]
    if question.explanation:
        lines.append(question.explanation)
    if not solo:
        if winners:
            names = ", ".join(short_name(w) for w in winners[:10])
            lines.append(t(lang, "result.winners", names=names))
            if len(winners) > 10:
                lines.append(t(lang, "result.more_winners", count=len(winners) - 10))
        else:
            lines.append(t(lang, "result.nobody"))
        if top:
            lines.append(t(lang, "result.top"))
            lines += [standing_line(lang, row) for row in top]
    return "\n".join(lines)


def round_over_text(lang: str, reason: str, table: list[Standing], solo: bool) -> str:
    lines = [t(lang, f"round.over.{reason}")]
    if not table:
        lines.append(t(lang, "round.over.empty"))
        return "\n".join(lines)
    if solo:
        me = table[0]
        lines.append(
            t(
                lang,
                "round.over.solo",
                correct=number(lang, me.correct),
                answered=number(lang, me.answered),
                points=number(lang, me.points),
            )
        )
        return "\n".join(lines)
    lines.append(t(lang, "round.podium"))
    lines += [standing_line(lang, row) for row in table[:3]]
    if len(table) > 3:
        lines.append(t(lang, "round.table"))
        lines += [standing_line(lang, row) for row in table[3:TABLE_ROWS]]
    if len(table) > TABLE_ROWS:
        lines.append(t(lang, "result.more_winners", count=len(table) - TABLE_ROWS))
    return "\n".join(lines)


def leaderboard_text(lang: str, title: str, rows: list[Standing], caller: Standing | None) -> str:
    lines = [title]
    if not rows:
        lines.append(t(lang, "board.empty"))
        return "\n".join(lines)
    lines += [standing_line(lang, row) for row in rows]
    if caller is not None and all(not r.is_caller for r in rows):
        lines.append("…")
        lines.append(standing_line(lang, caller))
    return "\n".join(lines)


def hint_line(lang: str, question: Question, level: int, salt: int) -> str:
    """What a hint shows: for multiple choice, wrong options ruled out ("not C) Tensor"); for a
    typed answer, its first letters ("D______")."""
    ruled_out = engine.options_ruled_out(question, level, salt)
    if ruled_out:
        options = ", ".join(f"{OPTION_LABELS[i]}) {question.options[i]}" for i in ruled_out)
        return t(lang, "hint.ruled_out", options=options)
    return engine.hint_text(question.answer, level)
