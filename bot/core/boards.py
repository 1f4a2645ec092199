"""Use cases around a chat that are not a round: leaderboards, settings, board reset, language."""

from __future__ import annotations

from datetime import datetime

from bot.core import render
from bot.core.events import ChatRef, Sender
from bot.core.ranks import RankSnapshots
from bot.core.replies import Confirm, Leaderboard, Notice, Reply, Standing
from bot.core.services import chat_lang
from bot.core.settings import ChatSettings, SettingError
from bot.i18n import INTERFACE_LANGS, t
from bot.storage.models import GLOBAL_SCOPE
from bot.storage.repositories import period_start, previous_period_start
from bot.storage.uow import UnitOfWorkFactory

SCOPES = ("chat", "global")
PERIOD_ARGS = {
    "week": ("week", False),
    "month": ("month", False),
    "all": ("all", False),
    "lastweek": ("week", True),
    "lastmonth": ("month", True),
}
BOARD_SIZE = 10


class BoardService:
    def __init__(self, uow: UnitOfWorkFactory, ranks: RankSnapshots | None = None) -> None:
        self.uow = uow
        self.ranks = ranks or RankSnapshots()

    async def leaderboard(
        self,
        chat_ref: ChatRef,
        sender: Sender,
        now: datetime,
        scope: str = "chat",
        period_arg: str = "all",
    ) -> Leaderboard:
        period, previous = PERIOD_ARGS[period_arg]
        start = previous_period_start(period, now) if previous else period_start(period, now)
        async with self.uow() as uow:
            chat = await uow.chats.get_or_create(chat_ref, now)
            user = await uow.users.get_or_create(chat_ref.platform, sender, now)
            await uow.commit()
        lang = chat_lang(chat, user)
        scope_id = chat.id if scope == "chat" else GLOBAL_SCOPE
        # The board is read beside the writer (on SQLite it holds no write lock), so answers
        # being recorded meanwhile do not wait for it.
        async with self.uow(read_only=True) as uow:
            top = await uow.scores.top(scope_id, period, start, BOARD_SIZE)
            rows = [
                Standing(
                    rank=i,
                    name=name,
                    points=points,
                    correct=correct,
                    answered=answered,
                    is_caller=user_id == user.id,
                )
                for i, (user_id, name, points, correct, answered) in enumerate(top, start=1)
            ]
            caller = None
            if all(not r.is_caller for r in rows):
                key = (scope_id, period, start)
                scores = uow.scores

                async def more_points(points: int) -> int | None:
                    return await self.ranks.more_points(
                        key,
                        points,
                        lambda: scores.points_histogram(*key),
                        refresh=lambda: self._histogram(key),
                    )

                mine = await scores.standing(
                    scope_id, period, start, user.id, more_points=more_points
                )
                if mine is not None:
                    rank, points, correct, answered = mine
                    caller = Standing(rank, user.display_name, points, correct, answered, True)
        title = board_title(lang, scope, period_arg, now)
        return Leaderboard(
            chat_ref,
            render.leaderboard_text(lang, title, rows, caller),
            scope=scope,
            period=period_arg,
            rows=tuple(rows),
            caller=caller,
            title=title,
            lang=lang,
        )

    async def _histogram(self, key: tuple) -> list[tuple[int, int]]:
        async with self.uow(read_only=True) as uow:
            return await uow.scores.points_histogram(*key)

    async def show_settings(self, chat_ref: ChatRef, sender: Sender, now: datetime) -> Reply:
        async with self.uow() as uow:
            chat = await uow.chats.get_or_create(chat_ref, now)
            user = await uow.users.get_or_create(chat_ref.platform, sender, now)
            await uow.commit()
            lang = chat_lang(chat, user)
            settings = ChatSettings.from_json(chat.settings)
        return Notice(chat_ref, settings_text(lang, settings), kind="info")

    async def change_setting(
        self,
        chat_ref: ChatRef,
        sender: Sender,
        now: datetime,
        key: str,
        value: str,
        *,
        is_admin: bool,
    ) -> Reply:
        async with self.uow() as uow:
            chat = await uow.chats.get_or_create(chat_ref, now)
            user = await uow.users.get_or_create(chat_ref.platform, sender, now)
            lang = chat_lang(chat, user)
            if not (is_admin or chat.kind == "private"):
                await uow.commit()
                return Notice(
                    chat_ref,
                    t(lang, "admin.only"),
                    kind="refused",
                    private_to=sender.platform_user_id,
                )
            settings = ChatSettings.from_json(chat.settings)
            try:
                settings = settings.with_value(key, value)
            except SettingError as err:
                await uow.commit()
                return Notice(chat_ref, t(lang, err.key, **err.values), kind="usage")
            chat.settings = settings.to_json()
            await uow.commit()
        return Notice(
            chat_ref, t(lang, "settings.changed") + "\n" + settings_text(lang, settings), kind="ok"
        )

    async def reset_board(
        self, chat_ref: ChatRef, sender: Sender, now: datetime, *, confirmed: bool, is_admin: bool
    ) -> Reply:
        async with self.uow() as uow:
            chat = await uow.chats.get_or_create(chat_ref, now)
            user = await uow.users.get_or_create(chat_ref.platform, sender, now)
            lang = chat_lang(chat, user)
            if not (is_admin or chat.kind == "private"):
                await uow.commit()
                return Notice(
                    chat_ref,
                    t(lang, "admin.only"),
                    kind="refused",
                    private_to=sender.platform_user_id,
                )
            if not confirmed:
                await uow.commit()
                return Confirm(
                    chat_ref,
                    t(lang, "reset.confirm"),
                    yes_command=("reset", "confirm"),
                    no_command=("reset", "cancel"),
                    yes_label=t(lang, "reset.yes"),
                    no_label=t(lang, "reset.no"),
                )
            removed = await uow.scores.reset_chat(chat.id)
            await uow.commit()
        return Notice(chat_ref, t(lang, "reset.done", rows=removed), kind="ok")

    async def set_lang(
        self,
        chat_ref: ChatRef,
        sender: Sender,
        now: datetime,
        lang_arg: str | None,
        *,
        is_admin: bool,
    ) -> Reply:
        async with self.uow() as uow:
            chat = await uow.chats.get_or_create(chat_ref, now)
            user = await uow.users.get_or_create(chat_ref.platform, sender, now)
            lang = chat_lang(chat, user)
            if lang_arg is None:
                await uow.commit()
                return Notice(chat_ref, t(lang, "lang.current", lang=lang), kind="info")
            if lang_arg not in INTERFACE_LANGS:
                await uow.commit()
                return Notice(chat_ref, t(lang, "lang.usage"), kind="usage")
            if chat.kind == "private":
                user.lang = lang_arg
                chat.lang = lang_arg
            elif is_admin:
                chat.lang = lang_arg
            else:
                await uow.commit()
                return Notice(
                    chat_ref,
                    t(lang, "admin.only"),
                    kind="refused",
                    private_to=sender.platform_user_id,
                )
            await uow.commit()
        return Notice(chat_ref, t(lang_arg, "lang.changed"), kind="ok")


def board_title(lang: str, scope: str, period_arg: str, now: datetime) -> str:
    """ "🏆 Chat leaderboard · this week · 2026-11-23" in the given language."""
    period, previous = PERIOD_ARGS[period_arg]
    start = previous_period_start(period, now) if previous else period_start(period, now)
    return t(
        lang,
        "board.title",
        scope=t(lang, f"board.scope.{scope}"),
        period=t(lang, f"board.period.{period_arg}"),
        since=start.isoformat() if period != "all" else "",
    ).rstrip(" ·")


def settings_text(lang: str, settings: ChatSettings) -> str:
    return t(
        lang,
        "settings.show",
        questions=settings.questions,
        seconds=settings.seconds,
        types=settings.types,
        lang=settings.lang,
        topics=", ".join(settings.topics) or t(lang, "settings.all_topics"),
        mode=settings.mode,
    )
