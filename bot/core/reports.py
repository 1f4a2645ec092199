"""Learners say a question is wrong: "report this question", with a reason.

Every question result (a round's QuestionResult, a practice verdict) carries `report_ref`, the
question's reference; adapters offer a "report" action under it that sends the command
`report <ref>`. The core answers with a ReportChoice (the reasons, rendered natively: buttons
on Telegram and Discord, a numbered list in the terminal); the choice comes back as
`report <ref> <reason>`, and the report is stored with a snapshot of the question as asked and
the reporter's own answer to it (what a "my answer should count" report is about). One report
per user, question and reason: a second press, or a platform redelivering the first, is told
that it was reported already.

A curator reviews reports with `quizbot content reports` (bot/content/report_commands.py). An
entry reported by HOLD_BACK_REPORTERS different users is held back from new round and practice
questions until its reports are reviewed.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.events import ChatRef, Sender, ref_id
from bot.core.replies import Notice, Reply, ReportChoice
from bot.i18n import interface_lang, t
from bot.storage.models import Chat, User
from bot.storage.practice_models import PracticeRepository
from bot.storage.uow import UnitOfWork, UnitOfWorkFactory

# The reasons, in the order they are offered (the terminal numbers them 1, 2, 3).
REASONS = ("wrong_key", "should_count", "unclear")
# An entry with open reports from this many different users is not asked in new rounds or
# practice until a curator has reviewed (accepted or rejected) enough of them.
HOLD_BACK_REPORTERS = 3


def parse_reason(word: str) -> str | None:
    """A reason's code from its code or its number ("2" -> "should_count")."""
    word = word.strip().lower()
    if word in REASONS:
        return word
    if word.isdigit() and 1 <= int(word) <= len(REASONS):
        return REASONS[int(word) - 1]
    return None


async def held_back(uow: UnitOfWork) -> set[str]:
    """Entry ids not to ask about now: reported by too many users, not yet reviewed."""
    return await uow.reports.held_back(HOLD_BACK_REPORTERS)


def _personal_lang(chat: Chat, user: User) -> str:
    # As bot.core.services.personal_lang (which imports this module): the reporter's language.
    return interface_lang(user.lang, user.platform_lang, chat.lang)


class ReportService:
    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self.uow = uow

    async def report(
        self, chat_ref: ChatRef, sender: Sender, now: datetime, args: tuple[str, ...]
    ) -> list[Reply]:
        """`report <ref>`: the reasons to choose from; `report <ref> <reason>`: store it."""
        ref = args[0].strip().lower() if args else ""
        async with self.uow() as uow:
            chat = await uow.chats.get_or_create(chat_ref, now)
            user = await uow.users.get_or_create(chat_ref.platform, sender, now)
            lang = _personal_lang(chat, user)
            if not ref:
                await uow.commit()
                return [self._notice(chat_ref, sender, t(lang, "report.usage"), "usage")]
            found = await self._question(uow, ref, chat, user)
            if found is None:
                await uow.commit()
                return [self._notice(chat_ref, sender, t(lang, "report.unknown"), "error")]
            entry_id, question, answer = found
            if len(args) < 2:
                await uow.commit()
                return [self._choice(chat_ref, sender, lang, ref)]
            reason = parse_reason(args[1])
            if reason is None:
                await uow.commit()
                return [self._notice(chat_ref, sender, t(lang, "report.usage"), "usage")]
            stored = await uow.reports.add(
                user_id=user.id,
                chat_id=chat.id,
                entry_id=entry_id,
                question_ref=ref,
                question=question,
                answer=answer,
                reason=reason,
                created_at=now,
            )
            await uow.commit()
        label = t(lang, f"report.reason.{reason}")
        if stored is None:
            text = t(lang, "report.already", reason=label)
            return [self._notice(chat_ref, sender, text, "info")]
        return [self._notice(chat_ref, sender, t(lang, "report.thanks", reason=label), "ok")]

    async def _question(
        self, uow: UnitOfWork, ref: str, chat: Chat, user: User
    ) -> tuple[str, dict, str | None] | None:
        """The entry, the question as asked and the user's answer to it, for a question this
        chat was shown (a practice question: this user's own); None for anything else (a
        forged or foreign reference, a question not asked yet)."""
        if (rq_id := ref_id(ref, "rq:")) is not None:
            rq = await uow.rounds.question(rq_id)
            if rq is None or rq.status == "pending":
                return None
            round_ = await uow.rounds.get(rq.round_id, lock=False)
            if round_ is None or round_.chat_id != chat.id:
                return None
            answer = await uow.reports.answer_to_round_question(user.id, rq.id)
            return rq.entry_id, rq.question, answer
        if (item_id := ref_id(ref, "pr:")) is not None:
            item = await PracticeRepository(uow.session).item(item_id)
            if item is None or item.chat_id != chat.id or item.user_id != user.id:
                return None
            answer = await uow.reports.answer_to_practice(
                user.id, chat.id, item.entry_id, item.answered_at
            )
            return item.entry_id, item.question, answer
        return None

    @staticmethod
    def _choice(chat_ref: ChatRef, sender: Sender, lang: str, ref: str) -> ReportChoice:
        reasons = tuple((code, t(lang, f"report.reason.{code}")) for code in REASONS)
        prompt = t(lang, "report.choose")
        numbered = [f"{i}) {label}" for i, (_, label) in enumerate(reasons, start=1)]
        return ReportChoice(
            chat_ref,
            "\n".join([prompt, *numbered]),
            private_to=sender.platform_user_id,
            question_ref=ref,
            reasons=reasons,
            prompt=prompt,
            lang=lang,
        )

    @staticmethod
    def _notice(chat_ref: ChatRef, sender: Sender, text: str, kind: str) -> Notice:
        return Notice(chat_ref, text, kind=kind, private_to=sender.platform_user_id)
