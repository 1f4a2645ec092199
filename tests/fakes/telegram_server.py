"""A fake Telegram Bot API server for offline tests.

The real python-telegram-bot `Application` talks HTTP to this server exactly as it would to
api.telegram.org (point it here with `base_url(server.api_url)`), so tests exercise the whole
parsing path. Tests play the users (`send_text`, `reply_text`, `answer_poll`, `click`,
`forge_click`) and observe what the bot did (`calls`, each with its times, `wait_for`,
`messages_in`); `fail_next` makes calls fail or answer late. The server checks Telegram's
limits and records every violation in `errors`, so a test can assert the bot never broke one.

This module speaks only HTTP/JSON: it does not import `telegram`. See
/work/notes/telegram_harness.md for a guide.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import aiohttp
from aiohttp import web

JSON = dict[str, Any]

# Parameters Telegram documents as strings. PTB sends a str value raw and everything else
# JSON-encoded, so these must not go through json.loads ("123" would become an int).
STRING_PARAMS = {
    "text", "caption", "question", "explanation", "description", "parse_mode",
    "explanation_parse_mode", "question_parse_mode", "description_parse_mode",
    "callback_query_id", "language_code", "url", "secret_token", "inline_message_id",
    "business_connection_id", "message_effect_id", "photo", "document", "file_id", "type",
    "emoji", "action",
}  # fmt: skip


# Until the bot sets allowed_updates, Telegram withholds these kinds.
DEFAULT_ALLOWED_EXCLUDES = ("chat_member", "message_reaction", "message_reaction_count")


@dataclass(frozen=True)
class Limits:
    """Limits the server enforces. Defaults follow the project's design notes, which are a
    little stricter than Bot API 10 (1-12 poll options, open_period up to 2628000 s)."""

    text: int = 4096
    caption: int = 1024
    poll_question: int = 300
    poll_option: int = 100
    poll_options_min: int = 2
    poll_options_max: int = 10
    explanation: int = 200
    explanation_line_feeds: int = 2
    open_period_min: int = 5
    open_period_max: int = 600
    callback_data_bytes: int = 64
    callback_answer_text: int = 200
    commands_max: int = 100


@dataclass
class FakeUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_bot: bool = False

    def to_dict(self) -> JSON:
        data = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data


@dataclass
class FakeChat:
    id: int
    type: str  # private, group, supergroup, channel
    title: str | None = None
    username: str | None = None
    first_name: str | None = None

    def to_dict(self) -> JSON:
        data: JSON = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data


@dataclass
class UploadedFile:
    field: str
    filename: str | None
    content_type: str | None
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class ApiCall:
    """One request the bot made. `result` is what the server answered when `ok`."""

    index: int
    method: str
    params: JSON
    files: dict[str, UploadedFile]
    status: int
    result: Any = None
    error: str | None = None
    injected: bool = False  # the failure came from fail_next, not from a broken rule
    # time.monotonic() when the request arrived and when the server answered it (later than
    # `at` by a fail_next delay): a test can tell how long the bot waited between two tries.
    at: float = 0.0
    answered_at: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    def __repr__(self) -> str:
        shown = {k: v for k, v in self.params.items() if k != "reply_markup"}
        outcome = "ok" if self.ok else f"{self.status} {self.error}"
        return f"<#{self.index} {self.method} {shown} -> {outcome}>"


class ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: JSON | None = None):
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class _Failure:
    status: int | None
    description: str | None
    retry_after: float | None
    delay: float
    chat_id: int | str | None
    where: Callable[[JSON], bool] | None = None
    hold: Hold | None = None


class Hold:
    """A request the server holds without an answer (see `FakeTelegramServer.hold_next`)."""

    def __init__(self) -> None:
        self.arrived = asyncio.Event()
        self.params: JSON = {}
        self._released = asyncio.Event()

    async def wait(self, timeout: float = 15.0) -> JSON:  # noqa: ASYNC109
        """Until the held request has arrived; its parameters."""
        await asyncio.wait_for(self.arrived.wait(), timeout)
        return self.params

    def release(self) -> None:
        self._released.set()


@dataclass
class _Pending:
    update: JSON
    forced: bool = False  # redelivered: hand out even if below the confirmed offset
    handed_out: bool = False


@dataclass
class _Poll:
    id: str
    chat_id: int
    message_id: int
    question: str
    options: list[str]
    type: str
    is_anonymous: bool
    allows_multiple_answers: bool
    allows_revoting: bool
    correct_option_ids: list[int]
    explanation: str | None
    open_period: int | None
    close_date: int | None
    is_closed: bool = False
    votes: dict[int, list[int]] = field(default_factory=dict)

    def to_dict(self) -> JSON:
        counts = [sum(i in v for v in self.votes.values()) for i in range(len(self.options))]
        data: JSON = {
            "id": self.id,
            "question": self.question,
            "options": [
                {"text": text, "voter_count": counts[i], "persistent_id": f"o{i}"}
                for i, text in enumerate(self.options)
            ],
            "total_voter_count": sum(1 for v in self.votes.values() if v),
            "is_closed": self.is_closed,
            "is_anonymous": self.is_anonymous,
            "type": self.type,
            "allows_multiple_answers": self.allows_multiple_answers,
            "allows_revoting": self.allows_revoting,
            "members_only": False,
        }
        if self.type == "quiz":
            data["correct_option_ids"] = self.correct_option_ids
        for key in ("explanation", "open_period", "close_date"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data


class _Pulse:
    """Wakes every waiter when something changes. Check, then wait, with no await between."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float | None) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), seconds)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------- formatted text
_HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
              "a", "code", "pre", "blockquote", "tg-emoji"}  # fmt: skip


class _HtmlChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.problem: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            self.problem = self.problem or f'Unsupported start tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problem = self.problem or f'Unmatched end tag "{tag}"'
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")


def _check_markdown_v2(text: str) -> str:
    """Return the plain text, or raise like Telegram does for an unescaped reserved character."""
    out: list[str] = []
    open_marks: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            out.append(text[i + 1])
            i += 2
            continue
        if c == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = text.find(fence, i + len(fence))
            if end < 0:
                raise bad_request("can't parse entities: Can't find end of code entity")
            out.append(text[i + len(fence) : end].replace("\\`", "`").replace("\\\\", "\\"))
            i = end + len(fence)
            continue
        mark = next((m for m in ("||", "__", "*", "_", "~") if text.startswith(m, i)), None)
        if mark:
            if mark in open_marks:
                open_marks.remove(mark)
            else:
                open_marks.append(mark)
            i += len(mark)
            continue
        if c == "[":
            i += 1  # link text follows; the "](url)" part is skipped below
            continue
        if text.startswith("](", i):
            end = text.find(")", i + 2)
            while end > 0 and text[end - 1] == "\\":
                end = text.find(")", end + 1)
            if end < 0:
                raise bad_request("can't parse entities: Can't find end of a URL")
            i = end + 1
            continue
        if c == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1  # blockquote
            continue
        if c in _MDV2_RESERVED:
            raise bad_request(
                f"can't parse entities: Character '{c}' is reserved and must be escaped "
                "with the preceding '\\'"
            )
        out.append(c)
        i += 1
    if open_marks:
        raise bad_request(f"can't parse entities: Can't find end of {open_marks[-1]!r} entity")
    return "".join(out)


def plain_text(text: str, parse_mode: str | None) -> str:
    """What the user would see: markup checked and stripped (entities are not reported)."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        checker = _HtmlChecker()
        checker.feed(text)
        checker.close()
        if checker.problem or checker.stack:
            problem = (
                checker.problem or f'Can\'t find end tag corresponding to "{checker.stack[-1]}"'
            )
            raise bad_request(f"can't parse entities: {problem}")
        return "".join(checker.text)
    if mode == "markdownv2":
        return _check_markdown_v2(text)
    return text


# --------------------------------------------------------------------------- the server
class FakeTelegramServer:
    """A Bot API server on 127.0.0.1 holding users, chats and an update queue in memory.

    `bot_token=None` accepts any token; otherwise other tokens get 401 Unauthorized.
    `privacy_mode=True` delivers group messages the way a bot in privacy mode sees them:
    commands, replies to the bot and @mentions only (all messages if the bot is an admin).
    `poll_updates=True` also queues `poll` updates (new counts, closed) for the bot's polls.
    """

    def __init__(
        self,
        bot_token: str | None = None,
        *,
        bot_username: str = "quiz_test_bot",
        bot_name: str = "Quiz Bot",
        privacy_mode: bool = True,
        poll_updates: bool = True,
        limits: Limits | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.bot_token = bot_token
        bot_id = int(bot_token.split(":")[0]) if bot_token and bot_token[0].isdigit() else 123
        self.bot = FakeUser(bot_id, bot_name, username=bot_username, is_bot=True)
        self.privacy_mode, self.poll_updates = privacy_mode, poll_updates
        self.limits = limits or Limits()
        self.clock = clock
        self.url = ""
        # observable state
        self.calls: list[ApiCall] = []
        self.errors: list[ApiCall] = []  # requests Telegram would reject (not injected ones)
        self.updates: list[JSON] = []  # every update queued, in order
        self.callback_answers: dict[str, JSON] = {}
        self.webhook_deliveries: list[tuple[int, int | str]] = []  # (update_id, status/error)
        self.get_updates_count = 0  # getUpdates calls are not in `calls` (too many)
        self.long_polls_waiting = 0  # getUpdates requests now parked waiting for an update
        self.handler_errors: list[BaseException] = []  # fed by run_application(server=...)
        # world
        self.users: dict[int, FakeUser] = {self.bot.id: self.bot}
        self.chats: dict[int, FakeChat] = {}
        self.polls: dict[str, _Poll] = {}
        self._members: dict[tuple[int, int], str] = {}
        self._blocked: set[int] = set()
        self._messages: dict[int, dict[int, JSON]] = {}
        self._next_message_id: dict[int, int] = {}
        self._files: dict[str, UploadedFile] = {}
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._menu_buttons: dict[int | None, JSON] = {}
        self._open_queries: set[str] = set()
        self._failures: dict[str, list[_Failure]] = {}
        self._holds: list[Hold] = []
        # update queue
        self._pending: list[_Pending] = []
        self._allowed_updates: list[str] = []
        self._webhook: JSON | None = None
        self._webhook_task: asyncio.Task | None = None
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._updates_changed = _Pulse()
        self._calls_changed = _Pulse()
        self._timers: list[asyncio.TimerHandle] = []
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._handlers = {
            name[4:].lower(): (name[4:], getattr(self, name))
            for name in dir(self)
            if name.startswith("_api")
        }

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        # client_max_size: aiohttp refuses bodies over 1 MiB by default; photos can be larger.
        app = web.Application(client_max_size=50 * 2**20)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        self._closing = True
        self._updates_changed.fire()  # long polls answer [] at once
        for hold in self._holds:
            hold.release()
        for timer in self._timers:
            timer.cancel()
        await self._stop_webhook()
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegramServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        """For `ApplicationBuilder().base_url(...)`."""
        return f"{self.url}/bot"

    @property
    def file_url(self) -> str:
        """For `ApplicationBuilder().base_file_url(...)`."""
        return f"{self.url}/file/bot"

    # ------------------------------------------------------------------ the world
    def user(self, user_id: int, first_name: str, **fields: Any) -> FakeUser:
        """Create a user (and its private chat with the bot, whose id is the user's id)."""
        user = FakeUser(user_id, first_name, **fields)
        self.users[user_id] = user
        self.chats[user_id] = FakeChat(user_id, "private", first_name=first_name)
        return user

    def group_chat(self, chat_id: int, title: str, *, type: str = "supergroup") -> FakeChat:
        chat = FakeChat(chat_id, type, title=title)
        self.chats[chat_id] = chat
        return chat

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """creator, administrator, member, restricted, left or kicked (default: member)."""
        self._members[(chat_id, user_id)] = status

    def set_blocked(self, user_id: int, blocked: bool = True) -> None:
        """The user blocked the bot: sending to their private chat answers 403."""
        (self._blocked.add if blocked else self._blocked.discard)(user_id)

    # ------------------------------------------------------------------ inbound (users act)
    def send_text(self, user: FakeUser, text: str, *, chat: FakeChat | None = None) -> JSON:
        """The user writes `text` (in their private chat unless `chat`). Returns the Message."""
        message = self._new_user_message(user, chat, text)
        if self._bot_sees(message):
            self._queue({"message": message})
        return copy.deepcopy(message)

    def reply_text(
        self, user: FakeUser, text: str, *, to_message_id: int, chat: FakeChat | None = None
    ) -> JSON:
        """The user replies to message `to_message_id` (usually one the bot sent)."""
        chat_id = (chat or self.chats[user.id]).id
        original = self._message(chat_id, to_message_id)
        reply_to = {k: v for k, v in original.items() if k != "reply_to_message"}
        message = self._new_user_message(user, chat, text, reply_to_message=reply_to)
        if self._bot_sees(message):
            self._queue({"message": message})
        return copy.deepcopy(message)

    def edit_text(self, user: FakeUser, message: JSON, text: str) -> JSON:
        """The user edits one of their messages: an `edited_message` update."""
        stored = self._message(message["chat"]["id"], message["message_id"])
        stored.update(text=text, edit_date=int(self.clock()), entities=_command_entities(text))
        if not stored["entities"]:
            del stored["entities"]
        if self._bot_sees(stored):
            self._queue({"edited_message": copy.deepcopy(stored)})
        return copy.deepcopy(stored)

    def answer_poll(
        self,
        user: FakeUser,
        poll: str | JSON,
        options: list[int | str],
        *,
        allow_closed: bool = False,
    ) -> JSON | None:
        """The user votes (option indexes or texts; [] retracts). Returns the `poll_answer`, or
        None for an anonymous poll (Telegram sends no poll_answer for those)."""
        state = self.poll(poll)
        ids = sorted(o if isinstance(o, int) else state.options.index(o) for o in options)
        if (state.is_closed or self._expired(state)) and not allow_closed:
            raise ValueError(f"poll {state.id} is closed; Telegram would not accept the vote")
        if any(not 0 <= i < len(state.options) for i in ids):
            raise ValueError(f"option out of range: {ids}")
        if len(ids) > 1 and not state.allows_multiple_answers:
            raise ValueError("poll allows a single answer")
        if state.votes.get(user.id) and not state.allows_revoting:
            raise ValueError(f"{user.first_name} already voted and the poll forbids revoting")
        state.votes[user.id] = ids
        if self.poll_updates:
            self._queue({"poll": state.to_dict()})
        if state.is_anonymous:
            return None
        answer = {
            "poll_id": state.id,
            "user": user.to_dict(),
            "option_ids": ids,
            "option_persistent_ids": [f"o{i}" for i in ids],
        }
        self._queue({"poll_answer": answer})
        return copy.deepcopy(answer)

    def close_poll(self, poll: str | JSON) -> None:
        """Close a poll now, as if its open_period had run out (no need to wait for it)."""
        state = self.poll(poll)
        if not state.is_closed:
            state.is_closed = True
            if self.poll_updates:
                self._queue({"poll": state.to_dict()})

    def click(
        self, user: FakeUser, message: JSON, *, data: str | None = None, text: str | None = None
    ) -> JSON:
        """The user presses the inline button with this callback `data` (or button `text`) on
        the message as it is now. Returns the CallbackQuery; its answer lands in
        `callback_answers[query["id"]]`."""
        stored = self._message(message["chat"]["id"], message["message_id"])
        buttons = [
            b for row in stored.get("reply_markup", {}).get("inline_keyboard", []) for b in row
        ]
        match = [b for b in buttons if (data is None or b.get("callback_data") == data)
                 and (text is None or b.get("text") == text) and "callback_data" in b]  # fmt: skip
        if len(match) != 1:
            raise ValueError(f"no single button with data={data!r} text={text!r} in {buttons}")
        query = {
            "id": str(next(self._ids)),
            "from": user.to_dict(),
            "message": copy.deepcopy(stored),
            "chat_instance": str(abs(stored["chat"]["id"]) * 7919),
            "data": match[0]["callback_data"],
        }
        self._open_queries.add(query["id"])
        self._queue({"callback_query": query})
        return copy.deepcopy(query)

    def forge_click(self, user: FakeUser, message: JSON, data: str) -> JSON:
        """A hostile client's click on a button of `message` carrying any callback `data`
        (Telegram's buttons carry at most 64 bytes; a forged query is not bound by them). The
        message is given that button first, as if the bot had sent it. Returns the query."""
        stored = self._message(message["chat"]["id"], message["message_id"])
        stored["reply_markup"] = {"inline_keyboard": [[{"text": "?", "callback_data": data}]]}
        return self.click(user, stored, data=data)

    def push_update(self, update: JSON) -> JSON:
        """Queue any update body, e.g. {"my_chat_member": {...}}; update_id is added."""
        return self._queue({k: copy.deepcopy(v) for k, v in update.items() if k != "update_id"})

    def redeliver(self, update_id: int | None = None) -> JSON:
        """Queue an identical copy (same update_id) of an earlier update, default the last,
        as Telegram does after a crash or a failed webhook call."""
        update = next(u for u in reversed(self.updates) if update_id in (None, u["update_id"]))
        self._pending.append(_Pending(copy.deepcopy(update), forced=True))
        self._updates_changed.fire()
        return update

    # ------------------------------------------------------------------ observation
    def mark(self) -> int:
        """A position in `calls`; pass it as `since=` to look only at later calls."""
        return len(self.calls)

    def calls_to(self, method: str, *, ok: bool | None = True, since: int = 0, **match: Any):
        """Calls to `method` whose params include `match` (chat_id compared loosely)."""
        return [
            c
            for c in self.calls[since:]
            if c.method == method
            and (ok is None or c.ok == ok)
            and all(_same(c.params.get(k), v) for k, v in match.items())
        ]

    async def wait_for(
        self,
        method: str,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 (reads better than asyncio.timeout here)
        ok: bool | None = True,
        since: int = 0,
        **match: Any,
    ) -> list[ApiCall]:
        """Wait until at least `count` matching calls exist; return them all. On timeout the
        AssertionError lists every call made, which usually shows what went wrong."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = self.calls_to(method, ok=ok, since=since, **match)
            remaining = deadline - asyncio.get_running_loop().time()
            if len(found) >= count or remaining <= 0:
                break
            if self.handler_errors:  # no point waiting: the bot already crashed
                raise AssertionError(f"a handler failed: {self.handler_errors!r}") from (
                    self.handler_errors[0]
                )
            await self._calls_changed.wait(remaining)
        if len(found) < count:
            raise AssertionError(
                f"wanted {count} {method} {match or ''} call(s) within {timeout}s, "
                f"got {len(found)}. Calls: {self.calls}. Errors: {self.errors}"
            )
        return found

    async def wait_polling(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has a long poll parked here, i.e. it is up and listening (and
        any allowed_updates it passed now apply)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not self.long_polls_waiting:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise AssertionError(f"the bot did not start polling within {timeout}s")
            await self._calls_changed.wait(remaining)

    async def assert_no_call(self, method: str, *, within: float = 0.3, **match: Any) -> None:
        """Fail if the bot makes a matching (successful) call in the next `within` seconds."""
        try:
            found = await self.wait_for(method, since=self.mark(), timeout=within, **match)
        except AssertionError:
            return
        raise AssertionError(f"unexpected {method}: {found}")

    def assert_no_errors(self) -> None:
        assert not self.errors, f"the bot made requests Telegram would reject: {self.errors}"

    def messages_in(self, chat_id: int, *, from_bot: bool | None = True) -> list[JSON]:
        """Messages now in the chat, oldest first (deleted ones gone, edits applied)."""
        found = []
        for message in self._messages.get(chat_id, {}).values():
            is_bot = message["from"]["id"] == self.bot.id
            if from_bot is None or from_bot == is_bot:
                found.append(self._snapshot(message))
        return found

    def texts_in(self, chat_id: int) -> list[str]:
        """Text (or caption, or poll question) of each message the bot has in the chat."""
        return [
            m.get("text") or m.get("caption") or m.get("poll", {}).get("question", "")
            for m in self.messages_in(chat_id)
        ]

    def poll(self, poll: str | JSON) -> _Poll:
        """A poll's live state by id, or from a Message dict holding it."""
        poll_id = poll if isinstance(poll, str) else poll.get("poll", poll)["id"]
        return self.polls[poll_id]

    def commands(self, *, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        return self._commands.get((_scope_key(scope), language_code), [])

    def fail_next(
        self,
        method: str,
        status: int | None = None,
        *,
        retry_after: float | None = None,
        description: str | None = None,
        delay: float = 0.0,
        times: int = 1,
        chat_id: int | str | None = None,
        where: Callable[[JSON], bool] | None = None,
    ) -> None:
        """Make the next `times` calls to `method` (in `chat_id`, and whose parameters
        `where(params)` accepts, if given) fail.

        `retry_after` alone means 429 with parameters.retry_after (a float is fine for PTB;
        Telegram sends ints). `delay` alone means answer normally but late: the call still
        takes effect, as on Telegram when the client times out. Otherwise `status` defaults
        to 500."""
        if status is None:
            status = 429 if retry_after is not None else (None if delay else 500)
        failure = _Failure(status, description, retry_after, delay, chat_id, where)
        self._failures.setdefault(method.lower(), []).extend([failure] * times)

    def hold_next(
        self,
        method: str,
        *,
        chat_id: int | str | None = None,
        where: Callable[[JSON], bool] | None = None,
    ) -> Hold:
        """Hold the next call to `method` (in `chat_id`, and whose parameters `where` accepts)
        without answering it until released or the server stops, and then fail it: it never
        takes effect. A test kills the bot while a message is on its way, say."""
        hold = Hold()
        failure = _Failure(502, "Bad Gateway (held)", None, 0.0, chat_id, where, hold)
        self._failures.setdefault(method.lower(), []).append(failure)
        self._holds.append(hold)
        return hold

    # ------------------------------------------------------------------ update queue
    def _queue(self, body: JSON) -> JSON:
        update = {"update_id": next(self._update_ids), **body}
        self.updates.append(update)
        kind = next(iter(body))
        if self._allowed_updates:
            wanted = kind in self._allowed_updates
        else:  # [] or never set: Telegram's default
            wanted = kind not in DEFAULT_ALLOWED_EXCLUDES
        if wanted:
            self._pending.append(_Pending(update))
            self._updates_changed.fire()
        return update

    def _bot_sees(self, message: JSON) -> bool:
        chat = message["chat"]
        if chat["type"] == "private" or not self.privacy_mode:
            return True
        if self._members.get((chat["id"], self.bot.id)) in ("administrator", "creator"):
            return True
        text = message.get("text", "")
        command = text.split()[0] if text.startswith("/") else ""
        reply = message.get("reply_to_message")
        return (
            (bool(command) and ("@" not in command or command.endswith(f"@{self.bot.username}")))
            or bool(reply and reply["from"]["id"] == self.bot.id)
            or f"@{self.bot.username}" in text
        )

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self._webhook:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")  # fmt: skip
        offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
        if params.get("allowed_updates") is not None:
            self._allowed_updates = list(params["allowed_updates"])
        # Confirm: an offset drops every update below it; a redelivered copy goes once handed out.
        self._pending = [
            p for p in self._pending
            if not (p.forced and p.handed_out) and (p.forced or p.update["update_id"] >= offset)
        ]  # fmt: skip
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(params.get("timeout") or 0)
        while True:
            ready = self._pending[:limit]
            remaining = deadline - loop.time()
            if ready or remaining <= 0 or self._closing:
                break
            self.long_polls_waiting += 1
            self._calls_changed.fire()
            try:
                await self._updates_changed.wait(remaining)
            finally:
                self.long_polls_waiting -= 1
        for p in ready:
            p.handed_out = True
        return [copy.deepcopy(p.update) for p in ready]

    async def _webhook_worker(self) -> None:
        """Push pending updates in order, retrying the head until the bot answers 2xx."""
        async with aiohttp.ClientSession() as session:
            while self._webhook and not self._closing:
                if not self._pending:
                    await self._updates_changed.wait(None)
                    continue
                entry, hook = self._pending[0], self._webhook
                headers = {}
                if hook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
                try:
                    async with session.post(
                        hook["url"], json=entry.update, headers=headers, timeout=5
                    ) as resp:
                        outcome: int | str = resp.status
                except (aiohttp.ClientError, TimeoutError) as exc:
                    outcome = repr(exc)
                self.webhook_deliveries.append((entry.update["update_id"], outcome))
                if isinstance(outcome, int) and 200 <= outcome < 300:
                    self._pending.remove(entry)
                else:
                    await asyncio.sleep(0.1)

    async def _stop_webhook(self) -> None:
        self._webhook = None
        if self._webhook_task:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None

    # ------------------------------------------------------------------ HTTP plumbing
    async def _handle(self, request: web.Request) -> web.Response:
        if self.bot_token is not None and request.match_info["token"] != self.bot_token:
            return _reply(ApiError(401, "Unauthorized"))
        name = request.match_info["method"]
        method, handler = self._handlers.get(name.lower(), (name, None))
        params, files = await _read_params(request)
        arrived = time.monotonic()
        failure = self._take_failure(method, params)
        if failure and failure.delay:
            await asyncio.sleep(failure.delay)
        if failure and failure.hold:
            failure.hold.params = params
            failure.hold.arrived.set()
            await failure.hold._released.wait()
        injected = failure is not None and failure.status is not None
        try:
            if injected:
                raise _injected_error(failure)  # type: ignore[arg-type]
            if handler is None:
                raise ApiError(404, f"Not Found: method {name}")
            result = await handler(params, files)
        except Exception as exc:
            if not isinstance(exc, ApiError):  # a bug or a gap in the fake: show it in errors
                exc = ApiError(500, f"Internal Server Error: fake server raised {exc!r}")
            call = self._record(
                method,
                params,
                files,
                exc.status,
                error=exc.description,
                injected=injected,
                at=arrived,
            )
            if not injected:
                self.errors.append(call)
            return _reply(exc)
        if method != "getUpdates":
            self._record(method, params, files, 200, result=copy.deepcopy(result), at=arrived)
        else:
            self.get_updates_count += 1
        return web.json_response({"ok": True, "result": result})

    def _take_failure(self, method: str, params: JSON) -> _Failure | None:
        queue = self._failures.get(method.lower(), [])
        for i, failure in enumerate(queue):
            if failure.chat_id is not None and not _same(params.get("chat_id"), failure.chat_id):
                continue
            if failure.where is None or failure.where(params):
                return queue.pop(i)
        return None

    def _record(self, method: str, params: JSON, files: dict, status: int, **kw: Any) -> ApiCall:
        call = ApiCall(
            len(self.calls), method, params, files, status, answered_at=time.monotonic(), **kw
        )
        self.calls.append(call)
        self._calls_changed.fire()
        return call

    async def _download(self, request: web.Request) -> web.Response:
        uploaded = self._files.get(request.match_info["path"])
        if uploaded is None:
            return web.Response(status=404)
        return web.Response(body=uploaded.data, content_type="application/octet-stream")

    # ------------------------------------------------------------------ messages
    def _chat(self, params: JSON) -> FakeChat:
        chat_id = params.get("chat_id")
        if chat_id is None:
            raise bad_request("chat_id is empty")
        chat = next((c for c in self.chats.values() if _same(c.id, chat_id)
                     or (c.username and f"@{c.username}" == chat_id)), None)  # fmt: skip
        if chat is None:
            raise bad_request("chat not found")
        if chat.type == "private" and chat.id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if self._members.get((chat.id, self.bot.id)) in ("left", "kicked"):
            raise ApiError(403, "Forbidden: bot is not a member of the supergroup chat")
        return chat

    def _message(self, chat_id: int, message_id: int) -> JSON:
        try:
            return self._messages[chat_id][message_id]
        except KeyError:
            raise ValueError(f"no message {message_id} in chat {chat_id}") from None

    def _store(self, chat: FakeChat, sender: FakeUser, **content: Any) -> JSON:
        message_id = self._next_message_id.get(chat.id, 1)
        self._next_message_id[chat.id] = message_id + 1
        message = {
            "message_id": message_id,
            "from": sender.to_dict(),
            "chat": chat.to_dict(),
            "date": int(self.clock()),
            **{k: v for k, v in content.items() if v is not None},
        }
        self._messages.setdefault(chat.id, {})[message_id] = message
        return message

    def _new_user_message(self, user: FakeUser, chat: FakeChat | None, text: str, **extra: Any):
        chat = chat or self.chats[user.id]
        entities = _command_entities(text) or None
        return self._store(chat, user, text=text, entities=entities, **extra)

    def _send(self, params: JSON, **content: Any) -> JSON:
        """Store a message from the bot, applying what every send* method shares."""
        chat = self._chat(params)
        markup = self._check_markup(params.get("reply_markup"))
        reply_to = None
        reply = params.get("reply_parameters") or {}
        if params.get("reply_to_message_id"):
            reply = {"message_id": params["reply_to_message_id"]}
        if reply.get("message_id"):
            original = self._messages.get(chat.id, {}).get(int(reply["message_id"]))
            if original is None and not reply.get("allow_sending_without_reply"):
                raise bad_request("message to be replied not found")
            if original:
                reply_to = {k: v for k, v in original.items() if k != "reply_to_message"}
        message = self._store(chat, self.bot, reply_to_message=reply_to, **content)
        if markup and "inline_keyboard" in markup:  # Telegram echoes only inline keyboards
            message["reply_markup"] = markup
        return self._snapshot(message)

    def _snapshot(self, message: JSON) -> JSON:
        data = copy.deepcopy(message)
        if "poll" in data:
            data["poll"] = self.polls[data["poll"]["id"]].to_dict()
        return data

    def _check_markup(self, markup: JSON | None) -> JSON | None:
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not (
                    1 <= len(data.encode()) <= self.limits.callback_data_bytes
                ):
                    raise bad_request("BUTTON_DATA_INVALID")
                if not set(button) & _BUTTON_ACTIONS:
                    raise bad_request("can't parse inline keyboard button: Text buttons are "
                                      "unallowed in the inline keyboard")  # fmt: skip
        return markup

    def _text(self, params: JSON, key: str, limit: int, *, required: bool) -> str | None:
        """The plain text of a text-like parameter, checked for markup, emptiness and length."""
        label = {"text": "message text", "caption": "message caption"}.get(key, f"poll {key}")
        raw = params.get(key)
        if raw is None or raw == "":
            if required:
                raise bad_request(f"{label} is empty")
            return None
        mode_key = "parse_mode" if key in ("text", "caption") else f"{key}_parse_mode"
        text = plain_text(str(raw), params.get(mode_key))
        if not text.strip() and required:
            raise bad_request(f"{label} is empty")
        if utf16_len(text) > limit:
            label = "message" if key == "text" else label  # Telegram: "message is too long"
            raise bad_request(f"{label} is too long ({utf16_len(text)} > {limit})")
        return text

    def _own_message(self, params: JSON, action: str) -> JSON:
        if params.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the fake server")
        chat = self._chat(params)
        message = self._messages.get(chat.id, {}).get(int(params.get("message_id") or 0))
        if message is None:
            raise bad_request(f"message to {action} not found")
        if message["from"]["id"] != self.bot.id:
            raise bad_request("message can't be edited")
        return message

    def _expired(self, poll: _Poll) -> bool:
        return poll.close_date is not None and self.clock() >= poll.close_date

    # ------------------------------------------------------------------ Bot API methods
    # Each `_api<Name>` answers the Bot API method <Name> (case-insensitive); raise ApiError
    # to answer an error. Parameters arrive decoded; files by multipart field name.
    async def _apigetMe(self, p: JSON, f: dict) -> JSON:
        return {**self.bot.to_dict(), "can_join_groups": True,
                "can_read_all_group_messages": not self.privacy_mode,
                "supports_inline_queries": False}  # fmt: skip

    async def _apigetUpdates(self, p: JSON, f: dict) -> list[JSON]:
        return await self._get_updates(p)

    async def _apisetWebhook(self, p: JSON, f: dict) -> bool:
        await self._stop_webhook()
        if p.get("drop_pending_updates"):
            self._pending.clear()
        if p.get("allowed_updates") is not None:
            self._allowed_updates = list(p["allowed_updates"])
        if p.get("url"):
            self._webhook = {"url": p["url"], "secret_token": p.get("secret_token")}
            self._webhook_task = asyncio.create_task(self._webhook_worker())
        return True

    async def _apideleteWebhook(self, p: JSON, f: dict) -> bool:
        return await self._apisetWebhook({**p, "url": ""}, f)

    async def _apigetWebhookInfo(self, p: JSON, f: dict) -> JSON:
        url = self._webhook["url"] if self._webhook else ""
        return {"url": url, "has_custom_certificate": False,
                "pending_update_count": len(self._pending)}  # fmt: skip

    async def _apisendMessage(self, p: JSON, f: dict) -> JSON:
        text = self._text(p, "text", self.limits.text, required=True)
        return self._send(p, text=text, entities=_command_entities(text or "") or None)

    async def _apisendPhoto(self, p: JSON, f: dict) -> JSON:
        caption = self._text(p, "caption", self.limits.caption, required=False)
        upload = f.get("photo")
        if upload is None and not p.get("photo"):
            raise bad_request("there is no photo in the request")
        file_id = p.get("photo") if upload is None else f"photo-{next(self._ids)}"
        if upload is not None:
            self._files[f"photos/{file_id}.jpg"] = upload
        size = upload.size if upload is not None else None
        photo = [{"file_id": file_id, "file_unique_id": f"u-{file_id}", "width": 640,
                  "height": 480, **({"file_size": size} if size else {})}]  # fmt: skip
        return self._send(p, photo=photo, caption=caption)

    async def _apigetFile(self, p: JSON, f: dict) -> JSON:
        path = f"photos/{p.get('file_id')}.jpg"
        if path not in self._files:
            raise bad_request("invalid file_id")
        return {"file_id": p["file_id"], "file_unique_id": f"u-{p['file_id']}",
                "file_size": self._files[path].size, "file_path": path}  # fmt: skip

    async def _apisendPoll(self, p: JSON, f: dict) -> JSON:
        lim = self.limits
        question = self._text(p, "question", lim.poll_question, required=True)
        raw_options = p.get("options") or []
        options = [o["text"] if isinstance(o, dict) else str(o) for o in raw_options]
        if not lim.poll_options_min <= len(options) <= lim.poll_options_max:
            raise bad_request(f"poll must have {lim.poll_options_min}-{lim.poll_options_max} "
                              f"options, got {len(options)}")  # fmt: skip
        if any(not 1 <= utf16_len(o) <= lim.poll_option for o in options):
            raise bad_request("poll options length must not exceed 100")
        kind = p.get("type") or "regular"
        correct = p.get("correct_option_ids")
        if correct is None and p.get("correct_option_id") is not None:
            correct = [p["correct_option_id"]]
        if kind == "quiz" and (not correct or any(not 0 <= c < len(options) for c in correct)):
            raise bad_request("wrong correct option ID")
        explanation = self._text(p, "explanation", lim.explanation, required=False)
        if explanation and explanation.count("\n") > lim.explanation_line_feeds:
            raise bad_request("poll explanation must have at most 2 line feeds")
        period = p.get("open_period")
        if period is not None and not lim.open_period_min <= int(period) <= lim.open_period_max:
            raise bad_request(f"open_period must be {lim.open_period_min}-{lim.open_period_max}")
        close_date = int(self.clock()) + int(period) if period else p.get("close_date")
        poll = _Poll(
            id=str(5_000_000_000 + next(self._ids)), chat_id=0, message_id=0,
            question=question or "", options=options, type=kind,
            is_anonymous=p.get("is_anonymous", True) is not False,
            allows_multiple_answers=bool(p.get("allows_multiple_answers")),
            allows_revoting=bool(p.get("allows_revoting", kind != "quiz")),
            correct_option_ids=list(correct or []), explanation=explanation,
            open_period=period, close_date=close_date, is_closed=bool(p.get("is_closed")),
        )  # fmt: skip
        self.polls[poll.id] = poll
        message = self._send(p, poll=poll.to_dict())
        poll.chat_id, poll.message_id = message["chat"]["id"], message["message_id"]
        if close_date:
            delay = max(0.0, close_date - self.clock())
            handle = asyncio.get_running_loop().call_later(delay, self.close_poll, poll.id)
            self._timers.append(handle)
        return self._snapshot(self._message(poll.chat_id, poll.message_id))

    async def _apistopPoll(self, p: JSON, f: dict) -> JSON:
        message = self._own_message(p, "edit")
        if "poll" not in message:
            raise bad_request("message with poll to stop not found")
        poll = self.polls[message["poll"]["id"]]
        if poll.is_closed:
            raise bad_request("poll has already been closed")
        self.close_poll(poll.id)
        return poll.to_dict()

    async def _apieditMessageText(self, p: JSON, f: dict) -> JSON:
        message = self._own_message(p, "edit")
        text = self._text(p, "text", self.limits.text, required=True)
        return self._edit(message, p, text=text)

    async def _apieditMessageReplyMarkup(self, p: JSON, f: dict) -> JSON:
        return self._edit(self._own_message(p, "edit"), p)

    def _edit(self, message: JSON, p: JSON, **content: Any) -> JSON:
        markup = self._check_markup(p.get("reply_markup"))
        new = {
            **content,
            "reply_markup": markup if markup and "inline_keyboard" in markup else None,
        }
        if all(message.get(k) == v for k, v in new.items()):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        message.update(new, edit_date=int(self.clock()))
        if message["reply_markup"] is None:
            del message["reply_markup"]
        return self._snapshot(message)

    async def _apideleteMessage(self, p: JSON, f: dict) -> bool:
        chat = self._chat(p)
        if self._messages.get(chat.id, {}).pop(int(p.get("message_id") or 0), None) is None:
            raise bad_request("message to delete not found")
        return True

    async def _apianswerCallbackQuery(self, p: JSON, f: dict) -> bool:
        query_id = str(p.get("callback_query_id"))
        if query_id not in self._open_queries:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        if utf16_len(p.get("text") or "") > self.limits.callback_answer_text:
            raise bad_request("MESSAGE_TOO_LONG")
        self._open_queries.discard(query_id)
        self.callback_answers[query_id] = p
        return True

    async def _apisetMyCommands(self, p: JSON, f: dict) -> bool:
        commands = p.get("commands") or []
        if len(commands) > self.limits.commands_max:
            raise bad_request("too many commands")
        for command in commands:
            name, description = command.get("command", ""), command.get("description", "")
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[(_scope_key(p.get("scope")), p.get("language_code") or "")] = commands
        return True

    async def _apigetMyCommands(self, p: JSON, f: dict) -> list[JSON]:
        return self.commands(scope=p.get("scope"), language_code=p.get("language_code") or "")

    async def _apideleteMyCommands(self, p: JSON, f: dict) -> bool:
        self._commands.pop((_scope_key(p.get("scope")), p.get("language_code") or ""), None)
        return True

    async def _apisetChatMenuButton(self, p: JSON, f: dict) -> bool:
        self._menu_buttons[p.get("chat_id")] = p.get("menu_button") or {"type": "default"}
        return True

    async def _apigetChatMenuButton(self, p: JSON, f: dict) -> JSON:
        return self._menu_buttons.get(p.get("chat_id"), {"type": "commands"})

    async def _apisendChatAction(self, p: JSON, f: dict) -> bool:
        self._chat(p)
        return True

    async def _apigetChat(self, p: JSON, f: dict) -> JSON:
        return {**self._chat(p).to_dict(), "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": dict.fromkeys(
                    ("unlimited_gifts", "limited_gifts", "unique_gifts",
                     "premium_subscription", "gifts_from_channels"), False)}  # fmt: skip

    async def _apigetChatMember(self, p: JSON, f: dict) -> JSON:
        chat = self._chat(p)
        user = self.users.get(int(p.get("user_id") or 0))
        if user is None:
            raise bad_request("user not found")
        return self._member(chat, user)

    async def _apigetChatAdministrators(self, p: JSON, f: dict) -> list[JSON]:
        chat = self._chat(p)
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        admins = [
            self._member(chat, self.users[user_id])
            for (chat_id, user_id), status in self._members.items()
            if chat_id == chat.id and user_id in self.users
            and status in ("creator", "administrator")
        ]  # fmt: skip
        return admins

    def _member(self, chat: FakeChat, user: FakeUser) -> JSON:
        status = self._members.get((chat.id, user.id), "member")
        if chat.type == "private":
            status = "member"
        data: JSON = {"status": status, "user": user.to_dict()}
        if status == "creator":
            data["is_anonymous"] = False
        elif status == "administrator":
            rights = ("can_manage_chat", "can_delete_messages", "can_manage_video_chats",
                      "can_restrict_members", "can_change_info", "can_invite_users",
                      "can_pin_messages")  # fmt: skip
            data.update(dict.fromkeys(rights, True), can_be_edited=False, is_anonymous=False,
                        can_promote_members=False, can_post_stories=False,
                        can_edit_stories=False, can_delete_stories=False)  # fmt: skip
        elif status == "restricted":
            rights = ("can_change_info", "can_invite_users", "can_pin_messages",
                      "can_send_messages", "can_send_polls", "can_send_other_messages",
                      "can_add_web_page_previews", "can_manage_topics", "can_send_audios",
                      "can_send_documents", "can_send_photos", "can_send_videos",
                      "can_send_video_notes", "can_send_voice_notes", "can_edit_tag")  # fmt: skip
            data.update(dict.fromkeys(rights, False), is_member=True, until_date=0)
        elif status == "kicked":
            data["until_date"] = 0
        return data


# --------------------------------------------------------------------------- helpers
_BUTTON_ACTIONS = {"callback_data", "url", "switch_inline_query", "web_app", "login_url", "pay",
                   "switch_inline_query_current_chat", "switch_inline_query_chosen_chat",
                   "copy_text", "callback_game"}  # fmt: skip


def _decode(key: str, value: str) -> Any:
    if key in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # e.g. chat_id="@channel"


async def _read_params(request: web.Request) -> tuple[JSON, dict[str, UploadedFile]]:
    """PTB posts form fields (str values raw, others JSON-encoded), multipart when it uploads
    files; other clients may post a JSON body or use the query string. Accept them all."""
    params: JSON = {k: _decode(k, v) for k, v in request.query.items()}
    files: dict[str, UploadedFile] = {}
    if request.content_type == "application/json" and request.can_read_body:
        params.update(await request.json())
    elif request.can_read_body:
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                data = value.file.read()
                files[key] = UploadedFile(key, value.filename, value.content_type, data)
            else:
                params[key] = _decode(key, str(value))
    for key, value in list(params.items()):  # media referenced as attach://<part>
        if isinstance(value, str) and value.startswith("attach://"):
            files.setdefault(key, files.get(value[len("attach://") :]))  # type: ignore[arg-type]
    return params, {k: v for k, v in files.items() if v is not None}


def _reply(error: ApiError) -> web.Response:
    body: JSON = {"ok": False, "error_code": error.status, "description": error.description}
    if error.parameters:
        body["parameters"] = error.parameters
    return web.json_response(body, status=error.status)


_DEFAULT_DESCRIPTIONS = {400: "Bad Request: injected failure", 403: "Forbidden: injected failure",
                         500: "Internal Server Error", 502: "Bad Gateway"}  # fmt: skip


def _injected_error(failure: _Failure) -> ApiError:
    status = failure.status or 500
    if status == 429:
        retry_after = failure.retry_after if failure.retry_after is not None else 1
        description = failure.description or f"Too Many Requests: retry after {retry_after}"
        return ApiError(429, description, {"retry_after": retry_after})
    return ApiError(status, failure.description or _DEFAULT_DESCRIPTIONS.get(status, "Error"))


def _command_entities(text: str) -> list[JSON]:
    if not text.startswith("/") or len(text) < 2:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(text.split()[0])}]


def _same(a: Any, b: Any) -> bool:
    return a == b or (a is not None and b is not None and str(a) == str(b))


def _scope_key(scope: JSON | None) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True)


@contextlib.asynccontextmanager
async def run_application(
    app: Any,
    *,
    server: FakeTelegramServer | None = None,
    poll_timeout: int = 1,
    raise_handler_errors: bool = True,
) -> AsyncIterator[list[BaseException]]:
    """Run a PTB Application (polling) for the body of an `async with`, then stop it fast.

    Yields the list of exceptions raised by handlers (PTB would only log them); unless
    `raise_handler_errors=False`, leaving the block with any recorded fails the test.
    With `server`, its `wait_for` also fails at once when a handler raises, instead of
    timing out. Duck-typed so that this module never imports `telegram`.
    """
    errors: list[BaseException] = []

    async def record(update: object, context: Any) -> None:
        errors.append(context.error)
        if server is not None and raise_handler_errors:
            server.handler_errors.append(context.error)
            server._calls_changed.fire()

    app.add_error_handler(record)
    await app.initialize()
    await app.start()
    if app.updater is not None:
        await app.updater.start_polling(poll_interval=0.0, timeout=poll_timeout)
    try:
        yield errors
    finally:
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        app.remove_error_handler(record)
    if errors and raise_handler_errors:
        raise AssertionError(f"handler error(s): {errors!r}") from errors[0]
