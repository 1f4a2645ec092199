"""The hub ties adapters, the dispatcher and the clock together.

Inbound: an adapter hands an event to `handle`, gets the replies back and renders them in the
event's own context (a Discord interaction, a Telegram chat). Outbound from the clock: a question
whose time is up is closed by `QuizService.tick`, and the replies go out through the adapter of
the chat's platform. Timers only wake the code up; the database decides (see QuizService).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from bot.core.adapter import Adapter
from bot.core.dispatcher import Dispatcher
from bot.core.events import Event
from bot.core.flood import FloodGuard
from bot.core.practice import PracticeService
from bot.core.replies import AskQuestion, Notice, Reply
from bot.core.services import QuizService, Wakeup
from bot.i18n import interface_lang, t

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Hub:
    def __init__(
        self,
        dispatcher: Dispatcher,
        quiz: QuizService,
        clock: Clock = utc_now,
        *,
        practice: PracticeService | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.quiz = quiz
        self.practice = practice
        self.clock = clock
        self.adapters: dict[str, Adapter] = {}
        self.flood = FloodGuard()
        self._timers: dict[int, asyncio.Task] = {}
        self._closed = False

    def add_adapter(self, adapter: Adapter) -> None:
        self.adapters[adapter.platform] = adapter

    async def handle(self, event: Event) -> list[Reply]:
        """Dispatch one event; arm timers for the questions it opened."""
        user_key = f"{event.chat.platform}:{event.sender.platform_user_id}"
        local = event.chat.platform == "console"  # one person at a keyboard cannot flood others
        allowed, warn = (True, False) if local else await self.flood.admit(user_key)
        if not allowed:
            if not warn:
                return []
            lang = interface_lang(event.sender.lang)
            return [
                Notice(
                    event.chat,
                    t(lang, "flood.slow_down"),
                    kind="refused",
                    private_to=event.sender.platform_user_id,
                )
            ]
        replies = await self.dispatcher.dispatch(event)
        await self._arm(replies)
        return replies

    async def deliver(self, replies: list[Reply]) -> None:
        """Send replies through the adapter of their chat's platform, in order."""
        for reply in replies:
            adapter = self.adapters.get(reply.chat.platform)
            if adapter is None:
                log.warning("no adapter for platform %s", reply.chat.platform)
                continue
            try:
                ref = await adapter.send(reply)
            except Exception:
                log.exception(
                    "sending a %s to %s failed", type(reply).__name__, reply.chat.platform
                )
                continue
            await self.posted(reply, ref)

    async def posted(self, reply: Reply, ref: str | None) -> None:
        """Remember the platform's handle on a posted question, so answers can find it."""
        if not isinstance(reply, AskQuestion) or not ref:
            return
        if reply.question_ref.startswith("pr:") and self.practice is not None:
            await self.practice.set_platform_ref(int(reply.question_ref[3:]), ref)
        elif reply.round_question_id:
            await self.quiz.set_platform_ref(reply.round_question_id, ref)

    async def knows_ref(self, ref: str) -> bool:
        """Whether a stored question was posted with this platform handle (by any process)."""
        if await self.quiz.knows_platform_ref(ref):
            return True
        return self.practice is not None and await self.practice.knows_platform_ref(ref)

    async def resume(self) -> None:
        """After a start-up: settle rounds whose time ran out while we were down."""
        replies, wakeups = await self.quiz.resume(self.clock())
        await self.deliver(replies)
        await self._arm(replies)
        for wakeup in wakeups:
            self._schedule(wakeup)

    async def close(self) -> None:
        self._closed = True
        for task in self._timers.values():
            task.cancel()
        await asyncio.gather(*self._timers.values(), return_exceptions=True)
        self._timers.clear()

    async def _arm(self, replies: list[Reply]) -> None:
        for reply in replies:
            if isinstance(reply, AskQuestion) and reply.seconds:
                wakeup = await self.quiz.next_wakeup_for_question(reply.round_question_id)
                if wakeup is not None:
                    self._schedule(wakeup)

    def _schedule(self, wakeup: Wakeup, failed: tuple[datetime, ...] = ()) -> None:
        if self._closed:
            return
        old = self._timers.get(wakeup.round_id)
        if old is not None and not old.done() and old is not asyncio.current_task():
            old.cancel()
        self._timers[wakeup.round_id] = asyncio.create_task(self._wake(wakeup, failed))

    async def _wake(self, wakeup: Wakeup, failed: tuple[datetime, ...] = ()) -> None:
        """`failed`: the times of earlier tries that failed."""
        delay = (wakeup.at - self.clock()).total_seconds()
        if delay > 0:
            await asyncio.sleep(delay)
        now = self.clock()
        try:
            replies = await self.quiz.tick(wakeup.round_id, now)
            if not replies and failed:
                # A try that failed may have closed the question all the same, its COMMIT
                # taking effect as the connection died: its replies were never sent.
                replies = await self.quiz.replay_close(wakeup.round_id, failed)
        except Exception:
            log.exception("closing a question of round %s failed; retrying", wakeup.round_id)
            await asyncio.sleep(1)
            self._schedule(wakeup, (*failed, now))
            return
        await self.deliver(replies)
        await self._arm(replies)
