"""The unit of work: one transaction, with the repositories that act inside it.

Usage in a service::

    async with self.uow() as uow:
        chat = await uow.chats.get_or_create(ref, now)
        ...
        await uow.commit()

Leaving the block without `commit()` rolls everything back, so a failure half-way writes nothing.
"""

from __future__ import annotations

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
    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions
        self.session: AsyncSession | None = None

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
        await self.session.begin()
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

    async def commit(self) -> None:
        assert self.session is not None
        await self.session.commit()

    async def flush(self) -> None:
        assert self.session is not None
        await self.session.flush()


UnitOfWorkFactory = Callable[[], UnitOfWork]


def unit_of_work_factory(sessions: async_sessionmaker) -> UnitOfWorkFactory:
    return lambda: UnitOfWork(sessions)
