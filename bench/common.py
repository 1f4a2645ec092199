"""Shared helpers of the benchmarks: the machine they ran on, percentiles, throw-away databases.

The PostgreSQL server comes from $QUIZBOT_BENCH_POSTGRES_URL, else $QUIZBOT_TEST_POSTGRES_URL,
else the local default below. Each run creates its own database on it and drops it afterwards.
"""

from __future__ import annotations

import asyncio
import os
import platform
import sqlite3
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
DATABASES = ("sqlite", "postgres")


def pg_base_url() -> str:
    return (
        os.environ.get("QUIZBOT_BENCH_POSTGRES_URL")
        or os.environ.get("QUIZBOT_TEST_POSTGRES_URL")
        or DEFAULT_PG_URL
    )


def asyncpg_url(raw: str, database: str | None = None) -> str:
    """The SQLAlchemy URL (postgresql+asyncpg) of `raw`, optionally on another database."""
    url = make_url(raw).set(drivername="postgresql+asyncpg")
    if database:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


async def pg_connect(url: str | None = None):
    """A plain asyncpg connection (for admin statements, COPY and the server version)."""
    import asyncpg

    parsed = make_url(url or pg_base_url())
    return await asyncpg.connect(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )


async def pg_server_version() -> str:
    try:
        conn = await pg_connect()
    except Exception as err:  # the server is optional for a SQLite-only run
        return f"unavailable ({type(err).__name__})"
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


@asynccontextmanager
async def throwaway_database(kind: str) -> AsyncIterator[str]:
    """An empty database for one run: a SQLite file in a temporary folder, or a fresh
    PostgreSQL database. Yields its SQLAlchemy URL; removes it afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="quizbot_bench_") as folder:
            yield f"sqlite+aiosqlite:///{Path(folder) / 'bench.sqlite3'}"
        return
    if kind != "postgres":
        raise ValueError(f"unknown database kind {kind!r}")
    name = f"quizbot_bench_{uuid.uuid4().hex[:10]}"
    admin = await pg_connect()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield asyncpg_url(pg_base_url(), name)
    finally:
        admin = await pg_connect()
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "?"


async def machine(with_postgres: bool = True) -> list[tuple[str, str]]:
    rows = [
        ("cpu", cpu_model()),
        ("cores", str(usable_cores())),
        ("load average", load_average()),
        ("python", sys.version.split()[0]),
        ("event loop", event_loop_name()),
        ("sqlite", sqlite3.sqlite_version),
    ]
    if with_postgres:
        rows.append(("postgresql", await pg_server_version()))
    return rows


def event_loop_name() -> str:
    """The running loop: the bot's own runner picks uvloop where it is installed."""
    loop = asyncio.get_running_loop()
    module = type(loop).__module__.split(".")[0]
    if module == "uvloop":
        import uvloop

        return f"uvloop {uvloop.__version__}"
    return f"asyncio ({type(loop).__name__})"


def percentile(values: Sequence[float], pct: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default method)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * pct / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/max in milliseconds."""
    ms = sorted(s * 1000 for s in seconds)
    return {
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "p99": percentile(ms, 99),
        "max": ms[-1] if ms else float("nan"),
    }


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A compact Markdown table, ready to paste into bench/README.md."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


async def print_machine(with_postgres: bool = True) -> None:
    print(table(("machine", ""), await machine(with_postgres)))
    print()
