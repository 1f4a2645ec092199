"""The hub ties adapters, the dispatcher and the clock together.

Inbound: an adapter hands an event to `handle`, gets the replies back and renders them in the
event's own context (a Discord interaction, a Telegram chat). Outbound from the clock: a question
whose time is up is closed by `QuizService.tick`, and the replies go out through the adapter of
the chat's platform. Timers only wake the code up; the database decides (see QuizService).

A round's timer never ends without closing what is due or arming the round's next wake-up, and a
periodic sweep closes any question found open past its deadline all the same (and says so), so
a timer that is lost or wakes early cannot leave a group waiting. Adapters tell the hub which
round messages reached their chat (`posted`); after a restart, `resume` sends what a round
still owes its chat (see `QuizService.owed`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from bot.core.adapter import Adapter, NotDelivered
from bot.core.dispatcher import Dispatcher
from bot.core.events import Event
from bot.core.flood import FloodGuard
from bot.core.practice import PracticeService
from bot.core.replies import AskQuestion, Notice, QuestionResult, Reply, RoundOver
from bot.core.services import QuizService, Wakeup
from bot.i18n import interface_lang, t

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]

SWEEP_EVERY = 5.0  # seconds between looks for questions left open past their deadline
OVERDUE_AFTER = timedelta(seconds=2)  # how late a question must be for the sweep to take it
RETRY_AFTER = 1.0  # seconds before a failed close is tried again
NOTHING_DUE_PAUSE = 0.05  # a tick that closed nothing never re-arms for the same instant
UNPOSTED_KEPT = 10_000  # questions whose post failed, remembered until asked again


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
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.dispatcher = dispatcher
        self.quiz = quiz
        self.practice = practice
        self.clock = clock
        self.sleep = sleep
        self.adapters: dict[str, Adapter] = {}
        self.flood = FloodGuard()
        self._timers: dict[int, asyncio.Task] = {}
        self._sweeper: asyncio.Task | None = None
        self._closing: set[asyncio.Task] = set()  # closes under way (see _wake)
        # Round questions whose post failed (oldest first), until their deadline.
        self._unposted: dict[int, None] = {}
        # Per round while it delivers: the lock and how many deliveries hold or await it.
        self._delivering: dict[int, tuple[asyncio.Lock, int]] = {}
        self._closed = False
        # Round messages decided before this moment were decided by an earlier process (or
        # another one): only those can be owed to a chat at `resume`.
        self.started_at = clock()

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
            except NotDelivered as err:
                log.warning("a %s did not reach its chat: %s", type(reply).__name__, err)
                self.not_posted(reply)
                continue
            except Exception:
                log.exception(
                    "sending a %s to %s failed", type(reply).__name__, reply.chat.platform
                )
                self.not_posted(reply)
                continue
            await self.posted(reply, ref)

    def not_posted(self, reply: Reply) -> None:
        """A reply certainly did not reach its chat (not a timeout: it may have). A round's
        question nobody was shown gets no result at its deadline: it is asked again."""
        if isinstance(reply, AskQuestion) and reply.round_question_id:
            self._unposted[reply.round_question_id] = None
            while len(self._unposted) > UNPOSTED_KEPT:
                del self._unposted[next(iter(self._unposted))]

    async def posted(self, reply: Reply, ref: str | None = None, *also: Reply) -> None:
        """A reply (and the replies folded into its post, `also`) reached its chat: remember
        the platform's handle on a posted question, so answers can find it, and that a round
        message no longer waits to be sent."""
        now = self.clock()
        marks = []
        for done, handle in ((reply, ref), *((r, None) for r in also)):
            if isinstance(done, AskQuestion):
                if done.question_ref.startswith("pr:"):
                    if handle and self.practice is not None:
                        await self.practice.set_platform_ref(int(done.question_ref[3:]), handle)
                elif done.round_question_id:
                    self._unposted.pop(done.round_question_id, None)
                    marks.append(self.quiz.mark_posted(done.round_question_id, handle, now))
            elif isinstance(done, QuestionResult) and done.round_question_id:
                marks.append(self.quiz.mark_result_posted(done.round_question_id))
            elif isinstance(done, RoundOver) and done.round_id:
                marks.append(self.quiz.mark_end_posted(done.round_id))
        if not marks:
            return
        try:  # together: they share one transaction
            await asyncio.gather(*marks)
        except Exception as err:
            # Delivered all the same; at worst it is sent again after a restart.
            log.warning("noting that %s reached its chat failed: %s", type(reply).__name__, err)

    async def knows_ref(self, ref: str) -> bool:
        """Whether a stored question was posted with this platform handle (by any process)."""
        if await self.quiz.knows_platform_ref(ref):
            return True
        return self.practice is not None and await self.practice.knows_platform_ref(ref)

    async def resume(self) -> None:
        """After a start-up: send what rounds still owe their chats (a result, a question
        nobody was shown, a podium), and settle rounds whose time ran out while we were
        down."""
        platforms = tuple(self.adapters)
        replies, wakeups = await self.quiz.resume(self.clock(), platforms, self.started_at)
        await self.deliver(replies)
        await self._arm(replies)
        for wakeup in wakeups:
            self._schedule(wakeup)

    def start_sweeping(self) -> None:
        """Look for overdue questions every SWEEP_EVERY seconds until `close`."""
        if self._sweeper is None and not self._closed:
            self._sweeper = asyncio.create_task(self._sweep_forever())

    async def sweep(self) -> int:
        """Close the questions left open past their deadline (a timer lost or late); returns
        how many were found. Each is claimed as a timer would (one close, whichever process)."""
        now = self.clock()
        overdue = await self.quiz.overdue(now - OVERDUE_AFTER, tuple(self.adapters))
        for wakeup in overdue:
            late = (now - wakeup.at).total_seconds()
            log.warning(
                "round %s: its question was still open %.1f s after its deadline; closing it",
                wakeup.round_id,
                late,
            )
            self._schedule(Wakeup(wakeup.round_id, now))
        return len(overdue)

    async def _sweep_forever(self) -> None:
        while not self._closed:
            await self.sleep(SWEEP_EVERY)
            try:
                await self.sweep()
            except Exception as err:  # the database away: the next sweep tries again
                log.warning("looking for overdue questions failed: %s", err)

    async def close(self) -> None:
        self._closed = True
        tasks = [*self._timers.values(), *([self._sweeper] if self._sweeper else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Closes under way finish: their COMMIT and replies are not cut in half.
        await asyncio.gather(*self._closing, return_exceptions=True)
        self._timers.clear()
        self._sweeper = None

    async def _arm(self, replies: list[Reply]) -> None:
        for reply in replies:
            if isinstance(reply, AskQuestion) and reply.seconds:
                wakeup = await self.quiz.next_wakeup_for_question(reply.round_question_id)
                if wakeup is not None:
                    self._schedule(wakeup)

    def _schedule(
        self, wakeup: Wakeup, failed: tuple[datetime, ...] = (), *, pause: float = 0
    ) -> None:
        """Arm the round's timer (replacing the one it had). `pause`: seconds to wait first,
        whatever the deadline (a retry's back-off)."""
        if self._closed:
            return
        old = self._timers.get(wakeup.round_id)
        if old is not None and not old.done() and old is not asyncio.current_task():
            old.cancel()
        self._timers[wakeup.round_id] = asyncio.create_task(self._wake(wakeup, failed, pause))

    async def _wake(self, wakeup: Wakeup, failed: tuple[datetime, ...], pause: float) -> None:
        """Sleep until the round's deadline, then close what is due. Only the sleep can be
        cancelled (a newer timer replaces this one): a close under way runs to its end, or
        its replies could be lost after its COMMIT."""
        if pause:
            await self.sleep(pause)
        await self._sleep_until(wakeup.at)
        closing = asyncio.create_task(self._close_due(wakeup, failed))
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)
        await asyncio.shield(closing)

    async def _close_due(self, wakeup: Wakeup, failed: tuple[datetime, ...]) -> None:
        """Close the round's question if its deadline has passed, then arm the round's next
        wake-up: this never ends without one or the other. `failed`: the times of earlier
        tries that failed."""
        now = self.clock()
        try:
            replies = await self.quiz.tick(wakeup.round_id, now, unseen=self._unposted)
            if not replies and failed:
                # A try that failed may have closed the question all the same, its COMMIT
                # taking effect as the connection died: its replies were never sent.
                replies = await self.quiz.replay_close(wakeup.round_id, failed)
        except Exception:
            log.exception("closing a question of round %s failed; retrying", wakeup.round_id)
            self._schedule(wakeup, (*failed, now), pause=RETRY_AFTER)
            return
        # Arm the next close before delivering: a slow platform (rate limits) must not hold up
        # the round's clock. Deliveries of one round keep their order (see `_in_order`).
        try:
            following = await self.quiz.next_wakeup(wakeup.round_id)
        except Exception as err:  # the sweep closes the question if this never succeeds
            log.warning("arming round %s's next close failed (%s); retrying", wakeup.round_id, err)
            self._schedule(wakeup, pause=RETRY_AFTER)
            following = None
        else:
            if following is not None and not replies and following.at <= now:
                # Nothing closed although the clock says the deadline has passed (another
                # process holds the round, or the stored deadline is a hair later than ours):
                # look again in a moment rather than never, and not in a tight loop.
                following = Wakeup(following.round_id, now + timedelta(seconds=NOTHING_DUE_PAUSE))
            if following is not None:
                self._schedule(following)
        if replies:
            async with self._in_order(wakeup.round_id):
                await self.deliver(replies)

    @contextlib.asynccontextmanager
    async def _in_order(self, round_id: int):
        """One round's timed deliveries one after another, so that a result never overtakes
        the question it is about."""
        lock, users = self._delivering.get(round_id, (asyncio.Lock(), 0))
        self._delivering[round_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._delivering[round_id]
            if users == 1:
                del self._delivering[round_id]
            else:
                self._delivering[round_id] = (lock, users - 1)

    async def _sleep_until(self, at: datetime) -> None:
        """Sleep until the clock reads `at` or later: a sleep may end a little early (uvloop's
        timers round to the millisecond), so the clock, not the sleep, says when."""
        while (delay := (at - self.clock()).total_seconds()) > 0:
            await self.sleep(delay)
