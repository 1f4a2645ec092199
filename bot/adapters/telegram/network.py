"""Staying within Telegram's limits and surviving a flaky network.

* `QuizRateLimiter`: python-telegram-bot's AIORateLimiter (30 messages a second overall, 20 a
  minute per group, 429s retried after `retry_after`), except that read-only calls such as
  getChatMember do not use up a group's 20 messages a minute, and at most MAX_IN_FLIGHT
  requests are on the wire at once.
* `call`: one Bot API call, retried with backoff on network errors. A timed-out request is
  retried only when it never left this machine: a read timeout may hide a message that Telegram
  did post, and sending it again would duplicate it.
* `TokenRedactor`: a log filter that hides the token should a URL ever reach a log line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import AIORateLimiter

from bot.adapters.telegram.transport import NotSent

log = logging.getLogger(__name__)

T = TypeVar("T")

# Bot API requests on the wire at once. Telegram takes 30 messages a second, so a handful in
# flight keeps up even at 100 ms a round trip; the transport keeps as many connections open.
MAX_IN_FLIGHT = 8
NETWORK_TRIES = 5
FIRST_BACKOFF = 0.5  # seconds; doubles on each try: 0.5, 1, 2, 4

# Calls that post nothing into a chat, so they should not spend the chat's message budget.
UNCOUNTED = frozenset(
    {
        "getChatMember",
        "getChat",
        "getChatAdministrators",
        "answerCallbackQuery",
        "setMyCommands",
        "deleteMyCommands",
        "sendChatAction",
    }
)


class QuizRateLimiter(AIORateLimiter):
    def __init__(
        self,
        overall_max_rate: float = 30,
        overall_time_period: float = 1,
        group_max_rate: float = 20,
        group_time_period: float = 60,
        max_retries: int = 3,
        max_in_flight: int = MAX_IN_FLIGHT,
    ) -> None:
        super().__init__(
            overall_max_rate=overall_max_rate,
            overall_time_period=overall_time_period,
            group_max_rate=group_max_rate,
            group_time_period=group_time_period,
            max_retries=max_retries,
        )
        self._in_flight = asyncio.Semaphore(max_in_flight)

    async def process_request(  # type: ignore[override]
        self,
        callback: Callable[..., Any],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        if endpoint in UNCOUNTED:
            # The limiter only reads `data` to choose its buckets; without a chat id it applies
            # none, and still retries on 429.
            data = {k: v for k, v in data.items() if k != "chat_id"}

        async def on_the_wire(*a: Any, **kw: Any) -> Any:
            # Only the request itself holds a place: waits for the rate limits and for a
            # 429's retry_after happen outside, so they do not hold up other chats.
            async with self._in_flight:
                return await callback(*a, **kw)

        return await super().process_request(
            on_the_wire, args, kwargs, endpoint, data, rate_limit_args
        )


def never_sent(err: TimedOut) -> bool:
    """A timeout while connecting or waiting for a pooled connection: nothing reached Telegram
    (the transport says so with a NotSent cause)."""
    return isinstance(err.__cause__, NotSent)


async def call(method: Callable[..., Awaitable[T]], *args: Any, what: str = "", **kwargs: Any) -> T:
    """`await method(*args, **kwargs)`, retried on network trouble. Raises what cannot be
    retried (BadRequest, Forbidden, a read timeout) or the last error after NETWORK_TRIES."""
    delay = FIRST_BACKOFF
    for attempt in range(1, NETWORK_TRIES + 1):
        try:
            return await method(*args, **kwargs)
        except (BadRequest, Forbidden):
            raise  # BadRequest is a NetworkError in PTB, but retrying cannot fix it
        except RetryAfter as err:
            # The rate limiter already waited `max_retries` times; one more patient try.
            if attempt == NETWORK_TRIES:
                raise
            wait = err._retry_after.total_seconds() + 0.1
            log.warning("%s: Telegram asks to wait %.1f s", what or "request", wait)
            await asyncio.sleep(wait)
            continue
        except TimedOut as err:
            if not never_sent(err) or attempt == NETWORK_TRIES:
                raise
            log.warning("%s: timed out before sending (try %d); retrying", what, attempt)
        except NetworkError as err:
            if attempt == NETWORK_TRIES:
                raise
            log.warning("%s: network error (try %d): %s; retrying", what, attempt, err)
        await asyncio.sleep(delay)
        delay *= 2
    raise AssertionError("unreachable")


class TokenRedactor(logging.Filter):
    """Replaces the bot token in a log record's message with '<token>'."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.token:
            return True
        message = record.getMessage()
        if self.token in message:
            record.msg = message.replace(self.token, "<token>")
            record.args = None
        return True


def quiet_http_logs(token: str) -> None:
    """httpx logs every request URL at INFO, and Bot API URLs contain the token."""
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)
        if not any(isinstance(f, TokenRedactor) for f in logger.filters):
            logger.addFilter(TokenRedactor(token))
