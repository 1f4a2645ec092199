"""aiosqlite with one trip to its thread per statement.

aiosqlite runs every sqlite3 call on a worker thread, and SQLAlchemy's aiosqlite adapter makes
four of them for a SELECT (open a cursor, execute, fetch the rows, close the cursor) and three for
a write. Each trip hands the GIL over and wakes the event loop: on this project's machine about
40 µs of the loop's time and 80 µs of waiting, so a batch of answers spent more on the trips
than on SQLite. The cursor here does the whole statement in one trip (execute, fetch every row,
keep the description, row count and last row id, close) and hands SQLAlchemy the results.

`db.create_engine` plugs `connect` in through SQLAlchemy's `async_creator_fn` connect argument,
so the URL's options still reach sqlite3. Like SQLAlchemy's own adapter it uses two internals of
aiosqlite, `Connection._execute` (run a function on the thread) and `Connection._conn` (the
sqlite3 connection there); the pinned aiosqlite range keeps them, and tests/test_sqlite_driver.py
checks the behaviour SQLAlchemy relies on.

A connection marked `brief` (bot.storage.uow does it for the transactions of the answer path)
runs its statements on the event loop's own thread while it holds the write lock: they are a
few indexed rows each, cheaper than the trip, and holding the lock they never wait for another
writer. BEGIN (which may wait for another process's lock), COMMIT and ROLLBACK (which write the
WAL and may checkpoint) still go to the thread, as does every statement outside a transaction
and every statement of a reader, so the loop never waits on a lock or a long query.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite

ITER_CHUNK_SIZE = 64  # aiosqlite's default


class _Done:
    """What one statement left: its rows (all of them) and the cursor's attributes."""

    __slots__ = ("description", "lastrowid", "rowcount", "rows")

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self.description = cursor.description
        self.rows: list[Any] = cursor.fetchall() if cursor.description else []
        self.rowcount = cursor.rowcount
        self.lastrowid = cursor.lastrowid


def _run(conn: sqlite3.Connection, sql: str, parameters: Any, many: bool) -> _Done:
    """On aiosqlite's thread: the whole statement."""
    cursor = conn.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        return _Done(cursor)
    finally:
        cursor.close()


class OneTripCursor:
    """The part of aiosqlite's Cursor that SQLAlchemy's adapter uses."""

    arraysize = 1

    def __init__(self, connection: OneTripConnection) -> None:
        self._connection = connection
        self._done: _Done | None = None

    async def execute(self, sql: str, parameters: Any = None) -> OneTripCursor:
        params = () if parameters is None else parameters
        self._done = await self._connection.run(sql, params, False)
        return self

    async def executemany(self, sql: str, parameters: Any) -> OneTripCursor:
        self._done = await self._connection.run(sql, parameters, True)
        return self

    @property
    def description(self) -> Any:
        return self._done.description if self._done else None

    @property
    def rowcount(self) -> int:
        return self._done.rowcount if self._done else -1

    @property
    def lastrowid(self) -> int | None:
        return self._done.lastrowid if self._done else None

    async def fetchall(self) -> list[Any]:
        if self._done is None:
            return []
        rows, self._done.rows = self._done.rows, []
        return rows

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        if self._done is None:
            return []
        count = size or self.arraysize
        rows, self._done.rows = self._done.rows[:count], self._done.rows[count:]
        return rows

    async def fetchone(self) -> Any:
        rows = await self.fetchmany(1)
        return rows[0] if rows else None

    async def close(self) -> None:
        """The sqlite3 cursor was closed on the thread with its statement; as with sqlite3,
        its row count and last row id can still be read."""
        if self._done is not None:
            self._done.rows = []

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class _NewCursor:
    """`connection.cursor()`, awaited or entered as aiosqlite allows: no trip to the thread
    (the sqlite3 cursor is made with each statement)."""

    def __init__(self, cursor: OneTripCursor) -> None:
        self._cursor = cursor

    def __await__(self):
        async def ready() -> OneTripCursor:
            return self._cursor

        return ready().__await__()

    async def __aenter__(self) -> OneTripCursor:
        return self._cursor

    async def __aexit__(self, *exc: object) -> None:
        await self._cursor.close()


class OneTripConnection(aiosqlite.Connection):
    # Set by the unit of work for the length of a brief write transaction (see the module
    # docstring); a reader's or an idle connection's statements always go to the thread.
    brief = False

    def cursor(self) -> _NewCursor:  # type: ignore[override]
        return _NewCursor(OneTripCursor(self))

    async def run(self, sql: str, parameters: Any, many: bool) -> _Done:
        conn = self._conn
        if self.brief and conn.in_transaction:
            return _run(conn, sql, parameters, many)
        return await self._execute(_run, conn, sql, parameters, many)


def connect(database: str, **kwargs: Any) -> OneTripConnection:
    """As `aiosqlite.connect` (await the result): `kwargs` go to `sqlite3.connect`."""

    # Made on aiosqlite's thread, used on the loop's by brief transactions: never by both at
    # once, since each statement is awaited before the next is sent.
    kwargs.setdefault("check_same_thread", False)

    def connector() -> sqlite3.Connection:
        return sqlite3.connect(database, **kwargs)

    connection = OneTripConnection(connector, ITER_CHUNK_SIZE)
    connection._thread.daemon = True  # as SQLAlchemy does: never hold the process up at exit
    return connection
