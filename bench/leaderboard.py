"""Leaderboard latency: top ten plus the caller's rank, with 1,000,000 users over 1,000 chats.

Users, chats and their all-time `scores` rows (chat scope and the global scope) are bulk-loaded
straight into the migrated schema (executemany for SQLite, COPY for PostgreSQL), then ANALYZEd.
Then `BoardService.leaderboard` is timed for random callers, in their chat and globally; the two
queries behind it (`ScoreRepository.top`, and `.standing` in its exact form, without the
rank snapshot of bot.core.ranks) are also timed on their own.

    python -m bench.leaderboard                   # both databases, 1,000,000 users
    python -m bench.leaderboard --quick           # 20,000 users, 100 calls
    python -m bench.leaderboard --db postgres --users 200000 --explain
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sqlite3
import time
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.common import (
    DATABASES,
    latency_summary,
    pg_connect,
    print_machine,
    table,
    throwaway_database,
)
from bot.core.boards import BoardService
from bot.core.events import ChatRef, Sender
from bot.storage import db
from bot.storage.models import GLOBAL_SCOPE
from bot.storage.repositories import EPOCH
from bot.storage.uow import unit_of_work_factory

PLATFORM = "telegram"
BATCH = 100_000
CREATED = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def chat_pid(chat: int) -> str:
    return f"-200{chat:06d}"


def user_chat(user_id: int, chats: int) -> int:
    """Users are dealt round-robin to chats (chat ids 1..chats)."""
    return (user_id - 1) % chats + 1


def score_rows(users: int, chats: int, seed: int):
    """(user_id, chat_id, points, correct, answered) per user: most players answered a few
    questions, a few answered hundreds; speed points are 500-1000 per right answer."""
    rng = random.Random(seed)
    for user_id in range(1, users + 1):
        answered = 1 + int(rng.expovariate(1 / 40))
        correct = round(answered * rng.uniform(0.2, 0.95))
        points = correct * 500 + rng.randrange(0, correct * 500 + 1)
        yield user_id, user_chat(user_id, chats), points, correct, answered


# ----------------------------------------------------------------------------- loading


def load_sqlite(url: str, users: int, chats: int, seed: int) -> None:
    path = make_url(url).database
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA cache_size=-200000")  # this connection only: a faster load
        conn.execute("BEGIN")
        created = CREATED.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
        conn.executemany(
            "INSERT INTO chats (id, platform, platform_chat_id, kind, title, lang, settings,"
            " created_at) VALUES (?, ?, ?, 'group', ?, NULL, '{}', ?)",
            [(c, PLATFORM, chat_pid(c), f"Chat {c}", created) for c in range(1, chats + 1)],
        )
        for start in range(1, users + 1, BATCH):
            stop = min(start + BATCH, users + 1)
            conn.executemany(
                "INSERT INTO users (id, platform, platform_user_id, display_name, lang,"
                " platform_lang, created_at) VALUES (?, ?, ?, ?, NULL, 'en', ?)",
                [(u, PLATFORM, str(u), f"Player {u}", created) for u in range(start, stop)],
            )
        epoch = EPOCH.isoformat()
        insert = (
            "INSERT INTO scores (chat_id, period, period_start, user_id, points, correct,"
            " answered) VALUES (?, 'all', ?, ?, ?, ?, ?)"
        )
        rows = list(score_rows(users, chats, seed))
        # Chat scope in chat order (the unique index grows at its end), then the global scope.
        rows.sort(key=lambda r: (r[1], r[0]))
        for scope_of in (lambda r: r[1], lambda r: GLOBAL_SCOPE):
            for start in range(0, len(rows), BATCH):
                batch = rows[start : start + BATCH]
                conn.executemany(
                    insert, [(scope_of(r), epoch, r[0], r[2], r[3], r[4]) for r in batch]
                )
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()


async def load_postgres(url: str, users: int, chats: int, seed: int) -> None:
    conn = await pg_connect(url)
    try:
        await conn.copy_records_to_table(
            "chats",
            records=[
                (c, PLATFORM, chat_pid(c), "group", f"Chat {c}", None, "{}", CREATED)
                for c in range(1, chats + 1)
            ],
            columns=[
                "id",
                "platform",
                "platform_chat_id",
                "kind",
                "title",
                "lang",
                "settings",
                "created_at",
            ],
        )
        for start in range(1, users + 1, BATCH):
            stop = min(start + BATCH, users + 1)
            await conn.copy_records_to_table(
                "users",
                records=[
                    (u, PLATFORM, str(u), f"Player {u}", None, "en", CREATED)
                    for u in range(start, stop)
                ],
                columns=[
                    "id",
                    "platform",
                    "platform_user_id",
                    "display_name",
                    "lang",
                    "platform_lang",
                    "created_at",
                ],
            )
        rows = list(score_rows(users, chats, seed))
        columns = ["chat_id", "period", "period_start", "user_id", "points", "correct", "answered"]
        for scope_of in (lambda r: r[1], lambda r: GLOBAL_SCOPE):
            for start in range(0, len(rows), BATCH):
                await conn.copy_records_to_table(
                    "scores",
                    records=[
                        (scope_of(r), "all", EPOCH, r[0], r[2], r[3], r[4])
                        for r in rows[start : start + BATCH]
                    ],
                    columns=columns,
                )
        for name in ("users", "chats"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'),"
                f" (SELECT max(id) FROM {name}))"
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


# ----------------------------------------------------------------------------- timing


async def time_calls(calls: int, one) -> list[float]:
    spent = []
    for i in range(calls):
        started = time.perf_counter()
        await one(i)
        spent.append(time.perf_counter() - started)
    return spent


async def bench_one(kind: str, args) -> dict:
    rng = random.Random(args.seed)
    async with throwaway_database(kind) as url:
        await db.upgrade(url)
        started = time.perf_counter()
        if kind == "sqlite":
            await asyncio.to_thread(load_sqlite, url, args.users, args.chats, args.seed)
        else:
            await load_postgres(url, args.users, args.chats, args.seed)
        load_seconds = time.perf_counter() - started

        engine = db.create_engine(url)
        uow = unit_of_work_factory(db.session_factory(engine))
        boards = BoardService(uow)
        callers = [rng.randint(1, args.users) for _ in range(args.calls)]
        now = datetime.now(UTC)

        def who(user_id: int) -> tuple[ChatRef, Sender]:
            chat = ChatRef(PLATFORM, chat_pid(user_chat(user_id, args.chats)), "group")
            return chat, Sender(str(user_id), f"Player {user_id}")

        async def board(scope: str, i: int):
            chat, sender = who(callers[i])
            result = await boards.leaderboard(chat, sender, now, scope, "all")
            assert len(result.rows) == 10, "a full top ten"
            assert result.caller is not None or any(r.is_caller for r in result.rows)

        async def top_only(scope_id, i: int):
            async with uow() as work:
                await work.scores.top(scope_id(callers[i]), "all", EPOCH, 10)

        async def standing_only(scope_id, i: int):
            async with uow() as work:
                await work.scores.standing(scope_id(callers[i]), "all", EPOCH, callers[i])

        def chat_of(user_id: int) -> int:
            return user_chat(user_id, args.chats)

        def global_of(_user_id: int) -> int:
            return GLOBAL_SCOPE

        results = []
        try:
            chosen = [("chat", chat_of), ("global", global_of)]
            for scope, scope_id in [c for c in chosen if args.scope in (c[0], "both")]:
                # The first call warms the pool, the statement caches and any rank snapshot.
                results.append(
                    (
                        scope,
                        "first call (cold, untimed below)",
                        await time_calls(1, lambda i, s=scope: board(s, i)),
                    )
                )
                results.append(
                    (
                        scope,
                        "BoardService.leaderboard",
                        await time_calls(args.calls, lambda i, s=scope: board(s, i)),
                    )
                )
                results.append(
                    (
                        scope,
                        "  top ten query",
                        await time_calls(args.calls, lambda i, f=scope_id: top_only(f, i)),
                    )
                )
                results.append(
                    (
                        scope,
                        "  exact rank query (standing)",
                        await time_calls(args.calls, lambda i, f=scope_id: standing_only(f, i)),
                    )
                )
            plans = ""
            if args.explain:
                plans = await explain(engine, kind, callers[0], chat_of(callers[0]))
            async with uow() as work:
                loaded = (
                    await work.session.execute(text("SELECT count(*) FROM scores"))
                ).scalar_one()
        finally:
            await engine.dispose()
    return {
        "kind": kind,
        "load": load_seconds,
        "results": results,
        "plans": plans,
        "scores": loaded,
    }


async def explain(engine, kind: str, user_id: int, chat_id: int) -> str:
    """The query plans of the caller's-rank count, to show where its time goes."""
    prefix = "EXPLAIN QUERY PLAN" if kind == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS)"
    query = (
        "SELECT count(*) FROM scores WHERE chat_id = :scope AND period = 'all'"
        " AND period_start = :start AND (points > :p OR (points = :p AND correct > :c)"
        " OR (points = :p AND correct = :c AND user_id < :u))"
    )
    out = []
    async with engine.connect() as conn:
        for scope in (chat_id, GLOBAL_SCOPE):
            row = (
                await conn.execute(
                    text("SELECT points, correct FROM scores WHERE chat_id = :s AND user_id = :u"),
                    {"s": scope, "u": user_id},
                )
            ).first()
            params = {
                "scope": scope,
                "start": EPOCH if kind == "postgres" else EPOCH.isoformat(),
                "p": row[0],
                "c": row[1],
                "u": user_id,
            }
            plan = await conn.execute(text(f"{prefix} {query}"), params)
            out.append(f"-- scope {scope}:")
            out += ["   " + " ".join(str(c) for c in r) for r in plan]
    return "\n".join(out)


async def main(args) -> None:
    logging.basicConfig(level=logging.WARNING)
    kinds = DATABASES if args.db == "both" else (args.db,)
    await print_machine(with_postgres="postgres" in kinds)
    print(
        f"{args.users:,} users over {args.chats:,} chats; {args.calls} random callers per "
        "scope; period 'all'\n"
    )
    rows, loads, plans = [], [], []
    for kind in kinds:
        result = await bench_one(kind, args)
        loads.append(
            f"{kind}: loaded {result['scores']:,} score rows (+ users, chats) and "
            f"ANALYZEd in {result['load']:.1f} s"
        )
        for scope, what, spent in result["results"]:
            lat = latency_summary(spent)
            rows.append(
                [kind, scope, what, len(spent), lat["p50"], lat["p95"], lat["p99"], lat["max"]]
            )
        if result["plans"]:
            plans.append(f"{kind}:\n{result['plans']}")
    print(table(("db", "scope", "timed", "calls", "p50 ms", "p95 ms", "p99 ms", "max ms"), rows))
    print("\ntarget: p99 <= 20 ms for BoardService.leaderboard on both databases")
    for line in loads:
        print(line)
    for plan in plans:
        print(plan)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=(*DATABASES, "both"), default="both")
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--chats", type=int, default=1_000)
    parser.add_argument("--scope", choices=("chat", "global", "both"), default="both")
    parser.add_argument("--calls", type=int, default=500, help="timed calls per scope")
    parser.add_argument("--quick", action="store_true", help="20,000 users, 100 calls")
    parser.add_argument("--explain", action="store_true", help="print the rank query's plans")
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args(argv)
    if args.quick:
        args.users = min(args.users, 20_000)
        args.calls = min(args.calls, 100)
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
