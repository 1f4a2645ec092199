"""Ctrl-C (SIGINT) and a service manager's SIGTERM stop `quizbot run` within a second or two,
whatever it is doing: retrying an unreachable Bot API at start, migrating the database,
running a round while Telegram is slow to take a reply. What it received is committed first,
and nothing is half-written (issue 19). Real processes; servers on 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import signal
import sqlite3

import pytest

from tests.fakes import FakeTelegramServer
from tests.processes import (
    TOKEN,
    assert_no_secret,
    clean_env,
    closed_port,
    read_until,
    start_cli,
)

SIGNALS = [pytest.param(signal.SIGINT, id="ctrl-c"), pytest.param(signal.SIGTERM, id="sigterm")]


async def stop(process, sig: signal.Signals, timeout: float = 15) -> tuple[int, str, float]:  # noqa: ASYNC109
    """Send `sig`; (exit code, what it printed after, seconds it took to end)."""
    loop = asyncio.get_running_loop()
    sent = loop.time()
    process.send_signal(sig)
    try:
        rest, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        rest, _ = await process.communicate()
        raise AssertionError(
            f"still running {timeout} s after {sig.name}: {rest.decode()}"
        ) from None
    return process.returncode, rest.decode(), loop.time() - sent


def assert_stopped_cleanly(code: int, output: str) -> None:
    assert code == 0, output
    assert "Traceback" not in output and "Unclosed" not in output, output
    assert_no_secret(output)


@pytest.mark.parametrize("sig", SIGNALS)
async def test_a_signal_stops_the_retries_of_an_unreachable_bot_api_at_once(tmp_path, sig):
    """Today Ctrl-C is ignored here, and the process dies 25 s later with a traceback."""
    env = clean_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        QUIZBOT_TELEGRAM_BASE_URL=f"http://127.0.0.1:{closed_port()}/bot",
    )
    process = await start_cli("run", env=env, cwd=tmp_path)
    try:
        before = await read_until(process, "cannot reach the Bot API")
        code, after, took = await stop(process, sig)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert took < 2, f"{took:.1f} s to stop"
    assert_stopped_cleanly(code, before + after)


@pytest.mark.parametrize("sig", SIGNALS)
async def test_a_signal_stops_a_migration_at_once_and_it_writes_nothing(tmp_path, sig):
    """Another program holds the new database's write lock, so the migration waits for it:
    a signal stops the bot at once, and the migration's transaction never commits."""
    path = tmp_path / "data" / "quizbot.sqlite3"
    path.parent.mkdir()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("BEGIN IMMEDIATE")
    env = clean_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        QUIZBOT_TELEGRAM_BASE_URL=f"http://127.0.0.1:{closed_port()}/bot",
        QUIZBOT_LOG_LEVEL="DEBUG",  # Alembic says when its migration context is set up
    )
    process = await start_cli("run", env=env, cwd=tmp_path)
    try:
        before = await read_until(process, "Will assume non-transactional DDL")
        await asyncio.sleep(0.3)  # on its first statement: waiting for the lock
        code, after, took = await stop(process, sig)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        holder.execute("ROLLBACK")
    assert took < 2, f"{took:.1f} s to stop"
    assert_stopped_cleanly(code, before + after)
    tables = holder.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    holder.close()
    assert tables == [], "a stopped migration wrote something"


@pytest.mark.parametrize("sig", SIGNALS)
async def test_a_signal_stops_a_running_round_at_once_with_the_answer_committed(tmp_path, sig):
    """A player's answer is in; Telegram is slow to take the reply to it: the bot does not
    wait for Telegram to stop, and the answer is in the database."""
    async with FakeTelegramServer(bot_token=TOKEN) as server:
        path = tmp_path / "bot.sqlite3"
        env = clean_env(
            tmp_path,
            TELEGRAM_BOT_TOKEN=TOKEN,
            QUIZBOT_TELEGRAM_BASE_URL=server.api_url,
            QUIZBOT_DATABASE_URL=f"sqlite:///{path}",
        )
        process = await start_cli("run", env=env, cwd=tmp_path)
        try:
            await server.wait_polling(timeout=30)
            alice = server.user(7, "Alice", language_code="en")
            for command in ("/settings types typed", "/quiz start 3"):
                mark = server.mark()
                server.send_text(alice, command)
                await server.wait_for("sendMessage", chat_id=alice.id, since=mark, timeout=10)
            held = server.hold_next(
                "sendMessage", chat_id=alice.id, where=lambda p: "Not quite" in p["text"]
            )
            server.send_text(alice, "surely not the answer")
            await asyncio.wait_for(held.arrived.wait(), 10)  # the verdict is on its way
            with sqlite3.connect(path) as db:
                assert db.execute("SELECT count(*) FROM answers").fetchall() == [(1,)]
            code, output, took = await stop(process, sig)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    assert took < 2.5, f"{took:.1f} s to stop"
    assert_stopped_cleanly(code, output)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM answers").fetchall() == [(1,)]
