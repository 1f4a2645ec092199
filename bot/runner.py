"""`quizbot run`: every configured platform adapter in one process, on one event loop."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from bot.config import Settings

log = logging.getLogger(__name__)

NO_TOKEN_MESSAGE = """\
quizbot: no platform is configured, so there is nothing to run.
Set TELEGRAM_BOT_TOKEN (from @BotFather) and/or DISCORD_BOT_TOKEN (from the Discord developer
portal) in the environment or in a .env file, then run `quizbot run` again.
To play in this terminal without any token, run `quizbot play`."""


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
        await stop_event.wait()
        log.info("stopping")
    finally:
        for adapter in reversed(started):
            try:
                await adapter.stop()
            except Exception:
                log.exception("stopping the %s adapter failed", adapter.platform)
        await app.close()
    return 0
