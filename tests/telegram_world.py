"""The world of the Telegram end-to-end tests: the fake Bot API server, the bot (a real App
and TelegramAdapter) and helpers to play and look. tests/conftest.py loads the fixtures."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest
from sqlalchemy import text

from bot.adapters.telegram import TelegramAdapter
from bot.app import App
from bot.config import Secret, Settings
from bot.content.questions import QuestionGenerator
from bot.core.events import ChatRef, Sender
from bot.core.replies import AskQuestion
from tests.conftest import assert_every_round_reached_its_podium, rounds_without_podium
from tests.fakes import FakeTelegramServer

TOKEN = "123:TEST"


class World:
    """A fake Telegram, the bot (adapter + app) and helpers to play and look."""

    def __init__(self, server: FakeTelegramServer, app: App, adapter: TelegramAdapter) -> None:
        self.server = server
        self.app = app
        self.adapter = adapter

    async def question(self, chat_id: int, since: int, wait: float = 5.0):
        """The next question the bot posts in the chat after `since`: (call, is_poll)."""
        deadline = asyncio.get_running_loop().time() + wait
        while asyncio.get_running_loop().time() < deadline:
            for call in self.server.calls[since:]:
                if not call.ok or str(call.params.get("chat_id")) != str(chat_id):
                    continue
                if call.method == "sendPoll":
                    return call, True
                if call.method == "sendMessage" and re.search(
                    r"(^|\n)(<b>)?(Question|第) ?\d+", call.params["text"]
                ):
                    return call, False
            await asyncio.sleep(0.01)
        raise AssertionError(f"no question posted: {self.server.calls[since:]}")

    async def open_question(self, chat: ChatRef, user) -> AskQuestion:
        """What the core has open in the chat (to know the right answer of a typed question)."""
        name = " ".join(p for p in (user.first_name, user.last_name) if p)
        sender = Sender(str(user.id), name, user.language_code)
        ask = await self.app.quiz.current_question(chat, sender, self.app.hub.clock())
        assert ask is not None, "no open question"
        return ask

    async def wait_answers(self, count: int, wait: float = 5.0) -> None:
        """Until the database holds `count` answers: updates are handled one by one, and the
        fake clock must not move on before they are."""
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            [(stored,)] = await self.rows("SELECT count(*) FROM answers")
            if stored >= count:
                return
            assert asyncio.get_running_loop().time() < deadline, f"{stored} answers stored"
            await asyncio.sleep(0.02)

    async def rows(self, sql: str) -> list:
        async with self.app.uow() as uow:
            return list((await uow.session.execute(text(sql))).all())

    async def until_rows(self, sql: str, want: list, wait: float = 5.0) -> None:
        deadline = asyncio.get_running_loop().time() + wait
        while (got := await self.rows(sql)) != want:
            assert asyncio.get_running_loop().time() < deadline, f"{sql}: {got} != {want}"
            await asyncio.sleep(0.02)


@pytest.fixture
async def server():
    async with FakeTelegramServer(bot_token=TOKEN) as srv:
        yield srv


@pytest.fixture
async def make_world(server, database_url, mini_glossary, clock, caplog, request):
    """`world = await make_world()` starts the bot; the teardown stops it and fails the test
    on a handler crash, an error logged by the bot, or a round that never reached its podium."""
    started: list[World] = []

    async def make(
        *, fake_clock: bool = False, seed: int = 4, glossary=None, **adapter_kw
    ) -> World:
        settings = Settings(
            database_url=database_url,
            telegram_token=Secret(TOKEN),
            telegram_base_url=server.api_url,
        )
        glossary = glossary or mini_glossary
        kwargs = {"clock": clock} if fake_clock else {}
        app = await App.create(settings, migrate=False, glossary=glossary, **kwargs)
        # A fixed question sequence, so that each test meets the same mix of question kinds.
        app.quiz.generator = QuestionGenerator(glossary, seed=seed)
        adapter = TelegramAdapter(settings, app.hub, poll_timeout=1, **adapter_kw)
        app.hub.add_adapter(adapter)

        async def record(update, context):  # a handler crash fails the waiting test at once
            server.handler_errors.append(context.error)

        adapter.application.add_error_handler(record)
        await adapter.start()
        world = World(server, app, adapter)
        started.append(world)
        return world

    caplog.set_level(logging.INFO)
    yield make
    unfinished = []
    for world in started:
        await world.adapter.stop()
        unfinished += await rounds_without_podium(world.app.uow)
        await world.app.close()
    assert not server.handler_errors, server.handler_errors
    assert_every_round_reached_its_podium(request, unfinished)
    assert not server.handler_errors, server.handler_errors
    records = all_records(caplog)
    bad = [
        f"{r.name}: {r.getMessage()}"
        for r in records
        if r.levelno >= logging.ERROR and r.name.startswith("bot.")
    ]
    assert not bad, bad
    leaked = [r.getMessage() for r in records if TOKEN in r.getMessage()]
    assert not leaked, leaked


def all_records(caplog) -> list[logging.LogRecord]:
    """The test's log records: in a fixture's teardown `caplog.records` holds only the
    teardown's own."""
    return [*caplog.get_records("setup"), *caplog.get_records("call"), *caplog.records]
