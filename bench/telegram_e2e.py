"""Telegram end to end: updates handled per second by the quiz bot against an echo bot.

Both bots are real python-telegram-bot 22.8 Applications polling a local fake Bot API server
(`tests/fakes/telegram_server.py`, Telegram's limits checked) in this process. Each gets a fresh
server, 50 users in private chats and the same wave structure: every user sends one update, then
the wave ends when every user has had the reply that completes it. updates/s = updates / time.

* echo: a minimal Application with one MessageHandler that sends the text back.
* quiz: `TelegramAdapter` + `App` (SQLite file, the shipped glossary), set up as `quizbot run`
  does (`settle_memory` once built). Warm-up: each user starts a solo round (`/quiz start 50`)
  and gets question 1. Each wave, every user answers their open question (a vote on a quiz
  poll, or the right answer typed), and the wave ends when each has their next question; on
  the way the bot records the answer and posts one message per answer: the verdict, the
  result and a typed next question together, or the verdict on top of the next poll (after a
  typed answer, a poll comes after the message).

The echo bot is PTB's default: updates one at a time. The quiz bot is the adapter as shipped:
updates from different users at once, each user's in order (`PerUserOrder`), at most
`MAX_IN_FLIGHT` Bot API requests on the wire. The adapter's rate limiter (30 messages/s
overall) is replaced by the same limiter with its limits switched off, and the hub's per-user
flood guard (8 events per 5 s) is lifted: with them this would measure the limits, not the code.

    python -m bench.telegram_e2e            # 10 waves of 50 updates for each bot
    python -m bench.telegram_e2e --quick    # 3 waves
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.common import print_machine, table, throwaway_database
from bot.adapters.telegram import TelegramAdapter
from bot.adapters.telegram.network import QuizRateLimiter
from bot.app import App
from bot.config import Secret, Settings
from bot.content.glossary import load_glossary
from bot.core.events import ChatRef, Sender
from bot.core.flood import FloodGuard
from bot.runner import run_event_loop, settle_memory
from tests.fakes import ApiCall, FakeTelegramServer, FakeUser

TOKEN = "123:TEST"
POLL_TIMEOUT = 1  # seconds; the same long poll for both bots
WAVE_TIMEOUT = 60.0  # a wave that takes longer means the bot is stuck, not slow
ECHO_CONCURRENT_UPDATES = False  # PTB's default: one update at a time
ROUND_QUESTIONS = 50  # the longest round; one untimed + `waves` timed answers must fit


@dataclass
class Result:
    name: str
    users: int
    wave_seconds: list[float] = field(default_factory=list)  # the timed waves
    api_calls: int = 0  # Bot API calls made during the timed waves (getUpdates not included)
    extra_updates: int = 0  # updates the bot also received but that are not counted
    rejected: int = 0  # requests the fake says Telegram would reject
    logged_errors: int = 0

    @property
    def updates(self) -> int:
        return len(self.wave_seconds) * self.users  # one per user a wave

    @property
    def seconds(self) -> float:
        return sum(self.wave_seconds)

    @property
    def per_second(self) -> float:
        return self.updates / self.seconds if self.seconds else float("nan")

    def count(self, server: FakeTelegramServer, mark: int, updates_before: int) -> None:
        """What the timed waves (since `mark`) cost on the server."""
        self.api_calls = server.mark() - mark
        self.extra_updates = len(server.updates) - updates_before - self.updates
        self.rejected = len(server.errors)


class ErrorCounter(logging.Handler):
    """Counts ERROR records (a handler crash is logged by PTB or the adapter, not raised)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if self.first is None:
            self.first = f"{record.name}: {record.getMessage()}"


async def wait_each(
    server: FakeTelegramServer,
    since: int,
    users: list[FakeUser],
    done: Callable[[FakeUser, ApiCall], bool],
) -> dict[int, ApiCall]:
    """Until every user has a call (after `since`) that `done` accepts; returns them by user id.
    Scans only the calls made since the previous look, so waiting costs next to nothing."""
    by_id = {u.id: u for u in users}
    found: dict[int, ApiCall] = {}
    position = since
    deadline = time.perf_counter() + WAVE_TIMEOUT
    while len(found) < len(by_id):
        calls = server.calls
        for call in calls[position:]:
            user = by_id.get(_int(call.params.get("chat_id")))
            if user is not None and user.id not in found and call.ok and done(user, call):
                found[user.id] = call
        position = len(calls)
        if len(found) < len(by_id):
            if time.perf_counter() > deadline:
                missing = sorted(set(by_id) - set(found))
                raise RuntimeError(
                    f"no reply for users {missing[:10]} within {WAVE_TIMEOUT} s; last calls: "
                    f"{server.calls[-5:]}; rejected: {server.errors[-5:]}"
                )
            await asyncio.sleep(0.001)
    return found


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def make_users(server: FakeTelegramServer, count: int) -> list[FakeUser]:
    return [server.user(1000 + i, f"User{i}", language_code="en") for i in range(count)]


# ---------------------------------------------------------------------- the echo bot


async def run_echo(users_count: int, waves: int) -> Result:
    # Only the baseline needs PTB directly; the quiz bot goes through the project's adapter.
    from telegram.ext import ApplicationBuilder, MessageHandler, filters

    result = Result("echo (minimal PTB bot)", users_count)
    async with FakeTelegramServer(bot_token=TOKEN) as server:
        app = (
            ApplicationBuilder()
            .token(TOKEN)
            .base_url(server.api_url)
            .base_file_url(server.file_url)
            .concurrent_updates(ECHO_CONCURRENT_UPDATES)
            .build()
        )

        async def echo(update, context) -> None:
            await update.message.reply_text(update.message.text)

        app.add_handler(MessageHandler(filters.TEXT, echo))
        users = make_users(server, users_count)

        def replied(user: FakeUser, call: ApiCall) -> bool:
            return call.method == "sendMessage"

        await app.initialize()
        await app.start()
        await app.updater.start_polling(poll_interval=0, timeout=POLL_TIMEOUT)
        try:
            # One untimed wave, as the quiz bot gets its warm-up.
            mark = server.mark()
            for user in users:
                server.send_text(user, "warm-up")
            await wait_each(server, mark, users, replied)

            updates_before, mark = len(server.updates), server.mark()
            for wave in range(waves):
                wave_mark = server.mark()
                started = time.perf_counter()
                for user in users:
                    server.send_text(user, f"hello {wave}")
                await wait_each(server, wave_mark, users, replied)
                result.wave_seconds.append(time.perf_counter() - started)
            result.count(server, mark, updates_before)
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
    return result


# ---------------------------------------------------------------------- the quiz bot


def question_number(call: ApiCall) -> int | None:
    """The position of the question this call posts ("Question 3/50 ..."), else None."""
    if call.method == "sendPoll":
        text = call.params.get("question", "")
    elif call.method == "sendMessage":
        text = call.params.get("text", "")
    else:
        return None
    # "Question 3/50\n...", or "3/50\n..." when a long prompt leaves no room for the word; in
    # a private chat the verdict on the previous answer may come first.
    found = re.search(rf"(?:^|\n)(?:<b>)?(?:Question )?(\d+)/{ROUND_QUESTIONS}(?:</b>)?\n", text)
    return int(found.group(1)) if found else None


async def run_quiz(users_count: int, waves: int) -> Result:
    result = Result("quiz (TelegramAdapter + App)", users_count)
    glossary = load_glossary()
    async with (
        throwaway_database("sqlite") as database_url,
        FakeTelegramServer(bot_token=TOKEN) as server,
    ):
        settings = Settings(
            database_url=database_url,
            telegram_token=Secret(TOKEN),
            telegram_base_url=server.api_url,
        )
        app = await App.create(settings, glossary=glossary)
        # Each user answers as fast as the bot replies, faster than a person can read: the
        # per-user flood guard would (rightly) slow them down after a few waves.
        app.hub.flood = FloodGuard(rate=1_000_000, period=1)
        # The adapter's own limiter class, with Telegram's message limits switched off.
        limiter = QuizRateLimiter(overall_max_rate=0, group_max_rate=0)
        adapter = TelegramAdapter(
            settings, app.hub, rate_limiter=limiter, poll_timeout=POLL_TIMEOUT
        )
        app.hub.add_adapter(adapter)
        settle_memory()  # as `quizbot run` does once the bot is built
        users = make_users(server, users_count)
        expected = {u.id: 1 for u in users}  # the question each user waits for

        def asked(user: FakeUser, call: ApiCall) -> bool:
            return question_number(call) == expected[user.id]

        await adapter.start()
        try:
            mark = server.mark()
            for user in users:
                server.send_text(user, f"/quiz start {ROUND_QUESTIONS}")
            open_questions = await wait_each(server, mark, users, asked)

            # Wave 0 is an untimed warm-up (first answers), as the echo bot gets one.
            updates_before, mark = len(server.updates), server.mark()
            for wave in range(waves + 1):
                if wave == 1:
                    updates_before, mark = len(server.updates), server.mark()
                # Untimed: what each user will answer (the right answer of a typed question:
                # a wrong one in a private round only earns "try again", not the next question).
                answers = {}
                for user in users:
                    call = open_questions[user.id]
                    if call.method == "sendPoll":
                        answers[user.id] = ("poll", call.result)
                    else:
                        answers[user.id] = ("text", await typed_answer(app, user))
                    expected[user.id] += 1

                wave_mark = server.mark()
                started = time.perf_counter()
                for user in users:
                    kind, value = answers[user.id]
                    if kind == "poll":
                        server.answer_poll(
                            user, value, [user.id % 4 % len(value["poll"]["options"])]
                        )
                    else:
                        server.send_text(user, value)
                open_questions = await wait_each(server, wave_mark, users, asked)
                if wave:
                    result.wave_seconds.append(time.perf_counter() - started)
            result.count(server, mark, updates_before)
        finally:
            await adapter.stop()
            await app.close()
    return result


async def typed_answer(app: App, user: FakeUser) -> str:
    chat = ChatRef("telegram", str(user.id), "private")
    sender = Sender(str(user.id), user.first_name, user.language_code)
    ask = await app.quiz.current_question(chat, sender, app.hub.clock())
    if ask is None or ask.question is None:
        raise RuntimeError(f"user {user.id} has no open question")
    return ask.question.answer


# ---------------------------------------------------------------------- main


async def measure(name: str, runner, users: int, waves: int) -> Result:
    errors = ErrorCounter()
    root = logging.getLogger()
    root.addHandler(errors)
    try:
        result = await runner(users, waves)
    finally:
        root.removeHandler(errors)
    result.logged_errors = errors.count
    if errors.first:
        print(f"{name}: {errors.count} error(s) logged, the first: {errors.first}")
    return result


async def main(args) -> None:
    await print_machine(with_postgres=False)
    echo = await measure("echo", run_echo, args.users, args.waves)
    quiz = await measure("quiz", run_quiz, args.users, args.waves)
    rows = []
    for r in (echo, quiz):
        rows.append(
            (
                r.name,
                r.updates,
                r.seconds,
                r.per_second,
                1000 * r.seconds / r.updates,
                r.api_calls,
                r.extra_updates,
                r.rejected,
                r.logged_errors,
            )
        )
    print(
        table(
            (
                "bot",
                "updates",
                "seconds",
                "updates/s",
                "ms/update",
                "API calls",
                "extra updates",
                "rejected",
                "errors",
            ),
            rows,
        )
    )
    print()
    print(
        table(
            ("summary", ""),
            [
                ("quiz / echo", f"{quiz.per_second / echo.per_second:.2f} (aim >= 0.7)"),
                ("users (private chats)", args.users),
                ("waves (one update per user each)", args.waves),
                (
                    "updates at once",
                    "echo: one (PTB's default); quiz: per user, as the adapter ships",
                ),
                ("rate limiter", "echo: none; quiz: QuizRateLimiter, limits off"),
                ("flood guard", "quiz: lifted (users answer faster than people read)"),
            ],
        )
    )
    print()
    print(
        "extra updates: `poll` updates (new vote counts) Telegram makes for the quiz bot's "
        "polls; the adapter leaves them out of allowed_updates, so they are never delivered."
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50, help="users, each in a private chat")
    parser.add_argument("--waves", type=int, default=10, help="timed updates per user (max 48)")
    parser.add_argument("--quick", action="store_true", help="3 waves")
    args = parser.parse_args()
    if args.quick:
        args.waves = 3
    # Question 1, an untimed answer and the timed ones must fit in one round.
    args.waves = max(1, min(args.waves, ROUND_QUESTIONS - 2))
    return args


if __name__ == "__main__":
    run_event_loop(main(parse_args()))  # the loop `quizbot run` uses
