"""Engine set-up and schema migration.

SQLite runs in WAL mode with a busy timeout, and every transaction starts with BEGIN IMMEDIATE
so that two writers queue up instead of failing to upgrade a read lock (transactions marked
READ_ONLY start a plain BEGIN: they never write). PostgreSQL uses asyncpg, with a pool that
pings a connection which has been idle before handing it out.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from bot.storage import sqlite_driver

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SQLITE_BUSY_TIMEOUT_MS = 15_000
READ_ONLY = "quizbot_read_only"  # execution option: a transaction that never writes
IDLE_BEFORE_PING = 0.1  # seconds a PostgreSQL connection sits in the pool before it is pinged
_IDLE_SINCE = "quizbot_idle_since"


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo)
        _configure_sqlite(engine)
        return engine
    engine = create_async_engine(url, echo=echo, pool_size=10, max_overflow=10)
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: AsyncEngine) -> None:
    """SQLAlchemy's pool_pre_ping, but only for a connection that has sat in the pool for
    IDLE_BEFORE_PING: one the server dropped while it was idle (a restart, a failover) is
    replaced before a user's request meets it. A connection handed back a moment ago is not
    pinged: on asyncpg the ping is three round trips (BEGIN, a query, ROLLBACK), a tenth of an
    answer batch. A connection lost in that moment fails its transaction, the pool drops every
    connection older than the failure, and a failed batch of answers is retried on fresh ones
    (bot.core.group_commit)."""
    pool = engine.sync_engine.pool

    @event.listens_for(pool, "checkin")
    def _checked_in(_dbapi_connection, record) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _checked_out(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is None or time.monotonic() - idle_since < IDLE_BEFORE_PING:
            return  # new, or in use a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as err:
            raise DisconnectionError("the idle connection is gone") from err
        if not alive:
            raise DisconnectionError("the idle connection is gone")  # the pool connects anew


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "do_connect")
    def _one_trip_per_statement(_dialect, _record, _args, kwargs) -> None:
        # SQLAlchemy's aiosqlite adapter connects through this when given: the URL's options
        # still apply, and each statement costs one trip to aiosqlite's thread, not four.
        kwargs["async_creator_fn"] = sqlite_driver.connect

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        # Take transaction control away from the sqlite3 module so that BEGIN is ours.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn) -> None:
        # A reader needs no write lock: in WAL mode it reads the last commit beside the writer.
        read_only = conn.get_execution_options().get(READ_ONLY)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    ini = PROJECT_ROOT / "alembic.ini"
    config = Config(str(ini)) if ini.exists() else Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    # ConfigParser interpolation: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade_sync(url: str, revision: str = "head") -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


async def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database to `revision`. Alembic's async env runs its own event loop, so the
    migration runs in a worker thread."""
    await asyncio.to_thread(upgrade_sync, url, revision)
