"""Inbound events: what a user did, as plain data, whatever the platform.

Adapters build these from platform updates; the dispatcher hands them to the services. The
`event_id` is the platform's own id for the update (Telegram update id, poll answer id, Discord
interaction id): answers are keyed on it so that a redelivered update is never scored twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

MAX_ROW_ID = 2**31 - 1  # the id columns are 32-bit integers on PostgreSQL


def ref_id(ref: str | None, prefix: str) -> int | None:
    """The row id in a core reference such as "rq:12" (prefix "rq:"), or None when `ref` is
    not one: a forged number too big for an id names nothing, it must not reach the database."""
    if not ref or not ref.startswith(prefix):
        return None
    digits = ref[len(prefix) :]
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 10:
        return None
    value = int(digits)
    return value if value <= MAX_ROW_ID else None


@dataclass(frozen=True, slots=True)
class Sender:
    platform_user_id: str
    display_name: str
    lang: str | None = None  # the user's platform language, when the platform tells
    is_admin: bool | None = None  # admin of the chat, when the adapter already knows


@dataclass(frozen=True, slots=True)
class ChatRef:
    platform: str  # "console", "telegram", "discord"
    platform_chat_id: str
    kind: str = "private"  # "private" or "group"
    title: str = ""

    @property
    def is_private(self) -> bool:
        return self.kind == "private"


@dataclass(frozen=True, slots=True)
class Event:
    chat: ChatRef
    sender: Sender
    event_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Command(Event):
    name: str = ""  # lower case, no prefix: "quiz", "leaderboard"
    args: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class TextAnswer(Event):
    """Typed text. `question_ref` names the question when the platform knows which one (a reply
    to the question message, a modal for it); otherwise the chat's open question is meant."""

    text: str = ""
    question_ref: str | None = None


@dataclass(frozen=True, slots=True)
class OptionAnswer(Event):
    """A chosen option. `question_ref` is the platform handle of the question (poll id, round
    question id in a button's custom id)."""

    option: int = -1
    question_ref: str | None = None
