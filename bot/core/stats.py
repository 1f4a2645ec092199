"""Personal statistics: answers, accuracy, streaks, points, mastery and the weakest terms.

Every answer counts, from rounds and practice alike (both live in `answers`); points come from the
global leaderboard totals. "Mastered" means an FSRS stability of three weeks or more. The figures
are plain data (`StatsFigures`), so tests check them without parsing text; the text and the chart
are drawn from them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from bot.content.model import Glossary
from bot.core import charts
from bot.core.charts import DayStat, TopicStat
from bot.core.events import ChatRef, Sender
from bot.core.practice import day_start, zone
from bot.core.replies import Image, Notice, Reply
from bot.core.services import chat_lang
from bot.i18n import t
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
class StatsFigures:
    answered: int
    correct: int
    current_streak: int
    best_streak: int
    points_week: int
    points_all: int
    mastered: int
    total_terms: int
    weakest: tuple[WeakTerm, ...]
    days: tuple[DayStat, ...]
    topics: tuple[TopicStat, ...]

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


def streaks(marks: Iterable[bool]) -> tuple[int, int]:
    """(current, best) runs of right answers in a right/wrong sequence, oldest first."""
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
            answered, correct = await repo.totals(user_id)
            current, best = streaks(await repo.answer_marks(user_id))
            week = await repo.points(user_id, "week", period_start("week", now))
            total = await repo.points(user_id, "all", EPOCH)
            strengths = {
                entry_id: stability
                for entry_id, stability in await repo.card_strengths(user_id)
                if entry_id in self.glossary.by_id
            }
            mastered_ids = {e for e, s in strengths.items() if s is not None and s >= MASTERED_DAYS}
            misses = await repo.misses_by_entry(user_id)
            days = await self._days(repo, user_id, now, tz)
        return StatsFigures(
            answered=answered,
            correct=correct,
            current_streak=current,
            best_streak=best,
            points_week=week,
            points_all=total,
            mastered=len(mastered_ids),
            total_terms=len(self.glossary),
            weakest=self._weakest(misses, mastered_ids),
            days=days,
            topics=self._topics(set(strengths), mastered_ids),
        )

    async def _days(
        self, repo: PracticeRepository, user_id: int, now: datetime, tz: tzinfo
    ) -> tuple[DayStat, ...]:
        today = now.astimezone(tz).date()
        first = today - timedelta(days=CHART_DAYS - 1)
        since = day_start(now - timedelta(days=CHART_DAYS - 1), tz)
        counts: dict = {}
        for at, right in await repo.answers_since(user_id, since):
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
        """Most often missed first, by a smoothed miss rate (one miss of one answer ranks below
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


def stats_text(lang: str, f: StatsFigures) -> str:
    lines = [
        t(lang, "stats.title"),
        t(lang, "stats.answered", answered=f.answered, accuracy=round(f.accuracy * 100)),
        t(lang, "stats.streak", current=f.current_streak, best=f.best_streak),
        t(lang, "stats.points", week=f"{f.points_week:,}", all=f"{f.points_all:,}"),
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
