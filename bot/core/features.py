"""Plugs practice, review, reminders, statistics, question reports and the leaderboard image into
the dispatcher.

`bot.app` calls `register` once at start-up. Command handlers take `(Command, is_admin)`; two
hooks have a leading underscore: `_answer` sees every answer before the quiz service (and returns
None when it is not for a practice question), `_board_image` draws `leaderboard ... image`.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from bot.content.model import Glossary
from bot.core import charts
from bot.core.boards import BoardService, board_title
from bot.core.dispatcher import Dispatcher
from bot.core.events import Command, OptionAnswer, TextAnswer
from bot.core.hub import Clock
from bot.core.practice import PracticeService
from bot.core.replies import Image, Leaderboard, Reply
from bot.core.reports import ReportService
from bot.core.stats import StatsService
from bot.storage.uow import UnitOfWorkFactory


@dataclass
class Features:
    practice: PracticeService
    stats: StatsService
    boards: BoardService
    reports: ReportService


def register(
    dispatcher: Dispatcher,
    uow: UnitOfWorkFactory,
    glossary: Glossary,
    clock: Clock,
    *,
    rng: random.Random | None = None,
    practice: PracticeService | None = None,
) -> Features:
    """Register the commands; returns the services (the runner needs `practice.due_reminders`,
    the console `practice.current_question`)."""
    features = Features(
        practice=practice or PracticeService(uow, glossary, rng=rng),
        stats=StatsService(uow, glossary),
        boards=dispatcher.boards,
        reports=ReportService(uow),
    )
    svc = features.practice

    async def practice_cmd(cmd: Command, is_admin: bool) -> list[Reply]:
        sub = _args(cmd)[0] if cmd.args else ""
        if sub in ("", "start"):
            return await svc.start(cmd.chat, cmd.sender, cmd.at)
        if sub == "stop":
            return await svc.stop(cmd.chat, cmd.sender, cmd.at)
        if sub in ("more", "new"):
            return await svc.start(cmd.chat, cmd.sender, cmd.at, more=True)
        if sub == "hint":
            found = await svc.hint(cmd.chat, cmd.sender, cmd.at)
            return found or [await svc.notice(cmd.chat, cmd.sender, cmd.at, "practice.no_question")]
        return [await svc.notice(cmd.chat, cmd.sender, cmd.at, "practice.usage", kind="usage")]

    async def review_cmd(cmd: Command, is_admin: bool) -> list[Reply]:
        if _args(cmd)[:1] == ("stop",):
            return await svc.stop(cmd.chat, cmd.sender, cmd.at)
        return await svc.start(cmd.chat, cmd.sender, cmd.at, kind="review")

    async def remind_cmd(cmd: Command, is_admin: bool) -> list[Reply]:
        return await svc.remind(cmd.chat, cmd.sender, cmd.at, _args(cmd))

    async def stats_cmd(cmd: Command, is_admin: bool) -> list[Reply]:
        return await features.stats.stats(cmd.chat, cmd.sender, cmd.at)

    async def report_cmd(cmd: Command, is_admin: bool) -> list[Reply]:
        # `report <question ref> [reason]`, sent by the adapters' "report this question"
        # buttons (and the terminal's `report`).
        return await features.reports.report(cmd.chat, cmd.sender, cmd.at, _args(cmd))

    async def answer_hook(event: TextAnswer | OptionAnswer, _unused: bool) -> list[Reply] | None:
        return await svc.answer(event)

    async def hint_hook(cmd: Command, is_admin: bool) -> list[Reply] | None:
        return await svc.hint(cmd.chat, cmd.sender, cmd.at)

    async def board_image(cmd: Command, board: Leaderboard) -> list[Reply]:
        # The dispatcher hands over the board it just built for the text reply.
        return [await board_card(cmd, board, board.lang)]

    dispatcher.register("practice", practice_cmd)
    dispatcher.register("review", review_cmd)
    dispatcher.register("remind", remind_cmd)
    dispatcher.register("stats", stats_cmd)
    dispatcher.register("report", report_cmd)
    dispatcher.register("_answer", answer_hook)  # type: ignore[arg-type]
    dispatcher.register("_hint", hint_hook)  # type: ignore[arg-type]
    dispatcher.register("_board_image", board_image)  # type: ignore[arg-type]
    return features


async def board_card(cmd: Command, board: Leaderboard, lang: str) -> Image:
    """The PNG card of a leaderboard, captioned with its title; `lang` is the chat's."""
    title = board.title
    if not charts.can_draw(title):
        title = board_title(charts.label_lang(lang), board.scope, board.period, cmd.at)
    png = await asyncio.to_thread(
        charts.leaderboard_card, title, list(board.rows), caller=board.caller, lang=lang
    )
    return Image(board.chat, board.title, png=png, filename="leaderboard.png")


def _args(cmd: Command) -> tuple[str, ...]:
    return tuple(a.lower()[:64] for a in cmd.args[:8])
