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
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.storage.repositories import (
    AnswerRepository,
    ChatRepository,
    RoundRepository,
    ScoreRepository,
    UserRepository,
)


class UnitOfWork:
    def __init__(self, sessions: async_sessionmaker, lock: asyncio.Semaphore | None = None) -> None:
        self._sessions = sessions
        self._lock = lock
        self.session: AsyncSession | None = None

    async def __aenter__(self) -> UnitOfWork:
        if self._lock is not None:
            await self._lock.acquire()
        try:
            self.session = self._sessions()
            await self.session.begin()
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
        return self

    async def __aexit__(self, *exc_info) -> None:
        assert self.session is not None
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


UnitOfWorkFactory = Callable[[], UnitOfWork]


def unit_of_work_factory(sessions: async_sessionmaker) -> UnitOfWorkFactory:
    """Transactions of this process queue, first come first served, for as many connections as
    the database can use at once: on SQLite one writer (rather than meeting in SQLite's busy
    handler, which sleeps and retries), on PostgreSQL the connection pool (rather than timing out
    in the pool's queue under a burst, which would turn answers into apologies)."""
    engine = sessions.kw["bind"]
    if engine.dialect.name == "sqlite":
        slots = 1
    else:
        slots = engine.pool.size() + max(engine.pool._max_overflow, 0)
    gate = asyncio.Semaphore(slots)
    return lambda: UnitOfWork(sessions, gate)
