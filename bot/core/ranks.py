"""The caller's rank on big leaderboards, fast.

Counting everyone ahead of a player is a scan of half the board on average: on a million-player
global board that is far slower than a chat message deserves. So for big boards we keep, per
board, a snapshot of how many players hold each points total and count only the ties exactly.
A snapshot older than a minute is still served while a background task takes a new one, so only
the very first look at a board pays for it. The top ten are always read live; only a deep rank
can be a minute or so stale, which nobody can tell from "#48,213".
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

SNAPSHOT_SECONDS = 60.0
EXACT_BELOW = 20_000  # boards smaller than this are counted exactly, every time
MAX_BOARDS = 256

BoardKey = tuple[int, str, date]
Histogram = Callable[[], Awaitable[list[tuple[int, int]]]]
log = logging.getLogger(__name__)


@dataclass
class _Snapshot:
    taken: float
    total: int
    negated: list[int]  # the distinct points totals, negated, so ascending for bisect
    cumulative: list[int]  # players with at least the i-th highest total


class RankSnapshots:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._boards: dict[BoardKey, _Snapshot] = {}
        self._refreshing: dict[BoardKey, asyncio.Task] = {}

    async def more_points(
        self,
        key: BoardKey,
        points: int,
        histogram: Histogram,
        refresh: Histogram | None = None,
    ) -> int | None:
        """Players with more than `points` on the board, or None to count exactly.

        `histogram` loads the board's points histogram now (in the caller's transaction);
        `refresh` loads it in a transaction of its own, for a background refresh."""
        snap = self._boards.get(key)
        if snap is None:
            snap = self._store(key, await histogram())
        elif self.clock() - snap.taken > SNAPSHOT_SECONDS and key not in self._refreshing:
            if refresh is None:
                snap = self._store(key, await histogram())
            else:
                self._refreshing[key] = asyncio.create_task(self._refresh(key, refresh))
        if snap.total < EXACT_BELOW:
            return None
        higher = bisect.bisect_left(snap.negated, -points)  # distinct totals above `points`
        return snap.cumulative[higher - 1] if higher else 0

    async def _refresh(self, key: BoardKey, refresh: Histogram) -> None:
        try:
            self._store(key, await refresh())
        except Exception:
            log.exception("refreshing the rank snapshot of board %s failed", key)
        finally:
            self._refreshing.pop(key, None)

    def _store(self, key: BoardKey, histogram: list[tuple[int, int]]) -> _Snapshot:
        if key not in self._boards and len(self._boards) >= MAX_BOARDS:
            self._boards.pop(next(iter(self._boards)))
        snap = self._boards[key] = self._take(histogram)
        return snap

    def _take(self, histogram: list[tuple[int, int]]) -> _Snapshot:
        negated, cumulative, running = [], [], 0
        for points, count in histogram:  # most points first
            running += count
            negated.append(-points)
            cumulative.append(running)
        return _Snapshot(self.clock(), running, negated, cumulative)
