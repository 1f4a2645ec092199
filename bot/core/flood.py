"""Per-user flood control: a user sending faster than a person can read is slowed down, and
nobody else notices. Leaky buckets from aiolimiter, one per recently seen user."""

from __future__ import annotations

from collections import OrderedDict

from aiolimiter import AsyncLimiter

DEFAULT_RATE = 8  # events ...
DEFAULT_PERIOD = 5.0  # ... per this many seconds, per user
MAX_TRACKED_USERS = 20_000


class FloodGuard:
    def __init__(self, rate: int = DEFAULT_RATE, period: float = DEFAULT_PERIOD) -> None:
        self.rate = rate
        self.period = period
        self._buckets: OrderedDict[str, AsyncLimiter] = OrderedDict()
        self._warned: set[str] = set()

    async def admit(self, key: str) -> tuple[bool, bool]:
        """(allowed, warn): `warn` is True on the first refusal of a burst, so the user is
        told once to slow down instead of once per message."""
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = AsyncLimiter(self.rate, self.period)
            if len(self._buckets) > MAX_TRACKED_USERS:
                old, _ = self._buckets.popitem(last=False)
                self._warned.discard(old)
        else:
            self._buckets.move_to_end(key)
        if bucket.has_capacity():
            await bucket.acquire()  # returns at once: there is capacity
            self._warned.discard(key)
            return True, False
        first = key not in self._warned
        self._warned.add(key)
        return False, first
