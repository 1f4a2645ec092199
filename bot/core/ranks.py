"""The caller's rank on big leaderboards, fast.

Counting everyone ahead of a player is a scan of half the board on average: on a million-player
global board that is far slower than a chat message deserves. So for big boards we keep, per
board, a snapshot of how many players hold each points total (refreshed at most once a minute)
and count only the ties exactly. The top ten are always read live; only a deep rank can be up to
a minute stale, which nobody can tell from "#48,213".
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

SNAPSHOT_SECONDS = 60.0
EXACT_BELOW = 20_000  # boards smaller than this are counted exactly, every time
MAX_BOARDS = 256

BoardKey = tuple[int, str, date]
Histogram = Callable[[], Awaitable[list[tuple[int, int]]]]


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

    async def more_points(self, key: BoardKey, points: int, histogram: Histogram) -> int | None:
        """Players with more than `points` on the board, or None to count exactly."""
        snap = self._boards.get(key)
        if snap is None or self.clock() - snap.taken > SNAPSHOT_SECONDS:
            snap = self._take(await histogram())
            if len(self._boards) >= MAX_BOARDS:
                self._boards.pop(next(iter(self._boards)))
            self._boards[key] = snap
        if snap.total < EXACT_BELOW:
            return None
        higher = bisect.bisect_left(snap.negated, -points)  # distinct totals above `points`
        return snap.cumulative[higher - 1] if higher else 0

    def _take(self, histogram: list[tuple[int, int]]) -> _Snapshot:
        negated, cumulative, running = [], [], 0
        for points, count in histogram:  # most points first
            running += count
            negated.append(-points)
            cumulative.append(running)
        return _Snapshot(self.clock(), running, negated, cumulative)
