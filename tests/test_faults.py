"""Faults: the database unreachable for a few seconds. Answers that arrive meanwhile get an
apology and change nothing; the bot recovers by itself, without a restart."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random

import pytest
from sqlalchemy.engine import make_url

from bot.core.boards import BoardService
from bot.core.dispatcher import Dispatcher
from bot.core.events import ChatRef, Command, OptionAnswer, Sender
from bot.core.replies import AnswerFeedback, AskQuestion, Notice
from bot.core.services import QuizService
from bot.i18n import t
from bot.storage import db
from bot.storage.uow import unit_of_work_factory
from tests.conftest import count_rows

GROUP = ChatRef("test", "g-faults", "group")
ADMIN = Sender("1", "Admin", "en", is_admin=True)


class CuttableProxy:
    """A TCP proxy in front of PostgreSQL that can drop every connection and refuse new ones.
    With `lose_next_reply` it cuts instead of passing on the server's next reply: the
    statement has run on the server, and the bot never hears how it went."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.down = False
        self.lose_next_reply = False
        self.pipes: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _client(self, reader, writer) -> None:
        if self.down:
            writer.close()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self.pipes |= {writer, up_writer}

        async def pump(src, dst, replies: bool):
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    if replies and self.lose_next_reply:
                        self.lose_next_reply = False
                        self.cut()
                        break
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pump(reader, up_writer, False), pump(up_reader, writer, True))

    def cut(self) -> None:
        self.down = True
        for writer in self.pipes:
            writer.close()
        self.pipes.clear()

    def restore(self) -> None:
        self.down = False

    async def stop(self) -> None:
        self.cut()
        self.server.close()


@pytest.mark.postgres
async def test_database_outage_gets_an_apology_and_recovers(pg_url, mini_glossary, clock):
    parsed = make_url(pg_url)
    proxy = CuttableProxy(parsed.host or "127.0.0.1", parsed.port or 5432)
    port = await proxy.start()
    url = parsed.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    engine = db.create_engine(url)
    uow = unit_of_work_factory(db.session_factory(engine))
    try:
        quiz = QuizService(uow, mini_glossary, rng=random.Random(5))
        dispatcher = Dispatcher(quiz, BoardService(uow))
        chat = GROUP.__class__("test", f"g-faults-{os.getpid()}", "group")
        await dispatcher.dispatch(
            Command(chat, ADMIN, "s", clock(), name="settings", args=("types", "mc"))
        )
        replies = await dispatcher.dispatch(Command(chat, ADMIN, "q", clock(), name="quiz"))
        ask = next(r for r in replies if isinstance(r, AskQuestion))
        before = await count_rows(uow, "answers")

        proxy.cut()
        alice = Sender("2", "Alice", "en")
        event = OptionAnswer(
            chat,
            alice,
            "during-outage",
            clock(),
            option=0,
            question_ref=f"rq:{ask.round_question_id}",
        )
        outage = await dispatcher.dispatch(event)
        assert [r.text for r in outage if isinstance(r, Notice)] == [t("en", "error.internal")]

        await asyncio.sleep(2)
        proxy.restore()
        # The same update, redelivered after the outage, is now recorded, once.
        clock.advance(1)
        again = await dispatcher.dispatch(event)
        assert any(isinstance(r, AnswerFeedback) for r in again)
        assert await count_rows(uow, "answers") == before + 1
    finally:
        await engine.dispose()
        await proxy.stop()
