"""Updates from different users are handled at the same time; one user's, in the order sent.

python-telegram-bot handles updates one after another by default, so a crowd answering a quiz
waits in a single line and every reply waits for the Bot API calls of all the replies before
it. Handled concurrently, the answers that arrive together also share a database transaction
(bot.core.group_commit). What must not change is the order of one person's messages: an answer
and the command that follows it, two clicks on the same buttons.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

MAX_CONCURRENT_UPDATES = 256


class PerUserOrder(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        # A lock per user with updates in flight, and how many of theirs hold or await it.
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _user_id(update)
        if key is None:  # nobody's (e.g. a channel post): no order to keep
            await coroutine
            return
        lock, users = self._locks.get(key, (None, 0))
        lock = lock or asyncio.Lock()
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:  # asyncio locks are fair: first come, first served
                await coroutine
        finally:
            lock, users = self._locks[key]
            if users > 1:
                self._locks[key] = (lock, users - 1)
            else:
                del self._locks[key]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def _user_id(update: object) -> int | None:
    if isinstance(update, Update) and update.effective_user is not None:
        return update.effective_user.id
    return None
