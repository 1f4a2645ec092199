"""What the core needs from a platform adapter."""

from __future__ import annotations

from typing import Protocol

from bot.core.replies import Reply


class NotDelivered(Exception):
    """Raised by `Adapter.send` when a reply certainly did not reach its chat (the bot was
    removed, the platform refused it, the adapter is stopping). A round message that was not
    delivered is still owed to its chat: it is sent again after a restart."""


class Adapter(Protocol):
    platform: str

    async def start(self) -> None:
        """Connect and begin delivering events to the hub."""

    async def stop(self) -> None:
        """Disconnect; pending sends are flushed or dropped, never half-sent."""

    async def send(self, reply: Reply) -> str | None:
        """Render one reply natively. Returns the platform's handle on a posted question (a
        poll id, a message id) when answers will refer to it, else None. Raises NotDelivered
        (or any error) when the reply did not reach the chat; a reply that may have reached
        it (a timeout) counts as delivered."""
