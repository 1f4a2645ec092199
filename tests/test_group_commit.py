"""Answers that arrive together share one transaction: the same outcome as one by one, the
burst judged in arrival order, and a failed batch retried answer by answer."""

from __future__ import annotations

import asyncio
import random
from dataclasses import fields

import pytest
from sqlalchemy import event

from bot.core.engine import PlayerState
from bot.core.events import ChatRef, OptionAnswer, Sender, TextAnswer
from bot.core.group_commit import GroupCommit
from bot.core.replies import AnswerFeedback, AskQuestion, Notice, QuestionResult
from bot.core.services import QuizService, RoundRequest
from bot.storage.repositories import EPOCH, PLAYER_FIELDS, AnswerRepository
from tests.conftest import count_rows

GROUP = ChatRef("test", "burst", "group", "Burst")
PLAYERS = [Sender(str(i), f"Player {i}", "en") for i in range(1, 7)]


# ---------------------------------------------------------------- the mechanism on its own


async def test_requests_that_arrive_together_go_in_one_batch_and_get_their_own_results():
    sizes = []

    async def batch(items):
        sizes.append(len(items))
        await asyncio.sleep(0.01)
        return [item * 10 for item in items]

    async def single(item):
        raise AssertionError("no batch failed")

    commit = GroupCommit(batch, single)
    first = asyncio.ensure_future(commit.submit(1))
    await asyncio.sleep(0)  # the first starts a batch on its own
    rest = await asyncio.gather(*(commit.submit(i) for i in range(2, 12)))
    assert await first == 10
    assert rest == [i * 10 for i in range(2, 12)]
    assert sizes == [1, 10]


async def test_a_failed_batch_is_retried_one_by_one_and_only_the_bad_request_fails():
    async def batch(items):
        raise RuntimeError("conflict")

    async def single(item):
        if item == "bad":
            raise ValueError(item)
        return item.upper()

    commit = GroupCommit(batch, single)
    results = await asyncio.gather(
        commit.submit("a"), commit.submit("bad"), commit.submit("c"), return_exceptions=True
    )
    assert results[0] == "A" and results[2] == "C"
    assert isinstance(results[1], ValueError)


async def test_shutting_down_leaves_nobody_waiting():
    started = asyncio.Event()

    async def batch(items):
        started.set()
        await asyncio.sleep(60)
        return items

    commit = GroupCommit(batch, batch)
    waiting = [asyncio.ensure_future(commit.submit(i)) for i in range(3)]
    await started.wait()
    later = asyncio.ensure_future(commit.submit(99))
    await asyncio.sleep(0)
    commit._drainer.cancel()
    done = await asyncio.wait_for(asyncio.gather(*waiting, later, return_exceptions=True), 5)
    assert all(isinstance(r, asyncio.CancelledError) for r in done)


# ---------------------------------------------------------------- answers in a burst


def _pick(sender, ask, option, clock, event_id):
    return OptionAnswer(
        GROUP,
        sender,
        event_id,
        clock(),
        option=option,
        question_ref=f"rq:{ask.round_question_id}",
    )


@pytest.mark.parametrize("failing_batches", [False, True], ids=["batched", "one-by-one"])
async def test_a_burst_of_answers_is_judged_in_order_and_counted_once(
    uow_factory, mini_glossary, clock, monkeypatch, failing_batches
):
    quiz = QuizService(uow_factory, mini_glossary, rng=random.Random(3))
    batch_sizes = []
    real_batch = quiz._answer_batch

    async def spy(events):
        batch_sizes.append(len(events))
        return await real_batch(events)

    quiz._answers._batch = spy
    if failing_batches:
        real_add = AnswerRepository.add_many

        async def fail_when_several(self, rows):
            if len(rows) > 1:
                raise RuntimeError("simulated conflict")
            return await real_add(self, rows)

        monkeypatch.setattr(AnswerRepository, "add_many", fail_when_several)

    host = PLAYERS[0]
    replies = await quiz.start_round(
        GROUP, host, clock(), RoundRequest(questions=3, types="mc", seconds=30)
    )
    q1 = next(r for r in replies if isinstance(r, AskQuestion))
    regulars = PLAYERS[:4]

    # Question 1: four players at once; nobody is a regular yet, so the clock closes it.
    clock.advance(2)
    burst = [_pick(p, q1, 0, clock, f"q1-{p.platform_user_id}") for p in regulars]
    await asyncio.gather(*(quiz.answer(e) for e in burst))
    async with uow_factory() as uow:
        round_id = (await uow.rounds.question(q1.round_question_id)).round_id
    clock.advance(30)
    q2 = next(r for r in await quiz.tick(round_id, clock()) if isinstance(r, AskQuestion))

    # Question 2, one burst: a newcomer, three regulars, a redelivery, the last regular (which
    # closes the question), a latecomer, and an answer to question 1.
    clock.advance(1)
    right = q2.question.correct_option
    newcomer, late = PLAYERS[4], PLAYERS[5]
    burst = [
        _pick(newcomer, q2, right, clock, "q2-new"),
        *(_pick(p, q2, right, clock, f"q2-{p.platform_user_id}") for p in regulars[:3]),
        _pick(regulars[0], q2, right, clock, f"q2-{regulars[0].platform_user_id}"),
        _pick(regulars[3], q2, (right + 1) % len(q2.question.options), clock, "q2-last"),
        _pick(late, q2, right, clock, "q2-late"),
        _pick(late, q1, 0, clock, "q1-late"),
    ]
    results = await asyncio.gather(*(quiz.answer(e) for e in burst))
    assert batch_sizes[-1] == len(burst) or failing_batches

    newcomer_r, r1, r2, r3, redelivered, last, late_r, stale = results
    for scored in (newcomer_r, r1, r2, r3):
        assert [type(r) for r in scored] == [AnswerFeedback] and scored[0].correct
    assert redelivered == [], "a redelivered update is counted once and answered once"
    assert isinstance(last[0], AnswerFeedback) and not last[0].correct
    assert [type(r) for r in last[1:]] == [QuestionResult, AskQuestion]
    assert last[2].position == 3
    for too_late in (late_r, stale):
        assert len(too_late) == 1 and isinstance(too_late[0], (AnswerFeedback, Notice))
        assert "Too late" in too_late[0].text

    # Speed scoring within one burst: the first right answer earned the most.
    assert newcomer_r[0].points >= r1[0].points >= r2[0].points >= r3[0].points > 0
    assert await count_rows(uow_factory, "answers") == 4 + 5
    async with uow_factory() as uow:
        players = [(p.user_id, p.points, p.answered) for p in await uow.rounds.players(round_id)]
        board = await uow.scores.top(0, "all", EPOCH, limit=10)
    assert len(players) == 5
    assert sum(answered for _, _, answered in players) == 4 + 5
    assert {user_id: points for user_id, _, points, _, _ in board} == {
        user_id: points for user_id, points, _ in players
    }, "the leaderboard counts each answer once, as the round does"


async def test_private_rounds_answered_together_move_on_with_a_fixed_number_of_writes(
    uow_factory, mini_glossary, clock
):
    """Each answer in a solo round closes its question and opens the next. A batch of them, in
    many chats, typed (naming no question) and picked alike, still writes each table once."""
    quiz = QuizService(uow_factory, mini_glossary, rng=random.Random(5))
    users = [Sender(str(100 + i), f"Learner {i}", "en") for i in range(12)]
    chats = [ChatRef("test", f"dm-{u.platform_user_id}", "private") for u in users]
    asks = []
    for chat, user in zip(chats, users, strict=True):
        replies = await quiz.start_round(chat, user, clock(), RoundRequest(questions=3))
        asks.append(next(r for r in replies if isinstance(r, AskQuestion)))
    assert {a.question.is_multiple_choice for a in asks} == {True, False}, "both kinds"

    clock.advance(3)
    burst = []
    for chat, user, ask in zip(chats, users, asks, strict=True):
        event_id = f"a-{user.platform_user_id}"
        if ask.question.is_multiple_choice:
            ref = f"rq:{ask.round_question_id}"
            option = ask.question.correct_option
            burst.append(
                OptionAnswer(chat, user, event_id, clock(), option=option, question_ref=ref)
            )
        else:
            burst.append(TextAnswer(chat, user, event_id, clock(), text=ask.question.answer))

    async with uow_factory() as uow:
        engine = uow.session.bind.sync_engine
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement.split(None, 1)[0].upper())

    event.listen(engine, "before_cursor_execute", count)
    try:
        results = await asyncio.gather(*(quiz.answer(e) for e in burst))
    finally:
        event.remove(engine, "before_cursor_execute", count)

    for ask, replies in zip(asks, results, strict=True):
        assert [type(r) for r in replies] == [AnswerFeedback, QuestionResult, AskQuestion]
        assert replies[0].correct and replies[2].position == 2
        assert replies[2].round_question_id != ask.round_question_id
    # One transaction whose statements do not grow with the chats in it: a look-up of each
    # kind (users, questions, chats, rounds, the rounds' questions, players, dedup keys with
    # tries), then one write per table (questions closed and opened, answers, players,
    # scores, rounds).
    assert len(statements) <= 13, statements
    assert statements.count("UPDATE") + statements.count("INSERT") <= 6, statements
    assert await count_rows(uow_factory, "answers") == len(burst)
    async with uow_factory() as uow:
        for ask in asks:
            closed = await uow.rounds.question(ask.round_question_id)
            assert closed.status == "closed" and closed.closed_at is not None
            round_ = await uow.rounds.get(closed.round_id, lock=False)
            opened = await uow.rounds.question_at(round_.id, 2)
            assert opened.status == "open" and opened.opened_at is not None


def test_a_player_row_reads_into_a_player_state_by_position():
    """`_Batch.load_players` builds PlayerState(user_id, *PLAYER_FIELDS) from row positions."""
    assert [f.name for f in fields(PlayerState)] == ["user_id", *PLAYER_FIELDS]
