"""The bot process killed with SIGKILL in the middle of a group round, then started again: the
round goes on, every answer committed before the kill is still there, none is counted twice,
and every message the round decided reaches the group once, in order, however the kill fell.

`quizbot run` runs as a real process against the fake Telegram Bot API server."""

from __future__ import annotations

import asyncio
import html
import os
import re
import signal
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

from tests.fakes import FakeTelegramServer

TOKEN = "123:TEST"
REPO = Path(__file__).resolve().parents[1]
GROUP_ID = -1001


def bot_env(server: FakeTelegramServer, tmp_path: Path, database_url: str | None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("QUIZBOT_", "TELEGRAM_", "DISCORD_"))
    }
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        QUIZBOT_TELEGRAM_BASE_URL=server.api_url,
        QUIZBOT_DATABASE_URL=database_url or f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        QUIZBOT_DATA_DIR=str(tmp_path),
        PYTHONPATH=str(REPO),
    )
    return env


async def start_bot(server: FakeTelegramServer, tmp_path: Path, database_url: str | None = None):
    """`quizbot run` as a process; its log goes to bot.log in `tmp_path`."""
    log = (tmp_path / "bot.log").open("ab")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        cwd=tmp_path,
        env=bot_env(server, tmp_path, database_url),
        stdout=log,
        stderr=log,
    )
    log.close()
    await server.wait_polling(timeout=30)
    return process


async def kill(process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGKILL)  # no warning, no clean-up
    await process.wait()


def query(tmp_path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(tmp_path / "bot.sqlite3") as db:
        return db.execute(sql).fetchall()


async def until(condition, timeout: float = 15.0) -> None:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_sigkill_mid_question_then_restart(tmp_path):
    async with FakeTelegramServer(bot_token=TOKEN) as server:
        group = server.group_chat(GROUP_ID, "Quiz Club")
        alice = server.user(1, "Alice", language_code="en")
        bob = server.user(2, "Bob", language_code="en")
        carol = server.user(3, "Carol", language_code="en")
        server.set_member_status(group.id, alice.id, "creator")

        first = await start_bot(server, tmp_path)
        try:
            for setting in ("types mc", "seconds 10", "questions 2"):
                mark = server.mark()
                server.send_text(alice, f"/settings {setting}", chat=group)
                await server.wait_for("sendMessage", chat_id=group.id, since=mark)
            mark = server.mark()
            server.send_text(alice, "/quiz", chat=group)
            [poll_call] = await server.wait_for(
                "sendPoll", chat_id=group.id, since=mark, timeout=10
            )
            poll_id = poll_call.result["poll"]["id"]
            right = server.poll(poll_id).correct_option_ids
            wrong = [(right[0] + 1) % len(server.poll(poll_id).options)]
            server.answer_poll(alice, poll_id, right)
            server.answer_poll(bob, poll_id, wrong)
            await until(lambda: query(tmp_path, "SELECT count(*) FROM answers") == [(2,)])
        finally:
            first.send_signal(signal.SIGKILL)  # no warning, no clean-up
            await first.wait()

        # While the bot is down, Carol votes, and Telegram will deliver Alice's vote again.
        server.answer_poll(carol, poll_id, right)
        server.redeliver(
            next(
                u["update_id"]
                for u in server.updates
                if u.get("poll_answer", {}).get("user", {}).get("id") == alice.id
            )
        )
        mark = server.mark()
        second = await start_bot(server, tmp_path)
        try:
            # The open question is closed fairly at its deadline, and the round goes on.
            results = await server.wait_for(
                "sendMessage", chat_id=group.id, since=mark, timeout=20, count=1
            )
            result_text = html.unescape(results[0].params["text"])
            assert "Alice" in result_text and "Carol" in result_text
            assert "Right: Alice, Carol" in result_text
            [poll2] = await server.wait_for("sendPoll", chat_id=group.id, since=mark, timeout=10)
            # "Question 2/2", or "2/2" when the prompt leaves no room for the word
            assert re.match(r"(Question )?2/2\n", poll2.params["question"])
            assert (
                query(
                    tmp_path,
                    "SELECT user_id, count(*) FROM answers GROUP BY user_id HAVING count(*) > 1",
                )
                == []
            )
            assert query(tmp_path, "SELECT count(*) FROM answers") == [(3,)]

            poll2_id = poll2.result["poll"]["id"]
            right2 = server.poll(poll2_id).correct_option_ids
            for user in (alice, bob, carol):
                server.answer_poll(user, poll2_id, right2)
            await until(
                lambda: any("Podium" in html.unescape(t) for t in server.texts_in(group.id)),
                timeout=20,
            )
            podiums = [t for t in server.texts_in(group.id) if "Podium" in html.unescape(t)]
            assert len(podiums) == 1
            assert "Alice" in html.unescape(podiums[0]).split("\n")[2]  # 🥇 the fastest twice
            assert query(tmp_path, "SELECT status, end_reason FROM rounds") == [
                ("finished", "done")
            ]
            assert query(tmp_path, "SELECT count(*) FROM answers") == [(6,)]
            server.assert_no_errors()
        finally:
            second.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(second.wait(), timeout=15) == 0


async def db_rows(database_url: str, sql: str) -> list[tuple]:
    from sqlalchemy import text as sql_text

    from bot.storage import db

    engine = db.create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return [tuple(r) for r in (await conn.execute(sql_text(sql))).all()]
    finally:
        await engine.dispose()


def as_time(value) -> datetime:
    """A timestamp as the database gives it in plain SQL (SQLite: text) as an aware datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def group_texts(server: FakeTelegramServer, since: int = 0) -> list[str]:
    """What the bot posted in the group and Telegram took, in order."""
    return [
        html.unescape(c.params["text"])
        for c in server.calls_to("sendMessage", since=since, chat_id=GROUP_ID)
    ]


async def vote(server, database_url, poll_call, votes: list, stored: int) -> None:
    """Each (user, right?) votes on the poll; until the database holds `stored` answers."""
    poll = server.poll(poll_call.result["poll"]["id"])
    right = poll.correct_option_ids
    wrong = [(right[0] + 1) % len(poll.options)]
    for user, is_right in votes:
        server.answer_poll(user, poll.id, right if is_right else wrong)
    sql = "SELECT count(*) FROM answers"
    for _ in range(300):
        if await db_rows(database_url, sql) == [(stored,)]:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{await db_rows(database_url, sql)} answers stored, not {stored}")


async def test_killed_at_each_step_of_a_question_change_the_group_sees_every_message_once(
    tmp_path, database_url
):
    """Killed (1) after a question closed, before its result was posted, (2) after the result,
    before the next question was posted, (3) after the last question closed, before its result
    and the podium: after each restart the group gets what it missed, once, in order, and a
    question nobody saw is asked with a fresh clock, never given a result."""
    url = database_url
    async with FakeTelegramServer(bot_token=TOKEN) as server:
        group = server.group_chat(GROUP_ID, "Quiz Club")
        alice = server.user(1, "Alice", language_code="en")
        bob = server.user(2, "Bob", language_code="en")
        server.set_member_status(group.id, alice.id, "creator")
        both = [(alice, True), (bob, False)]

        bot = await start_bot(server, tmp_path, url)
        try:
            for setting in ("types mc", "seconds 5", "questions 3"):
                mark = server.mark()
                server.send_text(alice, f"/settings {setting}", chat=group)
                await server.wait_for("sendMessage", chat_id=group.id, since=mark)
            mark = server.mark()
            server.send_text(alice, "/quiz", chat=group)
            [poll1] = await server.wait_for("sendPoll", chat_id=group.id, since=mark, timeout=10)
            await vote(server, url, poll1, both, 2)

            # (1) Question 1's time runs out; its result is on its way when the bot dies.
            held = server.hold_next("sendMessage", chat_id=group.id)
            await held.wait()
            await kill(bot)
        finally:
            await kill(bot)
        held.release()
        states = "SELECT status, posted_at IS NOT NULL, result_due FROM round_questions"
        states += " ORDER BY position"
        assert [(s, bool(p), bool(d)) for s, p, d in await db_rows(url, states)] == [
            ("closed", True, True),  # its result never reached the group
            ("open", False, False),  # opened, never shown
            ("pending", False, False),
        ]

        mark = server.mark()
        restarted = datetime.now(UTC)
        bot = await start_bot(server, tmp_path, url)
        try:
            [poll2] = await server.wait_for("sendPoll", chat_id=group.id, since=mark, timeout=15)
            texts = group_texts(server, mark)
            assert len(texts) == 1 and "Right: Alice" in texts[0]  # the result, before the poll
            assert server.calls_to("sendMessage", since=mark)[0].index < poll2.index
            assert re.match(r"(Question )?2/3\n", poll2.params["question"])
            assert poll2.params["open_period"] == 5
            # Its clock started when it was shown, not when the dead process opened it.
            [(opened, deadline)] = await db_rows(
                url, "SELECT opened_at, deadline FROM round_questions WHERE position = 2"
            )
            opened, deadline = as_time(opened), as_time(deadline)
            assert (deadline - opened).total_seconds() == 5 and opened >= restarted

            # (2) Question 2 closes (both voted); its result goes out, then the bot dies while
            # question 3 is on its way.
            held = server.hold_next("sendPoll", chat_id=group.id)
            mark = server.mark()
            await vote(server, url, poll2, both, 4)
            await held.wait()
            assert ["Right: Alice" in t for t in group_texts(server, mark)] == [True]
            await kill(bot)
        finally:
            await kill(bot)
        held.release()

        mark = server.mark()
        bot = await start_bot(server, tmp_path, url)
        try:
            [poll3] = await server.wait_for("sendPoll", chat_id=group.id, since=mark, timeout=15)
            assert re.match(r"(Question )?3/3\n", poll3.params["question"])
            assert group_texts(server, mark) == []  # question 2's result is not posted again

            # (3) The last question closes; its result is on its way when the bot dies.
            held = server.hold_next("sendMessage", chat_id=group.id)
            await vote(server, url, poll3, both, 6)
            await held.wait()
            await kill(bot)
        finally:
            await kill(bot)
        held.release()
        assert await db_rows(url, "SELECT status, end_reason, end_due FROM rounds") in (
            [("finished", "done", True)],
            [("finished", "done", 1)],
        )

        mark = server.mark()
        bot = await start_bot(server, tmp_path, url)
        try:
            await until(lambda: any("Podium" in t for t in group_texts(server, mark)), 20)
            result3, podium = group_texts(server, mark)
            assert "Right: Alice" in result3 and "Podium" in podium
            assert "Alice" in podium.split("\n")[2]  # 🥇

            # The whole round as the group saw it: three polls, three results, one podium.
            polls = server.calls_to("sendPoll", chat_id=group.id)
            assert [p.params["question"].split("\n")[0][-3:] for p in polls] == [
                "1/3",
                "2/3",
                "3/3",
            ]
            texts = group_texts(server)
            assert sum("Right: Alice" in t for t in texts) == 3
            assert sum("Podium" in t for t in texts) == 1
            assert not any("Nobody got it" in t for t in texts)
            assert await db_rows(url, "SELECT count(*) FROM answers") == [(6,)]
            due = "SELECT count(*) FROM round_questions WHERE result_due"
            await until_db(url, due, [(0,)])
            await until_db(url, "SELECT count(*) FROM rounds WHERE end_due", [(0,)])
            server.assert_no_errors()
        finally:
            bot.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(bot.wait(), timeout=15) == 0


async def until_db(database_url: str, sql: str, want: list, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while (got := await db_rows(database_url, sql)) != want:
        assert asyncio.get_running_loop().time() < deadline, f"{sql}: {got} != {want}"
        await asyncio.sleep(0.05)
