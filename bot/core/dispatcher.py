"""Routes inbound events to the use cases and never lets one crash the bot.

Command words are case-insensitive and may carry a `@botname` suffix; unknown commands and bad
arguments get a one-line usage hint. Any unexpected error is logged and answered with an apology,
with nothing half-written (each use case is one transaction).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.core.boards import PERIOD_ARGS, SCOPES, BoardService
from bot.core.events import Command, Event, OptionAnswer, TextAnswer
from bot.core.replies import Notice, Reply
from bot.core.services import QuizService, RoundRequest
from bot.i18n import interface_lang, t

log = logging.getLogger(__name__)

MAX_ARGS = 8
MAX_ARG_LEN = 64

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
            lang = interface_lang(event.sender.lang)
            return [
                Notice(
                    event.chat,
                    t(lang, "error.internal"),
                    kind="error",
                    private_to=event.sender.platform_user_id,
                )
            ]

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
        lang = interface_lang(cmd.sender.lang)
        is_admin = bool(cmd.sender.is_admin) or cmd.chat.is_private
        now = cmd.at

        if name in ("start", "help"):
            return [Notice(cmd.chat, help_text(lang, cmd.chat.is_private), kind="info")]
        if name == "quiz":
            sub = args[0] if args else "start"
            if sub == "start":
                return await self.quiz.start_round(cmd.chat, cmd.sender, now, _request(args[1:]))
            if sub == "stop":
                return await self.quiz.stop_round(cmd.chat, cmd.sender, now, is_admin=is_admin)
            return [self._usage(cmd, lang, "quiz")]
        if name == "stop":
            return await self.quiz.stop_round(cmd.chat, cmd.sender, now, is_admin=is_admin)
        if name == "hint":
            if "_hint" in self.extra:  # a practice session takes its own hints
                replies = await self.extra["_hint"](cmd, is_admin)
                if replies is not None:
                    return replies
            return await self.quiz.hint(cmd.chat, cmd.sender, now)
        if name in ("leaderboard", "top", "board"):
            return await self._leaderboard(cmd, args, lang)
        if name == "settings":
            if not args:
                return [await self.boards.show_settings(cmd.chat, cmd.sender, now)]
            if len(args) < 2:
                return [self._usage(cmd, lang, "settings")]
            value = " ".join(args[1:])
            return [
                await self.boards.change_setting(
                    cmd.chat, cmd.sender, now, args[0], value, is_admin=is_admin
                )
            ]
        if name == "reset":
            if args and args[0] == "cancel":
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
        return [Notice(cmd.chat, t(lang, "usage.unknown", name=name[:32]), kind="usage")]

    async def _leaderboard(self, cmd: Command, args: tuple[str, ...], lang: str) -> list[Reply]:
        scope, period, image = "chat", "all", False
        for arg in args:
            if arg in SCOPES:
                scope = arg
            elif arg in PERIOD_ARGS:
                period = arg
            elif arg in ("image", "img", "picture"):
                image = True
            else:
                return [self._usage(cmd, lang, "leaderboard")]
        board = await self.boards.leaderboard(cmd.chat, cmd.sender, cmd.at, scope, period)
        replies: list[Reply] = [board]
        if image and "_board_image" in self.extra:
            replies += await self.extra["_board_image"](cmd, board) or []  # type: ignore[arg-type]
        return replies

    @staticmethod
    def _usage(cmd: Command, lang: str, name: str) -> Notice:
        return Notice(
            cmd.chat, t(lang, f"usage.{name}"), kind="usage", private_to=cmd.sender.platform_user_id
        )


def _request(args: tuple[str, ...]) -> RoundRequest:
    """`quiz start 5` asks for five questions; anything else uses the chat's settings."""
    for arg in args:
        if arg.isdigit() and 1 <= int(arg) <= 50:
            return RoundRequest(questions=int(arg))
    return RoundRequest()


def help_text(lang: str, private: bool) -> str:
    lines = [t(lang, "help.intro")]
    lines += [t(lang, key) for key in HELP_LINES]
    lines.append(t(lang, "help.private" if private else "help.group"))
    return "\n".join(lines)
