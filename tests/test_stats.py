"""Personal statistics from a known answer history: totals, streaks, points, mastery, the
weakest terms, the 30-day series, and the `stats` command as an adapter sees it."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

import bot.storage.practice_models  # noqa: F401  (until bot.storage.models imports it)
from bot.core.boards import BoardService
from bot.core.charts import DayStat
from bot.core.dispatcher import Dispatcher
from bot.core.events import ChatRef, Command, Sender
from bot.core.features import register
from bot.core.practice import zone
from bot.core.replies import Image, Notice
from bot.core.services import QuizService
from bot.core.stats import StatsService, streaks
from bot.storage.practice_models import StudyCard

DM = ChatRef("test", "dm-1", "private", "")
GROUP = ChatRef("test", "g-1", "group", "Club")
ME = Sender("1", "Mei", "en")

# (days ago, hour UTC, entry, right): 11 answers, 8 right; streaks of 2 (now) and 4 (best).
HISTORY = [
    (2, 10, "dropout", True),
    (2, 10, "tensor", True),
    (2, 11, "epoch", False),
    (1, 9, "epoch", False),
    (1, 9, "dropout", True),
    (1, 9, "tensor", True),
    (1, 20, "gradient", True),
    (0, 8, "loss-function", True),
    (0, 9, "epoch", False),
    (0, 10, "loss-function", True),
    (0, 11, "gradient", True),
]
# entry -> FSRS stability in days (21 and more: mastered)
CARDS = {"dropout": 30.0, "tensor": 22.5, "gradient": 3.0, "epoch": 0.4}

_ids = itertools.count(1)


async def seed_history(uow_factory, clock) -> int:
    today = clock().replace(hour=0, minute=0)
    async with uow_factory() as uow:
        chat = await uow.chats.get_or_create(DM, clock())
        user = await uow.users.get_or_create("test", ME, clock())
        for days_ago, hour, entry_id, right in HISTORY:
            at = today - timedelta(days=days_ago) + timedelta(hours=hour)
            await uow.answers.add(
                dedup_key=f"seed:{next(_ids)}",
                user_id=user.id,
                chat_id=chat.id,
                round_question_id=None,
                entry_id=entry_id,
                question_type="def_term",
                given="x",
                option_index=None,
                correct=right,
                judged="exact" if right else "wrong",
                points=0,
                response_ms=3000,
                hints_used=0,
                created_at=at,
            )
        # Points: 700 + 300 this week, and 500 three weeks ago (all-time only).
        await uow.scores.add_many(
            [
                (user.id, chat.id, 700, True, clock()),
                (user.id, chat.id, 300, True, clock()),
                (user.id, chat.id, 500, True, clock() - timedelta(days=21)),
            ]
        )
        for entry_id, stability in CARDS.items():
            uow.session.add(
                StudyCard(
                    user_id=user.id,
                    entry_id=entry_id,
                    fsrs={},
                    state=2,
                    due=clock() + timedelta(days=1),
                    stability=stability,
                    difficulty=5.0,
                    reps=1,
                    lapses=0,
                    typed_ready=False,
                    last_review=clock(),
                    created_at=clock(),
                )
            )
        await uow.commit()
        return user.id


def test_streaks():
    assert streaks([]) == (0, 0)
    assert streaks([True, True, False, True]) == (1, 2)
    assert streaks([False, True, True, True]) == (3, 3)


async def test_figures_from_a_known_history(uow_factory, mini_glossary, clock):
    user_id = await seed_history(uow_factory, clock)
    f = await StatsService(uow_factory, mini_glossary).figures(user_id, clock())
    assert (f.answered, f.correct) == (11, 8)
    assert round(f.accuracy * 100) == 73
    assert (f.current_streak, f.best_streak) == (2, 4)
    assert (f.points_week, f.points_all) == (1000, 1500)
    assert (f.mastered, f.total_terms) == (2, 10)
    assert [w.entry_id for w in f.weakest] == ["epoch"]
    assert (f.weakest[0].wrong, f.weakest[0].answered) == (3, 3)

    today = clock().date()
    assert len(f.days) == 30 and f.days[-1].day == today
    assert f.days[-1] == DayStat(today, 4, 3)
    assert f.days[-2] == DayStat(today - timedelta(days=1), 4, 3)
    assert f.days[-3] == DayStat(today - timedelta(days=2), 3, 2)
    assert sum(d.answered for d in f.days[:-3]) == 0

    topics = {s.topic: s for s in f.topics}
    assert (topics["training"].total, topics["training"].mastered) == (4, 0)
    assert topics["training"].learning == 2  # gradient and epoch have cards
    assert (topics["regularization"].mastered, topics["data"].mastered) == (1, 1)
    basics = topics["basics"]
    assert (basics.total, basics.mastered, basics.learning) == (4, 0, 0)


async def test_days_follow_the_users_time_zone(uow_factory, mini_glossary, clock):
    user_id = await seed_history(uow_factory, clock)
    f = await StatsService(uow_factory, mini_glossary).figures(user_id, clock(), zone("UTC+08:00"))
    # Yesterday's 20:00 UTC answer is today's 04:00 in UTC+8.
    assert f.days[-1].answered == 5 and f.days[-2].answered == 3


@pytest.fixture
def dispatcher(uow_factory, mini_glossary, clock):
    d = Dispatcher(QuizService(uow_factory, mini_glossary), BoardService(uow_factory))
    register(d, uow_factory, mini_glossary, clock)
    return d


async def stats_command(dispatcher, clock, sender=ME, chat=DM):
    event = Command(chat, sender, f"s{next(_ids)}", clock(), name="stats")
    return await dispatcher.dispatch(event)


async def test_stats_command_text_and_chart(dispatcher, uow_factory, clock):
    await seed_history(uow_factory, clock)
    replies = await stats_command(dispatcher, clock)
    text = next(r for r in replies if isinstance(r, Notice)).text
    assert text.splitlines() == [
        "📊 Your progress",
        "Questions answered: 11 · accuracy 73%",
        "Right answers in a row: 2 now, best 4",
        "Points: 1,000 this week · 1,500 in all",
        "Terms mastered: 2 of 10 (remembered for 21+ days)",
        "Weakest terms:",
        "• Epoch — One full pass over the training data (missed 3 of 3)",
    ]
    image = next(r for r in replies if isinstance(r, Image))
    assert image.png.startswith(b"\x89PNG\r\n\x1a\n") and image.filename == "stats.png"
    assert int.from_bytes(image.png[16:20], "big") == 1000

    zh = await stats_command(dispatcher, clock, sender=Sender("1", "Mei", "zh"))
    assert "已答题数：11 · 正确率 73%" in zh[0].text


async def test_stats_before_any_answer_and_in_groups(dispatcher, uow_factory, clock):
    replies = await stats_command(dispatcher, clock, sender=Sender("9", "New"))
    assert len(replies) == 1 and "No answers yet" in replies[0].text
    await seed_history(uow_factory, clock)
    replies = await stats_command(dispatcher, clock, chat=GROUP)
    assert all(r.private_to == "1" for r in replies)  # personal figures, shown to the caller
