"""Personal statistics: questions answered, accuracy, streaks, points, mastery and the weakest
terms.

Every question answered counts, from rounds and practice alike (both live in `answers`), once: the
tries at one typed question (a wrong guess, then another) are one question, right when one of them
was; the tries are counted apart. The leaderboard totals count the same way (an answer adds to
`answered` only when it is the user's first at its question), and points come from them.
"Mastered" means an FSRS stability of three weeks or more. The figures are plain data
(`StatsFigures`), so tests check them without parsing text; the text and the chart are drawn
from them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from sqlalchemy import case, func, select

from bot.content.model import Glossary
from bot.core import charts, render
from bot.core.charts import DayStat, TopicStat
from bot.core.events import ChatRef, Sender
from bot.core.practice import day_start, zone
from bot.core.replies import Image, Notice, Reply
from bot.core.services import chat_lang
from bot.i18n import t
from bot.storage.models import Answer
from bot.storage.practice_models import MASTERED_DAYS, PracticeRepository
from bot.storage.repositories import EPOCH, period_start
from bot.storage.uow import UnitOfWorkFactory

CHART_DAYS = 30
WEAKEST = 5
TOPICS_SHOWN = 10


@dataclass(frozen=True, slots=True)
class WeakTerm:
    entry_id: str
    term: str
    gist: str
    wrong: int
    answered: int


@dataclass(frozen=True, slots=True)
class Asked:
    """One question a user answered: its entry, when the first try came, whether a try was
    right, and how many tries there were (one, but for typed questions guessed again)."""

    entry_id: str
    at: datetime
    right: bool
    tries: int


@dataclass(frozen=True, slots=True)
class StatsFigures:
    answered: int  # questions, not tries
    correct: int  # questions answered right
    current_streak: int
    best_streak: int
    points_week: int
    points_all: int
    mastered: int
    total_terms: int
    weakest: tuple[WeakTerm, ...]
    days: tuple[DayStat, ...]
    topics: tuple[TopicStat, ...]
    tries: int = 0  # every answer given, a question's wrong guesses included

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


def streaks(marks: Iterable[bool]) -> tuple[int, int]:
    """(current, best) runs of questions answered right in a right/wrong sequence, oldest
    first."""
    current = best = 0
    for right in marks:
        current = current + 1 if right else 0
        best = max(best, current)
    return current, best


class StatsService:
    def __init__(self, uow: UnitOfWorkFactory, glossary: Glossary) -> None:
        self.uow = uow
        self.glossary = glossary

    async def figures(self, user_id: int, now: datetime, tz: tzinfo | None = None) -> StatsFigures:
        # Only reads: beside the writer, so answers recorded meanwhile do not wait for them.
        async with self.uow(read_only=True) as uow:
            repo = PracticeRepository(uow.session)
            if tz is None:
                reminder = await repo.reminder(user_id)
                tz = zone(reminder.tz if reminder else None)
            asked = await questions_answered(uow.session, user_id)
            week = await repo.points(user_id, "week", period_start("week", now))
            total = await repo.points(user_id, "all", EPOCH)
            strengths = {
                entry_id: stability
                for entry_id, stability in await repo.card_strengths(user_id)
                if entry_id in self.glossary.by_id
            }
            mastered_ids = {e for e, s in strengths.items() if s is not None and s >= MASTERED_DAYS}
        current, best = streaks(q.right for q in asked)
        return StatsFigures(
            answered=len(asked),
            correct=sum(q.right for q in asked),
            current_streak=current,
            best_streak=best,
            points_week=week,
            points_all=total,
            mastered=len(mastered_ids),
            total_terms=len(self.glossary),
            weakest=self._weakest(misses_by_entry(asked), mastered_ids),
            days=self._days(asked, now, tz),
            topics=self._topics(set(strengths), mastered_ids),
            tries=sum(q.tries for q in asked),
        )

    @staticmethod
    def _days(asked: list[Asked], now: datetime, tz: tzinfo) -> tuple[DayStat, ...]:
        """Questions answered and answered right per day of the last CHART_DAYS, each on the
        day of its first try."""
        today = now.astimezone(tz).date()
        first = today - timedelta(days=CHART_DAYS - 1)
        since = day_start(now - timedelta(days=CHART_DAYS - 1), tz)
        counts: dict = {}
        for at, right in ((q.at, q.right) for q in asked if q.at >= since):
            day = at.astimezone(tz).date()
            answered, correct = counts.get(day, (0, 0))
            counts[day] = (answered + 1, correct + int(right))
        out = []
        for i in range(CHART_DAYS):
            day = first + timedelta(days=i)
            answered, correct = counts.get(day, (0, 0))
            out.append(DayStat(day, answered, correct))
        return tuple(out)

    def _weakest(
        self, misses: list[tuple[str, int, int]], mastered: set[str]
    ) -> tuple[WeakTerm, ...]:
        """Most often missed first, by a smoothed miss rate (one miss of one question ranks below
        four misses of five); mastered terms are no longer weak."""
        ranked = sorted(
            (
                ((wrong + 1) / (answered + 2), wrong, entry_id, answered)
                for entry_id, wrong, answered in misses
                if entry_id in self.glossary.by_id and entry_id not in mastered
            ),
            key=lambda r: (-r[0], -r[1], r[2]),
        )
        out = []
        for _, wrong, entry_id, answered in ranked[:WEAKEST]:
            entry = self.glossary.get(entry_id)
            out.append(WeakTerm(entry_id, entry.term, entry.gist, wrong, answered))
        return tuple(out)

    def _topics(self, started: set[str], mastered: set[str]) -> tuple[TopicStat, ...]:
        totals: dict[str, list[int]] = {}
        for entry in self.glossary.entries:
            for tag in dict.fromkeys(entry.tags):
                row = totals.setdefault(tag, [0, 0, 0])
                row[0] += 1
                if entry.id in mastered:
                    row[1] += 1
                elif entry.id in started:
                    row[2] += 1
        stats = [TopicStat(tag, *row) for tag, row in totals.items()]
        stats.sort(key=lambda s: (-s.total, s.topic))
        return tuple(stats[:TOPICS_SHOWN])

    # ------------------------------------------------------------------ the command

    async def stats(
        self, chat_ref: ChatRef, sender: Sender, now: datetime, *, image: bool = True
    ) -> list[Reply]:
        async with self.uow() as uow:
            chat = await uow.chats.get_or_create(chat_ref, now)
            user = await uow.users.get_or_create(chat_ref.platform, sender, now)
            await uow.commit()
            lang = chat_lang(chat, user)
            user_id = user.id
        private_to = None if chat_ref.is_private else sender.platform_user_id
        figures = await self.figures(user_id, now)
        if not figures.answered:
            return [Notice(chat_ref, t(lang, "stats.none"), kind="info", private_to=private_to)]
        replies: list[Reply] = [
            Notice(chat_ref, stats_text(lang, figures), kind="info", private_to=private_to)
        ]
        if image:
            # Drawing takes a few hundred milliseconds: keep the event loop free meanwhile.
            png = await asyncio.to_thread(
                charts.stats_card, figures.days, figures.topics, lang=lang
            )
            replies.append(
                Image(
                    chat_ref,
                    t(lang, "stats.chart_caption"),
                    private_to=private_to,
                    png=png,
                    filename="stats.png",
                )
            )
        return replies


async def questions_answered(session, user_id: int) -> list[Asked]:
    """Every question a user answered, oldest first. A round question's tries share its
    `round_question_id`; a practice question takes one answer, so each practice answer (no
    round question) is a question of its own."""
    right = func.max(case((Answer.correct.is_(True), 1), else_=0))
    first_id = func.min(Answer.id)
    rows = await session.execute(
        select(Answer.entry_id, func.min(Answer.created_at), right, func.count(Answer.id))
        .where(Answer.user_id == user_id)
        .group_by(Answer.entry_id, func.coalesce(Answer.round_question_id, -Answer.id))
        .order_by(func.min(Answer.created_at), first_id)
    )
    return [Asked(entry_id, at, bool(ok), int(n)) for entry_id, at, ok, n in rows]


def misses_by_entry(asked: Iterable[Asked]) -> list[tuple[str, int, int]]:
    """(entry_id, questions missed, questions answered) of the entries missed at least once."""
    counts: dict[str, list[int]] = {}
    for q in asked:
        row = counts.setdefault(q.entry_id, [0, 0])
        row[0] += not q.right
        row[1] += 1
    return [(entry_id, wrong, n) for entry_id, (wrong, n) in counts.items() if wrong]


def stats_text(lang: str, f: StatsFigures) -> str:
    accuracy = round(f.accuracy * 100)
    if f.tries > f.answered:  # guessed again at typed questions: say how often in all
        answered = t(
            lang,
            "stats.answered_tries",
            answered=render.number(lang, f.answered),
            tries=render.number(lang, f.tries),
            accuracy=accuracy,
        )
    else:
        answered = t(
            lang, "stats.answered", answered=render.number(lang, f.answered), accuracy=accuracy
        )
    lines = [
        t(lang, "stats.title"),
        answered,
        t(lang, "stats.streak", current=f.current_streak, best=f.best_streak),
        t(
            lang,
            "stats.points",
            week=render.number(lang, f.points_week),
            all=render.number(lang, f.points_all),
        ),
        t(
            lang,
            "stats.mastered",
            mastered=f.mastered,
            total=f.total_terms,
            days=int(MASTERED_DAYS),
        ),
    ]
    if f.weakest:
        lines.append(t(lang, "stats.weakest"))
        lines += [
            t(lang, "stats.weak_row", term=w.term, gist=w.gist, wrong=w.wrong, answered=w.answered)
            for w in f.weakest
        ]
    return "\n".join(lines)
