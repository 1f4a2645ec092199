"""The Telegram adapter: python-telegram-bot updates in, core events out, replies rendered back.

It shares the event loop with the other adapters, so it never calls `run_polling`: `start()`
initializes the Application and starts long polling (or a webhook server when
QUIZBOT_TELEGRAM_WEBHOOK_URL is set), `stop()` undoes it.

Inbound, every command is routed as `Command(name, args)` (the dispatcher knows the commands);
in private chats any other text is an answer; in groups only replies to the bot's messages are
(that is all a bot sees in privacy mode). Quiz polls answer through `poll_answer` updates.
"""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import (
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    PollAnswerHandler,
    filters,
)

from bot.adapters.telegram import text as tg
from bot.adapters.telegram.network import (
    MAX_IN_FLIGHT,
    QuizRateLimiter,
    call,
    quiet_http_logs,
)
from bot.adapters.telegram.ordering import PerUserOrder
from bot.adapters.telegram.outbound import Context, Outbox, PostedPoll
from bot.adapters.telegram.transport import AiohttpRequest
from bot.config import Settings
from bot.core.adapter import NotDelivered
from bot.core.events import ChatRef, Command, Event, OptionAnswer, Sender, TextAnswer
from bot.core.hub import Hub
from bot.core.replies import AnswerFeedback, Image, Reply, ReportChoice
from bot.errors import StartupError
from bot.i18n import t

log = logging.getLogger(__name__)

# Not "poll": Telegram would send one for every vote on the bot's polls (new counts), twice
# the traffic of a quiz, to learn only what the outbox already knows (its polls' deadlines and
# votes); stopping a poll that closed meanwhile costs one refused call, which it shrugs off.
ALLOWED_UPDATES = ["message", "callback_query", "poll_answer"]
MENU = (
    "quiz",
    "stop",
    "hint",
    "leaderboard",
    "stats",
    "practice",
    "review",
    "settings",
    "lang",
    "help",
)
MENU_LANGS = (None, "zh")  # None: the default list, shown to every other language
ADMIN_STATUSES = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
FIRST_START_RETRY = 1.0  # seconds before the second try to reach the Bot API; doubles
# Calls that are tried once, not retried (a failure is logged and the bot goes on): a slow
# answer must not hold up the start (setMyCommands) or a group command (getChatMember).
ONE_TRY_TIMEOUT = 5.0
ONE_TRY = {
    "read_timeout": ONE_TRY_TIMEOUT,
    "write_timeout": ONE_TRY_TIMEOUT,
    "connect_timeout": ONE_TRY_TIMEOUT,
    "pool_timeout": ONE_TRY_TIMEOUT,
}
REASONS_SHOWN_FOR = 60.0  # seconds the reasons of a ⚑ Report press stay unfolded, unchosen


class TelegramAdapter:
    platform = "telegram"

    def __init__(
        self,
        settings: Settings,
        hub: Hub,
        *,
        rate_limiter: BaseRateLimiter | None = None,
        poll_timeout: float = 30,
        admin_cache_seconds: float = 60,
        read_timeout: float = 20,
        reasons_shown_for: float = REASONS_SHOWN_FOR,
    ) -> None:
        self.settings = settings
        self.hub = hub
        self.reasons_shown_for = reasons_shown_for
        self.poll_timeout = poll_timeout
        self.admin_cache_seconds = admin_cache_seconds
        # write_timeout: photo uploads; the pool holds what network.MAX_IN_FLIGHT lets out
        self._requests = (
            AiohttpRequest(
                connection_pool_size=MAX_IN_FLIGHT, read_timeout=read_timeout, write_timeout=30
            ),
            AiohttpRequest(connection_pool_size=1),
        )
        self.application: Application = (
            ApplicationBuilder()
            .token(settings.telegram_token.reveal())
            .base_url(settings.telegram_base_url)
            .base_file_url(settings.telegram_base_file_url)
            .rate_limiter(rate_limiter or QuizRateLimiter())
            .request(self._requests[0])
            .get_updates_request(self._requests[1])
            .concurrent_updates(PerUserOrder())
            .build()
        )
        self.outbox = Outbox(
            self.application.bot, image_button="_board_image" in hub.dispatcher.extra
        )
        self._admins: dict[tuple[int, int], tuple[float, bool]] = {}
        # Messages whose ⚑ Report reasons are unfolded -> the task that folds them away.
        self._folds: dict[tuple[int, int], asyncio.Task] = {}
        self._initialized = False
        self._stopping = False
        self._add_handlers()

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Reach the Bot API (retried for QUIZBOT_START_TIMEOUT seconds), register the
        command menu, start polling or the webhook. Raises StartupError, in one line without
        the token, when Telegram refuses the token or stays out of reach."""
        quiet_http_logs(self.settings.telegram_token.reveal())
        await self._initialize()
        await self._register_menu()
        app = self.application
        await app.start()
        if self.settings.telegram_webhook_url:
            url = self.settings.telegram_webhook_url
            secret = self.settings.telegram_webhook_secret.reveal() or None
            await app.updater.start_webhook(
                listen=self.settings.telegram_webhook_listen,
                port=self.settings.telegram_webhook_port,
                url_path=urlsplit(url).path.lstrip("/"),
                webhook_url=url,
                secret_token=secret,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
                bootstrap_retries=3,
            )
            log.info("telegram: webhook mode on port %d", self.settings.telegram_webhook_port)
        else:
            await app.updater.start_polling(
                poll_interval=0,
                timeout=self.poll_timeout,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
                bootstrap_retries=3,
                error_callback=self._polling_failed,
            )
            log.info("telegram: polling as @%s", app.bot.username)

    @property
    def _api_host(self) -> str:
        return urlsplit(self.settings.telegram_base_url).netloc or "the Bot API"

    async def _initialize(self) -> None:
        """getMe until it answers, for `start_timeout` seconds at most; a refused token stops
        at once. The errors raised say nothing of the token (PTB's own InvalidToken shows it)."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + self.settings.start_timeout
        delay = FIRST_START_RETRY
        while True:
            try:
                await self.application.initialize()
                self._initialized = True
                return
            except InvalidToken as err:
                await self._release()
                said = _said(err.__cause__) or "Unauthorized"
                also = "" if said == "Unauthorized" else " (and check QUIZBOT_TELEGRAM_BASE_URL)"
                raise StartupError(
                    f"Telegram refused TELEGRAM_BOT_TOKEN ({said}) at {self._api_host}: copy the "
                    f"bot's token from @BotFather (/token) again{also}"
                ) from None
            except RetryAfter as err:
                wait = err._retry_after.total_seconds() + 0.1
                reason = f"{self._api_host} asks to wait {wait:.0f} s"
            except NetworkError as err:  # BadRequest included: a gateway's error page
                wait, reason = delay, self._unreachable(err)
                delay *= 2
            except TelegramError as err:
                await self._release()
                raise StartupError(
                    f"the Bot API at {self._api_host} refused to start the bot ({_said(err)})"
                ) from None
            left = deadline - loop.time()
            if left <= 0:
                await self._release()
                raise StartupError(
                    f"cannot reach the Telegram Bot API ({reason}) for "
                    f"{loop.time() - started:.0f} s: check the network (and "
                    "QUIZBOT_TELEGRAM_BASE_URL); QUIZBOT_START_TIMEOUT sets the patience"
                )
            wait = min(wait, left)
            log.warning(
                "telegram: cannot reach the Bot API (%s); trying again in %.0f s", reason, wait
            )
            await asyncio.sleep(wait)

    def _unreachable(self, err: TelegramError) -> str:
        """Why the Bot API is out of reach: "cannot connect to host:port: Connection refused",
        or what its host answered ("api.telegram.org: Bad Gateway")."""
        said = _said(err)
        return said if said.startswith("cannot connect") else f"{self._api_host}: {said}"

    async def _release(self) -> None:
        """Close the HTTP sessions of an Application that never finished initialize()."""
        for request in self._requests:
            try:
                await request.shutdown()
            except Exception as err:
                log.debug("telegram: closing a request session: %s", err)

    async def _register_menu(self) -> None:
        """One try for each language, no retries: a failure is logged once and the bot goes
        on without the menu (its commands work all the same)."""
        for lang in MENU_LANGS:
            commands = [BotCommand(name, t(lang or "en", f"telegram.menu.{name}")) for name in MENU]
            try:
                await self.application.bot.set_my_commands(commands, language_code=lang, **ONE_TRY)
            except TelegramError as err:
                log.warning(
                    "telegram: could not register the command menu (%s); going on without it",
                    _said(err),
                )
                return

    def _polling_failed(self, err: TelegramError) -> None:
        """python-telegram-bot's polling loop retries a failed getUpdates with a growing pause
        (up to 30 s): one line a try, not a traceback."""
        log.warning("telegram: cannot get updates (%s); trying again", self._unreachable(err))

    async def stop(self) -> None:
        self._stopping = True
        folds, self._folds = list(self._folds.values()), {}
        for task in folds:  # the reasons stay unfolded; a press on one still counts
            task.cancel()
        await asyncio.gather(*folds, return_exceptions=True)
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()  # the updates in hand are handled first: their answers commit
        if self._initialized:
            await app.shutdown()
            self._initialized = False
        else:  # stopped while reaching the Bot API
            await self._release()

    async def send(self, reply: Reply) -> str | None:
        """Replies the hub sends on its own (a question's time is up)."""
        if self._stopping:
            raise NotDelivered("telegram is stopping")
        try:
            return await self.outbox.render(reply)
        except TimedOut:  # as in _render_all: not resent, it may have been posted
            log.warning("telegram: sending a %s timed out", type(reply).__name__)
            return None
        except TelegramError as err:  # blocked, removed, refused, or Telegram out of reach
            raise NotDelivered(f"telegram: {_said(err)}") from None

    # ------------------------------------------------------------------ inbound

    def _add_handlers(self) -> None:
        app = self.application
        new_message = filters.UpdateType.MESSAGE  # edits of old messages are not new answers
        app.add_handler(MessageHandler(filters.COMMAND & new_message, self._on_command))
        app.add_handler(
            MessageHandler(filters.TEXT & ~filters.COMMAND & new_message, self._on_text)
        )
        app.add_handler(CallbackQueryHandler(self._on_callback))
        app.add_handler(PollAnswerHandler(self._on_poll_answer))
        app.add_error_handler(self._on_error)

    async def _on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None or chat.type == ChatType.CHANNEL:
            return
        parsed = tg.parse_command(message.text or "", context.bot.username)
        if parsed is None:
            return
        name, args = parsed
        chat_ref = _chat_ref(chat)
        is_admin = None
        if not chat_ref.is_private:
            is_admin = await self._is_admin(chat.id, message.from_user, message)
        event = Command(
            chat_ref,
            _sender(message.from_user, is_admin),
            _message_id(chat, message),
            self.hub.clock(),
            name=name,
            args=args,
        )
        await self._handle(event, Context(reply_to=message.message_id))

    async def _on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None or message.from_user is None or not message.text:
            return
        if chat.type == ChatType.PRIVATE:
            ref = None
        else:
            # Privacy mode: in groups an answer is a reply to the question message. Replies to
            # other bot messages are passed too; the core ignores refs that name no question.
            original = message.reply_to_message
            if chat.type == ChatType.CHANNEL or original is None or original.from_user is None:
                return
            if original.from_user.id != context.bot.id:
                return
            # The core's own name when this process posted it: no look-up by message id.
            ref = self.outbox.question_of(chat.id, original.message_id)
            if ref is None:  # perhaps a question whose post timed out (Telegram posted it)
                adopted = self.outbox.adopt_unsure_typed(
                    chat.id, original.message_id, original.text
                )
                if adopted is not None:
                    await self.hub.posted(*adopted)
                    ref = self.outbox.question_of(chat.id, original.message_id)
            ref = ref or f"tg:msg:{chat.id}:{original.message_id}"
        event = TextAnswer(
            _chat_ref(chat),
            _sender(message.from_user, None),
            _message_id(chat, message),
            self.hub.clock(),
            text=message.text,
            question_ref=ref,
        )
        await self._handle(event, Context(reply_to=message.message_id, answer=True))

    async def _on_poll_answer(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        answer = update.poll_answer
        if answer is None or answer.user is None or not answer.option_ids:
            return  # a retracted vote, or a vote cast as a chat: nothing to score
        posted = self.outbox.poll_voted(answer.poll_id)
        if posted is None:  # perhaps a poll whose post timed out (Telegram posted it)
            posted = await self._adopt_poll(answer.poll_id, answer.user.id)
        if posted is not None:
            kind = "private" if posted.private else "group"
            chat_ref = ChatRef(self.platform, str(posted.chat_id), kind)
            ref = posted.question_ref  # the core's own name: no look-up by poll id
        else:  # posted before a restart: the core finds the question through the poll
            chat_ref = ChatRef(self.platform, "", "group")
            ref = f"tg:poll:{answer.poll_id}"
        event = OptionAnswer(
            chat_ref,
            _sender(answer.user, None),
            f"poll:{answer.poll_id}:{answer.user.id}",
            self.hub.clock(),
            option=answer.option_ids[0],
            question_ref=ref,
        )
        await self._handle(event, Context(answer=True, poll_vote=True))

    async def _adopt_poll(self, poll_id: str, user_id: int) -> PostedPoll | None:
        """The poll whose post timed out that a vote on an unknown poll is for, if it can only
        be that one; the core is told its handle. None: a poll posted before a restart (the
        core finds it by its handle), or one this process cannot place."""
        if not self.outbox.may_adopt(user_id):
            return None
        known = await self.hub.knows_ref(f"tg:poll:{poll_id}")
        posted = self.outbox.poll_voted(poll_id)  # another vote may have adopted it meanwhile
        if known or posted is not None:
            return posted
        adopted = self.outbox.adopt_unsure_poll(poll_id, user_id)
        adopted = adopted or self.outbox.adopt_unsure_group_poll(poll_id)
        if adopted is None:
            return None
        await self.hub.posted(*adopted)
        return self.outbox.poll_voted(poll_id)

    async def _on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        parsed = tg.parse_callback(query.data or "")
        message = query.message
        if parsed is None or message is None:
            await self._answer_click(query)
            return
        kind, words = parsed
        chat = message.chat
        chat_ref = _chat_ref(chat)
        is_admin = None
        if kind == "cmd" and not chat_ref.is_private:
            is_admin = await self._is_admin(chat.id, query.from_user, None)
        sender = _sender(query.from_user, is_admin)
        event_id, now = f"cb:{query.id}", self.hub.clock()
        if kind == "cmd":
            # Lower case, as Command promises and parse_command gives: the data may be forged.
            name = words[0].lower()
            event = Command(chat_ref, sender, event_id, now, name=name, args=words[1:])
            if is_admin is False:
                # A member who may not do this is told so in a pop-up only they see; the
                # buttons stay for an admin, and the group sees nothing.
                replies = await self.hub.handle(event)
                mine = [r for r in replies if r.private_to]
                await self._answer_click(query, mine[0].text if mine else None)
                others = [r for r in replies if not r.private_to]
                await self._render_all(others, Context(reply_to=message.message_id))
                return
            await self._answer_click(query)
            # A yes/no question is answered once: take its buttons away.
            try:
                await call(
                    context.bot.edit_message_reply_markup,
                    chat.id,
                    message.message_id,
                    reply_markup=None,
                    what="editMessageReplyMarkup",
                )
            except TelegramError as err:
                log.info("telegram: could not remove the buttons: %s", err)
            await self._handle(event, Context(reply_to=message.message_id))
        elif kind == "rep":
            event = Command(chat_ref, sender, event_id, now, name="report", args=words)
            await self._on_report_click(query, message, event)
        elif kind == "ans":
            ref, option = words
            answer = OptionAnswer(
                chat_ref, sender, event_id, now, option=int(option), question_ref=ref
            )
            await self._on_option_click(query, answer)
        else:  # the leaderboard as a picture
            await self._answer_click(query)
            scope, period = words
            event = Command(
                chat_ref, sender, event_id, now, name="leaderboard", args=(scope, period, "image")
            )
            replies = await self.hub.handle(event)
            images = [r for r in replies if isinstance(r, Image)]
            await self._render_all(images or replies, Context(reply_to=message.message_id))

    async def _on_option_click(self, query: CallbackQuery, event: OptionAnswer) -> None:
        """An option button of a question asked as a message (its chat refused the poll). In
        a group the verdict is the presser's own, in a toast only they see (as a quiz poll
        shows only the voter); what the chat must see (a result, the next question) is
        posted as after any answer."""
        replies = await self.hub.handle(event)
        if event.chat.is_private:
            await self._answer_click(query)
            await self._render_all(replies, Context(answer=True))
            return
        presser = event.sender.platform_user_id
        mine = [r for r in replies if isinstance(r, AnswerFeedback) or r.private_to == presser]
        toast = "\n".join(r.text for r in mine if r.text)
        await self._answer_click(query, toast or None, alert=False)
        await self._render_all(
            [r for r in replies if not any(r is m for m in mine)], Context(answer=True)
        )

    async def _on_report_click(self, query: CallbackQuery, message, event: Command) -> None:
        """⚑ Report under a question's result, and the reasons it unfolds.

        The reasons are edited into the pressed message's own keyboard, under the ⚑ button,
        and folded away once one is chosen, at a second press on ⚑, or after
        `reasons_shown_for` seconds. No message is posted: a group sees no chatter and nobody
        is notified, and each choice is one tap. Only the presser sees the toasts that ask for
        the reason and confirm the report. (Asking in a private chat instead would fail for the
        many group members who never started the bot, and take them out of the group.) While
        the reasons show, anyone may pick one: the report is the presser's own, once per
        question and reason, however often it is pressed."""
        markup = getattr(message, "reply_markup", None)  # none on an inaccessible message
        rows = list(markup.inline_keyboard) if markup else []
        key = (message.chat.id, message.message_id)
        if len(event.args) == 1 and len(rows) > 1:  # unfolded already: ⚑ again folds them
            await self._answer_click(query)
            await self._fold(key, rows[:1])
            return
        replies = await self.hub.handle(event)
        choice = next((r for r in replies if isinstance(r, ReportChoice)), None)
        if choice is None:  # reported (or refused): say so, and fold the reasons away
            text = "\n".join(r.text for r in replies if r.text)
            await self._answer_click(query, text or None, alert=False)
            if len(rows) > 1:
                await self._fold(key, rows[:1])
            return
        await self._answer_click(query, choice.prompt, alert=False)
        reasons = [
            [InlineKeyboardButton(tg.clip(label, 64), callback_data=data)]
            for code, label in choice.reasons
            if (data := tg.report_data(choice.question_ref, code)) is not None
        ]
        if await self._set_buttons(key, [*rows[:1], *reasons]):
            self._schedule_fold(key, rows[:1])

    def _schedule_fold(self, key: tuple[int, int], rows: list) -> None:
        old = self._folds.pop(key, None)
        if old is not None:
            old.cancel()
        if self._stopping:
            return

        async def fold_later() -> None:
            await asyncio.sleep(self.reasons_shown_for)
            self._folds.pop(key, None)
            await self._set_buttons(key, rows)

        self._folds[key] = asyncio.create_task(fold_later())

    async def _fold(self, key: tuple[int, int], rows: list) -> None:
        task = self._folds.pop(key, None)
        if task is not None:
            task.cancel()
        await self._set_buttons(key, rows)

    async def _set_buttons(self, key: tuple[int, int], rows: list) -> bool:
        chat_id, message_id = key
        try:
            await call(
                self.application.bot.edit_message_reply_markup,
                chat_id,
                message_id,
                reply_markup=InlineKeyboardMarkup(rows) if rows else None,
                what="editMessageReplyMarkup",
            )
            return True
        except TelegramError as err:  # unchanged meanwhile (another press), or deleted
            log.info("telegram: could not change the buttons: %s", err)
            return False

    async def _answer_click(self, query, text: str | None = None, *, alert: bool = True) -> None:
        """Acknowledge a button press (Telegram shows a spinner until then), with a pop-up
        (`alert`) or a toast when there is something only the clicker should read."""
        try:
            if text:
                await call(
                    query.answer, tg.clip(text, 200), show_alert=alert, what="answerCallbackQuery"
                )
            else:
                await call(query.answer, what="answerCallbackQuery")
        except TelegramError as err:  # too old; the click still counts
            log.info("telegram: could not answer a button click: %s", err)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        err = context.error
        if isinstance(err, TimedOut | NetworkError):
            log.warning("telegram: network trouble: %s", err)
        else:
            log.error("telegram: an update could not be handled", exc_info=err)

    # ------------------------------------------------------------------ helpers

    async def _handle(self, event: Event, ctx: Context) -> None:
        replies = await self.hub.handle(event)
        await self._render_all(replies, ctx)

    async def _render_all(self, replies: list[Reply], ctx: Context) -> None:
        for post in self.outbox.plan(replies, ctx):
            reply = post.reply
            try:
                ref = await self.outbox.render(reply, ctx, leads=post.leads, left_out=post.left_out)
            except Forbidden as err:
                log.warning("telegram: cannot post a %s: %s", type(reply).__name__, err)
                self.hub.not_posted(reply)
                continue
            except TimedOut:
                # Not resent: Telegram may have posted it (a question is then adopted by the
                # first answer to it, see Outbox.adopt_*), so it counts as delivered. A
                # network fault, not a bug.
                log.warning("telegram: sending a %s timed out", type(reply).__name__)
                ref = None
            except TelegramError as err:  # refused, or Telegram out of reach after the retries
                log.warning("telegram: sending a %s failed: %s", type(reply).__name__, _said(err))
                self.hub.not_posted(reply)
                continue
            except Exception:
                log.exception("telegram: sending a %s failed", type(reply).__name__)
                self.hub.not_posted(reply)
                continue
            await self.hub.posted(reply, ref, *post.leads, *post.left_out)

    async def _is_admin(self, chat_id: int, user: User | None, message: Message | None) -> bool:
        """Creator or administrator of the chat, asked of Telegram and cached briefly."""
        if message is not None and message.sender_chat is not None:
            return message.sender_chat.id == chat_id  # an anonymous admin posting as the group
        if user is None:
            return False
        key, now = (chat_id, user.id), time.monotonic()
        cached = self._admins.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:  # once: a group command must not wait for retries (a member is asked again later)
            member = await self.application.bot.get_chat_member(chat_id, user.id, **ONE_TRY)
        except TelegramError as err:
            log.warning(
                "telegram: could not check whether a member is an admin (%s); taken as not",
                _said(err),
            )
            return False
        admin = member.status in ADMIN_STATUSES
        if len(self._admins) > 10_000:
            self._admins = {k: v for k, v in self._admins.items() if v[0] > now}
        self._admins[key] = (now + self.admin_cache_seconds, admin)
        return admin


def _said(err: BaseException | None) -> str:
    """An error's message in one line (Telegram's description), or its type."""
    if err is None:
        return ""
    text = str(getattr(err, "message", "") or err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _message_id(chat: Chat, message: Message) -> str:
    """What identifies a message, for recognising its redelivery: its chat and its id in that
    chat. Not the update id: update ids start again from a random number after a week without
    updates, and another Bot API server (a local one) counts its own."""
    return f"msg:{chat.id}:{message.message_id}"


def _chat_ref(chat: Chat) -> ChatRef:
    kind = "private" if chat.type == ChatType.PRIVATE else "group"
    title = chat.title or chat.full_name or ""
    return ChatRef("telegram", str(chat.id), kind, title)


def _sender(user: User | None, is_admin: bool | None) -> Sender:
    if user is None:
        return Sender("0", "?", None, is_admin)
    name = tg.display_name(user.first_name, user.last_name, user.username)
    return Sender(str(user.id), name, user.language_code, is_admin)
