"""The unit of work: one transaction, with the repositories that act inside it.

Usage in a service::

    async with self.uow() as uow:
        chat = await uow.chats.get_or_create(ref, now)
        ...
        await uow.commit()

Leaving the block without `commit()` rolls everything back, so a failure half-way writes nothing.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.db import READ_ONLY
from bot.storage.report_models import ReportRepository
from bot.storage.repositories import (
    AnswerRepository,
    BatchRepository,
    ChatRepository,
    RoundRepository,
    ScoreRepository,
    UserRepository,
)


class UnitOfWork:
    def __init__(
        self,
        sessions: async_sessionmaker,
        lock: asyncio.Semaphore | None = None,
        *,
        brief: bool = False,
    ) -> None:
        self._sessions = sessions
        self._lock = lock
        self._brief = brief
        self._driver = None  # the SQLite connection marked brief, while it is
        self.session: AsyncSession | None = None

    async def __aenter__(self) -> UnitOfWork:
        if self._lock is not None:
            await self._lock.acquire()
        try:
            self.session = self._sessions()
            await self.session.begin()
            if self._brief and self.session.bind.dialect.name == "sqlite":
                await self._mark_brief()
        except BaseException:
            if self.session is not None:
                await self.session.close()
                self.session = None
            if self._lock is not None:
                self._lock.release()
            raise
        self.users = UserRepository(self.session)
        self.chats = ChatRepository(self.session)
        self.rounds = RoundRepository(self.session)
        self.answers = AnswerRepository(self.session)
        self.scores = ScoreRepository(self.session)
        self.batches = BatchRepository(self.session)
        self.reports = ReportRepository(self.session)
        return self

    async def _mark_brief(self) -> None:
        """Run this SQLite transaction's statements on the loop's thread once BEGIN has taken
        the write lock (bot.storage.sqlite_driver)."""
        assert self.session is not None
        connection = await self.session.connection()  # BEGIN, on the driver's thread
        driver = (await connection.get_raw_connection()).driver_connection
        if hasattr(driver, "brief"):
            driver.brief = True
            self._driver = driver

    async def __aexit__(self, *exc_info) -> None:
        assert self.session is not None
        if self._driver is not None:
            self._driver.brief = False  # before the connection goes back to the pool
            self._driver = None
        try:
            await self.session.rollback()
        finally:
            await self.session.close()
            self.session = None
            if self._lock is not None:
                self._lock.release()

    async def commit(self) -> None:
        assert self.session is not None
        await self.session.commit()

    async def flush(self) -> None:
        assert self.session is not None
        await self.session.flush()


class UnitOfWorkFactory(Protocol):
    def __call__(self, *, read_only: bool = False, brief: bool = False) -> UnitOfWork: ...


def unit_of_work_factory(sessions: async_sessionmaker) -> UnitOfWorkFactory:
    """Transactions of this process queue, first come first served, for as many connections as
    the database can use at once: on SQLite one writer (rather than meeting in SQLite's busy
    handler, which sleeps and retries), on PostgreSQL the connection pool (rather than timing out
    in the pool's queue under a burst, which would turn answers into apologies).

    `read_only=True` is for a transaction that only looks: on SQLite it takes no write lock, so
    it runs beside the writer (WAL readers see the last commit) instead of queueing behind it.
    `brief=True` is for a write transaction of a few small statements (the answer path): on
    SQLite they skip the trip to the driver's thread (see bot.storage.sqlite_driver)."""
    engine = sessions.kw["bind"]
    pooled = hasattr(engine.pool, "size")  # not the one shared connection of :memory:
    slots = engine.pool.size() + max(engine.pool._max_overflow, 0) if pooled else 1
    if engine.dialect.name == "sqlite" and slots > 1:
        writers = asyncio.Semaphore(1)
        readers = asyncio.Semaphore(slots - 1)  # a connection left for the writer
        options = {k: v for k, v in sessions.kw.items() if k != "bind"}
        looking = async_sessionmaker(engine.execution_options(**{READ_ONLY: True}), **options)
    else:
        writers = readers = asyncio.Semaphore(slots)
        looking = sessions

    def make(*, read_only: bool = False, brief: bool = False) -> UnitOfWork:
        if read_only:
            return UnitOfWork(looking, readers)
        return UnitOfWork(sessions, writers, brief=brief)

    return make
