"""Alembic migrations are the only way the schema is made: check them like pytest-alembic's four
standard tests (one head, upgrade, models match, down and up again), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from bot.storage import db
from bot.storage.models import EXPRESSION_INDEXES, Base, include_in_autogenerate


@pytest.fixture
def empty_url(request, tmp_path):
    return f"sqlite+aiosqlite:///{tmp_path / 'm.sqlite3'}"


def test_single_head():
    script = ScriptDirectory.from_config(db.alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


async def _diff(url: str) -> list:
    engine = db.create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(
                        sync,
                        opts={"compare_type": True, "include_object": include_in_autogenerate},
                    ),
                    Base.metadata,
                )
            )
    finally:
        await engine.dispose()


async def _indexes(url: str, table: str) -> set[str]:
    engine = db.create_engine(url)
    try:
        async with engine.connect() as conn:
            found = await conn.run_sync(lambda sync: inspect(sync).get_indexes(table))
            return {index["name"] for index in found}
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = db.create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


def test_upgrade_from_empty_creates_every_table_and_matches_the_models(empty_url):
    db.upgrade_sync(empty_url)
    tables = asyncio.run(_tables(empty_url))
    assert set(Base.metadata.tables) <= tables
    assert asyncio.run(_diff(empty_url)) == []
    assert EXPRESSION_INDEXES <= asyncio.run(_indexes(empty_url, "scores"))


def test_down_to_base_and_up_again(empty_url):
    config = db.alembic_config(empty_url)
    script = ScriptDirectory.from_config(config)
    revisions = [r.revision for r in script.walk_revisions()][::-1]  # oldest first
    for revision in revisions:
        command.upgrade(config, revision)
    for _ in revisions:
        command.downgrade(config, "-1")
    assert asyncio.run(_tables(empty_url)) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert asyncio.run(_diff(empty_url)) == []


@pytest.mark.postgres
def test_postgres_schema_matches_the_models(pg_url):
    assert asyncio.run(_diff(pg_url)) == []
    assert EXPRESSION_INDEXES <= asyncio.run(_indexes(pg_url, "scores"))
    config = db.alembic_config(pg_url)
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    assert asyncio.run(_diff(pg_url)) == []
