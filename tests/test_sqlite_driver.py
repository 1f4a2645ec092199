"""The SQLite driver under SQLAlchemy (bot/storage/sqlite_driver.py): one trip to aiosqlite's
thread per statement, with everything SQLAlchemy reads from a cursor still right."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.storage import db
from bot.storage.sqlite_driver import OneTripConnection


@pytest.fixture
async def engine(tmp_path):
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.sqlite3'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


@pytest.fixture
def trips(monkeypatch):
    """How many times the loop handed work to aiosqlite's thread."""
    count = [0]
    real = OneTripConnection._execute

    async def counted(self, fn, *args, **kwargs):
        count[0] += 1
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(OneTripConnection, "_execute", counted)
    return count


async def test_the_engine_connects_through_the_one_trip_driver(engine):
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, OneTripConnection)
        # The connect-time settings of db.py still apply.
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar_one() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one() == 1


async def test_a_statement_is_one_trip_and_reads_as_before(engine, trips):
    async with engine.begin() as conn:
        inserted = await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        assert inserted.lastrowid == 1 and inserted.rowcount == 1
        await conn.execute(text("INSERT INTO t (name) VALUES (:n)"), [{"n": "b"}, {"n": "c"}])

        before = trips[0]
        rows = (await conn.execute(text("SELECT id, name FROM t ORDER BY id"))).all()
        assert trips[0] - before == 1, "execute, fetch and close in one trip"
        assert [tuple(r) for r in rows] == [(1, "a"), (2, "b"), (3, "c")]

        result = await conn.execute(text("SELECT name FROM t WHERE id > :i"), {"i": 1})
        assert list(result.keys()) == ["name"]
        assert result.fetchone() == ("b",) and result.fetchmany(5) == [("c",)]
        assert result.fetchone() is None
        assert (await conn.execute(text("SELECT name FROM t WHERE id = 99"))).all() == []

        changed = await conn.execute(text("UPDATE t SET name = name || '!' WHERE id <= 2"))
        assert changed.rowcount == 2
        many = await conn.execute(
            text("UPDATE t SET name = :n WHERE id = :i"), [{"n": "x", "i": 1}, {"n": "y", "i": 9}]
        )
        assert many.rowcount == 1  # sqlite3 sums an executemany's rows


async def test_errors_surface_as_sqlalchemy_errors_and_roll_back(engine):
    async with engine.connect() as conn:
        async with conn.begin():
            await conn.execute(text("INSERT INTO t (name) VALUES ('same')"))
        with pytest.raises(IntegrityError):
            async with conn.begin():
                await conn.execute(text("INSERT INTO t (name) VALUES ('other')"))
                await conn.execute(text("INSERT INTO t (name) VALUES ('same')"))
        names = (await conn.execute(text("SELECT name FROM t"))).scalars().all()
        assert names == ["same"], "the failed transaction left nothing behind"
