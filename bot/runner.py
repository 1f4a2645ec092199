"""`quizbot run`: every configured platform adapter in one process, on one event loop.

Start-up says in one line what runs where; Ctrl-C or SIGTERM stops the bot within a second or
two in every state (starting, retrying an unreachable platform, migrating, running rounds):
what is under way is cancelled, updates already received are handled (their answers
committed), and every wait on the way out has a time limit.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar
from urllib.parse import urlsplit

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


class Stopped(Exception):
    """Ctrl-C or SIGTERM came while `quizbot run` was starting."""


STOP_GRACE = 1.5  # seconds the platforms get to finish the updates in hand when stopping
CLOSE_GRACE = 2.0  # seconds closes under way get to commit, and the database to be released


def leave_now(code: int) -> None:
    """Exit at once (a second Ctrl-C, or work left behind that must not hold the process up):
    what the log holds is flushed first. Every transaction is atomic, so one cut short is
    rolled back, never half-written."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code)


def describe_start(settings: Settings) -> str:
    """The start-up line: what runs, where, with which database (no secret in it)."""
    platforms = []
    if settings.telegram_token:
        mode = "webhook" if settings.telegram_webhook_url else "long polling"
        host = urlsplit(settings.telegram_base_url).netloc
        platforms.append(f"telegram ({mode}, Bot API at {host})")
    if settings.discord_token:
        shards = settings.discord_shards
        how = "one connection" if not shards else f"{shards} shards"
        platforms.append(f"discord ({how})")
    glossary = ", ".join(str(p) for p in settings.content_paths) or "the shipped glossary"
    return (
        f"quizbot {_version()} starting: {' and '.join(platforms) or 'no platform'}; "
        f"database {settings.safe_database_url}; glossary from {glossary}; "
        f"log level {settings.log_level}"
    )


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("quizbot")
    except Exception:
        return "(version unknown)"


async def run_bots(
    settings: Settings,
    *,
    stop_event: asyncio.Event | None = None,
    adapters: list | None = None,
) -> int:
    """Run every configured platform until Ctrl-C or SIGTERM (or `stop_event`). A platform or
    database that cannot be used raises StartupError once everything started is stopped;
    `adapters` replaces the configured ones (tests)."""
    if not settings.telegram_token and not settings.discord_token and adapters is None:
        print(NO_TOKEN_MESSAGE, file=sys.stderr)
        return 2

    stop_event = stop_event or asyncio.Event()
    restore_signals = _catch_signals(stop_event)
    log.info("%s", describe_start(settings))

    from bot.app import App
    from bot.content.glossary import GlossaryError

    app = None
    tried: list = []
    reminders: asyncio.Task | None = None
    try:
        try:
            app = await _unless_stopped(App.create(settings), stop_event)
        except GlossaryError as err:
            print("quizbot: the glossary is invalid:", file=sys.stderr)
            print(str(err), file=sys.stderr)
            return 1
        if adapters is None:
            adapters = _configured_adapters(settings, app.hub)
        settle_memory()
        for adapter in adapters:
            app.hub.add_adapter(adapter)
            tried.append(adapter)
            await _unless_stopped(adapter.start(), stop_event)
        await _unless_stopped(app.hub.resume(), stop_event)
        app.hub.start_sweeping()
        reminders = asyncio.create_task(_send_reminders(app, stop_event))
        log.info("running on %s; Ctrl-C (or SIGTERM) stops", ", ".join(a.platform for a in tried))
        await stop_event.wait()
        return 0
    except Stopped:
        log.info("stopped while starting")
        return 0
    finally:
        await _shut_down(app, tried, reminders)
        restore_signals()


def _configured_adapters(settings: Settings, hub) -> list:
    adapters: list = []
    if settings.telegram_token:
        from bot.adapters.telegram import TelegramAdapter

        adapters.append(TelegramAdapter(settings, hub))
    if settings.discord_token:
        from bot.adapters.discord import DiscordAdapter

        adapters.append(DiscordAdapter(settings, hub))
    return adapters


def _catch_signals(stop_event: asyncio.Event) -> Callable[[], None]:
    """Ctrl-C and SIGTERM set `stop_event`, whatever `quizbot run` is doing (starting,
    retrying, migrating, running rounds); a second one leaves at once. Returns what puts the
    previous handlers back."""
    loop = asyncio.get_running_loop()

    def on_signal(name: str) -> None:
        if stop_event.is_set():
            log.warning("%s again: leaving at once", name)
            leave_now(130)
        log.info("%s: stopping (once more to leave at once)", name)
        stop_event.set()

    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal, sig.name)
            installed.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):
            pass  # not the main thread, or a platform without them

    def restore() -> None:
        for sig in installed:
            try:
                loop.remove_signal_handler(sig)
            except (NotImplementedError, RuntimeError, ValueError):
                pass

    return restore


async def _unless_stopped(work: Awaitable[T], stop_event: asyncio.Event) -> T:
    """`await work`, unless Ctrl-C (or SIGTERM) comes first: then `work` is cancelled and
    Stopped raised."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop_event.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        task.cancel()
        raise
    finally:
        stopper.cancel()
    if task.done():
        return task.result()
    task.cancel()
    await asyncio.wait({task}, timeout=STOP_GRACE)
    task.add_done_callback(_quietly)
    raise Stopped


def _quietly(task: asyncio.Task) -> None:
    """A cancelled start may still end in an error: it was looked at, nothing to report."""
    if not task.cancelled():
        task.exception()


async def _within(seconds: float, work: Awaitable[None], what: str) -> bool:
    """Give `work` `seconds` to finish; past that it is cancelled and left. Whether it
    finished in time."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if done:
        if not task.cancelled() and task.exception() is not None:
            err = task.exception()
            log.warning("%s failed: %s: %s", what, type(err).__name__, err)
        return True
    log.warning("%s took longer than %.0f s; leaving it", what, seconds)
    task.cancel()
    task.add_done_callback(_quietly)
    return False


async def _shut_down(app, adapters: list, reminders: asyncio.Task | None) -> None:
    """Stop the platforms (each finishes the updates it holds: their answers are committed),
    then the app (closes under way finish, the database is released), each within its grace."""
    if reminders is not None:
        reminders.cancel()
    if adapters:
        log.info("stopping")

        async def stop_all() -> None:
            for adapter in reversed(adapters):
                try:
                    await adapter.stop()
                except Exception as err:
                    log.warning("stopping the %s adapter failed: %s", adapter.platform, err)

        await _within(STOP_GRACE, stop_all(), "stopping the platforms")
    if app is not None:
        await _within(CLOSE_GRACE, app.close(), "closing the database")
