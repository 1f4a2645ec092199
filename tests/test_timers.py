"""A group round's clock through the hub: timers that wake early, late or on time, a timer that
is lost, and the sweep that closes what a timer missed. On a real database (SQLite, and
PostgreSQL when configured) with a fake clock and a fake sleep that moves it."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta

import pytest

from bot.core.adapter import NotDelivered
from bot.core.boards import BoardService
from bot.core.dispatcher import Dispatcher
from bot.core.events import ChatRef, Command, Sender
from bot.core.hub import OVERDUE_AFTER, Hub
from bot.core.replies import AskQuestion, QuestionResult, Reply
from bot.core.services import QuizService

GROUP = ChatRef("test", "g-timers", "group", "Timers")
ADMIN = Sender("1", "Ada", "en", is_admin=True)
EARLY = 0.0013  # how early uvloop's timers were seen to fire


class RecordingAdapter:
    platform = "test"

    def __init__(self) -> None:
        self.sent: list[Reply] = []

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, reply: Reply) -> str | None:
        self.sent.append(reply)
        return None


class SteppedSleep:
    """A sleep that moves the fake clock by the delay asked, `error` seconds off (negative:
    it wakes early, as uvloop's timers do, but never before a tiny delay has passed)."""

    def __init__(self, clock, error: float) -> None:
        self.clock = clock
        self.error = error

    async def __call__(self, delay: float) -> None:
        step = delay + self.error if delay + self.error > 0 else delay
        self.clock.advance(step)
        await asyncio.sleep(0)


def kinds(replies: list[Reply]) -> list[str]:
    return [type(r).__name__ for r in replies]


async def settled(adapter: RecordingAdapter, count: int, seconds: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while len(adapter.sent) < count:
        assert loop.time() < deadline, f"stalled after {kinds(adapter.sent)}"
        await asyncio.sleep(0.01)


def make_hub(uow_factory, glossary, clock, sleep=asyncio.sleep, seed: int = 3):
    quiz = QuizService(uow_factory, glossary, rng=random.Random(seed))
    hub = Hub(Dispatcher(quiz, BoardService(uow_factory)), quiz, clock, sleep=sleep)
    adapter = RecordingAdapter()
    hub.add_adapter(adapter)
    return hub, adapter


async def start_round(hub: Hub, clock, questions: int = 3) -> AskQuestion:
    for key, value in (("types", "mc"), ("seconds", "20")):
        await hub.handle(
            Command(GROUP, ADMIN, f"s-{key}", clock(), name="settings", args=(key, value))
        )
    replies = await hub.handle(
        Command(GROUP, ADMIN, "start", clock(), name="quiz", args=("start", str(questions)))
    )
    await hub.deliver(replies)  # as the adapter does with an event's replies
    [ask] = [r for r in replies if isinstance(r, AskQuestion)]
    return ask


@pytest.mark.parametrize("error", [-EARLY, 0.0, 0.5], ids=["early", "on-time", "late"])
async def test_every_question_closes_and_the_round_ends_whatever_the_timer_does(
    uow_factory, mini_glossary, clock, error
):
    """uvloop's sleep returned up to 1.3 ms before the deadline; the tick then closed nothing
    and nothing armed the timer again: the round hung after its first question."""
    hub, adapter = make_hub(uow_factory, mini_glossary, clock, SteppedSleep(clock, error))
    try:
        await start_round(hub, clock)
        # Three questions nobody answers: each closes at its time, then the round ends.
        await settled(adapter, 8)
        assert kinds(adapter.sent) == [
            "Notice",
            "AskQuestion",
            "QuestionResult",
            "AskQuestion",
            "QuestionResult",
            "AskQuestion",
            "QuestionResult",
            "RoundOver",
        ]
        # None closed before its deadline, none more than the timer's error after it.
        await hub.close()  # and the notes that they were delivered are written
        async with hub.quiz.uow(read_only=True) as uow:
            round_ = await uow.rounds.get(1, lock=False)
            for position in (1, 2, 3):
                rq = await uow.rounds.question_at(round_.id, position)
                assert rq.deadline <= rq.closed_at <= rq.deadline + timedelta(seconds=0.6)
            assert (round_.status, round_.end_reason, round_.end_due) == ("finished", "idle", False)
    finally:
        await hub.close()


async def test_a_lost_timer_is_caught_by_the_sweep_with_a_warning(
    uow_factory, mini_glossary, clock, caplog
):
    hub, adapter = make_hub(uow_factory, mini_glossary, clock, sleep=_never)
    try:
        ask = await start_round(hub, clock)
        assert await hub.sweep() == 0  # nothing is late
        clock.advance(20)
        assert await hub.sweep() == 0  # due, but the timer has its grace
        clock.advance(OVERDUE_AFTER.total_seconds() + 1)
        with caplog.at_level(logging.WARNING, logger="bot.core.hub"):
            assert await hub.sweep() == 1
        [warning] = [r for r in caplog.records if "after its deadline" in r.getMessage()]
        assert "round 1" in warning.getMessage()
        await settled(adapter, 4)
        result, following = adapter.sent[2:4]
        assert isinstance(result, QuestionResult)
        assert result.round_question_id == ask.round_question_id
        assert isinstance(following, AskQuestion) and following.position == 2
        assert await hub.sweep() == 0  # closed once
    finally:
        await hub.close()


async def _never(delay: float) -> None:
    """A sleep that never ends: timers that are lost."""
    await asyncio.Event().wait()


async def test_two_processes_sweeping_the_same_question_close_it_once(
    uow_factory, mini_glossary, clock
):
    hub, adapter = make_hub(uow_factory, mini_glossary, clock, sleep=_never)
    other, other_adapter = make_hub(uow_factory, mini_glossary, clock, sleep=_never, seed=9)
    try:
        await start_round(hub, clock)
        clock.advance(30)
        found = await asyncio.gather(hub.sweep(), other.sweep())
        assert found == [1, 1]
        await asyncio.sleep(0.5)
        sent = adapter.sent[2:] + other_adapter.sent
        assert kinds(sent) == ["QuestionResult", "AskQuestion"]
    finally:
        await hub.close()
        await other.close()


class FlakyAdapter(RecordingAdapter):
    """Refuses the next `failures` questions, as a platform does that will not take a post."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def send(self, reply: Reply) -> str | None:
        if isinstance(reply, AskQuestion) and self.failures:
            self.failures -= 1
            raise NotDelivered("refused")
        return await super().send(reply)


async def test_a_question_whose_post_failed_is_asked_again_not_given_a_result(
    uow_factory, mini_glossary, clock
):
    hub, _ = make_hub(uow_factory, mini_glossary, clock, SteppedSleep(clock, 0.0))
    adapter = hub.adapters["test"] = FlakyAdapter(failures=1)
    try:
        await start_round(hub, clock, questions=1)  # its question fails to post
        await settled(adapter, 4)
        # Asked again at its deadline with a fresh clock, then closed with its result.
        assert kinds(adapter.sent) == ["Notice", "AskQuestion", "QuestionResult", "RoundOver"]
        again = adapter.sent[1]
        assert again.position == 1 and again.seconds == 20
    finally:
        await hub.close()


async def test_a_chat_that_never_takes_a_question_ends_the_round_without_results(
    uow_factory, mini_glossary, clock
):
    hub, _ = make_hub(uow_factory, mini_glossary, clock, SteppedSleep(clock, 0.0))
    adapter = hub.adapters["test"] = FlakyAdapter(failures=99)
    try:
        await start_round(hub, clock, questions=5)
        await settled(adapter, 2)
        assert kinds(adapter.sent) == ["Notice", "RoundOver"]
        assert adapter.sent[1].reason == "idle"
    finally:
        await hub.close()
