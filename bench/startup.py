"""Start-up time and resident memory.

Start-up: load and validate the shipped glossary and prepare question generation
(`load_glossary()`, `QuestionGenerator(glossary)`, one round of 10 questions), in a fresh
interpreter each run so that imports count; the best of N runs is the figure.

Memory: resident memory (VmRSS, after a garbage collection) of a bot as `quizbot run` builds it:
`App.create` on SQLite, on the event loop `quizbot run` uses, then the Telegram and Discord
adapters constructed (not connected), then one round started. Adapters that do not exist yet or
fail to build are reported, not fatal.

    python -m bench.startup            # 7 start-up runs
    python -m bench.startup --quick    # 3 runs
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import print_machine, table

ROOT = Path(__file__).resolve().parents[1]

STARTUP_CHILD = """
import time
t0 = time.perf_counter()
import json
from bot.content.glossary import load_glossary
from bot.content.questions import QuestionGenerator
t1 = time.perf_counter()
glossary = load_glossary()
t2 = time.perf_counter()
generator = QuestionGenerator(glossary)
t3 = time.perf_counter()
questions = generator.generate(10)
t4 = time.perf_counter()
print(json.dumps({"imports": t1 - t0, "load": t2 - t1, "prepare": t3 - t2,
                  "generate": t4 - t3, "total": t4 - t0, "entries": len(glossary),
                  "questions": len(questions)}))
"""

MEMORY_CHILD = """
import asyncio, gc, json, sys, tempfile
from datetime import UTC, datetime
from pathlib import Path


def rss():
    gc.collect()
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


async def main(folder):
    stages, notes = [], []
    stages.append(("interpreter", rss()))
    from bot.app import App
    from bot.config import Secret, Settings
    from bot.core.events import ChatRef, Sender
    stages.append(("core imported", rss()))
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{folder}/bench.sqlite3",
        telegram_token=Secret("123:TEST"),
        discord_token=Secret("TEST"),
    )
    app = await App.create(settings)
    stages.append(("App.create (SQLite)", rss()))
    adapters = []
    try:
        from bot.adapters.telegram import TelegramAdapter
        adapters.append(TelegramAdapter(settings, app.hub))
        stages.append(("+ TelegramAdapter built", rss()))
    except Exception as err:
        notes.append(f"TelegramAdapter: {type(err).__name__}: {str(err)[:120]}")
    try:
        from bot.adapters.discord import create_bot
        adapters.append(create_bot(settings, app.hub))
        stages.append(("+ discord create_bot built", rss()))
    except Exception as err:
        notes.append(f"discord create_bot: {type(err).__name__}: {str(err)[:120]}")
    for adapter in adapters:
        if hasattr(adapter, "platform"):
            app.hub.add_adapter(adapter)
    chat = ChatRef("console", "bench", "group", "Bench")
    await app.quiz.start_round(chat, Sender("1", "Bench"), datetime.now(UTC))
    stages.append(("+ one round started", rss()))
    await app.close()
    print(json.dumps({"stages": stages, "notes": notes}))


with tempfile.TemporaryDirectory() as folder:
    from bot.runner import run_event_loop

    run_event_loop(main(folder))  # on the loop `quizbot run` uses (uvloop where installed)
"""


def run_child(code: str) -> tuple[dict, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"child failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), wall


def startup(runs: int) -> None:
    results = [run_child(STARTUP_CHILD) for _ in range(runs)]
    best, best_wall = min(results, key=lambda r: r[0]["total"])
    totals = [r[0]["total"] for r in results]
    rows = [
        ["imports (glossary, questions, yaml, ...)", best["imports"] * 1000],
        ["load + validate glossary", best["load"] * 1000],
        ["QuestionGenerator(glossary)", best["prepare"] * 1000],
        ["generate one round (10 questions)", best["generate"] * 1000],
        ["total, in process (best run)", best["total"] * 1000],
        [f"total, median of {runs}", statistics.median(totals) * 1000],
        ["process wall incl. interpreter (best run)", best_wall * 1000],
    ]
    print(table(("start-up", "ms"), rows))
    print(
        f"\n{best['entries']} glossary entries, {best['questions']} questions; "
        f"target: total <= 500 ms (best of {runs} fresh interpreters)\n"
    )


def memory() -> None:
    result, _ = run_child(MEMORY_CHILD)
    rows = [[name, f["VmRSS"], f["VmHWM"]] for name, f in result["stages"]]
    print(table(("memory", "VmRSS MB", "peak (VmHWM) MB"), rows))
    print("\ntarget: VmRSS <= 150 MB with both adapters built")
    for note in result["notes"]:
        print(f"not measured: {note}")


async def main(args) -> None:
    await print_machine(with_postgres=False)
    startup(args.runs)
    memory()


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh interpreters for start-up")
    parser.add_argument("--quick", action="store_true", help="3 runs")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs = min(args.runs, 3)
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
