"""Tables and queries of spaced-repetition practice and personal statistics.

One FSRS card per user per glossary entry (`cards`); a practice or review session per private
chat (`practice_sessions`) with its questions (`practice_items`, so that an answer reaching any
process, even after a restart, finds its question); reminder preferences (`reminders`). Practice
answers also go to the shared `answers` table (round_question_id NULL), so statistics see them.

The models use the shared `Base`, so the migrations test compares them with the schema as long as
this module is imported (bot.storage.models imports it at its end).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    case,
    func,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import GLOBAL_SCOPE, Answer, Base, Chat, Round, Score, User
from bot.storage.sanitize import is_clean_ref

MASTERED_DAYS = 21.0  # FSRS stability (days) from which a term counts as mastered


class StudyCard(Base):
    """The FSRS state of one glossary entry for one user (named apart from fsrs.Card)."""

    __tablename__ = "cards"
    __table_args__ = (
        UniqueConstraint("user_id", "entry_id"),
        Index("ix_cards_user_due", "user_id", "due"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    entry_id: Mapped[str] = mapped_column(String(128))
    fsrs: Mapped[dict] = mapped_column(JSON)  # fsrs.Card.to_dict()
    # Copies of the card's fields, for queries (due order, mastery) without parsing JSON.
    state: Mapped[int] = mapped_column(Integer)  # fsrs.State
    due: Mapped[datetime]
    stability: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    reps: Mapped[int] = mapped_column(Integer, default=0)
    lapses: Mapped[int] = mapped_column(Integer, default=0)
    # Answered right by multiple choice: from then on typed questions are preferred.
    typed_ready: Mapped[bool] = mapped_column(Boolean, default=False)
    last_review: Mapped[datetime | None]
    created_at: Mapped[datetime]


class PracticeSession(Base):
    __tablename__ = "practice_sessions"
    __table_args__ = (
        # One active session per chat: the row is the lock and ends with its session.
        Index(
            "uq_practice_sessions_active_chat",
            "chat_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # practice or review
    status: Mapped[str] = mapped_column(String(16))  # active or ended
    end_reason: Mapped[str | None] = mapped_column(String(16))  # done, stopped, idle, replaced
    extra_new: Mapped[int] = mapped_column(Integer, default=0)  # new terms beyond the daily cap
    answered: Mapped[int] = mapped_column(Integer, default=0)
    correct: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime]
    last_activity_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class PracticeItem(Base):
    """One question asked in a session; its id is the question's reference (`pr:<id>`)."""

    __tablename__ = "practice_items"
    __table_args__ = (
        Index("ix_practice_items_session_id", "session_id"),
        Index("ix_practice_items_platform_ref", "platform_ref"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("practice_sessions.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # 1-based within the session
    entry_id: Mapped[str] = mapped_column(String(128))
    question: Mapped[dict] = mapped_column(JSON)  # bot.content.model.Question.to_json()
    is_new: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))  # open, answered, abandoned
    hints: Mapped[int] = mapped_column(Integer, default=0)
    correct: Mapped[bool | None] = mapped_column(Boolean)
    rating: Mapped[int | None] = mapped_column(Integer)  # fsrs.Rating
    platform_ref: Mapped[str | None] = mapped_column(String(128))
    asked_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]


class Reminder(Base):
    """Daily practice reminder and the user's time zone (also used for the new-term cap)."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    minute_of_day: Mapped[int] = mapped_column(Integer)  # local time, 0..1439
    tz: Mapped[str] = mapped_column(String(64))  # IANA name or "UTC+05:30"
    last_sent_on: Mapped[date | None] = mapped_column(Date)  # local date of the last reminder
    updated_at: Mapped[datetime]


class PracticeRepository:
    """The SQL of practice sessions, cards and reminders, inside a unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- chats and rounds (read only: a practice answer must not create rows) -------------

    async def find_chat(self, platform: str, platform_chat_id: str) -> Chat | None:
        return (
            await self.session.execute(
                select(Chat).where(
                    Chat.platform == platform, Chat.platform_chat_id == platform_chat_id
                )
            )
        ).scalar_one_or_none()

    async def find_user(self, platform: str, platform_user_id: str) -> User | None:
        return (
            await self.session.execute(
                select(User).where(
                    User.platform == platform, User.platform_user_id == platform_user_id
                )
            )
        ).scalar_one_or_none()

    async def round_running(self, chat_id: int) -> bool:
        found = await self.session.execute(
            select(Round.id).where(Round.chat_id == chat_id, Round.status == "running").limit(1)
        )
        return found.first() is not None

    # --- sessions and items -----------------------------------------------------------------

    async def active_session(self, chat_id: int, *, lock: bool = True) -> PracticeSession | None:
        stmt = select(PracticeSession).where(
            PracticeSession.chat_id == chat_id, PracticeSession.status == "active"
        )
        if lock:
            stmt = stmt.with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def session_by_id(self, session_id: int) -> PracticeSession | None:
        stmt = select(PracticeSession).where(PracticeSession.id == session_id).with_for_update()
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def open_item(self, session_id: int) -> PracticeItem | None:
        return (
            await self.session.execute(
                select(PracticeItem)
                .where(PracticeItem.session_id == session_id, PracticeItem.status == "open")
                .order_by(PracticeItem.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()

    async def last_item(self, session_id: int) -> PracticeItem | None:
        return (
            await self.session.execute(
                select(PracticeItem)
                .where(PracticeItem.session_id == session_id)
                .order_by(PracticeItem.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()

    async def item(self, item_id: int) -> PracticeItem | None:
        return await self.session.get(PracticeItem, item_id)

    async def item_by_ref(self, ref: str) -> PracticeItem | None:
        if not is_clean_ref(ref):
            return None
        return (
            await self.session.execute(
                select(PracticeItem).where(PracticeItem.platform_ref == ref).limit(1)
            )
        ).scalar_one_or_none()

    async def set_platform_ref(self, item_id: int, ref: str) -> None:
        await self.session.execute(
            update(PracticeItem).where(PracticeItem.id == item_id).values(platform_ref=ref[:128])
        )

    async def close_open_items(self, session_id: int) -> None:
        await self.session.execute(
            update(PracticeItem)
            .where(PracticeItem.session_id == session_id, PracticeItem.status == "open")
            .values(status="abandoned")
            .execution_options(synchronize_session=False)
        )

    async def right_in_session(self, session_id: int) -> set[str]:
        rows = await self.session.execute(
            select(PracticeItem.entry_id).where(
                PracticeItem.session_id == session_id, PracticeItem.correct.is_(True)
            )
        )
        return set(rows.scalars().all())

    async def asked_in_session(self, session_id: int) -> dict[str, int]:
        """entry_id -> id of the last item asked about it in a session."""
        rows = await self.session.execute(
            select(PracticeItem.entry_id, func.max(PracticeItem.id))
            .where(PracticeItem.session_id == session_id)
            .group_by(PracticeItem.entry_id)
        )
        return {entry_id: int(last) for entry_id, last in rows}

    # --- cards ------------------------------------------------------------------------------

    async def card(self, user_id: int, entry_id: str) -> StudyCard | None:
        return (
            await self.session.execute(
                select(StudyCard).where(
                    StudyCard.user_id == user_id, StudyCard.entry_id == entry_id
                )
            )
        ).scalar_one_or_none()

    async def due_cards(self, user_id: int, now: datetime, limit: int = 50) -> list[StudyCard]:
        rows = await self.session.execute(
            select(StudyCard)
            .where(StudyCard.user_id == user_id, StudyCard.due <= now)
            .order_by(StudyCard.due, StudyCard.id)
            .limit(limit)
        )
        return list(rows.scalars().all())

    async def count_due(self, user_id: int, now: datetime) -> int:
        return (
            await self.session.execute(
                select(func.count(StudyCard.id)).where(
                    StudyCard.user_id == user_id, StudyCard.due <= now
                )
            )
        ).scalar_one()

    async def next_due(self, user_id: int) -> datetime | None:
        return (
            await self.session.execute(
                select(func.min(StudyCard.due)).where(StudyCard.user_id == user_id)
            )
        ).scalar_one_or_none()

    async def card_entry_ids(self, user_id: int) -> set[str]:
        rows = await self.session.execute(
            select(StudyCard.entry_id).where(StudyCard.user_id == user_id)
        )
        return set(rows.scalars().all())

    async def new_terms_since(self, user_id: int, since: datetime) -> int:
        """New terms the user answered in practice since `since` (the daily cap counts these)."""
        return (
            await self.session.execute(
                select(func.count(PracticeItem.id)).where(
                    PracticeItem.user_id == user_id,
                    PracticeItem.is_new.is_(True),
                    PracticeItem.status == "answered",
                    PracticeItem.answered_at >= since,
                )
            )
        ).scalar_one()

    async def card_strengths(self, user_id: int) -> list[tuple[str, float | None]]:
        """(entry_id, stability) of every card of a user."""
        rows = await self.session.execute(
            select(StudyCard.entry_id, StudyCard.stability).where(StudyCard.user_id == user_id)
        )
        return [(entry_id, stability) for entry_id, stability in rows]

    # --- answers ----------------------------------------------------------------------------

    async def missed_since(self, user_id: int, since: datetime) -> list[str]:
        """Entries answered wrong since `since`, the earliest miss first."""
        rows = await self.session.execute(
            select(Answer.entry_id, func.min(Answer.id).label("first"))
            .where(
                Answer.user_id == user_id,
                Answer.created_at >= since,
                Answer.correct.is_(False),
            )
            .group_by(Answer.entry_id)
            .order_by(text("first"))
        )
        return [entry_id for entry_id, _ in rows]

    async def answer_marks(self, user_id: int) -> list[bool]:
        """Right/wrong of every answer of a user, oldest first (for streaks)."""
        rows = await self.session.execute(
            select(Answer.correct)
            .where(Answer.user_id == user_id)
            .order_by(Answer.created_at, Answer.id)
        )
        return [bool(c) for c in rows.scalars().all()]

    async def answers_since(self, user_id: int, since: datetime) -> list[tuple[datetime, bool]]:
        rows = await self.session.execute(
            select(Answer.created_at, Answer.correct).where(
                Answer.user_id == user_id, Answer.created_at >= since
            )
        )
        return [(at, bool(correct)) for at, correct in rows]

    async def totals(self, user_id: int) -> tuple[int, int]:
        """(answered, right) over every answer of a user."""
        answered, right = (
            await self.session.execute(
                select(
                    func.count(Answer.id),
                    func.coalesce(func.sum(case((Answer.correct.is_(True), 1), else_=0)), 0),
                ).where(Answer.user_id == user_id)
            )
        ).one()
        return int(answered), int(right)

    async def misses_by_entry(self, user_id: int, limit: int = 50) -> list[tuple[str, int, int]]:
        """(entry_id, wrong, answered) for entries with at least one wrong answer, most missed
        first."""
        wrong = func.sum(case((Answer.correct.is_(False), 1), else_=0))
        rows = await self.session.execute(
            select(Answer.entry_id, wrong.label("wrong"), func.count(Answer.id).label("total"))
            .where(Answer.user_id == user_id)
            .group_by(Answer.entry_id)
            .having(wrong > 0)
            .order_by(wrong.desc(), Answer.entry_id)
            .limit(limit)
        )
        return [(entry_id, int(w), int(n)) for entry_id, w, n in rows]

    async def points(self, user_id: int, period: str, start: date) -> int:
        found = (
            await self.session.execute(
                select(Score.points).where(
                    Score.chat_id == GLOBAL_SCOPE,
                    Score.period == period,
                    Score.period_start == start,
                    Score.user_id == user_id,
                )
            )
        ).scalar_one_or_none()
        return int(found or 0)

    # --- reminders --------------------------------------------------------------------------

    async def reminder(self, user_id: int) -> Reminder | None:
        return (
            await self.session.execute(select(Reminder).where(Reminder.user_id == user_id))
        ).scalar_one_or_none()

    async def enabled_reminders(self) -> list[tuple[Reminder, User, Chat]]:
        rows = await self.session.execute(
            select(Reminder, User, Chat)
            .join(User, User.id == Reminder.user_id)
            .join(Chat, Chat.id == Reminder.chat_id)
            .where(Reminder.enabled.is_(True))
        )
        return [(reminder, user, chat) for reminder, user, chat in rows.all()]
