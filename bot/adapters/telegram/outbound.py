"""Replies rendered as Telegram messages, polls, photos and buttons.

Group chats get at most two messages per question: the question (a quiz poll, or a message to
reply to) and its result. Per-answer verdicts are not posted there (the quiz poll shows each
voter whether they were right). Private chats get one message per answer: `Outbox.plan` puts
the verdict, the result and what comes next together.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, ReplyParameters
from telegram.constants import ParseMode, PollType
from telegram.error import BadRequest, Forbidden, TelegramError, TimedOut

from bot.adapters.telegram import text as tg
from bot.adapters.telegram.network import call, never_sent
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
    meant for one user in a group); `answer` marks replies to an answer during a round;
    `poll_vote` an answer given by voting on a quiz poll."""

    reply_to: int | None = None
    answer: bool = False
    poll_vote: bool = False


@dataclass(frozen=True, slots=True)
class Post:
    """One thing to post: `reply`, with `leads` (replies to the same private chat) written above
    it in the same message, and `left_out` replies the chat has seen already."""

    reply: Reply
    leads: tuple[Reply, ...] = ()
    left_out: tuple[Reply, ...] = ()


class Outbox:
    def __init__(self, bot: Bot, *, image_button: bool = False) -> None:
        self.bot = bot
        self.image_button = image_button  # offer the leaderboard as a picture
        self.polls: OrderedDict[str, PostedPoll] = OrderedDict()
        # (chat id, message id) of a posted typed question -> the core's name for it
        self.typed: OrderedDict[tuple[int, int], str] = OrderedDict()
        self._poll_of_question: dict[int, str] = {}
        # Questions whose post timed out after it left: Telegram may have posted them, but we
        # never learnt the poll's or the message's id. Sending again could post a duplicate, so
        # the first answer that can only be to such a question adopts it (see `adopt_*`).
        self.unsure_polls: OrderedDict[int, tuple[AskQuestion, PostedPoll]] = OrderedDict()
        self.unsure_typed: OrderedDict[int, tuple[AskQuestion, str]] = OrderedDict()
        # Chats that refused a poll: their multiple-choice questions come as messages with
        # option buttons (see `_ask_with_buttons`), and the buttons of each such question, by
        # round question, to take away when it closes.
        self.no_polls: set[int] = set()
        self._told_no_polls: set[int] = set()  # chats told why (once)
        self._buttons_of_question: dict[int, tuple[int, int]] = {}

    @staticmethod
    def plan(replies: list[Reply], ctx: Context | None = None) -> list[Post]:
        """The posts for one event's replies. In a private chat the verdict on an answer, the
        question's result and what comes next (a typed question, the end of the round) go out
        as one message: one reads them together, and the chat stays short. After a vote on a
        quiz poll, which has shown the right option and the explanation itself, the result is
        left out and the verdict rides on the next poll."""
        posts: list[Post] = []
        leads: list[Reply] = []  # texts of one private chat waiting for what comes next

        def flush() -> None:
            if leads:
                posts.append(Post(leads[-1], tuple(leads[:-1])))
                leads.clear()

        for reply in replies:
            if leads and reply.chat.platform_chat_id != leads[0].chat.platform_chat_id:
                flush()
            if reply.chat.is_private and isinstance(reply, AnswerFeedback | QuestionResult):
                leads.append(reply)
            elif leads and isinstance(reply, RoundOver):
                posts.append(Post(reply, tuple(leads)))
                leads.clear()
            elif leads and isinstance(reply, AskQuestion) and reply.question is not None:
                if not reply.question.is_multiple_choice:  # a message: the texts go on top
                    posts.append(Post(reply, tuple(leads)))
                    leads.clear()
                elif ctx is not None and ctx.poll_vote and Outbox._shown_by_poll(leads):
                    feedback, result = leads
                    posts.append(Post(reply, (feedback,), left_out=(result,)))
                    leads.clear()
                else:
                    flush()
                    posts.append(Post(reply))
            else:
                flush()
                posts.append(Post(reply))
        flush()
        return posts

    @staticmethod
    def _shown_by_poll(leads: list[Reply]) -> bool:
        """Whether these are the verdict on a quiz poll vote and that question's result, all of
        which the poll showed the voter (the right option, the whole explanation)."""
        if len(leads) != 2:
            return False
        feedback, result = leads
        if not isinstance(feedback, AnswerFeedback) or not feedback.verdict:
            return False
        if not isinstance(result, QuestionResult) or result.question is None:
            return False
        question = result.question
        explanation = question.explanation.strip()
        return question.is_multiple_choice and (
            not explanation or tg.poll_explanation(explanation) == explanation
        )

    async def render(
        self,
        reply: Reply,
        ctx: Context | None = None,
        *,
        leads: tuple[Reply, ...] = (),
        left_out: tuple[Reply, ...] = (),
    ) -> str | None:
        """Post one reply (a `Post` of `plan`); returns the question's handle for AskQuestion."""
        if not reply.chat.platform_chat_id:
            return None  # an answer we could not place in any chat (a stale poll)
        chat_id = int(reply.chat.platform_chat_id)
        private = reply.chat.is_private
        for done in (*leads, *left_out):
            if isinstance(done, QuestionResult):
                await self._stop_poll(done.round_question_id)
        if isinstance(reply, AskQuestion):
            return await self._ask(reply, chat_id, private, leads)
        if not private and self._quiet_in_group(reply, ctx):
            return None
        reply_to = ctx.reply_to if ctx and reply.private_to and not private else None

        if isinstance(reply, QuestionResult):
            await self._stop_poll(reply.round_question_id)
            await self._message(chat_id, reply.text, bold=True, leads=leads, own=reply)
        elif isinstance(reply, RoundOver):
            await self._stop_round_polls(chat_id)
            await self._message(chat_id, reply.text, bold=True, leads=leads, own=reply)
        elif isinstance(reply, Leaderboard):
            await self._message(chat_id, reply.text, bold=True, markup=self._image_markup(reply))
        elif isinstance(reply, Image):
            await call(
                self.bot.send_photo,
                chat_id,
                photo=reply.png,
                filename=reply.filename,
                caption=tg.clip_lines(tg.no_mentions(reply.text), tg.CAPTION_MAX) or None,
                what="sendPhoto",
            )
        elif isinstance(reply, Confirm):
            await self._message(
                chat_id, reply.text, reply_to=reply_to, markup=self._confirm_markup(reply)
            )
        else:
            await self._message(chat_id, reply.text, reply_to=reply_to, leads=leads, own=reply)
        return None

    @staticmethod
    def _quiet_in_group(reply: Reply, ctx: Context | None) -> bool:
        if isinstance(reply, AnswerFeedback):
            return True
        # "Already answered", "not open any more" ... for one player, during a round: skip,
        # the group sees the result soon enough.
        return bool(reply.private_to and ctx is not None and ctx.answer)

    # ------------------------------------------------------------------ questions

    async def _ask(
        self, reply: AskQuestion, chat_id: int, private: bool, leads: tuple[Reply, ...]
    ) -> str:
        question = reply.question
        assert question is not None
        question_ref = _question_ref(reply)
        if not question.is_multiple_choice:
            try:
                message = await self._message(
                    chat_id, reply.text, bold=True, leads=leads, own=reply
                )
            except TimedOut as err:
                if not never_sent(err) and not private:  # in private, answers need no ref
                    _bounded_put(self.unsure_typed, chat_id, (reply, reply.text))
                raise
            self.unsure_typed.pop(chat_id, None)
            _bounded_put(self.typed, (chat_id, message.message_id), question_ref)
            return f"tg:msg:{chat_id}:{message.message_id}"

        period = None
        if reply.seconds:
            low, high = OPEN_PERIOD_RANGE
            period = min(max(int(reply.seconds), low), high)
        title = tg.poll_question(reply.header, question.prompt, reply.position, reply.total)
        if chat_id in self.no_polls:
            return await self._ask_with_buttons(reply, chat_id, leads)
        if leads:  # the verdict on the previous poll, on top if it fits, else a message first
            verdict = "\n".join(_short(lead) for lead in leads)
            on_top = tg.poll_question_under(
                verdict, reply.header, question.prompt, reply.position, reply.total
            )
            if on_top is None:
                await self._message(chat_id, leads[-1].text, leads=leads[:-1], own=leads[-1])
                leads = ()
            title = on_top or title
        try:
            message = await call(
                self.bot.send_poll,
                chat_id,
                title,
                tg.poll_options(question.options),
                is_anonymous=False,
                type=PollType.QUIZ,
                correct_option_ids=[question.correct_option or 0],
                open_period=period,
                explanation=tg.poll_explanation(question.explanation),
                reply_markup=self._poll_report_markup(reply) if private else None,
                what="sendPoll",
            )
        except TimedOut as err:
            # Telegram may have posted it: the first vote on a poll this process does not know
            # can adopt it (see adopt_unsure_poll).
            if not never_sent(err):
                closes_at = asyncio.get_running_loop().time() + period if period else None
                posted = PostedPoll(
                    chat_id,
                    0,  # unknown: such a poll is never stopped (its open period ends it)
                    private,
                    closes_at,
                    question_ref=question_ref,
                    round_question_id=reply.round_question_id,
                )
                _bounded_put(self.unsure_polls, chat_id, (reply, posted))
            raise
        except (BadRequest, Forbidden) as err:
            # The chat refuses polls (a group that does not let members send them, a Bot API
            # server without them): the same question as a message with option buttons.
            log.warning(
                "telegram: chat %s refused a poll (%s); asking with buttons instead", chat_id, err
            )
            self.no_polls.add(chat_id)
            return await self._ask_with_buttons(reply, chat_id, leads)
        self.unsure_polls.pop(chat_id, None)
        poll = message.poll
        assert poll is not None
        closes_at = asyncio.get_running_loop().time() + period if period else None
        posted = PostedPoll(
            chat_id,
            message.message_id,
            private,
            closes_at,
            question_ref=question_ref,
            round_question_id=reply.round_question_id,
        )
        self._remember(poll.id, posted)
        return f"tg:poll:{poll.id}"

    async def _ask_with_buttons(
        self, reply: AskQuestion, chat_id: int, leads: tuple[Reply, ...]
    ) -> str:
        """A multiple-choice question as a message, in a chat that refused a poll: its text
        lists the options, a button per option answers (the core takes an option by its
        letter too, typed or in a reply). The first one posted in the chat says why, above
        the question. Raises what Telegram raises when even this cannot be posted (the hub
        then knows nobody saw the question)."""
        question = reply.question
        assert question is not None
        question_ref = _question_ref(reply)
        text = reply.text
        tell = chat_id not in self._told_no_polls
        if tell:
            text = f"{tg.POLLS_REFUSED.get(reply.lang, tg.POLLS_REFUSED['en'])}\n\n{text}"
        buttons = [
            InlineKeyboardButton(tg.OPTION_LETTERS[i], callback_data=data)
            for i in range(min(len(question.options), len(tg.OPTION_LETTERS)))
            if (data := tg.answer_data(question_ref, i)) is not None
        ]
        per_row = tg.OPTION_BUTTONS_PER_ROW
        rows = [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
        report = self._report_markup(leads, previous=True)  # of the previous question
        if report is not None:
            rows += list(report.inline_keyboard)
        message = await self._message(
            chat_id,
            text,
            bold=not tell,
            leads=leads,
            own=reply,
            markup=InlineKeyboardMarkup(rows) if rows else None,
        )
        self._told_no_polls.add(chat_id)
        _bounded_put(self.typed, (chat_id, message.message_id), question_ref)
        if reply.round_question_id and buttons:
            self._buttons_of_question[reply.round_question_id] = (chat_id, message.message_id)
            while len(self._buttons_of_question) > MAX_TRACKED_POLLS:
                del self._buttons_of_question[next(iter(self._buttons_of_question))]
        return f"tg:msg:{chat_id}:{message.message_id}"

    async def _take_buttons(self, round_question_id: int) -> None:
        """The option buttons of a question asked as a message go when it closes."""
        where = self._buttons_of_question.pop(round_question_id, None)
        if where is None:
            return
        try:
            await call(
                self.bot.edit_message_reply_markup,
                *where,
                reply_markup=None,
                what="editMessageReplyMarkup",
            )
        except TelegramError as err:  # deleted meanwhile: nothing to take away
            log.info("could not take the option buttons away: %s", err)

    # Votes on a poll that neither this process nor the database knows (the caller has asked
    # the core: not a poll posted before a restart) can only be on a poll whose post timed out
    # (Telegram did post it). These return the question and its handle, for the core to
    # remember, or None.

    def may_adopt(self, user_id: int) -> bool:
        """Whether a vote of this user on an unknown poll could be on such a poll."""
        return user_id in self.unsure_polls or any(
            not posted.private for _, posted in self.unsure_polls.values()
        )

    def adopt_unsure_poll(self, poll_id: str, user_id: int) -> tuple[AskQuestion, str] | None:
        """The poll whose post timed out in the voter's private chat."""
        unsure = self.unsure_polls.pop(user_id, None)  # a private chat's id is its user's
        return None if unsure is None else self._adopt(poll_id, *unsure)

    def adopt_unsure_group_poll(self, poll_id: str) -> tuple[AskQuestion, str] | None:
        """The one group poll whose post timed out. A poll_answer names no chat, so with two
        such polls the vote stays unknown."""
        groups = [chat for chat, (_, posted) in self.unsure_polls.items() if not posted.private]
        if len(groups) != 1:
            return None
        return self._adopt(poll_id, *self.unsure_polls.pop(groups[0]))

    def _adopt(self, poll_id: str, reply: AskQuestion, posted: PostedPoll):
        self._remember(poll_id, posted)
        return reply, f"tg:poll:{poll_id}"

    def adopt_unsure_typed(
        self, chat_id: int, message_id: int, text: str | None
    ) -> tuple[AskQuestion, str] | None:
        """A reply to a bot message this process does not know, in a group where a typed
        question's post timed out: that question, if the message is the question's text."""
        unsure = self.unsure_typed.get(chat_id)
        if unsure is None or not text:
            return None
        reply, question_text = unsure
        if not text.strip().endswith(
            tg.clip_lines(tg.no_mentions(question_text), tg.MESSAGE_MAX).strip()
        ):
            return None
        del self.unsure_typed[chat_id]
        _bounded_put(self.typed, (chat_id, message_id), _question_ref(reply))
        return reply, f"tg:msg:{chat_id}:{message_id}"

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

    async def _stop_round_polls(self, chat_id: int) -> None:
        """A round stopped with its question open leaves that question's poll open: stop it,
        so that nobody goes on voting on a question that no longer counts."""
        for round_question_id, poll_id in list(self._poll_of_question.items()):
            posted = self.polls.get(poll_id)
            if posted is not None and posted.chat_id == chat_id:
                await self._stop_poll(round_question_id)
        for round_question_id, (chat, _) in list(self._buttons_of_question.items()):
            if chat == chat_id:
                await self._take_buttons(round_question_id)

    async def _stop_poll(self, round_question_id: int) -> None:
        """Close the poll of a question the core closed early (everyone answered, /stop), or
        take the buttons of one asked as a message away."""
        if round_question_id in self._buttons_of_question:
            await self._take_buttons(round_question_id)
        poll_id = self._poll_of_question.pop(round_question_id, None)
        posted = self.polls.get(poll_id) if poll_id else None
        if posted is None or posted.closed or (posted.private and posted.voted):
            return
        if not posted.message_id:  # adopted after its post timed out: no id to stop it by
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
        leads: tuple[Reply, ...] = (),
        own: Reply | None = None,
    ):
        """A message of `text` (the text of `own`, when it is a reply's), under the texts of
        `leads` when they fit in one together; otherwise the leads go first, on their own. A
        message that carries a question's result carries its ⚑ Report button."""
        blocks = [(lead.text, not isinstance(lead, AnswerFeedback)) for lead in leads]
        if blocks:
            size = sum(tg.utf16_len(block) + 2 for block, _ in blocks) + tg.utf16_len(text)
            if size > tg.MESSAGE_MAX:
                await self._message(
                    chat_id,
                    leads[-1].text,
                    bold=blocks[-1][1],
                    leads=leads[:-1],
                    own=leads[-1],
                )
                blocks, leads = [], ()
        if markup is None:
            carried = (*leads, own) if own is not None else leads
            markup = self._report_markup(carried, previous=isinstance(own, AskQuestion))
        blocks.append((text or "…", bold))
        body = "\n\n".join(tg.html_text(block, bold_first_line=b) for block, b in blocks)
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

    @staticmethod
    def _report_markup(
        carried: tuple[Reply, ...], *, previous: bool = False
    ) -> InlineKeyboardMarkup | None:
        """The ⚑ Report button of the question whose result one of `carried` is, if any.
        `previous`: the message asks the next question too, so the button says which one."""
        for reply in carried:
            ref = getattr(reply, "report_ref", "")
            data = tg.report_data(ref) if ref else None
            if data is not None:
                key = "report.button_previous" if previous else "report.button"
                label = t(getattr(reply, "lang", "en"), key)
                return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])
        return None

    @staticmethod
    def _poll_report_markup(reply: AskQuestion) -> InlineKeyboardMarkup | None:
        """A private quiz poll shows its own result once voted on (the right option and the
        explanation), and the verdict rides on the next poll: the ⚑ Report button goes on the
        poll itself, sent with it, so reporting costs no extra call per answer."""
        data = tg.report_data(_question_ref(reply))
        if data is None:
            return None
        label = t(reply.lang, "report.button")
        return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])

    def _image_markup(self, reply: Leaderboard) -> InlineKeyboardMarkup | None:
        if not self.image_button or not reply.rows:
            return None
        data = tg.image_data(reply.scope, reply.period)
        if data is None:
            return None
        label = t(reply.lang, "telegram.image_button")
        return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])


def _question_ref(reply: AskQuestion) -> str:
    """The core's name for a question: answers carry it back."""
    return reply.question_ref or f"rq:{reply.round_question_id}"


def _bounded_put(table: OrderedDict, key, value) -> None:
    table[key] = value
    table.move_to_end(key)
    while len(table) > MAX_TRACKED_POLLS:
        table.popitem(last=False)


def _short(reply: Reply) -> str:
    """A reply's text as few words as it has: a verdict without the option it restates."""
    if isinstance(reply, AnswerFeedback) and reply.verdict:
        return reply.verdict
    return reply.text
