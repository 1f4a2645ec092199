"""Shared fixtures: databases (SQLite always, PostgreSQL when configured), the glossary, a clock.

PostgreSQL tests need QUIZBOT_TEST_POSTGRES_URL, e.g.
    QUIZBOT_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test
Each test session creates its own throw-away database on that server and drops it at the end.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.content.glossary import load_glossary
from bot.content.model import Glossary
from bot.storage import db

# The Telegram end-to-end world (fake Bot API server, `make_world`), shared by its test files.
pytest_plugins = ["tests.telegram_world"]

PG_ENV = "QUIZBOT_TEST_POSTGRES_URL"
PG_SKIP_REASON = f"PostgreSQL tests need {PG_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)"
TABLES = (
    "question_reports",
    "answers",
    "scores",
    "round_players",
    "round_questions",
    "rounds",
    "chats",
    "users",
)


def _async_pg_url(raw: str, database: str | None = None) -> str:
    url = make_url(raw).set(drivername="postgresql+asyncpg")
    if database:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


async def _pg_admin(url: str, statement: str) -> None:
    import asyncpg

    parsed = make_url(url)
    conn = await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session."""
    raw = os.environ.get(PG_ENV)
    if not raw:
        pytest.skip(PG_SKIP_REASON)
    name = f"quizbot_test_{uuid.uuid4().hex[:10]}"
    admin = _async_pg_url(raw)
    asyncio.run(_pg_admin(admin, f'CREATE DATABASE "{name}"'))
    url = _async_pg_url(raw, name)
    db.upgrade_sync(url)
    try:
        yield url
    finally:
        asyncio.run(_pg_admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """Migrate once, copy per test: an Alembic run costs far more than a file copy."""
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    db.upgrade_sync(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path, sqlite_template) -> str:
    """A migrated, empty database: SQLite always, PostgreSQL when configured."""
    if request.param == "sqlite":
        path = tmp_path / "quizbot.sqlite3"
        path.write_bytes(sqlite_template.read_bytes())
        return f"sqlite+aiosqlite:///{path}"
    url = request.getfixturevalue("pg_url")
    asyncio.run(_pg_admin(url, f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    return url


@pytest.fixture(scope="session")
def glossary() -> Glossary:
    return load_glossary()


@dataclass
class FakeClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))


@pytest.fixture
async def uow_factory(database_url) -> AsyncIterator:
    from bot.storage.uow import unit_of_work_factory

    engine = db.create_engine(database_url)
    try:
        yield unit_of_work_factory(db.session_factory(engine))
    finally:
        await engine.dispose()


async def count_rows(uow_factory, table: str) -> int:
    async with uow_factory() as uow:
        return (await uow.session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()


def _entry(id_, term, lang, definition, gist, *, aliases=(), tags=("basics",), translations=()):
    from bot.content.model import Entry

    return Entry(
        id=id_,
        term=term,
        lang=lang,
        definition=definition,
        gist=gist,
        aliases=tuple(aliases),
        tags=tuple(tags),
        source="test",
        translations=tuple(translations),
    )


@pytest.fixture(scope="session")
def mini_glossary() -> Glossary:
    """A small, stable glossary for round tests (the shipped one has its own tests)."""
    entries = [
        _entry(
            "dropout",
            "Dropout",
            "en",
            "A regularization technique that randomly deactivates neurons during training.",
            "Randomly switches off neurons while training",
            tags=("regularization",),
            translations=("zh-dropout",),
        ),
        _entry(
            "tensor",
            "Tensor",
            "en",
            "A multi-dimensional array that generalizes scalars, vectors and matrices.",
            "A multi-dimensional array of numbers",
            tags=("data",),
        ),
        _entry(
            "optimizer",
            "Optimizer",
            "en",
            "An algorithm that adjusts the weights and biases of a model to reduce the loss.",
            "Algorithm that updates model weights",
            tags=("training",),
        ),
        _entry(
            "gradient",
            "Gradient",
            "en",
            "A vector of partial derivatives that shows how much an output changes with inputs.",
            "Vector of partial derivatives",
            tags=("training",),
        ),
        _entry(
            "loss-function",
            "Loss function",
            "en",
            "A function that measures how far predictions are from the true values.",
            "Measures the error of predictions",
            aliases=("cost function",),
            tags=("training",),
            translations=("zh-loss-function",),
        ),
        _entry(
            "epoch",
            "Epoch",
            "en",
            "One complete pass of the learning algorithm over the whole training data set.",
            "One full pass over the training data",
            tags=("training",),
        ),
        _entry(
            "zh-dropout",
            "丢弃法",
            "zh",
            "在训练中随机让一部分神经元失活的正则化方法。",
            "训练时随机关闭部分神经元",
            translations=("dropout",),
        ),
        _entry(
            "zh-loss-function",
            "损失函数",
            "zh",
            "衡量模型预测值与真实值之间差距的函数。",
            "衡量预测误差的函数",
            translations=("loss-function",),
        ),
        _entry(
            "zh-parameter",
            "参数",
            "zh",
            "类比旋钮，旋钮的转动可以调整程序的行为。",
            "可以调整程序行为的旋钮",
        ),
        _entry("zh-model", "模型", "zh", "任一调整参数后的程序。", "调整参数后的程序"),
    ]
    return Glossary(tuple(entries))


async def rounds_without_podium(uow_factory) -> list[tuple]:
    """Rounds still running, or ended without their end reaching the chat: (id, status,
    position, total) each."""
    async with uow_factory(read_only=True) as uow:
        rounds = await uow.session.execute(
            text(
                "SELECT id, status, position, total FROM rounds WHERE status = 'running' OR end_due"
            )
        )
        return [tuple(r) for r in rounds]


def assert_every_round_reached_its_podium(request, unfinished: list[tuple]) -> None:
    """Every round an end-to-end test plays must reach its podium, so that a round that hangs
    fails the test; one that leaves a round running on purpose says so with the
    `round_left_running` marker."""
    if request.node.get_closest_marker("round_left_running") is None:
        assert not unfinished, f"rounds that never reached their podium: {unfinished}"
