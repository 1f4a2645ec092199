"""Telegram updates handled at once across users but in order for each user, and a private
chat's verdict and result posted as one message."""

from __future__ import annotations

import asyncio

from telegram import PollAnswer, Update, User

from bot.adapters.telegram.ordering import PerUserOrder
from bot.adapters.telegram.outbound import Outbox
from bot.core.events import ChatRef
from bot.core.replies import AnswerFeedback, AskQuestion, Notice, QuestionResult


def vote(update_id: int, user_id: int) -> Update:
    user = User(user_id, f"User{user_id}", is_bot=False)
    answer = PollAnswer("poll", [0], user=user, option_persistent_ids=["0"])
    return Update(update_id, poll_answer=answer)


async def test_one_users_updates_keep_their_order_while_others_go_ahead():
    processor = PerUserOrder(max_concurrent_updates=64)
    log: list[tuple[str, int]] = []

    async def handle(update_id: int, seconds: float) -> None:
        log.append(("start", update_id))
        await asyncio.sleep(seconds)
        log.append(("end", update_id))

    # User 1 sends a slow update then a quick one; user 2's update arrives in between.
    jobs = [
        processor.process_update(vote(1, 1), handle(1, 0.05)),
        processor.process_update(vote(2, 2), handle(2, 0.0)),
        processor.process_update(vote(3, 1), handle(3, 0.0)),
    ]
    await asyncio.gather(*jobs)

    assert log.index(("end", 1)) < log.index(("start", 3)), "one user's updates in order"
    assert log.index(("end", 2)) < log.index(("end", 1)), "another user does not wait"
    assert processor._locks == {}, "nothing is kept for users with nothing in flight"


async def test_a_failing_update_does_not_block_the_users_next_one():
    processor = PerUserOrder()

    async def boom() -> None:
        raise RuntimeError("handler crashed")

    async def fine() -> str:
        return "ok"

    first = asyncio.ensure_future(processor.process_update(vote(1, 7), boom()))
    second = asyncio.ensure_future(processor.process_update(vote(2, 7), fine()))
    results = await asyncio.wait_for(asyncio.gather(first, second, return_exceptions=True), 2)
    assert isinstance(results[0], RuntimeError) and results[1] is None


PRIVATE = ChatRef("telegram", "5", "private")
GROUP = ChatRef("telegram", "-100", "group")


def test_a_private_verdict_rides_on_the_result_below_it():
    verdict = AnswerFeedback(PRIVATE, "✅ Right! +900", private_to="5", correct=True)
    result = QuestionResult(PRIVATE, "The answer: overfitting")
    ask = AskQuestion(PRIVATE, "Question 2/5")
    assert Outbox.with_leads([verdict, result, ask]) == [(result, verdict.text), (ask, "")]


def test_a_verdict_stays_alone_in_groups_or_without_a_result():
    group_verdict = AnswerFeedback(GROUP, "✅", private_to="5")
    group_result = QuestionResult(GROUP, "The answer: x")
    assert Outbox.with_leads([group_verdict, group_result]) == [
        (group_verdict, ""),
        (group_result, ""),
    ]
    retry = AnswerFeedback(PRIVATE, "❌ Not quite. Try again.", private_to="5")
    note = Notice(PRIVATE, "later")
    assert Outbox.with_leads([retry, note]) == [(retry, ""), (note, "")]
    assert Outbox.with_leads([]) == []
