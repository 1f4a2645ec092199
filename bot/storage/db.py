"""Engine set-up and schema migration.

SQLite runs in WAL mode with a busy timeout, and every transaction starts with BEGIN IMMEDIATE
so that two writers queue up instead of failing to upgrade a read lock (transactions marked
READ_ONLY start a plain BEGIN: they never write). PostgreSQL uses asyncpg, with a pool that
pings a connection which has been idle before handing it out.

A database the bot cannot use (a server it cannot reach, a database or role that does not
exist, a password refused, a SQLite file in a folder that is missing or read-only) raises
`DatabaseUnavailable`, whose message says in one line what is wrong and what to do.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from bot.errors import StartupError
from bot.storage import sqlite_driver

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SQLITE_BUSY_TIMEOUT_MS = 15_000
READ_ONLY = "quizbot_read_only"  # execution option: a transaction that never writes
IDLE_BEFORE_PING = 0.1  # seconds a PostgreSQL connection sits in the pool before it is pinged
_IDLE_SINCE = "quizbot_idle_since"
POSTGRES_EXTRA = "pip install -e '.[postgres]'"
WHERE_TO_POINT = "set QUIZBOT_DATA_DIR or QUIZBOT_DATABASE_URL to a writable place"


class DatabaseUnavailable(StartupError):
    """The database cannot be used; the message says why and what to do, in one line."""


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _make_folder(url)
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


def _make_folder(url: str) -> None:
    """The folder of a SQLite file, created if missing."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return
    folder = Path(database).expanduser().parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DatabaseUnavailable(
            f"cannot create the folder {folder} for the SQLite database "
            f"({err.strerror or err}): {WHERE_TO_POINT}"
        ) from err


def upgrade_sync(url: str, revision: str = "head") -> None:
    """Migrate the database to `revision` (raises DatabaseUnavailable when it cannot be used).
    Each migration is one transaction: stopped half-way, it is rolled back."""
    _make_folder(url)
    config = alembic_config(url)
    try:
        command.upgrade(config, revision)
    except Exception as err:
        problem = describe_failure(err, url)
        if problem is None:
            raise
        raise DatabaseUnavailable(problem) from err
    before, after = config.attributes.get("revisions", (None, None))
    if before != after:
        log.info("database migrated from %s to %s", before or "empty", after)


# Migrations left running by a caller that stopped waiting (see `upgrade`).
_left_running: set[threading.Thread] = set()


async def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database to `revision`. Alembic's async env runs its own event loop, so the
    migration runs in a thread of its own; one that is cancelled (Ctrl-C while migrating) stops
    waiting for it at once. Such a migration dies with the process: its transaction never
    commits, so nothing of it is written (`migration_left_running` tells the caller to leave
    without waiting for it)."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def settle(error: BaseException | None) -> None:
        if done.done():
            return
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)

    def migrate() -> None:
        error: BaseException | None = None
        try:
            upgrade_sync(url, revision)
        except BaseException as err:  # handed to the waiting loop
            error = err
        finally:
            _left_running.discard(thread)
        try:
            loop.call_soon_threadsafe(settle, error)
        except RuntimeError:  # the loop is closed: nobody waits any more
            pass

    thread = threading.Thread(target=migrate, name="quizbot-migration", daemon=True)
    thread.start()
    try:
        await done
    except asyncio.CancelledError:
        if thread.is_alive():
            _left_running.add(thread)
        raise


def migration_left_running() -> bool:
    """Whether a migration is still running that nobody waits for (the process was stopped
    while migrating): the process should exit without waiting for it."""
    return any(thread.is_alive() for thread in _left_running)


# ------------------------------------------------------------------ failures, in one line


def _chain(err: BaseException) -> list[BaseException]:
    """The error and its causes: SQLAlchemy's wrapper, the driver's error, the OS error."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [err]
    while todo and len(seen) < 12:
        each = todo.pop(0)
        if each is None or any(each is s for s in seen):
            continue
        seen.append(each)
        todo += [getattr(each, "orig", None), each.__cause__, each.__context__]
    return seen


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def describe_failure(err: BaseException, url: str) -> str | None:
    """One line on why the database at `url` cannot be used, and what to do; None for a
    failure that is not about reaching or writing the database (a bug: let it be seen)."""
    parsed = make_url(url)
    chain = _chain(err)
    if parsed.get_backend_name() == "postgresql":
        return _postgres_failure(parsed, chain)
    return _sqlite_failure(parsed, chain)


def _postgres_failure(parsed, chain: list[BaseException]) -> str | None:
    where = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
    user = parsed.username or "(the default user)"
    name = parsed.database or "(the default database)"
    for err in chain:
        if isinstance(err, ModuleNotFoundError) and err.name == "asyncpg":
            return (
                "the PostgreSQL driver (asyncpg) is not installed: install the postgres extra "
                f"({POSTGRES_EXTRA})"
            )
        state = getattr(err, "sqlstate", None)
        if not isinstance(state, str):
            continue
        said = _first_line(err)
        if state == "3D000":
            return (
                f"PostgreSQL at {where} has no database {name!r}: create it "
                f"(createdb -h {parsed.host or 'localhost'} -p {parsed.port or 5432} "
                f"-U {parsed.username or 'postgres'} {name}) or fix the database name in "
                "QUIZBOT_DATABASE_URL"
            )
        if state == "28P01":
            return (
                f"PostgreSQL at {where} refused the password of user {user!r}: fix the "
                "password in QUIZBOT_DATABASE_URL"
            )
        if state.startswith("28"):
            return (
                f"PostgreSQL at {where} refused user {user!r} ({said}): fix the user in "
                "QUIZBOT_DATABASE_URL, or create that role on the server"
            )
        if state == "42501":
            return (
                f"user {user!r} may not change database {name!r} at {where} ({said}): "
                "make it the database's owner, or use a user who is"
            )
        if state.startswith(("08", "53", "57P")):
            return (
                f"PostgreSQL at {where} cannot take the connection now ({said}); try again "
                "when the server is up"
            )
    for err in chain:
        if isinstance(err, OSError | TimeoutError):
            errno = getattr(err, "errno", None)
            if isinstance(err, TimeoutError):
                reason = "no answer in time"
            elif isinstance(errno, int) and errno > 0:
                reason = os.strerror(errno)  # "Connection refused"
            else:
                reason = getattr(err, "strerror", None) or _first_line(err)
            return (
                f"cannot reach PostgreSQL at {where} ({reason}): is the server running, and are "
                "the host and port in QUIZBOT_DATABASE_URL right?"
            )
    return None


def _sqlite_failure(parsed, chain: list[BaseException]) -> str | None:
    path = Path(parsed.database or "").expanduser()
    folder = path.parent
    for err in chain:
        if not isinstance(err, sqlite3.Error):
            continue
        said = _first_line(err)
        lowered = said.lower()
        if "locked" in lowered or "busy" in lowered:
            return (
                f"the SQLite database {path} is locked by another program: stop it, or point "
                "QUIZBOT_DATABASE_URL at another file"
            )
        if "not a database" in lowered or "malformed" in lowered:
            return (
                f"{path} is not a usable SQLite database ({said}): point QUIZBOT_DATABASE_URL "
                "at another file, or move this one away"
            )
        if "full" in lowered:
            return f"the disk of the SQLite database {path} is full: free some space"
        if "disk i/o error" in lowered:
            return f"cannot write the SQLite database {path} (disk I/O error): check its disk"
        if "unable to open" in lowered or "readonly" in lowered or "read-only" in lowered:
            if not folder.is_dir():
                why = f"its folder {folder} does not exist"
            elif not os.access(folder, os.W_OK):
                why = f"its folder {folder} is read-only"
            elif path.exists() and not os.access(path, os.W_OK):
                why = "the file is read-only"
            else:
                why = said
            return f"cannot write the SQLite database {path}: {why}; {WHERE_TO_POINT}"
    return None  # a migration's own error, say: a bug to be seen with its traceback
