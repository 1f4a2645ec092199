"""Learners' reports of questions they think are wrong, and the queries around them.

A report names the question as it was asked (`question_ref`, "rq:<round question id>" or
"pr:<practice item id>", with a snapshot of its JSON so the curator sees what was shown even
after the glossary changed), the glossary entry it was about, the reason and, when the
reporter had answered it, what they answered. One report per user, question and reason: a
redelivered or repeated press is refused by the unique key. A curator reviews reports (open ->
accepted or rejected) with `quizbot content reports`.

The model uses the shared `Base` (bot.storage.models imports this module at its end), so the
migrations test compares it with the schema.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models import Answer, Base, Chat, User
from bot.storage.sanitize import clean_text

STATUSES = ("open", "accepted", "rejected")


class QuestionReport(Base):
    __tablename__ = "question_reports"
    __table_args__ = (
        # A press repeated, or redelivered by the platform, stores one report.
        UniqueConstraint("user_id", "question_ref", "reason"),
        # Open reports by entry: the hold-back look-up at every round start, and the listing.
        Index("ix_question_reports_status_entry", "status", "entry_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    entry_id: Mapped[str] = mapped_column(String(128))
    question_ref: Mapped[str] = mapped_column(String(32))  # "rq:12" or "pr:5"
    question: Mapped[dict] = mapped_column(JSON)  # bot.content.model.Question.to_json()
    answer: Mapped[str | None] = mapped_column(Text)  # the reporter's answer, if they gave one
    reason: Mapped[str] = mapped_column(String(16))  # wrong_key, should_count, unclear
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, accepted, rejected
    created_at: Mapped[datetime]
    reviewed_at: Mapped[datetime | None]


class ReportRepository:
    """The SQL of question reports, inside a unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        *,
        user_id: int,
        chat_id: int,
        entry_id: str,
        question_ref: str,
        question: dict,
        answer: str | None,
        reason: str,
        created_at: datetime,
    ) -> int | None:
        """Store a report; its id, or None when this user reported this question for this
        reason already (the unique key decides, also between processes)."""
        values = {
            "user_id": user_id,
            "chat_id": chat_id,
            "entry_id": entry_id,
            "question_ref": question_ref,
            "question": question,
            "answer": clean_text(answer, 500) if answer is not None else None,
            "reason": reason,
            "status": "open",
            "created_at": created_at,
        }
        dialect = self.session.bind.dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = (
            insert(QuestionReport)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["user_id", "question_ref", "reason"])
            .returning(QuestionReport.id)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def held_back(self, min_reporters: int) -> set[str]:
        """Entries with open reports from at least `min_reporters` different users."""
        rows = await self.session.execute(
            select(QuestionReport.entry_id)
            .where(QuestionReport.status == "open")
            .group_by(QuestionReport.entry_id)
            .having(func.count(func.distinct(QuestionReport.user_id)) >= min_reporters)
        )
        return set(rows.scalars())

    async def answer_to_round_question(self, user_id: int, round_question_id: int) -> str | None:
        """What the user answered to a round question: the last refused try if any (the one
        a "my answer should count" report is about), else the last one."""
        rows = await self.session.execute(
            select(Answer.given, Answer.correct)
            .where(Answer.round_question_id == round_question_id, Answer.user_id == user_id)
            .order_by(Answer.id)
        )
        return _the_answer(list(rows))

    async def answer_to_practice(
        self, user_id: int, chat_id: int, entry_id: str, answered_at: datetime | None
    ) -> str | None:
        """What the user answered to a practice question (stored with no round question, at
        the moment the item was answered)."""
        if answered_at is None:
            return None
        rows = await self.session.execute(
            select(Answer.given, Answer.correct)
            .where(
                Answer.user_id == user_id,
                Answer.chat_id == chat_id,
                Answer.round_question_id.is_(None),
                Answer.entry_id == entry_id,
                Answer.created_at == answered_at,
            )
            .order_by(Answer.id)
        )
        return _the_answer(list(rows))

    # --- the curator's side ------------------------------------------------------------------

    async def listed(
        self, statuses: tuple[str, ...] = ("open",), *, entry_id: str | None = None
    ) -> list[tuple[QuestionReport, str, str, str]]:
        """Reports with these statuses (of one entry, if given), oldest first, each with the
        reporter's display name, platform and the chat's title."""
        stmt = (
            select(QuestionReport, User.display_name, User.platform, Chat.title)
            .join(User, User.id == QuestionReport.user_id)
            .join(Chat, Chat.id == QuestionReport.chat_id)
            .where(QuestionReport.status.in_(statuses))
            .order_by(QuestionReport.entry_id, QuestionReport.id)
        )
        if entry_id is not None:
            stmt = stmt.where(QuestionReport.entry_id == entry_id)
        return [tuple(row) for row in await self.session.execute(stmt)]  # type: ignore[misc]

    async def by_ids(self, ids: list[int]) -> list[QuestionReport]:
        if not ids:
            return []
        rows = await self.session.execute(
            select(QuestionReport).where(QuestionReport.id.in_(ids)).order_by(QuestionReport.id)
        )
        return list(rows.scalars())

    async def review(self, ids: list[int], status: str, now: datetime) -> int:
        """Mark open reports accepted or rejected; how many changed (reviewed ones stay)."""
        if status not in ("accepted", "rejected"):
            raise ValueError(f"not a review outcome: {status}")
        if not ids:
            return 0
        result = await self.session.execute(
            update(QuestionReport)
            .where(and_(QuestionReport.id.in_(ids), QuestionReport.status == "open"))
            .values(status=status, reviewed_at=now)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount or 0


def _the_answer(rows: list[tuple[str, bool]]) -> str | None:
    refused = [given for given, correct in rows if not correct]
    if refused:
        return refused[-1]
    return rows[-1][0] if rows else None
