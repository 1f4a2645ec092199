"""Composition root: settings -> database, glossary, services, dispatcher and hub."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.content.glossary import load_glossary
from bot.content.model import Glossary
from bot.core.boards import BoardService
from bot.core.dispatcher import Dispatcher
from bot.core.features import Features
from bot.core.features import register as register_features
from bot.core.hub import Clock, Hub, utc_now
from bot.core.services import QuizService
from bot.storage import db
from bot.storage.uow import UnitOfWorkFactory, unit_of_work_factory

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    uow: UnitOfWorkFactory
    glossary: Glossary
    quiz: QuizService
    boards: BoardService
    dispatcher: Dispatcher
    hub: Hub
    features: Features

    @classmethod
    async def create(
        cls,
        settings: Settings,
        *,
        migrate: bool = True,
        clock: Clock = utc_now,
        glossary: Glossary | None = None,
    ) -> App:
        """Load and validate the glossary (raises GlossaryError), migrate the database to head,
        and wire the services."""
        started = time.perf_counter()
        if glossary is None:
            glossary = load_glossary(list(settings.content_paths) or None)
        if migrate:
            await db.upgrade(settings.database_url)
        engine = db.create_engine(settings.database_url)
        uow = unit_of_work_factory(db.session_factory(engine))
        quiz = QuizService(uow, glossary)
        boards = BoardService(uow)
        dispatcher = Dispatcher(quiz, boards)
        features = register_features(dispatcher, uow, glossary, clock)
        hub = Hub(dispatcher, quiz, clock, practice=features.practice)
        log.info(
            "ready: %d glossary entries, database %s, in %.2f s",
            len(glossary),
            engine.url.render_as_string(hide_password=True),
            time.perf_counter() - started,
        )
        return cls(settings, engine, uow, glossary, quiz, boards, dispatcher, hub, features)

    async def close(self) -> None:
        await self.hub.close()
        await self.engine.dispose()
