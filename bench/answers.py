"""Answers per second through the service path the adapters use.

1,000 users in 100 group chats, each chat running a round of multiple-choice questions (50
questions, 600 s each, so none closes by time). Users answer their chat's open question with
bounded concurrency; a question closes early once its ten regular players have answered, and the
next one comes back in the replies of the closing answer, as it would on a platform.

The first question of a round cannot close early (nobody is a regular yet), so it is answered in a
warm-up phase (new users, timed apart) and closed by the clock, as in a real round: the rounds
are started 700 s in the past and `QuizService.resume` closes question 1 and opens question 2.
The database then gets a history (200,000 earlier answers by default, `--history`), as the
database of a bot in use has.

    python -m bench.answers                  # both databases, 20,000 answers a phase or 180 s
    python -m bench.answers --db sqlite --quick
    python -m bench.answers --db postgres --profile /tmp/answers.prof
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import logging
import pstats
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, text

from bench.common import DATABASES, latency_summary, print_machine, table, throwaway_database
from bot.app import App
from bot.config import Settings
from bot.core.events import ChatRef, OptionAnswer, Sender
from bot.core.replies import AnswerFeedback, AskQuestion, Notice, RoundOver
from bot.runner import run_event_loop, settle_memory
from bot.storage import db

CHATS = 100
USERS_PER_CHAT = 10
QUESTIONS = 50
SECONDS = 600
RIGHT_SHARE = 0.6  # how often a user picks the right option
MAX_SECONDS = 480  # the timed phase must end before the open questions run out of time


def load_glossary_for_bench():
    """The shipped glossary; the tests' mini glossary when it does not load."""
    from bot.content.glossary import load_glossary

    try:
        return load_glossary(), "shipped"
    except Exception as err:
        from tests.conftest import mini_glossary

        return mini_glossary.__wrapped__(), f"mini (shipped failed: {type(err).__name__})"


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    scored: int = 0
    refused: int = 0  # late, already answered, unknown question: recorded nothing
    errors: int = 0  # the dispatcher's apology
    rounds_over: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process, all threads
    statements: int = 0  # SQL statements sent to the database


class Load:
    """The chats, their users, and which question each chat has open."""

    def __init__(self, app: App, via: str, rng: random.Random, chats: int = CHATS) -> None:
        self.app = app
        self.count = chats
        self.handle = app.hub.handle if via == "hub" else app.dispatcher.dispatch
        self.rng = rng
        self.chats = [
            ChatRef("telegram", f"-100{i:04d}", "group", f"Bench chat {i}") for i in range(chats)
        ]
        self.index = {c.platform_chat_id: i for i, c in enumerate(self.chats)}
        self.senders = [
            [Sender(f"{c * 1000 + u}", f"Player {c}-{u}", lang="en") for u in range(USERS_PER_CHAT)]
            for c in range(chats)
        ]
        self.open: dict[int, AskQuestion] = {}
        # (chat, user) pairs that have not answered their chat's open question yet.
        self.ready = [(c, u) for c in range(chats) for u in range(USERS_PER_CHAT)]
        self.sequence = 0
        self.statements = 0

        @event.listens_for(app.engine.sync_engine, "before_cursor_execute")
        def _count(*_args) -> None:
            self.statements += 1

    async def start_rounds(self, at: datetime) -> None:
        boards, quiz = self.app.boards, self.app.quiz
        for i, chat in enumerate(self.chats):
            admin = self.senders[i][0]
            for key, value in (("questions", QUESTIONS), ("seconds", SECONDS), ("types", "mc")):
                await boards.change_setting(chat, admin, at, key, str(value), is_admin=True)
            replies = await quiz.start_round(chat, admin, at)
            self._note(replies)
        assert len(self.open) == self.count, "every chat has its first question open"

    def _note(self, replies: list) -> None:
        for reply in replies:
            if isinstance(reply, AskQuestion):
                self.open[self.index[reply.chat.platform_chat_id]] = reply

    def event(self, chat: int, user: int, at: datetime) -> OptionAnswer:
        ask = self.open[chat]
        right = ask.question.correct_option
        if self.rng.random() < RIGHT_SHARE:
            option = right
        else:
            option = self.rng.choice([i for i in range(len(ask.question.options)) if i != right])
        self.sequence += 1
        return OptionAnswer(
            self.chats[chat],
            self.senders[chat][user],
            event_id=f"bench:{self.sequence}",
            at=at,
            option=option,
            question_ref=f"rq:{ask.round_question_id}",
        )

    async def run(
        self, count: int, concurrency: int, clock, deadline: float | None = None
    ) -> Outcome:
        """Answer until `count` answers (or `deadline`, a perf_counter time): every user of a chat
        answers its open question once; the closing answer brings the next question."""
        outcome = Outcome()
        issued = 0
        in_flight = 0
        more = asyncio.Condition()

        async def worker() -> None:
            nonlocal issued, in_flight
            while issued < count and (deadline is None or time.perf_counter() < deadline):
                async with more:
                    while not self.ready and in_flight:
                        await more.wait()
                    if not self.ready or issued >= count:
                        return  # nothing left to answer (every round is over)
                    chat, user = self._pick()
                    issued += 1
                    in_flight += 1
                event = self.event(chat, user, clock())
                started = time.perf_counter()
                replies = await self.handle(event)
                outcome.latencies.append(time.perf_counter() - started)
                async with more:
                    in_flight -= 1
                    self._after(chat, user, replies, outcome)
                    more.notify_all()

        with self._measured(outcome):
            await asyncio.gather(*(worker() for _ in range(concurrency)))
        return outcome

    async def run_at_rate(
        self, count: int, rate: float, clock, deadline: float | None = None
    ) -> Outcome:
        """Open loop: issue answers at `rate` per second, whatever the bot's pace, as a crowd
        of users would. Latency runs from when an answer was due, so a bot that falls behind
        shows it in the latency instead of slowing the load down."""
        outcome = Outcome()
        tasks: set[asyncio.Task] = set()

        async def answer(chat: int, user: int, due: float) -> None:
            replies = await self.handle(self.event(chat, user, clock()))
            outcome.latencies.append(time.perf_counter() - due)
            self._after(chat, user, replies, outcome)

        with self._measured(outcome):
            started = time.perf_counter()
            issued = 0
            while issued < count and (deadline is None or time.perf_counter() < deadline):
                due_now = min(count, int((time.perf_counter() - started) * rate) + 1)
                while issued < due_now and self.ready:
                    task = asyncio.create_task(answer(*self._pick(), started + issued / rate))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                    issued += 1
                await asyncio.sleep(0.001)
            await asyncio.gather(*tasks)
        return outcome

    def _pick(self) -> tuple[int, int]:
        """A random (chat, user) of those who have not answered their chat's open question."""
        ready = self.ready
        i = self.rng.randrange(len(ready))
        ready[i], ready[-1] = ready[-1], ready[i]
        return ready.pop()

    def _after(self, chat: int, user: int, replies: list, outcome: Outcome) -> None:
        """Tally an answer's replies; a new question makes the chat's users ready again."""
        if self._count(outcome, replies):
            # An apology: the user clicks again, or the question would wait for a regular
            # player who never got through.
            self.ready.append((chat, user))
        for reply in replies:
            if isinstance(reply, AskQuestion):
                self.open[chat] = reply
                self.ready.extend((chat, u) for u in range(USERS_PER_CHAT))

    @contextlib.contextmanager
    def _measured(self, outcome: Outcome):
        """Wall time, process CPU and SQL statements of the block, into `outcome`."""
        statements = self.statements
        started, cpu = time.perf_counter(), time.process_time()
        yield
        outcome.seconds = time.perf_counter() - started
        outcome.cpu_seconds = time.process_time() - cpu
        outcome.statements = self.statements - statements

    @staticmethod
    def _count(outcome: Outcome, replies: list) -> bool:
        """Tally the replies; True when the answer failed with an apology."""
        outcome.rounds_over += sum(isinstance(r, RoundOver) for r in replies)
        if any(isinstance(r, AnswerFeedback) and not r.late for r in replies):
            outcome.scored += 1
        elif any(isinstance(r, Notice) and r.kind == "error" for r in replies):
            outcome.errors += 1
            return True
        else:
            outcome.refused += 1
        return False


async def bench_one(kind: str, args, glossary) -> dict:
    rng = random.Random(args.seed)
    async with throwaway_database(kind) as url:
        await db.upgrade(url)
        app = await App.create(Settings(database_url=url), migrate=False, glossary=glossary)
        try:
            load = Load(app, args.via, rng, args.chats)
            # Rounds began 700 s ago; question 1 (600 s) ran out 100 s ago.
            past = datetime.now(UTC) - timedelta(seconds=700)
            await load.start_rounds(past)
            settle_memory()  # as the bot does once it has started
            # Not the measure: fewer in flight, so that every user becomes a regular player.
            users = args.chats * USERS_PER_CHAT
            warm = await load.run(users, min(args.concurrency, 8), lambda: past)
            replies, _ = await app.quiz.resume(datetime.now(UTC) - timedelta(seconds=1))
            load._note(replies)
            assert all(a.position == 2 for a in load.open.values()), "question 2 is open"
            load.ready = [(c, u) for c in range(load.count) for u in range(USERS_PER_CHAT)]
            history = await seed_history(app, args.history)
            await analyze(app)

            profiler = cProfile.Profile() if args.profile else None
            if profiler:
                profiler.enable()
            # Question 2 closes by time 599 s from now: stop issuing answers well before.
            deadline = time.perf_counter() + min(args.max_seconds, MAX_SECONDS)
            now = lambda: datetime.now(UTC)  # noqa: E731
            if args.rate:
                paced = await load.run_at_rate(args.answers, args.rate, now, deadline)
                deadline = time.perf_counter() + min(args.max_seconds, MAX_SECONDS)
            else:
                paced = None
            main = await load.run(args.answers, args.concurrency, now, deadline)
            if profiler:
                profiler.disable()
                report_profile(profiler, f"{args.profile}.{kind}")

            async with app.uow() as uow:
                stored = (
                    await uow.session.execute(text("SELECT count(*) FROM answers"))
                ).scalar_one()
        finally:
            await app.close()
    return {
        "kind": kind,
        "warm": warm,
        "paced": paced,
        "main": main,
        "stored": stored - history,
        "history": history,
    }


# The columns of an answer a seeded one copies from a warm-up answer.
_COPIED = (
    "user_id, chat_id, round_question_id, entry_id, question_type, given, option_index,"
    " correct, judged, points, response_ms, hints_used, created_at"
)


async def seed_history(app: App, count: int) -> int:
    """Give the bot a history: `count` earlier answers (copies of the warm-up's, to closed
    questions, under their own dedup keys), as a bot a community has used for a while has.
    Without one, the answers table grows twentyfold during the timed phases, and PostgreSQL's
    cached plans (made once, for a table of a thousand rows) stop fitting it; a server with
    autovacuum would re-ANALYZE and re-plan, this machine's runs without (see `analyze`)."""
    if count <= 0:
        return 0
    async with app.engine.connect() as conn:
        warm = (await conn.execute(text("SELECT count(*) FROM answers"))).scalar_one()
        copies = -(-count // warm)  # each warm-up answer this many times
        if app.engine.dialect.name == "postgresql":
            numbers = f"generate_series(1, {copies}) AS g(n)"
            prefix = ""
        else:
            numbers = "g"
            prefix = (
                "WITH RECURSIVE g(n) AS"
                f" (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {copies}) "
            )
        await conn.execute(
            text(
                f"{prefix}INSERT INTO answers (dedup_key, {_COPIED}) "
                f"SELECT 'history:' || n || ':' || a.id, {_COPIED} FROM answers a, {numbers}"
            )
        )
        await conn.commit()
    return copies * warm


async def analyze(app: App) -> None:
    """Planner statistics for the tables the warm-up filled, as a server running autovacuum
    keeps them. Without them PostgreSQL plans for empty tables (a user looked up by
    scanning every user, the answers table read whole); this machine's server runs with
    autovacuum off. SQLite plans by its indexes alone and is left as it is."""
    if app.engine.dialect.name != "postgresql":
        return
    async with app.engine.connect() as conn:
        await conn.execute(text("ANALYZE"))
        await conn.commit()


def report_profile(profiler: cProfile.Profile, path: str) -> None:
    profiler.dump_stats(path)
    for key in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(25)
        print(f"--- profile by {key} (main thread; full dump in {path})")
        print(out.getvalue().split("\n\n", 2)[-1][:6000])


def row(label: str, kind: str, outcome: Outcome) -> list:
    lat = latency_summary(outcome.latencies)
    done = len(outcome.latencies)
    return [
        kind,
        label,
        done,
        outcome.seconds,
        done / outcome.seconds if outcome.seconds else 0.0,
        lat["p50"],
        lat["p95"],
        lat["p99"],
        lat["max"],
        outcome.scored,
        outcome.refused,
        outcome.errors,
        outcome.statements / done if done else 0.0,
        1000 * outcome.cpu_seconds / done if done else 0.0,
    ]


class ErrorTally(logging.Handler):
    """Counts the dispatcher's logged failures by exception type instead of printing
    hundreds of tracebacks."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.kinds: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        key = f"{type(exc).__name__}: {str(exc)[:90]}" if exc else record.getMessage()[:100]
        self.kinds[key] = self.kinds.get(key, 0) + 1


async def main(args) -> None:
    logging.basicConfig(level=logging.WARNING)
    tally = ErrorTally()
    dispatcher_log = logging.getLogger("bot.core.dispatcher")
    dispatcher_log.addHandler(tally)
    dispatcher_log.propagate = False
    kinds = DATABASES if args.db == "both" else (args.db,)
    await print_machine(with_postgres="postgres" in kinds)
    glossary, which = load_glossary_for_bench()
    print(
        f"answers via {'Hub.handle' if args.via == 'hub' else 'Dispatcher.dispatch'}; "
        f"{args.chats} group chats x {USERS_PER_CHAT} users; "
        f"glossary: {which} ({len(glossary)} entries)\n"
    )
    rows, checks = [], []
    for kind in kinds:
        result = await bench_one(kind, args, glossary)
        rows.append(row("warm-up (q1, new users)", kind, result["warm"]))
        phases = [result["warm"], result["main"]]
        if result["paced"]:
            rows.append(row(f"{args.rate:,.0f} answers/s offered", kind, result["paced"]))
            phases.append(result["paced"])
        rows.append(row(f"flat out, {args.concurrency} in flight", kind, result["main"]))
        scored = sum(p.scored for p in phases)
        errors = sum(p.errors for p in phases)
        checks.append(
            f"{kind}: {result['stored']:,} answers stored (and {result['history']:,} from"
            f" before), {scored:,} scored replies, "
            f"{errors} apologies (each retried), {result['main'].rounds_over} rounds over"
        )
    headers = (
        "db",
        "phase",
        "answers",
        "s",
        "answers/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "scored",
        "refused",
        "errors",
        "SQL/answer",
        "CPU ms/answer",
    )
    print(table(headers, rows))
    print(
        "\ntarget: >= 1,000 answers/s with p99 <= 20 ms. Offered: answers issued at a fixed"
        " rate, latency from when each was due. Flat out: a fixed number in flight, each"
        " answer followed by the next (latency = in flight / throughput). CPU ms/answer: this"
        " process only, all threads (the database server's CPU not included)"
    )
    for line in checks:
        print(line)
    for kind, count in sorted(tally.kinds.items(), key=lambda kv: -kv[1]):
        print(f"logged error x{count}: {kind}")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=(*DATABASES, "both"), default="both")
    parser.add_argument("--answers", type=int, default=20_000, help="answers after the warm-up")
    parser.add_argument(
        "--max-seconds", type=float, default=180, help="stop issuing answers after this long"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=1000,
        help="answers per second offered in the paced phase (0: skip it)",
    )
    parser.add_argument(
        "--concurrency", type=int, default=48, help="answers in flight in the flat-out phase"
    )
    parser.add_argument("--via", choices=("dispatcher", "hub"), default="dispatcher")
    parser.add_argument("--chats", type=int, default=CHATS, help=f"{USERS_PER_CHAT} users each")
    parser.add_argument(
        "--quick", action="store_true", help="20 chats, 1,000 answers or 5 s a phase: a smoke run"
    )
    parser.add_argument(
        "--history",
        type=int,
        default=200_000,
        help="earlier answers the database holds before the timed phases (0: a new database)",
    )
    parser.add_argument("--profile", metavar="PATH", help="cProfile the timed phase")
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args(argv)
    if args.quick:
        args.chats = min(args.chats, 20)
        args.answers = min(args.answers, 1_000)
        args.max_seconds = min(args.max_seconds, 5)
        args.history = min(args.history, 20_000)
    return args


if __name__ == "__main__":
    run_event_loop(main(parse_args()))  # the loop `quizbot run` uses
