"""Deep ranks on big boards come from a points snapshot plus exact tie counts; they must match
the exact count whenever the snapshot is fresh."""

import asyncio
import random

import pytest

from bot.core.ranks import EXACT_BELOW, RankSnapshots


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("seed", range(5))
async def test_snapshot_counts_match_an_exact_count(seed):
    rng = random.Random(seed)
    totals = [rng.randrange(0, 3000) for _ in range(EXACT_BELOW + 500)]
    histogram = {}
    for points in totals:
        histogram[points] = histogram.get(points, 0) + 1
    rows = sorted(histogram.items(), reverse=True)
    calls = []

    async def load():
        calls.append(1)
        return rows

    ranks = RankSnapshots(Clock())
    for points in [0, 1, 2999, 3000, 5000, *rng.sample(totals, 50)]:
        exact = sum(1 for p in totals if p > points)
        assert await ranks.more_points((0, "all", None), points, load) == exact
    assert len(calls) == 1  # one snapshot serves every caller for a minute


async def test_small_boards_are_counted_exactly_and_snapshots_expire():
    clock = Clock()
    ranks = RankSnapshots(clock)
    calls = []

    async def load():
        calls.append(1)
        return [(10, 3), (5, 2)]

    assert await ranks.more_points((1, "all", None), 5, load) is None
    clock.now += 61
    assert await ranks.more_points((1, "all", None), 5, load) is None
    assert len(calls) == 2


async def test_a_stale_snapshot_is_served_while_a_new_one_is_taken():
    clock = Clock()
    ranks = RankSnapshots(clock)
    big = [(100, EXACT_BELOW), (50, 10)]
    bigger = [(200, 5), (100, EXACT_BELOW), (50, 10)]

    async def now():
        return big

    async def later():
        return bigger

    key = (0, "all", None)
    assert await ranks.more_points(key, 50, now, refresh=later) == EXACT_BELOW
    clock.now += 61
    # Served from the old snapshot at once; the refresh runs in the background.
    assert await ranks.more_points(key, 50, now, refresh=later) == EXACT_BELOW
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert await ranks.more_points(key, 50, now, refresh=later) == EXACT_BELOW + 5
