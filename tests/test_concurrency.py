"""Two bot processes on one database: every answer counted once, every question closed once,
the round ended once. Each "process" is a QuizService with its own engine and connection pool,
so the database is the only thing they share."""

from __future__ import annotations

import asyncio
import random

import pytest

from bot.core.boards import BoardService
from bot.core.dispatcher import Dispatcher
from bot.core.events import ChatRef, Command, OptionAnswer, Sender
from bot.core.replies import AskQuestion, QuestionResult, RoundOver
from bot.core.services import QuizService
from bot.storage import db
from bot.storage.uow import unit_of_work_factory
from tests.conftest import count_rows

GROUP = ChatRef("test", "busy-group", "group", "Busy")
ADMIN = Sender("1", "Admin", "en", is_admin=True)
PLAYERS = [Sender(str(1000 + i), f"Player {i}", "en") for i in range(30)]


def of_type(replies, kind):
    return [r for r in replies if isinstance(r, kind)]


async def test_two_processes_share_one_round(database_url, mini_glossary, clock):
    engines = [db.create_engine(database_url) for _ in range(2)]
    try:
        a, b = (
            QuizService(
                unit_of_work_factory(db.session_factory(e)), mini_glossary, rng=random.Random(i)
            )
            for i, e in enumerate(engines)
        )
        admin = Dispatcher(a, BoardService(a.uow))
        for key, value in (("types", "mc"), ("questions", "3")):
            await admin.dispatch(
                Command(GROUP, ADMIN, f"set-{key}", clock(), name="settings", args=(key, value))
            )
        everything = await a.start_round(GROUP, ADMIN, clock())
        ask = of_type(everything, AskQuestion)[0]
        round_id = None

        for position in (1, 2, 3):
            assert ask.position == position
            clock.advance(3)
            # Every answer reaches both processes (redelivered behind a load balancer), at once.
            events = [
                OptionAnswer(
                    GROUP,
                    p,
                    f"upd-{position}-{p.platform_user_id}",
                    clock(),
                    option=random.Random(p.platform_user_id).randrange(len(ask.question.options)),
                    question_ref=f"rq:{ask.round_question_id}",
                )
                for p in PLAYERS
            ]
            jobs = [svc.answer(e) for e in events for svc in (a, b)]
            random.Random(position).shuffle(jobs)
            step = [r for replies in await asyncio.gather(*jobs) for r in replies]
            if round_id is None:
                async with a.uow() as uow:
                    round_id = (await uow.rounds.question(ask.round_question_id)).round_id
            if not of_type(step, QuestionResult):
                # Nobody closed it early (the first question waits for the clock): both
                # processes' timers fire at the deadline.
                clock.advance(30)
                ticks = await asyncio.gather(a.tick(round_id, clock()), b.tick(round_id, clock()))
                step += [r for replies in ticks for r in replies]
            everything += step
            assert len(of_type(step, QuestionResult)) == 1, "each question closes once"
            if position < 3:
                asks = of_type(step, AskQuestion)
                assert len(asks) == 1, "the next question is asked once"
                ask = asks[0]

        assert len(of_type(everything, QuestionResult)) == 3
        overs = of_type(everything, RoundOver)
        assert len(overs) == 1, "the round ends once, with one podium"
        assert await count_rows(a.uow, "answers") == 3 * len(PLAYERS)
        async with a.uow() as uow:
            players = [(p.answered, p.points) for p in await uow.rounds.players(round_id)]
        assert len(players) == len(PLAYERS) and all(answered == 3 for answered, _ in players)
        table = overs[0].table
        assert sum(s.points for s in table) == sum(points for _, points in players)
    finally:
        for engine in engines:
            await engine.dispose()


INSERT_USER = "INSERT INTO users (platform, platform_user_id, display_name, created_at) "


@pytest.fixture
async def sqlite_file(tmp_path, sqlite_template):
    """A migrated SQLite file and the bot's unit-of-work factory on it."""
    import shutil

    path = tmp_path / "quizbot.sqlite3"
    shutil.copy(sqlite_template, path)
    engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        yield path, unit_of_work_factory(db.session_factory(engine))
    finally:
        await engine.dispose()


async def test_a_read_only_transaction_does_not_wait_for_the_writer(sqlite_file):
    """On SQLite a reader runs beside an open write transaction and sees the last commit."""
    from sqlalchemy import text

    _, uow = sqlite_file
    async with uow() as writer:
        await writer.session.execute(text(INSERT_USER + "VALUES ('t', 'a', 'A', 0)"))
        await writer.commit()
    async with uow() as writer:  # holds SQLite's write lock (BEGIN IMMEDIATE)
        await writer.session.execute(text(INSERT_USER + "VALUES ('t', 'b', 'B', 0)"))

        async def read() -> list[str]:
            async with uow(read_only=True) as reader:
                rows = await reader.session.execute(text("SELECT platform_user_id FROM users"))
                return [r[0] for r in rows]

        assert await asyncio.wait_for(read(), 5) == ["a"], "the last commit, not the open one"
        await writer.commit()

        # A second writer still queues behind the first, in this process.
        second = asyncio.ensure_future(uow().__aenter__())
        await asyncio.sleep(0.05)
        assert not second.done()
    await (await second).__aexit__(None, None, None)


async def test_a_brief_transaction_runs_on_the_loop_and_waits_for_a_lock_off_it(sqlite_file):
    """The answer path's transactions skip the trip to the driver's thread on SQLite, but BEGIN
    still waits for another process's write lock there, so the bot keeps running meanwhile."""
    import sqlite3
    import threading

    from sqlalchemy import text

    path, uow = sqlite_file

    async def thread_of_statements(unit) -> int:
        connection = await unit.session.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        driver._conn.create_function("thread_id", 0, threading.get_ident)
        return (await unit.session.execute(text("SELECT thread_id()"))).scalar_one()

    loop_thread = threading.get_ident()
    other = sqlite3.connect(path, isolation_level=None)  # another process's connection
    try:
        async with uow(brief=True) as unit:
            assert await thread_of_statements(unit) == loop_thread
        async with uow() as unit:
            assert await thread_of_statements(unit) != loop_thread, "the flag went with it"
        async with uow(read_only=True) as unit:
            assert await thread_of_statements(unit) != loop_thread

        other.execute("BEGIN IMMEDIATE")
        other.execute(INSERT_USER + "VALUES ('t', 'other', 'Other', 0)")

        async def write() -> None:
            async with uow(brief=True) as unit:
                await unit.session.execute(text(INSERT_USER + "VALUES ('t', 'mine', 'Mine', 0)"))
                await unit.commit()

        writing = asyncio.ensure_future(write())
        ticks = 0
        for _ in range(20):
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 20 and not writing.done(), "waiting for the lock, the loop runs on"
        other.execute("COMMIT")
        await asyncio.wait_for(writing, 10)
        async with uow(read_only=True) as unit:
            rows = await unit.session.execute(text("SELECT platform_user_id FROM users"))
            assert sorted(r[0] for r in rows) == ["mine", "other"]
    finally:
        other.close()


async def test_a_failed_brief_transaction_writes_nothing(sqlite_file):
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    _, uow = sqlite_file
    with pytest.raises(IntegrityError):
        async with uow(brief=True) as unit:
            await unit.session.execute(text(INSERT_USER + "VALUES ('t', 'a', 'A', 0)"))
            await unit.session.execute(text(INSERT_USER + "VALUES ('t', 'a', 'A again', 0)"))
            await unit.commit()
    async with uow(brief=True) as unit:
        count = await unit.session.execute(text("SELECT count(*) FROM users"))
        assert count.scalar_one() == 0


async def _a_write_goes_through_while(uow, monkeypatch, owner, method: str, reading):
    """Hold `owner.method` (a query of a read) until a write transaction has committed: the
    write must not queue behind the read. Returns what `reading()` returned."""
    from datetime import UTC, datetime

    started, go_on = asyncio.Event(), asyncio.Event()
    real = getattr(owner, method)

    async def slow(self, *args, **kwargs):
        started.set()
        await go_on.wait()
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(owner, method, slow)
    read = asyncio.ensure_future(reading())
    try:
        await asyncio.wait_for(started.wait(), 5)

        async def write() -> None:
            async with uow(brief=True) as unit:  # as an answer batch would
                now = datetime(2026, 12, 2, 12, tzinfo=UTC)
                await unit.users.get_or_create_many("test", [Sender("2", "Bo")], now)
                await unit.commit()

        await asyncio.wait_for(write(), 5)  # not queued behind the read
    finally:
        go_on.set()
    return await asyncio.wait_for(read, 5)


async def test_answers_are_recorded_while_a_leaderboard_is_being_read(sqlite_file, monkeypatch):
    """The board is read in a read-only transaction: on SQLite it takes no write lock, so a
    slow leaderboard (a million users) does not hold up the answers recorded meanwhile."""
    from datetime import UTC, datetime

    from bot.storage.repositories import ScoreRepository

    _, uow = sqlite_file
    chat, now = ChatRef("test", "-1", "group", "Board"), datetime(2026, 12, 2, 12, tzinfo=UTC)
    shown = await _a_write_goes_through_while(
        uow,
        monkeypatch,
        ScoreRepository,
        "top",
        lambda: BoardService(uow).leaderboard(chat, Sender("1", "Ann"), now),
    )
    assert shown.rows == ()  # nobody has points yet


async def test_answers_are_recorded_while_someones_stats_are_being_read(
    sqlite_file, monkeypatch, mini_glossary
):
    from datetime import UTC, datetime

    from bot.core.stats import StatsService
    from bot.storage.practice_models import PracticeRepository

    _, uow = sqlite_file
    now = datetime(2026, 12, 2, 12, tzinfo=UTC)
    figures = await _a_write_goes_through_while(
        uow,
        monkeypatch,
        PracticeRepository,
        "points",  # one of the read's queries
        lambda: StatsService(uow, mini_glossary).figures(1, now),
    )
    assert figures.answered == 0
