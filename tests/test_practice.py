"""Spaced-repetition practice through the dispatcher, as an adapter drives it, on a real database
(SQLite, and PostgreSQL when configured) with a fake clock over several days."""

from __future__ import annotations

import itertools
import random
from datetime import timedelta

import fsrs
import pytest
from sqlalchemy import select, text

import bot.storage.practice_models  # noqa: F401  (until bot.storage.models imports it)
from bot.core.boards import BoardService
from bot.core.dispatcher import Dispatcher
from bot.core.events import ChatRef, Command, OptionAnswer, Sender, TextAnswer
from bot.core.features import register
from bot.core.practice import PracticeService, interval_text, parse_tz, rating_for
from bot.core.replies import AnswerFeedback, AskQuestion, Image, Leaderboard, Notice
from bot.core.services import QuizService
from bot.storage.practice_models import StudyCard
from bot.storage.uow import UnitOfWork
from tests.conftest import count_rows

DM = ChatRef("test", "dm-1", "private", "")
ME = Sender("1", "Mei", "en")
GROUP = ChatRef("test", "g-1", "group", "Club")

_ids = itertools.count(1)


class Harness:
    """The core as an adapter sees it, with practice registered like bot.app does."""

    def __init__(self, uow_factory, glossary, clock, *, new_per_day=3, seed=5) -> None:
        self.uow = uow_factory
        self.clock = clock
        quiz = QuizService(uow_factory, glossary, rng=random.Random(seed))
        self.dispatcher = Dispatcher(quiz, BoardService(uow_factory))
        self.practice = PracticeService(
            uow_factory,
            glossary,
            scheduler=fsrs.Scheduler(enable_fuzzing=False),
            rng=random.Random(seed),
            new_per_day=new_per_day,
        )
        self.features = register(
            self.dispatcher, uow_factory, glossary, clock, practice=self.practice
        )

    async def command(self, name, *args, sender=ME, chat=DM):
        event = Command(chat, sender, f"e{next(_ids)}", self.clock(), name=name, args=args)
        return await self.dispatcher.dispatch(event)

    async def pick(self, ask: AskQuestion, option: int, *, event_id=None, sender=ME, chat=DM):
        event = OptionAnswer(
            chat,
            sender,
            event_id or f"e{next(_ids)}",
            self.clock(),
            option=option,
            question_ref=ask.question_ref,
        )
        return await self.dispatcher.dispatch(event)

    async def type(self, words: str, *, sender=ME, chat=DM, ref=None):
        event = TextAnswer(
            chat, sender, f"e{next(_ids)}", self.clock(), text=words, question_ref=ref
        )
        return await self.dispatcher.dispatch(event)

    async def answer(self, ask: AskQuestion, *, right: bool, after: float = 2.0):
        """Answer a practice question right or wrong `after` seconds, the way its kind asks."""
        self.clock.advance(after)
        q = ask.question
        if q.options:
            option = q.correct_option if right else (q.correct_option + 1) % len(q.options)
            return await self.pick(ask, option)
        return await self.type(q.answer if right else "no idea at all")

    async def card(self, entry_id: str) -> StudyCard:
        async with self.uow() as uow:
            card = (
                await uow.session.execute(select(StudyCard).where(StudyCard.entry_id == entry_id))
            ).scalar_one()
            uow.session.expunge(card)  # readable after the block
            return card


def first(replies, kind):
    found = [r for r in replies if isinstance(r, kind)]
    assert found, f"no {kind.__name__} in {replies!r}"
    return found[0]


def asked(replies) -> AskQuestion | None:
    found = [r for r in replies if isinstance(r, AskQuestion)]
    return found[0] if found else None


@pytest.fixture
def h(uow_factory, mini_glossary, clock):
    return Harness(uow_factory, mini_glossary, clock)


# ------------------------------------------------------------------ pure rules


def test_ratings_follow_correctness_speed_and_hints():
    R = fsrs.Rating
    assert rating_for(False, multiple_choice=True, seconds=1, hints=0) == R.Again
    assert rating_for(True, multiple_choice=True, seconds=5, hints=0) == R.Easy
    assert rating_for(True, multiple_choice=True, seconds=10, hints=0) == R.Good
    assert rating_for(True, multiple_choice=False, seconds=10, hints=0) == R.Easy
    assert rating_for(True, multiple_choice=False, seconds=20, hints=0) == R.Good
    assert rating_for(True, multiple_choice=False, seconds=31, hints=0) == R.Hard
    assert rating_for(True, multiple_choice=True, seconds=2, hints=1) == R.Hard


def test_intervals_and_time_zones_read_naturally():
    assert interval_text("en", timedelta(days=3)) == "in 3 days"
    assert interval_text("en", timedelta(minutes=10)) == "in 10 minutes"
    assert interval_text("en", timedelta(days=1)) == "tomorrow"
    assert interval_text("zh", timedelta(days=3)) == "3 天后"
    assert parse_tz("asia/shanghai") == "Asia/Shanghai"  # the dispatcher lower-cases arguments
    assert parse_tz("utc+8") == "UTC+08:00"
    assert parse_tz("+05:30") == "UTC+05:30"
    assert parse_tz("mars/olympus") is None


# ------------------------------------------------------------------ practice sessions


async def test_new_terms_are_capped_per_day_and_rated_by_speed(h, uow_factory):
    replies = await h.command("practice")
    assert "due for review: 0; new terms left for today: 3" in first(replies, Notice).text
    ask = first(replies, AskQuestion)
    assert ask.question_ref.startswith("pr:") and ask.question.options  # new term: choices
    assert ask.text.startswith("Practice · 1 · new term")

    seen = []
    for n in range(3):
        seen.append(ask.question.entry_id)
        replies = await h.answer(ask, right=True, after=3)  # quick: Easy
        feedback = first(replies, AnswerFeedback)
        assert feedback.correct and feedback.points == 0
        assert "Easy · next review in 8 days" in feedback.text
        ask = asked(replies)
        if n < 2:
            assert ask is not None and ask.question.entry_id not in seen
    assert ask is None  # the daily cap of three is reached and nothing is due
    done = first(replies, Notice).text
    assert "Session done: 3 answered, 3 right." in done
    assert "Next review in 8 days." in done
    assert "New terms started today: 3 (daily limit 3)" in done

    # Still the same day: nothing new; `practice more` opens five more.
    h.clock.advance(3600)
    replies = await h.command("practice")
    assert asked(replies) is None and "Nothing is due" in first(replies, Notice).text
    replies = await h.command("practice", "more")
    assert asked(replies) is not None and asked(replies).question.entry_id not in seen

    # Practice answers are in the answers table (no round) but earn no leaderboard points.
    assert await count_rows(uow_factory, "answers") == 3
    assert await count_rows(uow_factory, "scores") == 0
    async with uow_factory() as uow:
        nulls = await uow.session.execute(
            text("SELECT count(*) FROM answers WHERE round_question_id IS NULL AND points = 0")
        )
        assert nulls.scalar_one() == 3
    card = await h.card(seen[0])
    assert card.state == fsrs.State.Review and card.reps == 1 and card.typed_ready

    # The next (UTC) day the cap starts again.
    h.clock.advance(86400)
    await h.command("practice", "stop")
    replies = await h.command("practice")
    assert "new terms left for today: 3" in first(replies, Notice).text


async def test_due_terms_come_first_in_due_order_over_several_days(h):
    replies = await h.command("practice")
    ask = first(replies, AskQuestion)
    terms = {}
    # Three new terms: Easy (fast), Good (10 s), Again (wrong).
    for label, right, after in (("easy", True, 2), ("good", True, 10), ("again", False, 4)):
        terms[label] = ask.question.entry_id
        replies = await h.answer(ask, right=right, after=after)
        ask = asked(replies)
    feedback = first(replies, AnswerFeedback)
    assert not feedback.correct and "Again · next review in a minute" in feedback.text
    assert "The answer:" in feedback.text
    assert ask is None and "Next review in a minute." in first(replies, Notice).text

    again = await h.card(terms["again"])
    assert again.state == fsrs.State.Learning and again.reps == 1
    good = await h.card(terms["good"])
    assert good.due - h.clock() > timedelta(minutes=9)  # ten-minute learning step

    # A quarter of an hour later both learning terms are due: the most overdue first.
    h.clock.advance(15 * 60)
    replies = await h.command("practice")
    assert "due for review: 2" in first(replies, Notice).text
    ask = first(replies, AskQuestion)
    assert ask.question.entry_id == terms["again"]
    assert not ask.text.endswith("new term")
    replies = await h.answer(ask, right=True, after=20)  # Good, typed or by choice
    ask = first(replies, AskQuestion)
    assert ask.question.entry_id == terms["good"]
    replies = await h.answer(ask, right=True, after=20)
    assert "Good · next review in 2 days" in first(replies, AnswerFeedback).text
    assert asked(replies) is None  # the Easy term waits eight days; the cap is spent

    # Two days on: the Good term is due; the Easy one is not yet.
    h.clock.advance(2 * 86400)
    replies = await h.command("practice")
    due_now = [first(replies, AskQuestion).question.entry_id]
    assert due_now[0] in (terms["good"], terms["again"])
    assert terms["easy"] not in due_now

    # Eight days after it was learnt, the Easy term is due again.
    await h.command("practice", "stop")
    h.clock.advance(6 * 86400)
    async with h.uow() as uow:
        due = await uow.session.execute(
            select(StudyCard.entry_id).where(StudyCard.due <= h.clock()).order_by(StudyCard.due)
        )
        assert terms["easy"] in due.scalars().all()


async def test_typed_questions_once_a_term_was_right_by_choice(h, mini_glossary):
    replies = await h.command("practice")
    ask = first(replies, AskQuestion)
    entry_id = ask.question.entry_id
    assert ask.question.options
    # Answered right but slowly (Hard): it comes back within the session day.
    await h.answer(ask, right=True, after=40)
    card = await h.card(entry_id)
    assert card.typed_ready
    typed_possible = any(
        h.practice.generator.make(mini_glossary.get(entry_id), qt) is not None
        for qt in ("fill", "cloze")
    )
    assert typed_possible  # the user's first term is fixed; it has typed questions
    await h.command("practice", "stop")
    h.clock.advance(card.due.timestamp() - h.clock().timestamp() + 1)
    replies = await h.command("practice")
    ask = first(replies, AskQuestion)
    assert ask.question.entry_id == entry_id
    assert not ask.question.options and "Type your answer" in ask.text
    replies = await h.type(ask.question.answer)  # a plain text message finds it
    assert first(replies, AnswerFeedback).correct


async def test_hints_make_a_right_answer_hard(h):
    ask = first(await h.command("practice"), AskQuestion)
    hint = first(await h.command("practice", "hint"), Notice)
    assert hint.text.startswith("Hint 1/2:")
    replies = await h.answer(ask, right=True, after=2)
    assert "Hard · next review" in first(replies, AnswerFeedback).text


async def test_idle_session_ends_by_itself_and_progress_stays(h, uow_factory):
    ask = first(await h.command("practice"), AskQuestion)
    await h.answer(ask, right=True, after=2)
    ask = asked(await h.command("practice"))  # carries on with the open question
    assert ask is not None
    h.clock.advance(31 * 60)
    replies = await h.answer(ask, right=True, after=0)
    assert "ended after 30 minutes" in first(replies, Notice).text
    assert await count_rows(uow_factory, "answers") == 1
    assert await count_rows(uow_factory, "cards") == 1
    replies = await h.command("practice")
    assert asked(replies) is not None
    assert "new terms left for today: 2" in first(replies, Notice).text  # one was learnt already


async def test_stop_then_text_goes_back_to_the_quiz(h):
    first(await h.command("practice"), AskQuestion)
    stopped = first(await h.command("practice", "stop"), Notice)
    assert "Practice stopped and saved: 0 answered" in stopped.text
    replies = await h.type("dropout")
    assert "No question is open right now" in first(replies, Notice).text


async def test_answers_survive_a_restart_and_are_counted_once(h, uow_factory, mini_glossary, clock):
    ask = first(await h.command("practice"), AskQuestion)
    # A new process on the same database takes the button press by its reference.
    other = Harness(uow_factory, mini_glossary, clock, seed=99)
    clock.advance(3)
    event_id = "same-update"
    replies = await other.pick(ask, ask.question.correct_option, event_id=event_id)
    assert first(replies, AnswerFeedback).correct
    assert await other.pick(ask, ask.question.correct_option, event_id=event_id) == []
    assert await count_rows(uow_factory, "answers") == 1
    # The old question is closed now; a forged reference changes nothing.
    replies = await h.pick(ask, 0)
    assert "already answered" in first(replies, Notice).text
    forged = AskQuestion(DM, "", question=ask.question, question_ref="pr:999999")
    assert "not open here" in first(await h.pick(forged, 0), Notice).text
    assert await count_rows(uow_factory, "answers") == 1


async def test_practice_is_private_and_leaves_group_answers_to_rounds(h):
    replies = await h.command("practice", chat=GROUP)
    assert "message me privately" in first(replies, Notice).text
    replies = await h.type("dropout", chat=GROUP)
    assert "No question is open right now" in first(replies, Notice).text
    # A running quiz round in the private chat keeps its typed answers.
    await h.command("quiz")
    assert "quiz round is running" in first(await h.command("practice"), Notice).text


async def test_review_replays_missed_terms_until_each_is_right(h):
    ask = first(await h.command("practice"), AskQuestion)
    missed = []
    for right in (False, True, False):
        if not right:
            missed.append(ask.question.entry_id)
        ask = asked(await h.answer(ask, right=right, after=3))
    await h.command("practice", "stop")

    replies = await h.command("review")
    assert "terms you missed in the last 7 days (2)" in first(replies, Notice).text
    ask = first(replies, AskQuestion)
    assert ask.text.startswith("Review · 1")
    assert ask.question.entry_id == missed[0]
    ask = asked(await h.answer(ask, right=False))  # still missed: comes back later
    assert ask.question.entry_id == missed[1]
    ask = asked(await h.answer(ask, right=True))
    assert ask.question.entry_id == missed[0]
    replies = await h.answer(ask, right=True)
    assert asked(replies) is None
    assert "review complete" in first(replies, Notice).text
    assert "No missed terms" not in first(replies, Notice).text

    h.clock.advance(8 * 86400)
    assert "No missed terms" in first(await h.command("review"), Notice).text


async def test_reminders_once_a_day_in_the_users_time_zone(h):
    replies = await h.command("remind", "on", "08:30", "asia/shanghai")
    assert "at 08:30 (Asia/Shanghai)" in first(replies, Notice).text
    assert "Usage" in first(await h.command("remind", "sometime"), Notice).text
    # Nothing due yet: no reminder.
    assert await h.practice.due_reminders(h.clock()) == []

    ask = first(await h.command("practice"), AskQuestion)
    await h.answer(ask, right=False)  # due again in a minute
    await h.command("practice", "stop")
    # 2026-11-25 12:00 UTC is 20:00 in Shanghai: today's reminder time has passed when it was
    # switched on, so the first one comes the next morning at 08:30 (00:30 UTC).
    h.clock.advance(12 * 3600)  # 08:00 local
    assert await h.practice.due_reminders(h.clock()) == []
    h.clock.advance(45 * 60)  # 08:45 local
    sent = await h.practice.due_reminders(h.clock())
    assert sent == [
        ("test", "dm-1", "⏰ Terms due for review: 1. Send /practice to keep them fresh.")
    ]
    assert await h.practice.due_reminders(h.clock()) == []  # once a day
    assert "off" in first(await h.command("remind", "off"), Notice).text


async def test_leaderboard_image_through_the_dispatcher(h, uow_factory):
    async with uow_factory() as uow:
        chat = await uow.chats.get_or_create(GROUP, h.clock())
        for i, name in enumerate(("Ada", "Bo", "张伟", "Dee"), start=1):
            user = await uow.users.get_or_create("test", Sender(str(10 + i), name), h.clock())
            await uow.scores.add_many([(user.id, chat.id, 1000 - 100 * i, True, h.clock())])
        await uow.commit()
    replies = await h.command("leaderboard", "week", "image", chat=GROUP)
    [image] = replies  # the picture alone: no text board with an offer to draw it as well
    board = first(await h.command("leaderboard", "week", chat=GROUP), Leaderboard)
    assert [r.name for r in board.rows] == ["Ada", "Bo", "张伟", "Dee"]
    assert isinstance(image, Image)
    assert image.png.startswith(b"\x89PNG\r\n\x1a\n") and image.text == board.title
    width = int.from_bytes(image.png[16:20], "big")
    assert width == 1000


async def test_typed_answers_go_to_the_running_round_without_asking_practice(h, monkeypatch):
    """Private typed answers name no question: the quiz takes them when a round runs, and
    practice is asked only when none does (it would have to look the chat up)."""
    asked_practice = []
    real = PracticeService.answer

    async def spy(self, event):
        asked_practice.append(event.event_id)
        return await real(self, event)

    monkeypatch.setattr(PracticeService, "answer", spy)
    start = await h.command("quiz", "start", "2")
    round_ask = first(start, AskQuestion)
    h.clock.advance(2)
    replies = await h.type(round_ask.question.answer)
    assert not [r for r in replies if isinstance(r, Notice) and "No question" in r.text]
    assert asked_practice == [], "a round was running: practice never looked"

    await h.command("quiz", "stop")
    first(await h.command("practice"), AskQuestion)
    transactions = []
    real_enter = UnitOfWork.__aenter__

    async def counted(self):
        transactions.append(self)
        return await real_enter(self)

    monkeypatch.setattr(UnitOfWork, "__aenter__", counted)
    replies = await h.type("dropout")
    assert len(asked_practice) == 1, "no round: the answer was offered to practice"
    assert not [r for r in replies if "No question is open" in r.text], "practice took it"
    # One transaction to learn that no round runs, one for practice to find and record it.
    assert len(transactions) == 2
