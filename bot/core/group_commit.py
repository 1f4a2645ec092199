"""Group commit: requests that arrive while a transaction runs are handled together in the next.

A burst of answers then costs one transaction and a handful of set-based statements instead of
one transaction and eight statements each; a lone answer is handled at once, as before. If the
batch fails (a conflict with another process, a bug tripped by one odd request), it is rolled
back as a whole and every request in it is retried on its own, so one request can neither lose
nor fail the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    def __init__(
        self,
        batch: Callable[[list[T]], Awaitable[list[R]]],
        single: Callable[[T], Awaitable[R]],
        *,
        max_batch: int = 64,
    ) -> None:
        self._batch = batch
        self._single = single
        self._max_batch = max_batch
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._drainer: asyncio.Task | None = None

    async def submit(self, item: T) -> R:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._queue.append((item, future))
        if self._drainer is None or self._drainer.done() or self._drainer.get_loop() is not loop:
            self._drainer = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        try:
            while self._queue:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                await self._run(batch)
        except BaseException:
            # Cancelled (shutting down): nobody may wait forever for an answer.
            for _, future in batch + self._queue:
                if not future.done():
                    future.cancel()
            self._queue.clear()
            raise
        finally:
            if self._drainer is asyncio.current_task():
                self._drainer = None

    async def _run(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._batch([item for item, _ in batch])
        except Exception:
            log.warning("a batch of %d failed; handling each on its own", len(batch), exc_info=True)
            for item, future in batch:
                try:
                    result = await self._single(item)
                except Exception as exc:
                    if not future.done():
                        future.set_exception(exc)
                else:
                    if not future.done():
                        future.set_result(result)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
