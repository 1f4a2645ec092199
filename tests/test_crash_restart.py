"""The bot process killed with SIGKILL in the middle of a group round, then started again: the
round goes on, every answer committed before the kill is still there, none is counted twice.

`quizbot run` runs as a real process against the fake Telegram Bot API server."""

from __future__ import annotations

import asyncio
import html
import os
import re
import signal
import sqlite3
import sys
from pathlib import Path

from tests.fakes import FakeTelegramServer

TOKEN = "123:TEST"
REPO = Path(__file__).resolve().parents[1]
GROUP_ID = -1001


def bot_env(server: FakeTelegramServer, tmp_path: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("QUIZBOT_", "TELEGRAM_", "DISCORD_"))
    }
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        QUIZBOT_TELEGRAM_BASE_URL=server.api_url,
        QUIZBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        QUIZBOT_DATA_DIR=str(tmp_path),
        PYTHONPATH=str(REPO),
    )
    return env


async def start_bot(server: FakeTelegramServer, tmp_path: Path):
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        cwd=tmp_path,
        env=bot_env(server, tmp_path),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    await server.wait_polling(timeout=30)
    return process


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
