"""SQLAlchemy 2 models. The database is the one source of truth for rounds, answers and scores.

The schema is created only by the Alembic migrations in `migrations/`; a test checks that these
models and the migrations agree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names, so that migrations can refer to them on every database.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# `scores.chat_id` of the global (all chats) board.
GLOBAL_SCOPE = 0


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every database (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict] = {datetime: UTCDateTime()}


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(128))
    lang: Mapped[str | None] = mapped_column(String(8))  # chosen interface language
    platform_lang: Mapped[str | None] = mapped_column(String(16))  # as the platform reports it
    created_at: Mapped[datetime]


class Chat(Base):
    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("platform", "platform_chat_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_chat_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # "private" or "group"
    title: Mapped[str] = mapped_column(String(256), default="")
    lang: Mapped[str | None] = mapped_column(String(8))
    # Round settings; see bot.core.settings.ChatSettings for ranges and defaults.
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]


class Round(Base):
    __tablename__ = "rounds"
    __table_args__ = (
        # One running round per chat: the row itself is the lock, so it ends with its round.
        Index(
            "uq_rounds_running_chat",
            "chat_id",
            unique=True,
            sqlite_where=text("status = 'running'"),
            postgresql_where=text("status = 'running'"),
        ),
        # Ended rounds whose podium has not reached the chat yet (see `end_due`).
        Index(
            "ix_rounds_end_due",
            "ended_at",
            sqlite_where=text("end_due"),
            postgresql_where=text("end_due"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), index=True)
    started_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16))  # running, finished, stopped
    end_reason: Mapped[str | None] = mapped_column(String(16))  # done, idle, stopped
    mode: Mapped[str] = mapped_column(String(16))  # speed or classic
    solo: Mapped[bool] = mapped_column(Boolean, default=False)
    seconds: Mapped[int | None] = mapped_column(Integer)  # None: untimed (solo study)
    total: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)  # 1-based; 0 before the first
    idle_questions: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    # The round's end (podium) is decided but has not reached the chat yet: set in the
    # transaction that ends the round, cleared once the platform took the message. Whatever
    # is still due after a crash is sent at the next start (QuizService.owed).
    end_due: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class RoundQuestion(Base):
    __tablename__ = "round_questions"
    __table_args__ = (
        UniqueConstraint("round_id", "position"),
        Index("ix_round_questions_platform_ref", "platform_ref"),
        # Open questions by deadline: the sweep for questions left open too long.
        Index(
            "ix_round_questions_open_deadline",
            "deadline",
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    entry_id: Mapped[str] = mapped_column(String(128))
    question: Mapped[dict] = mapped_column(JSON)  # bot.content.model.Question.to_json()
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, open, closed
    opened_at: Mapped[datetime | None]
    deadline: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    hints: Mapped[int] = mapped_column(Integer, default=0)
    # The platform's handle on the posted question (poll id, message id), so that an answer
    # arriving at any process can find its question.
    platform_ref: Mapped[str | None] = mapped_column(String(128))
    # When the platform took the question's post (None: nobody has been shown it yet, and
    # after a crash it is asked again with a fresh deadline).
    posted_at: Mapped[datetime | None]
    # The question's result is decided (it closed) but has not reached the chat yet.
    result_due: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class RoundPlayer(Base):
    """One player's standing in one round: the round table and the streak live here."""

    __tablename__ = "round_players"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    points: Mapped[int] = mapped_column(Integer, default=0)
    correct: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    streak: Mapped[int] = mapped_column(Integer, default=0)
    last_correct_position: Mapped[int] = mapped_column(Integer, default=0)
    first_answer_at: Mapped[datetime]


class Answer(Base):
    """Every answer ever given, committed when it arrives."""

    __tablename__ = "answers"
    __table_args__ = (
        # A redelivered update carries the same key and is refused by the database itself.
        UniqueConstraint("dedup_key"),
        Index("ix_answers_user_created", "user_id", "created_at"),
        Index("ix_answers_round_question_user", "round_question_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(160))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    round_question_id: Mapped[int | None] = mapped_column(
        ForeignKey("round_questions.id", ondelete="SET NULL")
    )
    entry_id: Mapped[str] = mapped_column(String(128))
    question_type: Mapped[str] = mapped_column(String(16))
    given: Mapped[str] = mapped_column(Text)  # the text typed or the option chosen
    option_index: Mapped[int | None] = mapped_column(Integer)
    correct: Mapped[bool] = mapped_column(Boolean)
    judged: Mapped[str] = mapped_column(String(16))  # how it was graded (exact, typo, ...)
    points: Mapped[int] = mapped_column(Integer, default=0)
    response_ms: Mapped[int | None] = mapped_column(Integer)
    hints_used: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]


class Score(Base):
    """Running totals per user, per chat (or GLOBAL_SCOPE), per period; read by leaderboards."""

    __tablename__ = "scores"
    __table_args__ = (
        UniqueConstraint("chat_id", "period", "period_start", "user_id"),
        Index(
            "ix_scores_board",
            "chat_id",
            "period",
            "period_start",
            text("points DESC"),
            text("correct DESC"),
            "user_id",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    chat_id: Mapped[int] = mapped_column(Integer)  # chats.id, or GLOBAL_SCOPE
    period: Mapped[str] = mapped_column(String(8))  # all, week, month
    period_start: Mapped[date] = mapped_column(Date)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    correct: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)


# Autogenerate cannot compare indexes over expressions (points DESC) and would report them as
# changed on every run; the migrations create them by hand and a test checks they exist.
EXPRESSION_INDEXES = frozenset({"ix_scores_board"})


def include_in_autogenerate(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ == "index" and name in EXPRESSION_INDEXES)


# Practice and report tables live in their own modules; importing them here registers them on
# Base.metadata so that migrations and the model/migration comparison see one schema.
import bot.storage.practice_models  # noqa: E402
import bot.storage.report_models  # noqa: E402, F401
