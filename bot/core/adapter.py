"""What the core needs from a platform adapter."""

from __future__ import annotations

from typing import Protocol

from bot.core.replies import Reply


class Adapter(Protocol):
    platform: str

    async def start(self) -> None:
        """Connect and begin delivering events to the hub."""

    async def stop(self) -> None:
        """Disconnect; pending sends are flushed or dropped, never half-sent."""

    async def send(self, reply: Reply) -> str | None:
        """Render one reply natively. Returns the platform's handle on a posted question (a
        poll id, a message id) when answers will refer to it, else None."""
