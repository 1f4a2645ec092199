"""Every failure a newcomer or an operator meets is one line that says what is wrong and what
to do, exits non-zero, and prints no secret (issue 19). Each runs `python -m bot.cli ...` as a
real process with recognisable secrets (a token "123456:SECRETsecret", a password
"pw-SECRET") and searches all it printed for them. Servers are fakes on 127.0.0.1, or ports
nothing listens on; PostgreSQL's own refusals need QUIZBOT_TEST_POSTGRES_URL."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy.engine import make_url

from bot.storage import db
from tests.conftest import PG_ENV, PG_SKIP_REASON
from tests.fakes import FakeTelegramServer
from tests.processes import (
    DISCORD_TOKEN,
    PASSWORD,
    TOKEN,
    assert_one_line_failure,
    clean_env,
    closed_port,
    run_cli,
)

DB_COMMANDS = (("db", "upgrade"), ("play",), ("run",))


async def run_each(commands, env, cwd, **kw):
    """The commands at once (each is a process of its own)."""
    return await asyncio.gather(
        *(run_cli(*command, env=env, cwd=cwd, **kw) for command in commands)
    )


def telegram_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """A Telegram bot whose Bot API is never reached (the failure comes first)."""
    base = f"http://127.0.0.1:{closed_port()}/bot"
    return clean_env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, QUIZBOT_TELEGRAM_BASE_URL=base, **settings)


# ---------------------------------------------------------------------- platforms


async def test_a_token_telegram_refuses_is_one_line_without_the_token(tmp_path):
    """Today: an 88-line traceback ending in "The token `123456:...` was rejected"."""
    async with FakeTelegramServer(bot_token="123456:another-token") as server:
        env = clean_env(
            tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, QUIZBOT_TELEGRAM_BASE_URL=server.api_url
        )
        ran = await run_cli("run", env=env, cwd=tmp_path)
    assert_one_line_failure(ran, "Telegram refused TELEGRAM_BOT_TOKEN", "@BotFather")
    assert "was rejected" not in ran.output


async def test_an_unreachable_bot_api_is_one_line_after_the_retries(tmp_path):
    port = closed_port()
    env = clean_env(
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        QUIZBOT_TELEGRAM_BASE_URL=f"http://127.0.0.1:{port}/bot",
        QUIZBOT_START_TIMEOUT="1.5",
    )
    ran = await run_cli("run", env=env, cwd=tmp_path)
    line = assert_one_line_failure(ran, "cannot reach the Telegram Bot API", f"127.0.0.1:{port}")
    assert "QUIZBOT_TELEGRAM_BASE_URL" in line
    retries = [x for x in ran.lines if "cannot reach the Bot API" in x and "trying again" in x]
    assert retries and all(" WARNING " in x for x in retries)  # one line a try
    assert ran.seconds < 15


@pytest.fixture
async def discord_api():
    """A Discord HTTP API on 127.0.0.1 that refuses every token, as discord.com does a wrong
    one (401 on GET /users/@me)."""

    async def refuse(request: web.Request) -> web.Response:
        return web.json_response({"message": "401: Unauthorized", "code": 0}, status=401)

    app = web.Application()
    app.router.add_route("*", "/api/v10/{path:.*}", refuse)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/api/v10"
    await runner.cleanup()


async def test_a_token_discord_refuses_is_one_line_without_the_token(tmp_path, discord_api):
    env = clean_env(tmp_path, DISCORD_BOT_TOKEN=DISCORD_TOKEN, QUIZBOT_TEST_DISCORD_API=discord_api)
    ran = await run_cli("run", env=env, cwd=tmp_path)
    assert_one_line_failure(ran, "Discord refused DISCORD_BOT_TOKEN", "developer portal")
    assert "voice" not in ran.output  # discord.py's warnings about a feature we do not use


async def test_an_unreachable_discord_is_one_line_after_the_retries(tmp_path):
    api = f"http://127.0.0.1:{closed_port()}/api/v10"
    env = clean_env(
        tmp_path,
        DISCORD_BOT_TOKEN=DISCORD_TOKEN,
        QUIZBOT_TEST_DISCORD_API=api,
        QUIZBOT_START_TIMEOUT="1.5",
    )
    ran = await run_cli("run", env=env, cwd=tmp_path)
    assert_one_line_failure(ran, "cannot reach Discord", "check the network")
    assert ran.seconds < 15


async def test_discord_shards_are_checked_before_the_database_is_touched(tmp_path):
    env = clean_env(tmp_path, DISCORD_BOT_TOKEN=DISCORD_TOKEN, QUIZBOT_DISCORD_SHARDS="abc")
    ran = await run_cli("run", env=env, cwd=tmp_path)
    assert ran.code == 2
    assert_one_line_failure(ran, "configuration error: QUIZBOT_DISCORD_SHARDS")
    assert not (tmp_path / "data").exists(), "the database was touched first"


# ---------------------------------------------------------------------- PostgreSQL


async def test_a_postgresql_url_without_the_driver_says_which_extra(tmp_path):
    env = telegram_env(
        tmp_path,
        QUIZBOT_DATABASE_URL=f"postgresql://quiz:{PASSWORD}@127.0.0.1:{closed_port()}/quiz",
        QUIZBOT_TEST_NO_ASYNCPG="1",
    )
    for ran in await run_each(DB_COMMANDS, env, tmp_path):
        assert_one_line_failure(ran, "asyncpg", "pip install -e '.[postgres]'")


async def test_an_unreachable_postgresql_is_one_line(tmp_path):
    port = closed_port()
    url = f"postgresql://quiz:{PASSWORD}@127.0.0.1:{port}/quiz"
    env = telegram_env(tmp_path, QUIZBOT_DATABASE_URL=url)
    for ran in await run_each(DB_COMMANDS, env, tmp_path):
        assert_one_line_failure(ran, f"cannot reach PostgreSQL at 127.0.0.1:{port}")


def _server() -> tuple[str, int]:
    raw = os.environ.get(PG_ENV)
    if not raw:
        pytest.skip(PG_SKIP_REASON)
    url = make_url(raw)
    return url.host or "127.0.0.1", url.port or 5432


@pytest.mark.postgres
async def test_a_missing_postgresql_database_is_one_line(tmp_path):
    host, port = _server()
    name = f"quizbot_missing_{uuid.uuid4().hex[:8]}"
    url = f"postgresql://postgres:{PASSWORD}@{host}:{port}/{name}"
    env = telegram_env(tmp_path, QUIZBOT_DATABASE_URL=url)
    for ran in await run_each(DB_COMMANDS, env, tmp_path):
        assert_one_line_failure(ran, f"has no database '{name}'", "createdb")


@pytest.mark.postgres
async def test_a_missing_postgresql_role_is_one_line(tmp_path):
    host, port = _server()
    url = f"postgresql://no_such_role:{PASSWORD}@{host}:{port}/postgres"
    env = telegram_env(tmp_path, QUIZBOT_DATABASE_URL=url)
    for ran in await run_each(DB_COMMANDS, env, tmp_path):
        assert_one_line_failure(ran, "refused user 'no_such_role'", "QUIZBOT_DATABASE_URL")


# ---------------------------------------------------------------------- SQLite


async def test_a_sqlite_file_whose_folder_cannot_be_made_is_one_line(tmp_path):
    """A folder below a file can never be made (whoever runs the tests, root included)."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    url_env = telegram_env(tmp_path, QUIZBOT_DATABASE_URL=f"sqlite:///{blocker}/db/quiz.sqlite3")
    for ran in await run_each(DB_COMMANDS, url_env, tmp_path):
        assert_one_line_failure(ran, f"cannot create the folder {blocker}/db", "QUIZBOT_DATA_DIR")
    dir_env = telegram_env(tmp_path, QUIZBOT_DATA_DIR=str(blocker / "data"))
    for ran in await run_each(DB_COMMANDS, dir_env, tmp_path):
        assert_one_line_failure(ran, f"cannot create the folder {blocker}/data")


def _read_only(folder: Path) -> tuple[str, ...]:
    """What to run a command under so that `folder` is read-only for it: nothing for a user
    chmod binds; as root (which chmod does not stop) a private mount namespace where the
    folder is mounted read-only, if this machine allows one."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        return ()
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("running as root, where chmod does not stop writes, and without unshare")
    prefix = (
        unshare,
        "--mount",
        "sh",
        "-c",
        f'mount --bind "{folder}" "{folder}" && mount -o remount,bind,ro "{folder}" && exec "$@"',
        "sh",
    )
    probe = subprocess.run([*prefix, "touch", str(folder / "probe")], capture_output=True)
    if probe.returncode == 0 or (folder / "probe").exists():
        pytest.skip("running as root, and this machine allows no read-only mount to test with")
    return prefix


async def test_an_existing_sqlite_database_whose_folder_became_read_only_is_one_line(tmp_path):
    data = tmp_path / "data"
    await db.upgrade(f"sqlite+aiosqlite:///{data / 'quizbot.sqlite3'}")
    env = telegram_env(tmp_path)  # the default file, in QUIZBOT_DATA_DIR
    prefix = _read_only(data)
    try:
        for ran in await run_each(DB_COMMANDS, env, tmp_path, prefix=prefix):
            assert_one_line_failure(ran, f"its folder {data} is read-only", "QUIZBOT_DATA_DIR")
    finally:
        data.chmod(0o755)


# ---------------------------------------------------------------------- configuration


async def test_the_dot_env_file_of_the_working_directory_is_read(tmp_path):
    """README: "a `.env` file in the working directory is read too" (python-dotenv's own
    lookup starts from the package's folder instead)."""
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=not-a-token\n")
    ran = await run_cli("run", env=clean_env(tmp_path), cwd=tmp_path)
    assert_one_line_failure(ran, "TELEGRAM_BOT_TOKEN does not look like a bot token")


def test_a_refused_postgresql_password_is_one_line_without_the_password():
    """The test server trusts every login, so the refusal is made here as asyncpg raises it."""
    from asyncpg.exceptions import InvalidPasswordError

    refused = InvalidPasswordError('password authentication failed for user "bot"')
    url = f"postgresql+asyncpg://bot:{PASSWORD}@db.example:5433/quiz"
    said = db.describe_failure(refused, url)
    assert said is not None and "SECRET" not in said
    assert "refused the password of user 'bot'" in said and "QUIZBOT_DATABASE_URL" in said
