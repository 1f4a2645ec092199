"""Telegram updates handled at once across users but in order for each user."""

from __future__ import annotations

import asyncio

from telegram import PollAnswer, Update, User

from bot.adapters.telegram.ordering import PerUserOrder


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
