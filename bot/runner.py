"""`quizbot run`: every configured platform adapter in one process, on one event loop."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

from bot.config import Settings

T = TypeVar("T")

log = logging.getLogger(__name__)

NO_TOKEN_MESSAGE = """\
quizbot: no platform is configured, so there is nothing to run.
Set TELEGRAM_BOT_TOKEN (from @BotFather) and/or DISCORD_BOT_TOKEN (from the Discord developer
portal) in the environment or in a .env file, then run `quizbot run` again.
To play in this terminal without any token, run `quizbot play`."""


REMINDER_PERIOD = 60.0  # seconds between looks for due daily reminders


async def _send_reminders(app, stop_event: asyncio.Event) -> None:
    """Once a minute, message the learners whose daily reminder time has come and who have
    reviews due, on platforms that let a bot write first."""
    from bot.core.events import ChatRef
    from bot.core.replies import Notice

    while not stop_event.is_set():
        try:
            due = await app.features.practice.due_reminders(app.hub.clock())
            notices = [
                Notice(ChatRef(platform, chat_id, "private"), text, kind="info")
                for platform, chat_id, text in due
                if platform in app.hub.adapters
            ]
            await app.hub.deliver(notices)
        except Exception:
            log.exception("sending reminders failed; trying again in a minute")
        try:
            await asyncio.wait_for(stop_event.wait(), REMINDER_PERIOD)
        except TimeoutError:
            pass


def run_event_loop(main: Coroutine[Any, Any, T]) -> T:
    """Run the bots' event loop: uvloop where it is installed (Linux and macOS), which serves
    the many small requests of a busy bot with less CPU than asyncio's own loop (about 8 % more
    Telegram updates a second in bench/telegram_e2e.py); asyncio's loop elsewhere."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


GC_YOUNG_THRESHOLD = 10_000


def settle_memory() -> None:
    """Move everything built at start-up (glossary, question pools, ORM mappings, libraries)
    out of the garbage collector's sight: it lives as long as the process, and full
    collections walking it would pause every answer in flight for tens of milliseconds."""
    gc.collect()
    gc.freeze()
    # Fewer collections of the youngest generation (every 700 allocations by default): the
    # answer path makes thousands of short-lived objects (rows, ORM states) per batch, and at
    # 10,000 a batch of answers takes 3 % fewer instructions (counted with callgrind).
    gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)


async def run_bots(settings: Settings, *, stop_event: asyncio.Event | None = None) -> int:
    if not settings.telegram_token and not settings.discord_token:
        print(NO_TOKEN_MESSAGE, file=sys.stderr)
        return 2

    from bot.app import App
    from bot.content.glossary import GlossaryError

    try:
        app = await App.create(settings)
    except GlossaryError as err:
        print("quizbot: the glossary is invalid:", file=sys.stderr)
        print(str(err), file=sys.stderr)
        return 1

    adapters = []
    if settings.telegram_token:
        from bot.adapters.telegram import TelegramAdapter

        adapters.append(TelegramAdapter(settings, app.hub))
    if settings.discord_token:
        from bot.adapters.discord import DiscordAdapter

        adapters.append(DiscordAdapter(settings, app.hub))
    settle_memory()

    stop_event = stop_event or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop_event.set)
        except (NotImplementedError, RuntimeError):
            pass

    started = []
    try:
        for adapter in adapters:
            app.hub.add_adapter(adapter)
            await adapter.start()
            started.append(adapter)
            log.info("%s adapter started", adapter.platform)
        await app.hub.resume()
        app.hub.start_sweeping()
        reminders = asyncio.create_task(_send_reminders(app, stop_event))
        await stop_event.wait()
        log.info("stopping")
        reminders.cancel()
    finally:
        for adapter in reversed(started):
            try:
                await adapter.stop()
            except Exception:
                log.exception("stopping the %s adapter failed", adapter.platform)
        await app.close()
    return 0
