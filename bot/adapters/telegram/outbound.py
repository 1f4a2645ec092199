"""Replies rendered as Telegram messages, polls, photos and buttons.

Group chats get at most two messages per question: the question (a quiz poll, or a message to
reply to) and its result. Per-answer verdicts are not posted there (the quiz poll shows each
voter whether they were right); private chats get every reply.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.constants import ParseMode, PollType
from telegram.error import BadRequest, TelegramError

from bot.adapters.telegram import text as tg
from bot.adapters.telegram.network import call
from bot.core.replies import (
    AnswerFeedback,
    AskQuestion,
    Confirm,
    Image,
    Leaderboard,
    QuestionResult,
    Reply,
    RoundOver,
)
from bot.i18n import t

log = logging.getLogger(__name__)

OPEN_PERIOD_RANGE = (5, 600)
# Leave a poll that closes on its own within this many seconds to Telegram: stopping it then
# could race with the close and be refused.
STOP_POLL_MARGIN = 1.5
MAX_TRACKED_POLLS = 5000


@dataclass(slots=True)
class PostedPoll:
    chat_id: int
    message_id: int
    private: bool
    closes_at: float | None  # event-loop time when Telegram closes it, None: open until stopped
    question_ref: str = ""  # the core's name for the question ("rq:12", "pr:5")
    round_question_id: int = 0  # 0: a practice question
    closed: bool = False
    voted: bool = False  # private chats: the player already voted, nothing left to stop


@dataclass(frozen=True, slots=True)
class Context:
    """Where replies to an inbound event go: `reply_to` is the user's message (for replies
    meant for one user in a group); `answer` marks replies to an answer during a round."""

    reply_to: int | None = None
    answer: bool = False


class Outbox:
    def __init__(self, bot: Bot, *, image_button: bool = False) -> None:
        self.bot = bot
        self.image_button = image_button  # offer the leaderboard as a picture
        self.polls: OrderedDict[str, PostedPoll] = OrderedDict()
        # (chat id, message id) of a posted typed question -> the core's name for it
        self.typed: OrderedDict[tuple[int, int], str] = OrderedDict()
        self._poll_of_question: dict[int, str] = {}

    @staticmethod
    def with_leads(replies: list[Reply]) -> list[tuple[Reply, str]]:
        """The replies to post, in order, each with the text to put above it. In a private
        chat the verdict on an answer goes out with the question's result, as one message:
        one reads them together, and the chat stays short."""
        posts: list[tuple[Reply, str]] = []
        lead = ""
        for i, reply in enumerate(replies):
            following = replies[i + 1] if i + 1 < len(replies) else None
            if (
                isinstance(reply, AnswerFeedback)
                and reply.chat.is_private
                and isinstance(following, QuestionResult)
                and following.chat == reply.chat
            ):
                lead = reply.text
                continue
            posts.append((reply, lead))
            lead = ""
        return posts

    async def render(
        self, reply: Reply, ctx: Context | None = None, *, lead: str = ""
    ) -> str | None:
        """Post one reply; returns the question's handle for AskQuestion. `lead`: a verdict to
        put above a QuestionResult."""
        if not reply.chat.platform_chat_id:
            return None  # an answer we could not place in any chat (a stale poll)
        chat_id = int(reply.chat.platform_chat_id)
        private = reply.chat.is_private
        if isinstance(reply, AskQuestion):
            return await self._ask(reply, chat_id, private)
        if not private and self._quiet_in_group(reply, ctx):
            return None
        reply_to = ctx.reply_to if ctx and reply.private_to and not private else None

        if isinstance(reply, QuestionResult):
            await self._stop_poll(reply.round_question_id)
            await self._message(chat_id, reply.text, bold=True, lead=lead)
        elif isinstance(reply, RoundOver):
            await self._message(chat_id, reply.text, bold=True)
        elif isinstance(reply, Leaderboard):
            await self._message(chat_id, reply.text, bold=True, markup=self._image_markup(reply))
        elif isinstance(reply, Image):
            await call(
                self.bot.send_photo,
                chat_id,
                photo=reply.png,
                filename=reply.filename,
                caption=tg.clip_lines(reply.text, tg.CAPTION_MAX) or None,
                what="sendPhoto",
            )
        elif isinstance(reply, Confirm):
            await self._message(
                chat_id, reply.text, reply_to=reply_to, markup=self._confirm_markup(reply)
            )
        else:
            await self._message(chat_id, reply.text, reply_to=reply_to)
        return None

    @staticmethod
    def _quiet_in_group(reply: Reply, ctx: Context | None) -> bool:
        if isinstance(reply, AnswerFeedback):
            return True
        # "Already answered", "not open any more" ... for one player, during a round: skip,
        # the group sees the result soon enough.
        return bool(reply.private_to and ctx is not None and ctx.answer)

    # ------------------------------------------------------------------ questions

    async def _ask(self, reply: AskQuestion, chat_id: int, private: bool) -> str:
        question = reply.question
        assert question is not None
        if not question.is_multiple_choice:
            message = await self._message(chat_id, reply.text, bold=True)
            self.typed[(chat_id, message.message_id)] = (
                reply.question_ref or f"rq:{reply.round_question_id}"
            )
            while len(self.typed) > MAX_TRACKED_POLLS:
                self.typed.popitem(last=False)
            return f"tg:msg:{chat_id}:{message.message_id}"

        period = None
        if reply.seconds:
            low, high = OPEN_PERIOD_RANGE
            period = min(max(int(reply.seconds), low), high)
        message = await call(
            self.bot.send_poll,
            chat_id,
            tg.poll_question(reply.header, question.prompt, reply.position, reply.total),
            tg.poll_options(question.options),
            is_anonymous=False,
            type=PollType.QUIZ,
            correct_option_ids=[question.correct_option or 0],
            open_period=period,
            explanation=tg.poll_explanation(question.explanation),
            what="sendPoll",
        )
        poll = message.poll
        assert poll is not None
        closes_at = asyncio.get_running_loop().time() + period if period else None
        posted = PostedPoll(
            chat_id,
            message.message_id,
            private,
            closes_at,
            question_ref=reply.question_ref or f"rq:{reply.round_question_id}",
            round_question_id=reply.round_question_id,
        )
        self._remember(poll.id, posted)
        return f"tg:poll:{poll.id}"

    def _remember(self, poll_id: str, posted: PostedPoll) -> None:
        self.polls[poll_id] = posted
        if posted.round_question_id:  # a round's: the core may close it early
            self._poll_of_question[posted.round_question_id] = poll_id
        while len(self.polls) > MAX_TRACKED_POLLS:
            old_id, old = self.polls.popitem(last=False)
            if self._poll_of_question.get(old.round_question_id) == old_id:
                del self._poll_of_question[old.round_question_id]

    def question_of(self, chat_id: int, message_id: int) -> str | None:
        """The core's name for a typed question this process posted, if it still knows."""
        return self.typed.get((chat_id, message_id))

    def poll_voted(self, poll_id: str) -> PostedPoll | None:
        posted = self.polls.get(poll_id)
        if posted is not None and posted.private:
            posted.voted = True
        return posted

    async def _stop_poll(self, round_question_id: int) -> None:
        """Close the poll of a question the core closed early (everyone answered, /stop)."""
        poll_id = self._poll_of_question.pop(round_question_id, None)
        posted = self.polls.get(poll_id) if poll_id else None
        if posted is None or posted.closed or (posted.private and posted.voted):
            return
        now = asyncio.get_running_loop().time()
        if posted.closes_at is not None and posted.closes_at - now < STOP_POLL_MARGIN:
            return
        try:
            await call(self.bot.stop_poll, posted.chat_id, posted.message_id, what="stopPoll")
            posted.closed = True
        except BadRequest as err:  # closed meanwhile, or deleted by an admin
            log.info("could not stop a poll: %s", err)
        except TelegramError as err:
            log.warning("could not stop a poll: %s", err)

    # ------------------------------------------------------------------ messages

    async def _message(
        self,
        chat_id: int,
        text: str,
        *,
        bold: bool = False,
        reply_to: int | None = None,
        markup: InlineKeyboardMarkup | None = None,
        lead: str = "",
    ):
        body = tg.html_text(text or "…", bold_first_line=bold)
        if lead:  # a line or two of plain text above, within the same limit
            room = tg.MESSAGE_MAX - tg.utf16_len(lead) - 2
            body = (
                tg.html_text(lead) + "\n\n" + tg.html_text(text, bold_first_line=bold, limit=room)
            )
        return await call(
            self.bot.send_message,
            chat_id,
            body,
            parse_mode=ParseMode.HTML,
            reply_parameters=(
                ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
            ),
            reply_markup=markup,
            what="sendMessage",
        )

    @staticmethod
    def _confirm_markup(reply: Confirm) -> InlineKeyboardMarkup | None:
        yes, no = tg.command_data(reply.yes_command), tg.command_data(reply.no_command)
        if yes is None or no is None:
            return None  # the text already says which command to send
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(tg.clip(reply.yes_label, 64), callback_data=yes),
                    InlineKeyboardButton(tg.clip(reply.no_label, 64), callback_data=no),
                ]
            ]
        )

    def _image_markup(self, reply: Leaderboard) -> InlineKeyboardMarkup | None:
        if not self.image_button or not reply.rows:
            return None
        data = tg.image_data(reply.scope, reply.period)
        if data is None:
            return None
        label = t(reply.lang, "telegram.image_button")
        return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])
