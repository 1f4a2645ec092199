"""Group rounds, scoring and leaderboards through the platform-neutral core, on a real database
(SQLite, and PostgreSQL when configured) with a fake clock."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta

import pytest

from bot.core.boards import BoardService
from bot.core.dispatcher import Dispatcher
from bot.core.events import ChatRef, Command, OptionAnswer, Sender, TextAnswer
from bot.core.replies import (
    AnswerFeedback,
    AskQuestion,
    Confirm,
    Leaderboard,
    Notice,
    QuestionResult,
    RoundOver,
)
from bot.core.services import QuizService
from tests.conftest import count_rows

GROUP = ChatRef("test", "g1", "group", "Quiz Club")
ADMIN = Sender("100", "Ada", "en", is_admin=True)
ALICE = Sender("1", "Alice", "en")
BOB = Sender("2", "Bob", "en")
CAROL = Sender("3", "Carol", "zh")

_ids = itertools.count(1)


class Harness:
    """The core as an adapter sees it: events in, replies out, plus a fake clock."""

    def __init__(self, uow_factory, glossary, clock, seed: int = 7) -> None:
        self.uow = uow_factory
        self.clock = clock
        self.quiz = QuizService(uow_factory, glossary, rng=random.Random(seed))
        self.dispatcher = Dispatcher(self.quiz, BoardService(uow_factory))

    async def dispatch(self, event):
        return await self.delivered(await self.dispatcher.dispatch(event))

    async def delivered(self, replies):
        """As an adapter does once the platform took them: the round messages are posted."""
        for reply in replies:
            if isinstance(reply, AskQuestion) and reply.round_question_id:
                await self.quiz.mark_posted(reply.round_question_id, None, self.clock())
            elif isinstance(reply, QuestionResult):
                await self.quiz.mark_result_posted(reply.round_question_id)
            elif isinstance(reply, RoundOver):
                await self.quiz.mark_end_posted(reply.round_id)
        return replies

    async def command(self, sender, name, *args, chat=GROUP):
        event = Command(chat, sender, f"u{next(_ids)}", self.clock(), name=name, args=args)
        return await self.dispatch(event)

    async def pick(self, sender, ask: AskQuestion, option: int, *, event_id=None, chat=GROUP):
        event = OptionAnswer(
            chat,
            sender,
            event_id or f"u{next(_ids)}",
            self.clock(),
            option=option,
            question_ref=f"rq:{ask.round_question_id}",
        )
        return await self.dispatch(event)

    async def type(self, sender, text, *, chat=GROUP, ref=None):
        event = TextAnswer(
            chat, sender, f"u{next(_ids)}", self.clock(), text=text, question_ref=ref
        )
        return await self.dispatch(event)

    async def tick(self, round_id):
        return await self.delivered(await self.quiz.tick(round_id, self.clock()))


def first(replies, kind):
    found = [r for r in replies if isinstance(r, kind)]
    assert found, f"no {kind.__name__} in {replies!r}"
    return found[0]


def wrong_option(ask: AskQuestion) -> int:
    return (ask.question.correct_option + 1) % len(ask.question.options)


async def round_id_of(h: Harness) -> int:
    async with h.uow() as uow:
        chat = await uow.chats.get_or_create(GROUP, h.clock())
        return (await uow.rounds.running(chat.id, lock=False)).id


@pytest.fixture
async def h(uow_factory, mini_glossary, clock):
    harness = Harness(uow_factory, mini_glossary, clock)
    await harness.command(ADMIN, "settings", "types", "mc")
    # Both glossary languages (an English group is asked English terms by default), so that
    # the small glossary fills a round of ten.
    await harness.command(ADMIN, "settings", "lang", "mixed")
    return harness


async def test_group_round_with_speed_scoring_streaks_and_early_close(h, uow_factory):
    replies = await h.command(ALICE, "quiz")
    assert "10 questions, 20 s each" in first(replies, Notice).text
    ask = first(replies, AskQuestion)
    assert ask.position == 1 and ask.total == 10 and ask.seconds == 20
    assert ask.question.options and ask.text.startswith("Question 1/10")

    right = ask.question.correct_option
    h.clock.advance(2)
    alice = await h.pick(ALICE, ask, right)
    assert first(alice, AnswerFeedback).points == 950  # 1000 * (1 - 2/20/2)
    h.clock.advance(8)
    bob = await h.pick(BOB, ask, right)
    assert first(bob, AnswerFeedback).points == 750
    carol = await h.pick(CAROL, ask, wrong_option(ask))
    # Carol's app speaks Chinese, but the group speaks English (its first user's language):
    # her own verdict too, so that she never sees the two alternate.
    assert "Not quite" in first(carol, AnswerFeedback).text
    # The first question of a group round waits for the clock: nobody knows who plays yet.
    assert not any(isinstance(r, QuestionResult) for r in alice + bob + carol)

    h.clock.advance(10)
    closed = await h.tick(await round_id_of(h))
    result = first(closed, QuestionResult)
    assert result.winners == ("Alice", "Bob")
    assert [s.name for s in result.top] == ["Alice", "Bob", "Carol"]
    assert "Alice" in result.text and ask.question.answer in result.text
    ask2 = first(closed, AskQuestion)
    assert ask2.position == 2

    # Question 2: a streak bonus for Alice, and the question closes once all three answered.
    right2 = ask2.question.correct_option
    a2 = await h.pick(ALICE, ask2, right2)
    assert first(a2, AnswerFeedback).points == 1000 + 100
    await h.pick(BOB, ask2, wrong_option(ask2))
    c2 = await h.pick(CAROL, ask2, right2)
    assert first(c2, AnswerFeedback).points == 1000  # no streak: she missed question 1
    assert first(c2, QuestionResult).winners == ("Alice", "Carol")
    assert first(c2, AskQuestion).position == 3

    assert await count_rows(uow_factory, "answers") == 6
    board = first(await h.command(BOB, "leaderboard"), Leaderboard)
    assert [(r.name, r.points) for r in board.rows] == [
        ("Alice", 950 + 1100),
        ("Carol", 1000),
        ("Bob", 750),
    ]
    assert board.rows[2].is_caller and board.rows[0].correct == 2


async def test_a_redelivered_answer_is_scored_once(h, uow_factory):
    ask = first(await h.command(ALICE, "quiz"), AskQuestion)
    once = await h.pick(ALICE, ask, ask.question.correct_option, event_id="update-42")
    again = await h.pick(ALICE, ask, ask.question.correct_option, event_id="update-42")
    assert first(once, AnswerFeedback).correct
    assert again == []
    assert await count_rows(uow_factory, "answers") == 1
    board = first(await h.command(ALICE, "leaderboard"), Leaderboard)
    assert board.rows[0].points == 1000 and board.rows[0].answered == 1


async def test_one_answer_per_player_on_multiple_choice(h, uow_factory):
    ask = first(await h.command(ALICE, "quiz"), AskQuestion)
    await h.pick(ALICE, ask, wrong_option(ask))
    second = await h.pick(ALICE, ask, ask.question.correct_option)
    assert "already answered" in first(second, Notice).text
    assert await count_rows(uow_factory, "answers") == 1


async def test_a_late_answer_scores_nothing_and_says_so(h, uow_factory):
    ask = first(await h.command(ALICE, "quiz"), AskQuestion)
    h.clock.advance(25)
    late = await h.pick(BOB, ask, ask.question.correct_option)
    feedback = first(late, AnswerFeedback)
    assert feedback.late and "Too late" in feedback.text
    assert await count_rows(uow_factory, "answers") == 0


async def test_one_round_per_chat_and_the_busy_message_names_the_question(h):
    await h.command(ALICE, "quiz")
    busy = first(await h.command(BOB, "quiz"), Notice)
    assert "question 1 of 10" in busy.text and "/quiz stop" in busy.text


async def test_three_unanswered_questions_stop_the_round(h):
    await h.command(ALICE, "quiz")
    rid = await round_id_of(h)
    replies = []
    for _ in range(3):
        h.clock.advance(21)
        replies = await h.tick(rid)
    over = first(replies, RoundOver)
    assert over.reason == "idle" and "Three questions" in over.text
    assert not any(isinstance(r, AskQuestion) for r in replies)
    # The chat is free again: the lock ended with its round.
    assert first(await h.command(BOB, "quiz"), AskQuestion).position == 1


async def test_hints_rule_out_options_at_most_twice_and_cost_points(h):
    ask = first(await h.command(ALICE, "quiz"), AskQuestion)
    one = first(await h.command(BOB, "hint"), Notice)
    two = first(await h.command(BOB, "hint"), Notice)
    three = first(await h.command(BOB, "hint"), Notice)
    assert "Hint 1/2: not " in one.text and "−25%" in one.text
    assert ask.question.answer not in one.text
    assert "Hint 2/2" in two.text and "−50%" in two.text
    assert "No more hints" in three.text
    scored = await h.pick(ALICE, ask, ask.question.correct_option)
    assert first(scored, AnswerFeedback).points == 500  # 1000 * (1 - 2 * 0.25)


async def test_only_admins_or_the_starter_stop_a_round(h):
    ask = first(await h.command(ALICE, "quiz"), AskQuestion)
    await h.pick(BOB, ask, ask.question.correct_option)
    refused = first(await h.command(CAROL, "quiz", "stop"), Notice)
    assert refused.kind == "refused"
    over = first(await h.command(ADMIN, "stop"), RoundOver)
    assert over.reason == "stopped"
    assert [s.name for s in over.table] == ["Bob"] and over.table[0].answered == 1
    assert "Podium" in over.text and "Bob" in over.text


async def test_settings_are_for_admins_and_ranges_are_named(h):
    refused = first(await h.command(BOB, "settings", "seconds", "30"), Notice)
    assert refused.kind == "refused"
    bad = first(await h.command(ADMIN, "settings", "seconds", "3"), Notice)
    assert "from 5 to 600" in bad.text
    bad = first(await h.command(ADMIN, "settings", "questions", "lots"), Notice)
    assert "from 1 to 50" in bad.text
    shown = first(await h.command(BOB, "settings"), Notice)
    assert "10 questions, 20 s each" in shown.text
    ok = first(await h.command(ADMIN, "settings", "seconds", "30"), Notice)
    assert "30 s each" in ok.text


async def test_only_topics_of_the_glossary_are_saved(h):
    bad = first(await h.command(ADMIN, "settings", "topics", "training", "@everyone"), Notice)
    assert bad.kind == "usage"
    assert "no topic @everyone" in bad.text and "regularization" in bad.text
    shown = first(await h.command(BOB, "settings"), Notice)
    assert "training" not in shown.text, "nothing was changed"
    ok = first(await h.command(ADMIN, "settings", "topics", "Training,", "nlp"), Notice)
    assert ok.kind == "ok" and "topics: NLP, training;" in ok.text
    ok = first(await h.command(ADMIN, "settings", "topics", "all"), Notice)
    assert "nlp" not in ok.text


async def test_reset_needs_an_admin_and_a_confirmation(h, uow_factory):
    ask = first(await h.command(ALICE, "quiz"), AskQuestion)
    await h.pick(ALICE, ask, ask.question.correct_option)
    assert first(await h.command(BOB, "reset"), Notice).kind == "refused"
    assert isinstance(first(await h.command(ADMIN, "reset"), Confirm), Confirm)
    assert first(await h.command(ALICE, "leaderboard"), Leaderboard).rows  # nothing yet
    first(await h.command(ADMIN, "reset", "confirm"), Notice)
    assert not first(await h.command(ALICE, "leaderboard"), Leaderboard).rows
    glob = first(await h.command(ALICE, "leaderboard", "global"), Leaderboard)
    assert glob.rows and glob.rows[0].name == "Alice"  # global scores stay


async def test_leaderboard_top_ten_and_the_callers_rank(h):
    ask = first(await h.command(ADMIN, "quiz"), AskQuestion)
    players = [Sender(str(200 + i), f"P{i:02d}", "en") for i in range(12)]
    for player in players:
        h.clock.advance(1)  # later answers score less
        await h.pick(player, ask, ask.question.correct_option)
    last = players[-1]
    board = first(await h.command(last, "leaderboard"), Leaderboard)
    assert [r.name for r in board.rows] == [f"P{i:02d}" for i in range(10)]
    assert board.caller is not None and board.caller.rank == 12
    assert "12." in board.text.splitlines()[-1]


async def test_unknown_commands_and_bad_arguments_get_a_usage_line(h):
    assert "/help" in first(await h.command(ALICE, "dance"), Notice).text
    assert "Usage" in first(await h.command(ALICE, "leaderboard", "yesterday"), Notice).text
    assert first(await h.command(ALICE, "QUIZ@QuizBot"), AskQuestion)


async def test_forged_question_references_change_nothing(h, uow_factory):
    await h.command(ALICE, "quiz")
    for ref in ("rq:999999", "rq:abc", "x" * 500, "rq:-1"):
        event = OptionAnswer(GROUP, BOB, f"f{ref[:10]}", h.clock(), option=0, question_ref=ref)
        replies = await h.dispatcher.dispatch(event)
        assert all(r.kind == "error" for r in replies if isinstance(r, Notice))
    other_chat = ChatRef("test", "g2", "group")
    ask = first(await h.command(ALICE, "quiz", chat=other_chat), AskQuestion)
    stolen = await h.pick(BOB, ask, 0, chat=GROUP)  # a question of g2 answered from g1
    assert first(stolen, Notice).kind == "error"
    assert await count_rows(uow_factory, "answers") == 0


async def test_restart_mid_question_loses_nothing(h, uow_factory, mini_glossary):
    ask = first(await h.command(ALICE, "quiz"), AskQuestion)
    await h.pick(ALICE, ask, ask.question.correct_option)
    await h.pick(BOB, ask, wrong_option(ask))
    # The process dies; a new one starts on the same database after the deadline passed.
    h.clock.advance(60)
    fresh = Harness(uow_factory, mini_glossary, h.clock, seed=99)
    replies, wakeups = await fresh.quiz.resume(h.clock())
    result = first(replies, QuestionResult)
    assert result.winners == ("Alice",)
    assert first(replies, AskQuestion).position == 2
    assert wakeups and wakeups[0].at > h.clock()
    # Nothing counted twice: running resume again finds nothing to close.
    again, _ = await fresh.quiz.resume(h.clock())
    assert again == []
    assert await count_rows(uow_factory, "answers") == 2


async def test_restart_before_the_deadline_keeps_the_question_open(h, mini_glossary, uow_factory):
    started = h.clock()
    ask = first(await h.command(ALICE, "quiz"), AskQuestion)
    h.clock.advance(5)
    fresh = Harness(uow_factory, mini_glossary, h.clock, seed=99)
    replies, wakeups = await fresh.quiz.resume(h.clock())
    assert replies == []
    assert [w.at for w in wakeups] == [started + timedelta(seconds=20)]
    later = await fresh.pick(BOB, ask, ask.question.correct_option)
    assert first(later, AnswerFeedback).correct


async def test_a_restart_sends_what_the_dead_process_decided_but_never_posted(
    h, uow_factory, mini_glossary
):
    """Killed right after question 1 closed: its result and question 2 never reached the
    chat. The new process posts the result, and asks question 2 with a fresh clock."""
    ask = first(await h.command(ALICE, "quiz"), AskQuestion)
    await h.pick(ALICE, ask, ask.question.correct_option)
    h.clock.advance(20)
    round_id = await round_id_of(h)
    closed = await h.quiz.tick(round_id, h.clock())  # the process dies before delivering
    assert [type(r) for r in closed] == [QuestionResult, AskQuestion]

    h.clock.advance(45)  # down for a while: question 2's first deadline has passed
    fresh = Harness(uow_factory, mini_glossary, h.clock, seed=99)
    replies, wakeups = await fresh.quiz.resume(h.clock(), None, h.clock())
    result, again = replies
    assert isinstance(result, QuestionResult) and result.winners == ("Alice",)
    assert result.round_question_id == ask.round_question_id
    assert isinstance(again, AskQuestion) and again.position == 2
    assert again.round_question_id == closed[1].round_question_id
    assert [w.at for w in wakeups] == [h.clock() + timedelta(seconds=20)]  # a fresh clock
    # Delivered this time: nothing is owed any more, nothing is sent twice.
    await fresh.delivered(replies)
    assert (await fresh.quiz.resume(h.clock(), None, h.clock()))[0] == []


async def test_a_restart_sends_an_undelivered_podium_but_not_a_day_later(
    h, uow_factory, mini_glossary
):
    ask = first(await h.command(ALICE, "quiz", "start", "1"), AskQuestion)
    await h.pick(ALICE, ask, ask.question.correct_option)
    h.clock.advance(20)
    closed = await h.quiz.tick(await round_id_of(h), h.clock())  # never delivered
    assert [type(r) for r in closed] == [QuestionResult, RoundOver]
    h.clock.advance(5)  # the new process starts
    fresh = Harness(uow_factory, mini_glossary, h.clock, seed=99)
    owed = await fresh.quiz.owed(h.clock(), None, h.clock())
    assert [type(r) for r in owed] == [QuestionResult, RoundOver]
    assert owed[1].table[0].name == "Alice"
    h.clock.advance(24 * 3600 + 1)
    assert await fresh.quiz.owed(h.clock(), None, h.clock()) == []


async def test_what_a_live_process_decided_since_it_started_is_not_owed(h):
    """The decisions of the process that is running (its posts on their way) are its own."""
    started = h.clock()
    first(await h.command(ALICE, "quiz"), AskQuestion)
    round_id = await round_id_of(h)
    h.clock.advance(20)
    await h.quiz.tick(round_id, h.clock())  # result and question 2 on their way
    assert await h.quiz.owed(h.clock(), None, started) == []
    assert await h.quiz.owed(h.clock(), ("discord",), h.clock()) == []  # another platform's


async def test_a_question_that_never_reached_the_chat_gets_no_result(h, uow_factory):
    """Its post failed (the group gone, the platform down): at its deadline it is asked again
    with a fresh clock, and after three such questions in a row the round ends as idle."""
    replies = await h.dispatcher.dispatch(
        Command(GROUP, ALICE, "unseen", h.clock(), name="quiz", args=())
    )  # not delivered
    ask = first(replies, AskQuestion)
    round_id = await round_id_of(h)
    failed = {ask.round_question_id}  # as the hub notes a post that failed
    for _ in (1, 2):
        h.clock.advance(20)
        (again,) = await h.quiz.tick(round_id, h.clock(), unseen=failed)
        assert isinstance(again, AskQuestion)
        assert again.round_question_id == ask.round_question_id and again.position == 1
        assert again.seconds == 20
    h.clock.advance(20)
    (over,) = await h.quiz.tick(round_id, h.clock(), unseen=failed)
    assert isinstance(over, RoundOver) and over.reason == "idle"
    assert await count_rows(uow_factory, "answers") == 0


async def test_a_posted_question_nobody_answered_gets_its_result(h):
    ask = first(await h.command(ALICE, "quiz"), AskQuestion)  # delivered
    h.clock.advance(20)
    result, following = await h.tick(await round_id_of(h))
    assert isinstance(result, QuestionResult) and result.winners == ()
    assert result.round_question_id == ask.round_question_id
    assert isinstance(following, AskQuestion) and following.position == 2


async def test_typed_answers_allow_retries_and_classic_mode_closes_on_the_first_right(h):
    await h.command(ADMIN, "settings", "types", "fill")
    await h.command(ADMIN, "settings", "mode", "classic")
    ask = first(await h.command(ALICE, "quiz"), AskQuestion)
    assert not ask.question.options and "Reply to this message" in ask.text
    ref = f"rq:{ask.round_question_id}"
    wrong = await h.type(BOB, "definitely not it", ref=ref)
    assert not first(wrong, AnswerFeedback).correct
    right = await h.type(BOB, ask.question.answer.upper(), ref=ref)
    assert first(right, AnswerFeedback).points == 1
    assert first(right, QuestionResult).winners == ("Bob",)


async def test_a_solo_round_in_a_private_chat_runs_to_the_end(uow_factory, mini_glossary, clock):
    h = Harness(uow_factory, mini_glossary, clock)
    me = ChatRef("test", "dm-1", "private")
    replies = await h.command(ALICE, "quiz", "start", "3", chat=me)
    for position in (1, 2, 3):
        ask = first(replies, AskQuestion)
        assert ask.position == position and ask.seconds is None
        if ask.question.options:
            replies = await h.dispatcher.dispatch(
                OptionAnswer(me, ALICE, f"s{position}", clock(), option=ask.question.correct_option)
            )
        else:
            replies = await h.type(ALICE, ask.question.answer, chat=me)
        assert first(replies, AnswerFeedback).correct
        first(replies, QuestionResult)
    over = first(replies, RoundOver)
    assert over.reason == "done" and "3 of 3" in over.text


async def test_solo_typed_questions_allow_three_tries_then_show_the_answer(
    uow_factory, mini_glossary, clock
):
    h = Harness(uow_factory, mini_glossary, clock)
    me = ChatRef("test", "dm-2", "private")
    await h.command(ALICE, "settings", "types", "fill", chat=me)
    ask = first(await h.command(ALICE, "quiz", "start", "2", chat=me), AskQuestion)
    one = await h.type(ALICE, "nope", chat=me)
    assert "Try again" in first(one, AnswerFeedback).text
    two = await h.type(ALICE, "still no", chat=me)
    assert "Try again" in first(two, AnswerFeedback).text
    three = await h.type(ALICE, "no idea", chat=me)
    assert "Try again" not in first(three, AnswerFeedback).text
    assert ask.question.answer in first(three, QuestionResult).text
    assert first(three, AskQuestion).position == 2
