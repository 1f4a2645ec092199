"""No token, password or database URL with a password in any log line, at any log level, and a
start-up log an operator can read (issue 19). `quizbot run` as a real process against the fake
Bot API server, and the log's redaction on its own."""

from __future__ import annotations

import logging
import os
import re
import signal
import sys

import pytest
from sqlalchemy.engine import make_url

from bot.logs import OneLine, RedactingFilter, Redactor, hide_secrets, redact
from tests.conftest import PG_ENV
from tests.fakes import FakeTelegramServer
from tests.processes import (
    PASSWORD,
    TOKEN,
    assert_no_secret,
    clean_env,
    read_until,
    start_cli,
)


@pytest.fixture
def database(tmp_path, request) -> str:
    """The session's PostgreSQL database with a password in its URL when a server is
    configured (trust auth lets any password in), else a SQLite file."""
    if not os.environ.get(PG_ENV):
        return f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    url = make_url(request.getfixturevalue("pg_url")).set(password=PASSWORD)
    return url.render_as_string(hide_password=False)


async def _run_a_while(tmp_path, server: FakeTelegramServer, **settings: str) -> str:
    """`quizbot run` up, a user's /help answered, then SIGTERM: everything it printed."""
    env = clean_env(
        tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, QUIZBOT_TELEGRAM_BASE_URL=server.api_url, **settings
    )
    process = await start_cli("run", env=env, cwd=tmp_path)
    try:
        started = await read_until(process, "running on telegram")
        alice = server.user(7, "Alice", language_code="en")
        mark = server.mark()
        server.send_text(alice, "/help")
        await server.wait_for("sendMessage", chat_id=alice.id, since=mark, timeout=10)
        process.send_signal(signal.SIGTERM)
        rest, _ = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = started + rest.decode()
    assert process.returncode == 0, output
    return output


async def test_debug_logging_never_prints_the_token_or_the_password(tmp_path, database):
    """Today python-telegram-bot prints "Set Bot API URL: http://.../bot123456:SECRETsecret"."""
    async with FakeTelegramServer(bot_token=TOKEN) as server:
        output = await _run_a_while(
            tmp_path, server, QUIZBOT_LOG_LEVEL="DEBUG", QUIZBOT_DATABASE_URL=database
        )
    assert " DEBUG " in output and "Traceback" not in output
    assert_no_secret(output)


async def test_the_start_up_log_says_what_runs_in_a_few_lines(tmp_path, database):
    async with FakeTelegramServer(bot_token=TOKEN) as server:
        output = await _run_a_while(tmp_path, server, QUIZBOT_DATABASE_URL=database)
    assert_no_secret(output)
    assert "alembic" not in output and "plugin" not in output and "voice" not in output
    start = output[: output.index("running on telegram")].splitlines()
    assert len(start) <= 6, output
    said = "\n".join(start)
    assert re.search(r"starting: telegram \(long polling, Bot API at 127\.0\.0\.1:\d+\)", said)
    database = (
        "database postgresql+asyncpg://postgres:***@"
        if os.environ.get(PG_ENV)
        else (f"database sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}")
    )
    assert database in said, said
    assert re.search(r"ready: \d+ glossary entries", said), said
    assert "polling as @quiz_test_bot" in said


# ---------------------------------------------------------------------- the log's redaction


@pytest.fixture
def secrets():
    hide_secrets(["123456:SECRETsecret", "MTIz.abc.SECRETdiscordSECRET"], ["pw-SECRET"])
    yield
    from bot.logs import REDACTOR

    REDACTOR.clear()


def _format(record: logging.LogRecord) -> str:
    RedactingFilter().filter(record)
    return logging.Formatter("%(levelname)s %(name)s: %(message)s").format(record)


def test_a_secret_in_a_message_or_a_traceback_is_hidden(secrets):
    try:
        raise RuntimeError("The token `123456:SECRETsecret` was rejected by the server.")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "telegram.ext.ExtBot", logging.ERROR, __file__, 1,
        "GET %s failed", ("http://127.0.0.1/bot123456:SECRETsecret/getMe",), exc_info,
    )  # fmt: skip
    text = _format(record)
    assert "SECRET" not in text
    assert "bot***/getMe" in text and "The token `***` was rejected" in text


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("https://api.telegram.org/bot123456%3ASECRETsecret/getMe", "bot***/getMe"),
        ("postgresql+asyncpg://bot:pw-SECRET@db/quiz", "bot:***@db"),
        ("Authorization: Bot MTIz.abc.SECRETdiscordSECRET", "Bot ***"),
        ("just the secret half: SECRETsecret", "half: ***"),
    ],
)
def test_every_form_of_a_secret_is_hidden(secrets, text, hidden):
    assert hidden in redact(text) and "SECRET" not in redact(text)


def test_a_short_password_is_hidden_only_where_it_is_a_password():
    redactor = Redactor()
    redactor.add_password("pw")
    assert redactor("postgresql://bot:pw@db/quiz") == "postgresql://bot:***@db/quiz"
    assert redactor("a pwd in a sentence") == "a pwd in a sentence"


def test_a_retried_failure_of_a_library_is_one_warning_line():
    """discord.py logs each reconnect try with `log.exception`: a traceback a try."""
    try:
        raise OSError("Connect call failed ('162.159.135.232', 443)")
    except OSError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "discord.client", logging.ERROR, __file__, 1, "Attempting a reconnect in %.2fs",
        (4.5,), exc_info,
    )  # fmt: skip
    assert OneLine().filter(record)
    text = _format(record)
    assert text == (
        "WARNING discord.client: Attempting a reconnect in 4.50s "
        "(OSError: Connect call failed ('162.159.135.232', 443))"
    )


def test_discord_voice_warnings_are_left_out():
    record = logging.LogRecord(
        "discord.client", logging.WARNING, __file__, 1,
        "PyNaCl is not installed, voice will NOT be supported", (), None,
    )  # fmt: skip
    assert not OneLine().filter(record)
