"""The Discord adapter: interactions in, messages and embeds out.

Inbound, every slash command, button click and modal becomes a core event handled by the hub;
the replies are rendered in the interaction's own context: private replies (refusals, answer
verdicts) as ephemeral messages, round messages (questions, results, the podium) as ordinary
channel messages. Questions are posted with `channel.send`, never as an interaction response,
so the closing edit is an ordinary message edit that works long after the interaction expired.

Outbound from the clock (`send`): results, next questions and podiums go to the channel.

Discord drops an interaction that is not acknowledged within 3 seconds: clicks are deferred at
once, commands are deferred if the core takes longer than `DEFER_AFTER`. Every interaction gets
an answer, also those discord.py would drop (`on_interaction`): a forged or stale button, a modal
submitted after a restart. Errors get an ephemeral apology (`apologize`).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import aiohttp
import discord
from discord.ext import commands

from bot.adapters.discord.bot import QuizTranslator, build_bot
from bot.adapters.discord.commands import QuizCommands
from bot.adapters.discord.components import (
    DYNAMIC_ITEMS,
    AnswerModal,
    is_our_button,
    modal_ref,
    typed_answer,
)
from bot.adapters.discord.render import (
    Payload,
    closed_question,
    payload,
    question_embed,
    question_ref,
    question_view,
)
from bot.config import Settings
from bot.content.model import Question
from bot.core.adapter import NotDelivered
from bot.core.events import ChatRef, Command, Event, OptionAnswer, Sender, TextAnswer
from bot.core.hub import Hub
from bot.core.render import answer_line as render_answer_line
from bot.core.replies import (
    AskQuestion,
    Confirm,
    Notice,
    QuestionResult,
    Reply,
    RoundOver,
)
from bot.errors import StartupError
from bot.i18n import interface_lang, t

log = logging.getLogger(__name__)

PLATFORM = "discord"
DEFER_AFTER = 2.0  # seconds a command may take before we defer (Discord allows 3)
START_TIMEOUT = 60.0  # seconds start() waits for the login and the command sync
FIRST_START_RETRY = 1.0  # seconds before the second try to reach Discord; doubles
IN_HAND_GRACE = 1.5  # seconds stop() waits for the events in hand (their answers to commit)
# What a try to reach Discord fails with when the network or Discord is down: retried.
UNREACHABLE = (
    aiohttp.ClientError,
    OSError,
    TimeoutError,
    discord.GatewayNotFound,
    discord.DiscordServerError,
)
REMEMBERED_QUESTIONS = 5000  # posted question messages kept for their closing edit


# ------------------------------------------------------------------ who and where


def chat_of(interaction: discord.Interaction) -> ChatRef:
    """Guild channels are group chats keyed by channel id; DMs are the private study chat."""
    channel_id = str(interaction.channel_id)
    if interaction.guild_id is None:
        return ChatRef(PLATFORM, channel_id, "private", interaction.user.name[:100])
    guild = interaction.guild.name if interaction.guild else ""
    channel = getattr(interaction.channel, "name", "") or ""
    return ChatRef(PLATFORM, channel_id, "group", f"{guild} #{channel}".strip()[:100])


def sender_of(interaction: discord.Interaction) -> Sender:
    is_admin = None
    if interaction.guild_id is not None:
        # Resolved for this channel, so a Manage Channels overwrite on it counts too.
        perms = interaction.permissions
        is_admin = perms.manage_guild or perms.manage_channels
    return Sender(
        str(interaction.user.id),
        interaction.user.display_name[:64],
        lang=str(interaction.locale),
        is_admin=is_admin,
    )


def channel_of(interaction: discord.Interaction) -> discord.abc.Messageable:
    channel = interaction.channel
    if isinstance(channel, discord.abc.Messageable):
        return channel
    return interaction.client.get_partial_messageable(interaction.channel_id or 0)


# ------------------------------------------------------------------ answering one interaction


class Responder:
    """Says things in one interaction: the first message is the interaction response (or fills
    a deferred one), later ones are followups."""

    def __init__(self, interaction: discord.Interaction) -> None:
        self.interaction = interaction
        self.deferred_private: bool | None = None  # set while a deferral waits to be filled
        self.gone = False  # Discord no longer knows the interaction (it expired)

    @property
    def pending(self) -> bool:
        """Nothing was said yet: Discord still shows "thinking", or nothing at all."""
        if self.gone:
            return False
        return not self.interaction.response.is_done() or self.deferred_private is not None

    @property
    def can_speak_publicly(self) -> bool:
        if self.gone:
            return False
        return not self.interaction.response.is_done() or self.deferred_private is False

    async def defer(self, *, private: bool) -> None:
        if self.gone or self.interaction.response.is_done():
            return
        try:
            await self.interaction.response.defer(ephemeral=private, thinking=True)
        except discord.NotFound as err:
            self._lost(err)
            return
        self.deferred_private = private

    def _lost(self, err: discord.NotFound) -> None:
        # 10062 Unknown interaction (answered after its 3 s) or an unknown token: raising here
        # would drop the rest of the replies, e.g. the question of a round that has started.
        log.warning(
            "interaction %s is gone (%s); going on in the channel", self.interaction.id, err
        )
        self.gone = True

    async def say(self, body: Payload, *, private: bool) -> None:
        if not self.gone:
            try:
                await self._say(body, private=private)
                return
            except discord.NotFound as err:
                self._lost(err)
        if not private:  # a private reply has nowhere else to go
            await channel_of(self.interaction).send(**body.kwargs())

    async def _say(self, body: Payload, *, private: bool) -> None:
        response = self.interaction.response
        if not response.is_done():
            await response.send_message(ephemeral=private, **body.kwargs())
            return
        if self.deferred_private is False and private:
            # A public "thinking" placeholder cannot turn private: close it, then whisper.
            await self.interaction.edit_original_response(content="✔")
        # The first followup after a deferral fills it (with the deferral's visibility).
        self.deferred_private = None
        await self.interaction.followup.send(ephemeral=private, **body.kwargs())

    async def finish(self, lang: str) -> None:
        """Make sure the interaction got an answer, even when the core had nothing to say."""
        if self.pending:
            await self.say(Payload(content=t(lang, "discord.done")), private=True)


@dataclass
class PostedQuestion:
    channel_id: int
    message_id: int
    embed: discord.Embed
    question: Question | None
    lang: str


# ------------------------------------------------------------------ the adapter


class DiscordAdapter:
    platform = PLATFORM

    def __init__(self, settings: Settings, hub: Hub | None, *, shards: str | None = None) -> None:
        self.settings = settings
        self.hub: Hub | None = hub
        self.app = None  # the App built in setup_hook when no hub was given
        self._shards = settings.discord_shards if shards is None else shards
        self.bot: commands.Bot = build_bot(self, self._shards)
        self._questions: OrderedDict[str, PostedQuestion] = OrderedDict()  # by question ref
        self._open: dict[int, str] = {}  # channel id -> ref of its open question
        self._set_up = asyncio.Event()
        self._gateway: asyncio.Task | None = None
        self._background: set[asyncio.Task] = set()
        self._in_hand: set[asyncio.Future] = set()  # events the hub is handling (see _handle)

    # -------------------------------------------------------------- lifecycle

    async def setup(self, bot: commands.Bot) -> None:
        """discord.py's setup_hook: logged in, not yet connected to the gateway."""
        if self.hub is None:
            from bot.app import App

            self.app = await App.create(self.settings, clock=discord.utils.utcnow)
            self.hub = self.app.hub
            self.hub.add_adapter(self)
            self._spawn(self.hub.resume())
        await bot.tree.set_translator(QuizTranslator())
        await bot.add_cog(QuizCommands(self))
        bot.add_dynamic_items(*DYNAMIC_ITEMS)
        bot.add_listener(self.on_interaction, "on_interaction")
        await bot.tree.sync()
        self._set_up.set()

    async def closed(self) -> None:
        """discord.py's close(): release what setup() built."""
        for task in self._background:
            task.cancel()
        if self.app is not None:
            app, self.app = self.app, None
            await app.close()

    async def start(self) -> None:
        """Log in and connect in the background; returns once the commands are synced. Discord
        out of reach is tried again for QUIZBOT_START_TIMEOUT seconds; a refused token, or
        Discord still out of reach, raises StartupError (one line, no token in it). Once
        running, discord.py reconnects by itself, one warning a try."""
        token = self.settings.discord_token.reveal()
        if not token:
            raise RuntimeError("DISCORD_BOT_TOKEN is not set")
        loop = asyncio.get_running_loop()
        started = loop.time()
        delay = FIRST_START_RETRY
        while True:
            error = await self._try_start(token)
            if error is None:
                return
            if isinstance(error, discord.LoginFailure):
                raise StartupError(
                    "Discord refused DISCORD_BOT_TOKEN (401 Unauthorized): copy the bot's token "
                    "from the Discord developer portal (Bot, Reset Token) again"
                )
            if isinstance(error, discord.PrivilegedIntentsRequired):
                raise StartupError(
                    "Discord refused the connection: it asks for a privileged intent this bot "
                    "does not use; check the bot's settings in the developer portal"
                )
            reason = _said(error)
            if not isinstance(error, UNREACHABLE):
                raise StartupError(f"Discord could not be started ({reason})")
            left = started + self.settings.start_timeout - loop.time()
            if left <= 0:
                raise StartupError(
                    f"cannot reach Discord ({reason}) for {loop.time() - started:.0f} s: "
                    "check the network; QUIZBOT_START_TIMEOUT sets the patience"
                )
            wait = min(delay, left)
            log.warning("discord: cannot reach Discord (%s); trying again in %.0f s", reason, wait)
            await asyncio.sleep(wait)
            delay *= 2
            self.bot = build_bot(self, self._shards)  # a closed client cannot log in again

    async def _try_start(self, token: str) -> BaseException | None:
        """One try to log in: None once the commands are synced (or the login takes long and
        goes on in the background), else what stopped it (the client is closed then)."""
        self._gateway = asyncio.create_task(self.bot.start(token), name="discord-gateway")
        ready = asyncio.create_task(self._set_up.wait())
        try:
            done, _ = await asyncio.wait(
                {self._gateway, ready}, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            ready.cancel()
        if self._gateway in done and self._gateway.exception() is not None:
            error = self._gateway.exception()
            self._gateway = None
            await self.bot.close()  # release the HTTP session (and an App built in setup)
            return error
        self._gateway.add_done_callback(_gateway_ended)
        if not done:
            log.warning("Discord login takes long; carrying on while it connects")
        return None

    async def stop(self) -> None:
        await self.bot.close()  # makes bot.start() return; no new interactions come in
        if self._in_hand:  # events received: their answers are committed before we go
            await asyncio.wait(set(self._in_hand), timeout=IN_HAND_GRACE)
        task, self._gateway = self._gateway, None
        if task is not None:
            done, _ = await asyncio.wait({task}, timeout=10)
            if not done:
                task.cancel()

    # -------------------------------------------------------------- from the hub's timers

    async def send(self, reply: Reply) -> str | None:
        if reply.private_to and not reply.chat.is_private:
            return None  # an ephemeral message needs an interaction; nobody else may see it
        channel = self.bot.get_partial_messageable(int(reply.chat.platform_chat_id))
        try:
            if isinstance(reply, AskQuestion):
                return await self._post_question(channel, reply)
            await self._before_round_message(reply)
            await channel.send(**payload(reply).kwargs())
        except (discord.HTTPException, *UNREACHABLE) as err:  # refused, or Discord away
            raise NotDelivered(f"discord: {_said(err)}") from None
        return None

    # -------------------------------------------------------------- inbound

    async def run_command(
        self,
        interaction: discord.Interaction,
        words: Sequence[tuple[str, tuple[str, ...]]],
        *,
        personal: bool = False,
    ) -> None:
        """One slash command as one or more core commands (e.g. several settings at once).
        `personal`: the answer only matters to the caller (help, stats), so it is ephemeral
        in a server."""
        chat = chat_of(interaction)
        sender = sender_of(interaction)
        personal = personal and not chat.is_private
        responder = Responder(interaction)

        async def handle() -> list[Reply]:
            replies: list[Reply] = []
            for i, (name, args) in enumerate(words):
                event_id = str(interaction.id) if i == 0 else f"{interaction.id}:{i}"
                event = Command(chat, sender, event_id, self._now(), name=name, args=args)
                replies += await self._handle(event)
            if len(words) > 1:
                # Several settings at once: each confirmation shows all the settings, so
                # the last one says everything (refusals and usage hints stay).
                confirmations = [r for r in replies if isinstance(r, Notice) and r.kind == "ok"]
                stale = {id(r) for r in confirmations[:-1]}
                replies = [r for r in replies if id(r) not in stale]
            return replies

        task = asyncio.ensure_future(handle())
        done, _ = await asyncio.wait({task}, timeout=DEFER_AFTER)
        if not done:
            await responder.defer(private=personal)
        replies = await task
        await self._render_all(interaction, responder, replies, personal=personal)

    async def on_option(self, interaction: discord.Interaction, ref: str, option: int) -> None:
        def event(chat: ChatRef, sender: Sender, at: datetime) -> Event:
            return OptionAnswer(
                chat, sender, str(interaction.id), at, option=option, question_ref=ref
            )

        await self._answer(interaction, event)

    async def on_typed(self, interaction: discord.Interaction, ref: str, text: str) -> None:
        def event(chat: ChatRef, sender: Sender, at: datetime) -> Event:
            return TextAnswer(chat, sender, str(interaction.id), at, text=text, question_ref=ref)

        await self._answer(interaction, event)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Every interaction passes here too (discord.py's `on_interaction`). Answer those that
        discord.py drops without a word: modal submissions (no modal is stored, see
        AnswerModal) and clicks on a custom_id that none of our buttons claims (forged, or
        left by another version of the bot)."""
        data: dict = interaction.data or {}  # type: ignore[assignment]
        if interaction.type is discord.InteractionType.modal_submit:
            await self.on_modal(interaction, data.get("custom_id"), data.get("components"))
        elif interaction.type is discord.InteractionType.component:
            if not is_our_button(data.get("custom_id")):
                await self.refuse(interaction)

    async def on_modal(
        self, interaction: discord.Interaction, custom_id: object, components: object
    ) -> None:
        try:
            ref = modal_ref(custom_id)
            if ref is None:
                await self.refuse(interaction)
                return
            await self.on_typed(interaction, ref, typed_answer(components))
        except Exception as error:
            await self.apologize(interaction, error)

    async def refuse(self, interaction: discord.Interaction) -> None:
        """A button or form naming nothing the core knows: say so, privately."""
        custom_id = (interaction.data or {}).get("custom_id")
        log.info("interaction %s names nothing of ours: %.120r", interaction.id, custom_id)
        try:
            text = t(interface_lang(str(interaction.locale)), "answer.unknown_question")
            await Responder(interaction).say(Payload(content=text), private=True)
        except Exception as error:
            await self.apologize(interaction, error)

    async def on_answer_button(self, interaction: discord.Interaction, ref: str) -> None:
        try:
            posted = self._questions.get(ref)
            lang = posted.lang if posted else interface_lang(str(interaction.locale))
            await interaction.response.send_modal(AnswerModal(ref, lang))
        except Exception as error:
            await self.apologize(interaction, error)

    async def on_report(
        self, interaction: discord.Interaction, ref: str, reason: str | None = None
    ) -> None:
        """⚑ Report under a result opens an ephemeral choice of reasons (in a DM too: it is
        a passing question, not part of the study chat); a reason turns that choice into the
        ephemeral confirmation, so nothing is left to press twice."""
        try:
            event = Command(
                chat_of(interaction),
                sender_of(interaction),
                str(interaction.id),
                self._now(),
                name="report",
                args=(ref,) if reason is None else (ref, reason),
            )
            message = interaction.message
            if reason is None or message is None or not message.flags.ephemeral:
                # (A reason is only ever offered in our ephemeral choice: one anywhere else
                # answers privately and leaves the message it is on alone.)
                responder = Responder(interaction)
                await responder.defer(private=True)
                if responder.gone:
                    return
                replies = await self._handle(event)
                for reply in replies:
                    await responder.say(payload(reply), private=True)
                await responder.finish(interface_lang(str(interaction.locale)))
                return
            await interaction.response.defer()  # the choice's message is edited below
            replies = await self._handle(event)
            text = "\n".join(r.text for r in replies if r.text)
            text = text or t(interface_lang(str(interaction.locale)), "discord.done")
            await interaction.edit_original_response(**Payload(content=text).kwargs(), view=None)
        except Exception as error:
            await self.apologize(interaction, error)

    async def on_command_button(
        self, interaction: discord.Interaction, words: tuple[str, ...]
    ) -> None:
        """A yes/no button of a confirmation: take the buttons off, then run the command."""
        try:
            if not words:  # the template wants a word; still, never leave a click unanswered
                await self.refuse(interaction)
                return
            await interaction.response.edit_message(view=None)
            responder = Responder(interaction)
            event = Command(
                chat_of(interaction),
                sender_of(interaction),
                str(interaction.id),
                self._now(),
                name=words[0],
                args=words[1:],
            )
            replies = await self._handle(event)
            await self._render_all(interaction, responder, replies)
        except Exception as error:
            await self.apologize(interaction, error)

    async def _answer(
        self,
        interaction: discord.Interaction,
        make_event: Callable[[ChatRef, Sender, datetime], Event],
    ) -> None:
        # discord.py only logs what a button or modal handler raises: answer it here.
        try:
            chat = chat_of(interaction)
            responder = Responder(interaction)
            await responder.defer(private=not chat.is_private)
            if responder.gone:
                return  # the user was told the interaction failed: the answer must not count
            replies = await self._handle(make_event(chat, sender_of(interaction), self._now()))
            await self._render_all(interaction, responder, replies)
        except Exception as error:
            await self.apologize(interaction, error)

    async def apologize(self, interaction: discord.Interaction, error: BaseException) -> None:
        log.error("Discord interaction %s failed", interaction.id, exc_info=error)
        body = Payload(content=t(interface_lang(str(interaction.locale)), "discord.error"))
        try:
            if interaction.response.is_done():
                await interaction.followup.send(ephemeral=True, **body.kwargs())
            else:
                await interaction.response.send_message(ephemeral=True, **body.kwargs())
        except discord.HTTPException as err:
            log.warning("could not apologise for interaction %s: %s", interaction.id, err)

    # -------------------------------------------------------------- rendering

    async def _render_all(
        self,
        interaction: discord.Interaction,
        responder: Responder,
        replies: list[Reply],
        *,
        personal: bool = False,
    ) -> None:
        channel = channel_of(interaction)
        private_chat = interaction.guild_id is None
        for reply in replies:
            if isinstance(reply, AskQuestion):
                if responder.pending:
                    notice = Payload(content=t(reply.lang, "discord.question.posted"))
                    await responder.say(notice, private=True)
                try:
                    ref = await self._post_question(channel, reply)
                except discord.HTTPException:
                    self._hub.not_posted(reply)
                    raise
                await self._hub.posted(reply, ref)
                continue
            await self._before_round_message(reply)
            body = payload(reply)
            if isinstance(reply, QuestionResult | RoundOver) and not responder.can_speak_publicly:
                await channel.send(**body.kwargs())  # a round message, not a reply to a click
            else:
                private = personal or isinstance(reply, Confirm) or reply.private_to is not None
                await responder.say(body, private=private and not private_chat)
            if isinstance(reply, QuestionResult | RoundOver):
                await self._hub.posted(reply)
        await responder.finish(interface_lang(str(interaction.locale)))

    async def _post_question(self, channel: discord.abc.Messageable, reply: AskQuestion) -> str:
        embed = question_embed(reply)
        message = await channel.send(embed=embed, view=question_view(reply))
        channel_id = message.channel.id
        # A practice question is never "closed" by a result: retire the previous one now.
        previous = self._open.get(channel_id)
        if previous is not None and previous.startswith("pr:"):
            await self._close_question(previous, None, None)
        ref = question_ref(reply)
        self._questions[ref] = PostedQuestion(
            channel_id, message.id, embed, reply.question, reply.lang
        )
        while len(self._questions) > REMEMBERED_QUESTIONS:
            self._questions.popitem(last=False)
        self._open[channel_id] = ref
        return f"dc:msg:{channel_id}:{message.id}"

    async def _before_round_message(self, reply: Reply) -> None:
        """Close the question message a result or the end of a round is about."""
        if isinstance(reply, QuestionResult):
            answer = render_answer_line(reply.lang, reply.question) if reply.question else None
            ref = f"rq:{reply.round_question_id}"
            if ref not in self._questions:
                await self._recall(ref, reply.round_question_id, reply.question, reply.lang)
            await self._close_question(ref, reply.question, answer)
        elif isinstance(reply, RoundOver):
            # A stopped round ends without a result: just disable what is still open.
            ref = self._open.get(int(reply.chat.platform_chat_id))
            if ref is not None:
                await self._close_question(ref, None, None)

    async def _recall(
        self, ref: str, round_question_id: int, question: Question | None, lang: str
    ) -> None:
        """A question posted before a restart: find its message through the reference the
        core stored, so that closing it still disables its buttons."""
        stored = await self._hub.quiz.platform_ref(round_question_id)
        parts = (stored or "").split(":")
        if len(parts) != 4 or parts[:2] != ["dc", "msg"] or not all(p.isdigit() for p in parts[2:]):
            return
        channel_id, message_id = int(parts[2]), int(parts[3])
        try:
            channel = self.bot.get_partial_messageable(channel_id)
            message = await channel.fetch_message(message_id)
        except discord.HTTPException as err:
            log.info("question message %s is gone: %s", message_id, err)
            return
        if message.embeds:
            self._questions[ref] = PostedQuestion(
                channel_id, message_id, message.embeds[0], question, lang
            )

    async def _close_question(
        self, ref: str, question: Question | None, answer_line: str | None
    ) -> None:
        posted = self._questions.pop(ref, None)
        if posted is None:
            # Gone from memory and not found again through its stored reference (see _recall):
            # the message keeps its buttons, and a late click is told so by the core.
            log.debug("question %s was not posted by this process; not editing it", ref)
            return
        if self._open.get(posted.channel_id) == ref:
            del self._open[posted.channel_id]
        embed, view = closed_question(
            posted.embed,
            ref,
            question or posted.question,
            answer_line,
            t(posted.lang, "discord.answer_button"),
        )
        message = self.bot.get_partial_messageable(posted.channel_id).get_partial_message(
            posted.message_id
        )
        try:
            await message.edit(embed=embed, view=view)
        except discord.HTTPException as err:
            log.warning("could not close the question message %s: %s", posted.message_id, err)

    # -------------------------------------------------------------- helpers

    @property
    def _hub(self) -> Hub:
        if self.hub is None:
            raise RuntimeError("the Discord adapter has no hub yet (setup_hook has not run)")
        return self.hub

    def _now(self) -> datetime:
        return self._hub.clock()

    async def _handle(self, event: Event) -> list[Reply]:
        """`hub.handle(event)`, kept apart from the interaction's own task: stopping (or an
        interaction cut short) does not cancel it half-way, and `stop` waits for it, so an
        answer received is committed."""
        handling = asyncio.ensure_future(self._hub.handle(event))
        self._in_hand.add(handling)
        handling.add_done_callback(self._handled)
        return await asyncio.shield(handling)

    def _handled(self, handling: asyncio.Future) -> None:
        self._in_hand.discard(handling)
        if not handling.cancelled():
            handling.exception()  # raised in the interaction's task, if it still waits

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _gateway_ended(task: asyncio.Task) -> None:
    """discord.py gave up its connection for good (it retries a lost one by itself): one line,
    and the other platforms go on."""
    if task.cancelled():
        return
    error = task.exception()
    if error is not None:
        log.error(
            "discord: the connection ended for good (%s); Discord stays off until quizbot run "
            "is restarted",
            _said(error),
        )


def _said(err: BaseException) -> str:
    """An error in one line: its type and the first line of its message ("cannot connect to
    discord.com:443: Connection refused" for a connection that could not be made)."""
    if isinstance(err, aiohttp.ClientConnectorError):
        errno = getattr(err.os_error, "errno", None)
        if isinstance(errno, int) and errno > 0:
            reason = os.strerror(errno)
        else:
            reason = getattr(err.os_error, "strerror", None) or str(err.os_error)
        return f"cannot connect to {err.host}:{err.port}: {reason}"
    text = str(err).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(err).__name__}: {first}" if first else type(err).__name__


def create_bot(settings: Settings, hub: Hub | None = None) -> commands.Bot:
    """The configured discord.py bot, not started (tests run it offline with simcord).

    With a hub, the bot's adapter is registered on it, so timer-driven replies reach this bot.
    Without one, the bot builds the whole App in its setup_hook and closes it in close().
    """
    adapter = DiscordAdapter(settings, hub)
    if hub is not None:
        hub.add_adapter(adapter)
    return adapter.bot
