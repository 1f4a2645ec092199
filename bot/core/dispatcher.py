"""Routes inbound events to the use cases and never lets one crash the bot.

Command words are case-insensitive and may carry a `@botname` suffix; unknown commands and bad
arguments get a one-line usage hint. Any unexpected error is logged and answered with an apology,
with nothing half-written (each use case is one transaction). The dispatcher's own replies (help,
usage hints, the apology) speak the chat's language, as every other reply (`chat_lang`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.core.boards import PERIOD_ARGS, SCOPES, BoardService
from bot.core.events import Command, Event, OptionAnswer, TextAnswer
from bot.core.replies import Notice, Reply
from bot.core.services import QuizService, RoundRequest, chat_lang
from bot.core.settings import QUESTIONS_RANGE
from bot.i18n import interface_lang, t

log = logging.getLogger(__name__)

MAX_ARGS = 8
MAX_ARG_LEN = 64
APOLOGY_LANG_WAIT = 1.0  # seconds to look up the chat's language for an apology

# Extra use cases registered by feature modules (practice, stats): name -> handler.
CommandHandler = Callable[[Command, bool], Awaitable[list[Reply]]]

HELP_LINES = (
    "help.quiz",
    "help.stop",
    "help.hint",
    "report.help",
    "help.leaderboard",
    "help.stats",
    "help.practice",
    "practice.help.review",
    "practice.help.remind",
    "help.settings",
    "help.lang",
    "help.help",
)


class Dispatcher:
    def __init__(self, quiz: QuizService, boards: BoardService) -> None:
        self.quiz = quiz
        self.boards = boards
        self.extra: dict[str, CommandHandler] = {}

    def register(self, name: str, handler: CommandHandler) -> None:
        self.extra[name] = handler

    async def dispatch(self, event: Event) -> list[Reply]:
        try:
            if isinstance(event, Command):
                return await self._command(event)
            if isinstance(event, TextAnswer | OptionAnswer):
                return await self._answer(event)
            return []
        except Exception:
            log.exception(
                "error while handling %s in %s", type(event).__name__, event.chat.platform
            )
            try:  # the database may be what failed: then the sender's own language
                lang = await asyncio.wait_for(self.chat_lang(event), APOLOGY_LANG_WAIT)
            except Exception:
                lang = interface_lang(event.sender.lang)
            return [
                Notice(
                    event.chat,
                    t(lang, "error.internal"),
                    kind="error",
                    private_to=event.sender.platform_user_id,
                )
            ]

    async def chat_lang(self, event: Event) -> str:
        """The language of the chat an event came from (see `services.chat_lang`: a new group
        takes its first user's), for the replies the dispatcher makes itself."""
        async with self.quiz.uow() as uow:
            chat = await uow.chats.get_or_create(event.chat, event.at)
            user = await uow.users.get_or_create(event.chat.platform, event.sender, event.at)
            lang = chat_lang(chat, user)
            await uow.commit()
        return lang

    async def _answer(self, event: TextAnswer | OptionAnswer) -> list[Reply]:
        handler = self.extra.get("_answer")
        if handler is None:
            return await self.quiz.answer(event)
        if not event.question_ref:
            # An answer naming no question is the running round's, if the chat has one; only
            # otherwise may it be a practice session's (which would have to look it up).
            replies = await self.quiz.answer(event)
            if not QuizService.no_round(replies):
                return replies
            practice = await handler(event, False)  # type: ignore[arg-type]
            return practice if practice is not None else replies
        # A practice question's reference, or a platform's handle that may name one: practice
        # looks first and returns None when it is not theirs.
        replies = await handler(event, False)  # type: ignore[arg-type]
        if replies is not None:
            return replies
        return await self.quiz.answer(event)

    async def _command(self, cmd: Command) -> list[Reply]:
        name = cmd.name.lower().split("@", 1)[0].lstrip("/!")
        args = tuple(a[:MAX_ARG_LEN].lower() for a in cmd.args[:MAX_ARGS])
        is_admin = bool(cmd.sender.is_admin) or cmd.chat.is_private
        now = cmd.at

        if name in ("start", "help"):
            lang = await self.chat_lang(cmd)  # not the sender's app's: a /lang choice counts
            return [Notice(cmd.chat, help_text(lang, cmd.chat.is_private), kind="info")]
        if name == "quiz":
            sub = args[0] if args else "start"
            if sub == "start":
                request = _request(args[1:])
                if request is None:
                    low, high = QUESTIONS_RANGE
                    return [await self._usage(cmd, "quiz.count", low=low, high=high)]
                return await self.quiz.start_round(cmd.chat, cmd.sender, now, request)
            if sub == "stop":
                return await self.quiz.stop_round(cmd.chat, cmd.sender, now, is_admin=is_admin)
            return [await self._usage(cmd, "quiz")]
        if name == "stop":
            return await self.quiz.stop_round(cmd.chat, cmd.sender, now, is_admin=is_admin)
        if name == "hint":
            if "_hint" in self.extra:  # a practice session takes its own hints
                replies = await self.extra["_hint"](cmd, is_admin)
                if replies is not None:
                    return replies
            return await self.quiz.hint(cmd.chat, cmd.sender, now)
        if name in ("leaderboard", "top", "board"):
            return await self._leaderboard(cmd, args)
        if name == "settings":
            if not args:
                return [await self.boards.show_settings(cmd.chat, cmd.sender, now)]
            if len(args) < 2:
                return [await self._usage(cmd, "settings")]
            value = " ".join(args[1:])
            return [
                await self.boards.change_setting(
                    cmd.chat, cmd.sender, now, args[0], value, is_admin=is_admin
                )
            ]
        if name == "reset":
            if args and args[0] == "cancel":
                lang = await self.chat_lang(cmd)
                return [Notice(cmd.chat, t(lang, "reset.cancelled"), kind="info")]
            confirmed = bool(args) and args[0] == "confirm"
            return [
                await self.boards.reset_board(
                    cmd.chat, cmd.sender, now, confirmed=confirmed, is_admin=is_admin
                )
            ]
        if name == "lang":
            choice = args[0] if args else None
            return [
                await self.boards.set_lang(cmd.chat, cmd.sender, now, choice, is_admin=is_admin)
            ]
        if name in self.extra:
            return await self.extra[name](cmd, is_admin)
        lang = await self.chat_lang(cmd)
        return [Notice(cmd.chat, t(lang, "usage.unknown", name=name[:32]), kind="usage")]

    async def _leaderboard(self, cmd: Command, args: tuple[str, ...]) -> list[Reply]:
        scope, period, image = "chat", "all", False
        for arg in args:
            if arg in SCOPES:
                scope = arg
            elif arg in PERIOD_ARGS:
                period = arg
            elif arg in ("image", "img", "picture"):
                image = True
            else:
                return [await self._usage(cmd, "leaderboard")]
        board = await self.boards.leaderboard(cmd.chat, cmd.sender, cmd.at, scope, period)
        if image and "_board_image" in self.extra:
            # Asked for the picture: the picture alone (its caption is the board's title), not
            # the text board as well with an offer to draw it. The text when none was drawn.
            pictures = await self.extra["_board_image"](cmd, board)  # type: ignore[arg-type]
            if pictures:
                return list(pictures)
        return [board]

    async def _usage(self, cmd: Command, name: str, **values: object) -> Notice:
        return Notice(
            cmd.chat,
            t(await self.chat_lang(cmd), f"usage.{name}", **values),
            kind="usage",
            private_to=cmd.sender.platform_user_id,
        )


def _request(args: tuple[str, ...]) -> RoundRequest | None:
    """`quiz start 5` asks for five questions, `quiz start` for the chat's setting; None for
    anything else (`quiz start 99`, `quiz start five`): no round starts on a number it did not
    ask for, and the reply names the range, as `settings questions 99` does."""
    if not args:
        return RoundRequest()
    low, high = QUESTIONS_RANGE
    if len(args) == 1 and args[0].isdecimal() and low <= int(args[0]) <= high:
        return RoundRequest(questions=int(args[0]))
    return None


def help_text(lang: str, private: bool) -> str:
    lines = [t(lang, "help.intro")]
    lines += [t(lang, key) for key in HELP_LINES]
    lines.append(t(lang, "help.private" if private else "help.group"))
    return "\n".join(lines)
