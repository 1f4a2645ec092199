"""`quizbot run`'s event loop: uvloop where it is installed, asyncio's own elsewhere."""

from __future__ import annotations

import asyncio
import importlib.util

from bot.runner import run_event_loop


def test_the_bots_run_on_uvloop_where_it_is_installed():
    async def loop_module() -> str:
        await asyncio.sleep(0)
        return type(asyncio.get_running_loop()).__module__

    module = run_event_loop(loop_module())
    expected = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    assert module.split(".")[0] == expected
