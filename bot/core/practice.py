"""Spaced-repetition practice in private chats: FSRS scheduling per user and glossary entry.

`practice` asks the terms that are due first, then new ones (a daily cap), one question at a
time; `review` replays the terms missed in the last seven days until each is answered right once.
The scheduling is the `fsrs` package's: a wrong answer rates Again, a right one Hard, Good or Easy
by response time and hints. Every question asked is a row (`practice_items`), referenced as
`pr:<id>`, so an answer reaching any process, even after a restart, finds it.

Practice answers go to the shared `answers` table (no round) so statistics count them; they earn
no leaderboard points, since one could otherwise farm points on easy reviews alone.
"""

from __future__ import annotations

import hashlib
import random
import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import cache

import fsrs
from sqlalchemy.exc import IntegrityError

from bot.content.model import Entry, Glossary, Question, QuestionType
from bot.content.questions import QuestionGenerator
from bot.core import engine, render
from bot.core.answers import (
    dedup_key,
    dropped_as_duplicate,
    from_another_chat,
    given_text,
    grade_event,
    unknown_question,
)
from bot.core.events import ChatRef, OptionAnswer, Sender, TextAnswer, ref_id
from bot.core.grading import Grade, Grader
from bot.core.replies import AnswerFeedback, AskQuestion, Notice, Reply
from bot.core.reports import HOLD_BACK_REPORTERS
from bot.core.services import chat_lang
from bot.core.settings import ChatSettings
from bot.i18n import interface_lang, t
from bot.storage.models import Chat, User
from bot.storage.practice_models import (
    PracticeItem,
    PracticeRepository,
    PracticeSession,
    Reminder,
    StudyCard,
)
from bot.storage.report_models import ReportRepository
from bot.storage.uow import UnitOfWorkFactory

NEW_PER_DAY = 10
MORE_NEW = 5  # `practice more` allows this many new terms beyond the daily cap
IDLE_AFTER = timedelta(minutes=30)
REVIEW_WINDOW = timedelta(days=7)
EASY_SECONDS_CHOICE = 8.0
EASY_SECONDS_TYPED = 15.0
HARD_SECONDS = 30.0
DEFAULT_REMIND_MINUTE = 19 * 60
# Platforms where the bot cannot write to a user first.
NO_PUSH_PLATFORMS = frozenset({"console"})

MC_TYPES = tuple(q for q in QuestionType if q.is_multiple_choice)
TYPED_TYPES = tuple(q for q in QuestionType if not q.is_multiple_choice)


def rating_for(correct: bool, *, multiple_choice: bool, seconds: float, hints: int) -> fsrs.Rating:
    """Wrong: Again. Right: Easy when quick, Hard when slow or helped by a hint, else Good."""
    if not correct:
        return fsrs.Rating.Again
    if hints > 0 or seconds > HARD_SECONDS:
        return fsrs.Rating.Hard
    easy = EASY_SECONDS_CHOICE if multiple_choice else EASY_SECONDS_TYPED
    return fsrs.Rating.Easy if seconds < easy else fsrs.Rating.Good


def default_scheduler() -> fsrs.Scheduler:
    return fsrs.Scheduler(desired_retention=0.9, enable_fuzzing=True)


# ------------------------------------------------------------------------- time zones


_OFFSET = re.compile(r"^(?:utc|gmt)?([+-])(\d{1,2})(?::?(\d{2}))?$")


@cache
def _zone_names() -> dict[str, str]:
    try:
        return {name.lower(): name for name in zoneinfo.available_timezones()}
    except Exception:  # no tz database on this system: offsets still work
        return {}


def parse_tz(text: str) -> str | None:
    """A canonical time zone name from user input ('asia/shanghai', 'utc+8', '+05:30')."""
    value = text.strip().lower()
    if value in ("utc", "gmt", "z"):
        return "UTC"
    match = _OFFSET.match(value)
    if match:
        sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3) or 0)
        if hours > 14 or minutes not in (0, 15, 30, 45):
            return None
        return f"UTC{sign}{hours:02d}:{minutes:02d}"
    return _zone_names().get(value)


def zone(name: str | None) -> tzinfo:
    if not name or name == "UTC":
        return UTC
    if name.startswith("UTC") and len(name) == 9:
        sign = -1 if name[3] == "-" else 1
        return timezone(sign * timedelta(hours=int(name[4:6]), minutes=int(name[7:9])))
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def day_start(now: datetime, tz: tzinfo) -> datetime:
    """When the user's local day containing `now` began, as an aware UTC datetime."""
    local = now.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def parse_time_of_day(text: str) -> int | None:
    """'7:30' or '19:05' -> minutes after midnight."""
    match = re.fullmatch(r"(\d{1,2})[:.h](\d{2})", text.strip().lower())
    if not match:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 23 or minutes > 59:
        return None
    return hours * 60 + minutes


def interval_text(lang: str, delta: timedelta) -> str:
    """'in 10 minutes', 'in 3 days', in the interface language."""
    seconds = max(0.0, delta.total_seconds())
    if seconds < 90:
        return t(lang, "practice.in.minute")
    if seconds < 3600 - 30:
        return t(lang, "practice.in.minutes", count=round(seconds / 60))
    if seconds < 86400 - 1800:
        hours = max(1, round(seconds / 3600))
        if hours == 1:
            return t(lang, "practice.in.hour")
        return t(lang, "practice.in.hours", count=hours)
    days = round(seconds / 86400)
    if days == 1:
        return t(lang, "practice.in.day")
    if days < 60:
        return t(lang, "practice.in.days", count=days)
    return t(lang, "practice.in.months", count=round(days / 30))


# ------------------------------------------------------------------------- the service


@dataclass(frozen=True, slots=True)
class _Candidate:
    entry: Entry
    card: StudyCard | None
    is_new: bool


@dataclass(slots=True)
class _Context:
    """What one use case knows about the chat it works in."""

    repo: PracticeRepository
    chat: Chat
    chat_ref: ChatRef
    user: User
    lang: str


class PracticeService:
    def __init__(
        self,
        uow: UnitOfWorkFactory,
        glossary: Glossary,
        *,
        scheduler: fsrs.Scheduler | None = None,
        rng: random.Random | None = None,
        new_per_day: int = NEW_PER_DAY,
        generator: QuestionGenerator | None = None,
    ) -> None:
        self.uow = uow
        self.glossary = glossary
        self.scheduler = scheduler or default_scheduler()
        self.rng = rng or random.Random()
        self.new_per_day = new_per_day
        self.grader = Grader(glossary)
        self.generator = generator or QuestionGenerator(glossary, seed=self.rng.randrange(2**32))

    # ------------------------------------------------------------------ commands

    async def start(
        self,
        chat_ref: ChatRef,
        sender: Sender,
        now: datetime,
        *,
        kind: str = "practice",
        more: bool = False,
    ) -> list[Reply]:
        """`practice` (kind practice), `practice more` (more=True) and `review` (kind review)."""
        async with self.uow() as uow:
            ctx = await self._context(uow, chat_ref, sender, now)
            refusal = await self._refuse_here(ctx)
            if refusal is not None:
                await uow.commit()
                return [refusal]
            replies: list[Reply] = []
            session = await ctx.repo.active_session(ctx.chat.id)
            if session is not None and self._idle(session, now):
                await self._end(ctx.repo, session, "idle", now)
                session = None
            if session is not None and session.kind != kind:
                await self._end(ctx.repo, session, "replaced", now)
                session = None
            if session is not None:
                item = await ctx.repo.open_item(session.id)
                session.last_activity_at = now
                if more:
                    session.extra_new += MORE_NEW
                    replies.append(
                        Notice(chat_ref, t(ctx.lang, "practice.more", count=MORE_NEW), kind="ok")
                    )
                if item is not None:
                    replies.append(
                        Notice(chat_ref, t(ctx.lang, "practice.continuing"), kind="info")
                    )
                    replies.append(await self._ask(ctx, session, item))
                    await uow.commit()
                    return replies
            else:
                session = PracticeSession(
                    user_id=ctx.user.id,
                    chat_id=ctx.chat.id,
                    kind=kind,
                    status="active",
                    extra_new=MORE_NEW if more else 0,
                    answered=0,
                    correct=0,
                    started_at=now,
                    last_activity_at=now,
                )
                uow.session.add(session)
                try:
                    await uow.flush()
                except IntegrityError:
                    # The same user started a session a moment ago in another process.
                    return [Notice(chat_ref, t(ctx.lang, "practice.busy"), kind="refused")]
                intro = await self._intro(ctx, session, now)
                following = await self._next(ctx, session, now)
                if session.status == "active":
                    replies.append(intro)  # only worth saying when a question follows
                replies += following
                await uow.commit()
                return replies
            replies += await self._next(ctx, session, now)
            await uow.commit()
        return replies

    async def stop(self, chat_ref: ChatRef, sender: Sender, now: datetime) -> list[Reply]:
        async with self.uow() as uow:
            ctx = await self._context(uow, chat_ref, sender, now)
            session = await ctx.repo.active_session(ctx.chat.id)
            if session is None:
                await uow.commit()
                return [Notice(chat_ref, t(ctx.lang, "practice.none"), kind="info")]
            await self._end(ctx.repo, session, "stopped", now)
            text = await self._summary(ctx, session, now)
            await uow.commit()
        return [Notice(chat_ref, text, kind="ok")]

    async def hint(self, chat_ref: ChatRef, sender: Sender, now: datetime) -> list[Reply] | None:
        """A hint on the open practice question; None when no practice question is open (so a
        round's `hint` can answer instead)."""
        async with self.uow() as uow:
            repo = PracticeRepository(uow.session)
            chat = await repo.find_chat(chat_ref.platform, chat_ref.platform_chat_id)
            session = await repo.active_session(chat.id) if chat else None
            item = await repo.open_item(session.id) if session else None
            if chat is None or session is None or item is None or self._idle(session, now):
                return None
            user = await uow.users.get_or_create(chat.platform, sender, now)
            lang = chat_lang(chat, user)
            if item.hints >= engine.MAX_HINTS:
                await uow.commit()
                return [
                    Notice(chat_ref, t(lang, "hint.used_up", max=engine.MAX_HINTS), kind="refused")
                ]
            item.hints += 1
            session.last_activity_at = now
            question = Question.from_json(item.question)
            await uow.commit()
        shown = render.hint_line(lang, question, item.hints, item.id)
        return [
            Notice(
                chat_ref,
                t(lang, "practice.hint", hint=shown, number=item.hints, max=engine.MAX_HINTS),
                kind="info",
            )
        ]

    async def current_question(
        self, chat_ref: ChatRef, sender: Sender, now: datetime
    ) -> AskQuestion | None:
        """The open practice question of this chat, to ask again (the console's resume)."""
        async with self.uow() as uow:
            ctx = await self._context(uow, chat_ref, sender, now)
            session = await ctx.repo.active_session(ctx.chat.id, lock=False)
            item = await ctx.repo.open_item(session.id) if session else None
            ask = None
            if session is not None and item is not None and not self._idle(session, now):
                ask = await self._ask(ctx, session, item)
            await uow.commit()
        return ask

    async def lang_of(self, chat_ref: ChatRef, sender: Sender, now: datetime) -> str:
        """The interface language of a chat (for a message or picture made elsewhere)."""
        async with self.uow() as uow:
            ctx = await self._context(uow, chat_ref, sender, now)
            await uow.commit()
        return ctx.lang

    async def notice(
        self, chat_ref: ChatRef, sender: Sender, now: datetime, key: str, *, kind: str = "info"
    ) -> Notice:
        lang = await self.lang_of(chat_ref, sender, now)
        return Notice(chat_ref, t(lang, key), kind=kind, private_to=sender.platform_user_id)

    async def knows_platform_ref(self, ref: str) -> bool:
        async with self.uow(read_only=True) as uow:
            return await PracticeRepository(uow.session).item_by_ref(ref) is not None

    async def set_platform_ref(self, item_id: int, ref: str) -> None:
        """Remember the platform's handle (a poll id) of a posted practice question."""
        async with self.uow() as uow:
            await PracticeRepository(uow.session).set_platform_ref(item_id, ref)
            await uow.commit()

    # ------------------------------------------------------------------ answers

    async def answer(self, event: TextAnswer | OptionAnswer) -> list[Reply] | None:
        """Take an answer meant for a practice question; None when it is not one (the quiz
        service handles it then)."""
        ref = event.question_ref
        if ref and ref.startswith("rq:"):
            return None
        if not event.chat.is_private and (event.chat.platform_chat_id or not ref):
            # Practice lives in private chats: answers from a known group are the round's.
            # (A Telegram poll vote names no chat, so its reference still has to be looked up.)
            return None
        now = event.at
        # The dispatcher asks only about answers no round took (or naming a question by a
        # platform handle), so most are practice's: one transaction finds and records them.
        async with self.uow() as uow:
            repo = PracticeRepository(uow.session)
            found = await self._find_item(repo, uow, event)
            if found is None:
                return None
            if isinstance(found, Notice):
                return [found]
            chat, session, item = found
            user = await uow.users.get_or_create(chat.platform, event.sender, now)
            chat_ref = ChatRef(chat.platform, chat.platform_chat_id, chat.kind, chat.title)
            ctx = _Context(repo, chat, chat_ref, user, chat_lang(chat, user))
            if user.id != item.user_id:
                return [unknown_question(event)]
            key = dedup_key(event)
            if await uow.answers.seen_many([key]):
                return dropped_as_duplicate(event, key)  # counted once already
            if item.status != "open" or session.status != "active":
                return [
                    Notice(
                        chat_ref,
                        t(ctx.lang, "practice.closed"),
                        kind="info",
                        private_to=event.sender.platform_user_id,
                    )
                ]
            if self._idle(session, now):
                await self._end(repo, session, "idle", now)
                await uow.commit()
                return [Notice(chat_ref, t(ctx.lang, "practice.idle_ended"), kind="info")]

            question = Question.from_json(item.question)
            grade, option = grade_event(self.grader, event, question)
            if grade.how == "invalid":
                return [self._invalid(ctx, question, grade, event)]
            seconds = max(0.0, (now - item.asked_at).total_seconds())
            rating = rating_for(
                grade.correct,
                multiple_choice=question.is_multiple_choice,
                seconds=seconds,
                hints=item.hints,
            )
            recorded = await uow.answers.add(
                dedup_key=key,
                user_id=user.id,
                chat_id=chat.id,
                round_question_id=None,
                entry_id=item.entry_id,
                question_type=question.type.value,
                given=given_text(event, question)[:500],
                option_index=option,
                correct=grade.correct,
                judged=grade.how,
                points=0,
                response_ms=int(seconds * 1000),
                hints_used=item.hints,
                created_at=now,
            )
            if not recorded:
                return []  # lost a race with the same update in another process
            card = await self._review(
                ctx, item, question, rating, grade.correct, now, int(seconds * 1000)
            )
            item.status = "answered"
            item.answered_at = now
            item.correct = grade.correct
            item.rating = int(rating)
            session.answered += 1
            session.correct += int(grade.correct)
            session.last_activity_at = now
            await uow.flush()
            replies: list[Reply] = [
                self._feedback(ctx, item, question, grade, option, rating, card.due - now, event)
            ]
            replies += await self._next(ctx, session, now)
            await uow.commit()
        return replies

    async def _find_item(
        self, repo: PracticeRepository, uow, event: TextAnswer | OptionAnswer
    ) -> tuple[Chat, PracticeSession, PracticeItem] | Notice | None:
        ref = event.question_ref
        if ref:
            if ref.startswith("pr:"):
                item_id = ref_id(ref, "pr:")
                item = await repo.item(item_id) if item_id is not None else None
                if item is None:
                    return unknown_question(event)
            else:
                item = await repo.item_by_ref(ref)
                if item is None:
                    return None  # a platform handle of a round question
            chat = await uow.chats.get(item.chat_id)
            session = await repo.session_by_id(item.session_id)
            if (
                chat is None
                or session is None
                or from_another_chat(chat.platform, chat.platform_chat_id, event)
            ):
                return unknown_question(event)
            return chat, session, item
        chat = await repo.find_chat(event.chat.platform, event.chat.platform_chat_id)
        if chat is None:
            return None
        session = await repo.active_session(chat.id)
        if session is None or await repo.round_running(chat.id):
            return None  # a running round takes the chat's typed answers
        item = await repo.open_item(session.id)
        if item is None:
            return None
        return chat, session, item

    async def _review(
        self,
        ctx: _Context,
        item: PracticeItem,
        question: Question,
        rating: fsrs.Rating,
        correct: bool,
        now: datetime,
        duration_ms: int,
    ) -> fsrs.Card:
        """Apply one review to the user's FSRS card of the entry (made on its first answer)."""
        row = await ctx.repo.card(ctx.user.id, item.entry_id)
        now_utc = now.astimezone(UTC)
        if row is None:
            card = fsrs.Card(card_id=item.id, due=now_utc)
        else:
            card = fsrs.Card.from_dict(row.fsrs)
        was_review = card.state == fsrs.State.Review
        card, _log = self.scheduler.review_card(
            card, rating, review_datetime=now_utc, review_duration=duration_ms
        )
        if row is None:
            row = StudyCard(
                user_id=ctx.user.id,
                entry_id=item.entry_id,
                reps=0,
                lapses=0,
                typed_ready=False,
                created_at=now,
            )
            ctx.repo.session.add(row)
        row.fsrs = card.to_dict()
        row.state = int(card.state)
        row.due = card.due
        row.stability = card.stability
        row.difficulty = card.difficulty
        row.last_review = card.last_review
        row.reps += 1
        if rating == fsrs.Rating.Again and was_review:
            row.lapses += 1
        if correct and question.is_multiple_choice:
            row.typed_ready = True
        elif not correct and not question.is_multiple_choice:
            row.typed_ready = False  # back to recognising it among options first
        return card

    def _feedback(
        self,
        ctx: _Context,
        item: PracticeItem,
        question: Question,
        grade: Grade,
        option: int | None,
        rating: fsrs.Rating,
        until_due: timedelta,
        event: TextAnswer | OptionAnswer,
    ) -> AnswerFeedback:
        lang = ctx.lang
        lines = []
        if option is not None and 0 <= option < len(render.OPTION_LABELS):
            lines.append(t(lang, "answer.you_chose", label=render.OPTION_LABELS[option]))
        if grade.correct:
            lines.append(t(lang, "practice.right"))
            if grade.how in ("typo", "in_sentence", "alias", "normalised") and grade.matched:
                lines.append(t(lang, f"answer.judged.{grade.how}", matched=grade.matched))
        else:
            lines.append(t(lang, "practice.wrong"))
            lines.append(render.answer_line(lang, question))
        if question.explanation:
            lines.append(question.explanation)
        lines.append(
            t(
                lang,
                "practice.next_review",
                rating=t(lang, f"practice.rating.{rating.name.lower()}"),
                when=interval_text(lang, until_due),
            )
        )
        return AnswerFeedback(
            ctx.chat_ref,
            "\n".join(lines),
            private_to=event.sender.platform_user_id,
            correct=grade.correct,
            points=0,
            report_ref=f"pr:{item.id}",  # the verdict is this question's result
            lang=lang,
        )

    def _invalid(
        self, ctx: _Context, question: Question, grade: Grade, event: TextAnswer | OptionAnswer
    ) -> Notice:
        if question.is_multiple_choice:
            last = render.OPTION_LABELS[len(question.options) - 1]
            text = t(ctx.lang, "answer.pick_option", last=last)
        else:
            text = t(ctx.lang, f"answer.invalid.{grade.reason or 'empty'}")
        return Notice(ctx.chat_ref, text, kind="usage", private_to=event.sender.platform_user_id)

    # ------------------------------------------------------------------ choosing questions

    async def _next(self, ctx: _Context, session: PracticeSession, now: datetime) -> list[Reply]:
        """Ask the next question of the session, or end it and say what comes next."""
        settings = ChatSettings.from_json(ctx.chat.settings)
        if session.kind == "review":
            candidates = await self._review_queue(ctx, session, now)
        else:
            candidates = await self._practice_queue(ctx, session, settings, now)
        last = await ctx.repo.last_item(session.id)
        held = await ReportRepository(ctx.repo.session).held_back(HOLD_BACK_REPORTERS)
        for candidate in candidates:
            if candidate.entry.id in held:
                continue  # reported by several learners and not reviewed yet
            question = self._question(candidate, settings.question_types)
            if question is None:
                continue
            item = PracticeItem(
                session_id=session.id,
                user_id=ctx.user.id,
                chat_id=ctx.chat.id,
                position=(last.position + 1) if last else 1,
                entry_id=candidate.entry.id,
                question=question.to_json(),
                is_new=candidate.is_new,
                status="open",
                hints=0,
                asked_at=now,
            )
            ctx.repo.session.add(item)
            await ctx.repo.session.flush()
            return [await self._ask(ctx, session, item)]
        text = await self._nothing_left(ctx, session, now)
        await self._end(ctx.repo, session, "done", now)
        return [Notice(ctx.chat_ref, text, kind="ok")]

    async def _practice_queue(
        self, ctx: _Context, session: PracticeSession, settings: ChatSettings, now: datetime
    ) -> list[_Candidate]:
        """Due cards, the most overdue first; then new terms while today's cap allows."""
        queue = [
            _Candidate(self.glossary.get(card.entry_id), card, False)
            for card in await ctx.repo.due_cards(ctx.user.id, now)
            if self.glossary.get(card.entry_id) is not None
        ]
        if await self._new_allowed(ctx, session, now) > 0:
            queue += [_Candidate(e, None, True) for e in await self._new_entries(ctx, settings)]
        return queue

    async def _new_allowed(self, ctx: _Context, session: PracticeSession, now: datetime) -> int:
        since = day_start(now, await self._user_zone(ctx.repo, ctx.user.id))
        started = await ctx.repo.new_terms_since(ctx.user.id, since)
        return self.new_per_day + session.extra_new - started

    async def _new_entries(self, ctx: _Context, settings: ChatSettings) -> list[Entry]:
        """Terms the user never met, in an order fixed per user (so the cap is deterministic
        and two users do not learn the glossary in the same order)."""
        known = await ctx.repo.card_entry_ids(ctx.user.id)
        topics = {x.casefold() for x in settings.topics}
        pool = [
            e
            for e in self.glossary.entries
            if e.id not in known
            and (settings.lang == "mixed" or e.lang == settings.lang)
            and (not topics or topics & {x.casefold() for x in e.tags})
        ]
        salt = str(ctx.user.id).encode()
        pool.sort(key=lambda e: hashlib.sha1(salt + e.id.encode()).digest())
        return pool

    async def _review_queue(
        self, ctx: _Context, session: PracticeSession, now: datetime
    ) -> list[_Candidate]:
        """Terms missed in the window and not yet answered right in this session; the ones not
        asked in this session yet come first, then the one asked longest ago."""
        missed = await ctx.repo.missed_since(ctx.user.id, session.started_at - REVIEW_WINDOW)
        done = await ctx.repo.right_in_session(session.id)
        asked = await ctx.repo.asked_in_session(session.id)
        pending = [e for e in missed if e not in done and self.glossary.get(e) is not None]
        pending.sort(key=lambda e: asked.get(e, 0))  # stable: earliest miss first among equals
        return [
            _Candidate(self.glossary.get(e), await ctx.repo.card(ctx.user.id, e), False)
            for e in pending
        ]

    def _question(
        self, candidate: _Candidate, allowed: tuple[QuestionType, ...]
    ) -> Question | None:
        """Multiple choice until the term was once answered right by choice, then typed."""
        choice = [q for q in MC_TYPES if q in allowed]
        typed = [q for q in TYPED_TYPES if q in allowed]
        self.rng.shuffle(choice)
        self.rng.shuffle(typed)
        typed_first = candidate.card is not None and candidate.card.typed_ready
        for qtype in (typed + choice) if typed_first else (choice + typed):
            question = self.generator.make(candidate.entry, qtype)
            if question is not None:
                return question
        return None

    async def _ask(
        self, ctx: _Context, session: PracticeSession, item: PracticeItem
    ) -> AskQuestion:
        question = Question.from_json(item.question)
        lang = ctx.lang
        key = "review.header" if session.kind == "review" else "practice.header"
        header = t(lang, key, number=item.position)
        if item.is_new:
            header += " · " + t(lang, "practice.new_term")
        typed_hint = "" if question.is_multiple_choice else t(lang, "practice.typed_hint")
        lines = [header, question.prompt]
        if question.options:
            lines.append("")
            lines += [f"{render.OPTION_LABELS[i]}) {o}" for i, o in enumerate(question.options)]
        else:
            lines += ["", typed_hint]
        return AskQuestion(
            ctx.chat_ref,
            "\n".join(lines),
            round_question_id=0,
            question=question,
            position=item.position,
            total=0,
            seconds=None,
            lang=lang,
            typed_hint=typed_hint,
            header=header,
            question_ref=f"pr:{item.id}",
        )

    # ------------------------------------------------------------------ messages

    async def _intro(self, ctx: _Context, session: PracticeSession, now: datetime) -> Notice:
        if session.kind == "review":
            missed = await ctx.repo.missed_since(ctx.user.id, now - REVIEW_WINDOW)
            count = sum(1 for e in missed if self.glossary.get(e) is not None)
            return Notice(ctx.chat_ref, t(ctx.lang, "review.start", count=count), kind="ok")
        due = await ctx.repo.count_due(ctx.user.id, now)
        new = max(0, await self._new_allowed(ctx, session, now))
        return Notice(ctx.chat_ref, t(ctx.lang, "practice.start", due=due, new=new), kind="ok")

    async def _nothing_left(self, ctx: _Context, session: PracticeSession, now: datetime) -> str:
        lang = ctx.lang
        lines = []
        if session.answered:
            lines.append(
                t(lang, "practice.session_done", answered=session.answered, correct=session.correct)
            )
        if session.kind == "review":
            lines.append(t(lang, "review.done" if session.answered else "review.nothing"))
            return "\n".join(lines)
        lines.append(t(lang, "practice.nothing_due"))
        next_due = await ctx.repo.next_due(ctx.user.id)
        if next_due is not None:
            lines.append(t(lang, "practice.next_session", when=interval_text(lang, next_due - now)))
        settings = ChatSettings.from_json(ctx.chat.settings)
        if await self._new_entries(ctx, settings):
            since = day_start(now, await self._user_zone(ctx.repo, ctx.user.id))
            started = await ctx.repo.new_terms_since(ctx.user.id, since)
            lines.append(
                t(lang, "practice.cap_reached", count=started, cap=self.new_per_day, more=MORE_NEW)
            )
        else:
            lines.append(t(lang, "practice.all_started"))
        return "\n".join(lines)

    async def _summary(self, ctx: _Context, session: PracticeSession, now: datetime) -> str:
        lines = [
            t(ctx.lang, "practice.stopped", answered=session.answered, correct=session.correct)
        ]
        next_due = await ctx.repo.next_due(ctx.user.id)
        if next_due is not None:
            lines.append(
                t(ctx.lang, "practice.next_session", when=interval_text(ctx.lang, next_due - now))
            )
        return "\n".join(lines)

    # ------------------------------------------------------------------ helpers

    async def _context(self, uow, chat_ref: ChatRef, sender: Sender, now: datetime) -> _Context:
        chat = await uow.chats.get_or_create(chat_ref, now)
        user = await uow.users.get_or_create(chat_ref.platform, sender, now)
        return _Context(
            PracticeRepository(uow.session), chat, chat_ref, user, chat_lang(chat, user)
        )

    async def _refuse_here(self, ctx: _Context) -> Notice | None:
        if ctx.chat.kind != "private":
            return Notice(ctx.chat_ref, t(ctx.lang, "practice.private_only"), kind="refused")
        if await ctx.repo.round_running(ctx.chat.id):
            return Notice(ctx.chat_ref, t(ctx.lang, "practice.round_running"), kind="refused")
        return None

    @staticmethod
    def _idle(session: PracticeSession, now: datetime) -> bool:
        return now - session.last_activity_at > IDLE_AFTER

    @staticmethod
    async def _end(
        repo: PracticeRepository, session: PracticeSession, reason: str, now: datetime
    ) -> None:
        await repo.close_open_items(session.id)
        session.status = "ended"
        session.end_reason = reason
        session.ended_at = now
        await repo.session.flush()

    @staticmethod
    async def _user_zone(repo: PracticeRepository, user_id: int) -> tzinfo:
        reminder = await repo.reminder(user_id)
        return zone(reminder.tz if reminder else None)

    # ------------------------------------------------------------------ reminders

    async def remind(
        self, chat_ref: ChatRef, sender: Sender, now: datetime, args: tuple[str, ...]
    ) -> list[Reply]:
        """`remind`, `remind on [HH:MM] [time zone]`, `remind off`."""
        async with self.uow() as uow:
            ctx = await self._context(uow, chat_ref, sender, now)
            lang = ctx.lang
            if ctx.chat.kind != "private":
                await uow.commit()
                return [Notice(chat_ref, t(lang, "practice.private_only"), kind="refused")]
            reminder = await ctx.repo.reminder(ctx.user.id)
            if not args:
                await uow.commit()
                return [Notice(chat_ref, self._reminder_text(lang, reminder), kind="info")]
            switch, minute, tz_name = None, None, None
            for arg in args:
                if arg in ("on", "off"):
                    switch = arg == "on"
                elif (value := parse_time_of_day(arg)) is not None:
                    minute = value
                elif (name := parse_tz(arg)) is not None:
                    tz_name = name
                else:
                    await uow.commit()
                    return [Notice(chat_ref, t(lang, "practice.remind.usage"), kind="usage")]
            if switch is None and minute is None and tz_name is None:
                await uow.commit()
                return [Notice(chat_ref, t(lang, "practice.remind.usage"), kind="usage")]
            if reminder is None:
                reminder = Reminder(
                    user_id=ctx.user.id,
                    chat_id=ctx.chat.id,
                    enabled=False,
                    minute_of_day=DEFAULT_REMIND_MINUTE,
                    tz="UTC",
                    updated_at=now,
                )
                uow.session.add(reminder)
            if switch is not None:
                reminder.enabled = switch
            if minute is not None:
                reminder.minute_of_day = minute
            if tz_name is not None:
                reminder.tz = tz_name
            reminder.chat_id = ctx.chat.id  # remind where it was last asked for
            reminder.updated_at = now
            # Today's time already passed: the first reminder comes tomorrow.
            local = now.astimezone(zone(reminder.tz))
            passed = local.hour * 60 + local.minute >= reminder.minute_of_day
            reminder.last_sent_on = local.date() if passed else None
            await uow.commit()
        lines = [self._reminder_text(lang, reminder)]
        if reminder.enabled and chat_ref.platform in NO_PUSH_PLATFORMS:
            lines.append(t(lang, "practice.remind.no_push"))
        return [Notice(chat_ref, "\n".join(lines), kind="ok")]

    @staticmethod
    def _reminder_text(lang: str, reminder: Reminder | None) -> str:
        if reminder is None or not reminder.enabled:
            return t(lang, "practice.remind.off")
        hours, minutes = divmod(reminder.minute_of_day, 60)
        return t(lang, "practice.remind.on", time=f"{hours:02d}:{minutes:02d}", tz=reminder.tz)

    async def due_reminders(self, now: datetime) -> list[tuple[str, str, str]]:
        """(platform, platform chat id, text) of the reminders to send now. Each user gets at
        most one a day, at or after their time, and only when reviews are due. Marks them sent:
        call it once a minute or so and deliver what it returns."""
        out: list[tuple[str, str, str]] = []
        async with self.uow() as uow:
            repo = PracticeRepository(uow.session)
            for reminder, user, chat in await repo.enabled_reminders():
                if chat.platform in NO_PUSH_PLATFORMS:
                    continue
                local = now.astimezone(zone(reminder.tz))
                today: date = local.date()
                if reminder.last_sent_on == today:
                    continue
                if local.hour * 60 + local.minute < reminder.minute_of_day:
                    continue
                reminder.last_sent_on = today  # checked today, due or not
                due = await repo.count_due(user.id, now)
                if due:
                    lang = interface_lang(user.lang, user.platform_lang, chat.lang)
                    out.append(
                        (
                            chat.platform,
                            chat.platform_chat_id,
                            t(lang, "practice.reminder", due=due),
                        )
                    )
            await uow.commit()
        return out
