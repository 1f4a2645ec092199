"""`quizbot run`'s event loop: uvloop where it is installed, asyncio's own elsewhere."""

from __future__ import annotations

import asyncio
import gc
import importlib.util

from bot.runner import GC_YOUNG_THRESHOLD, run_event_loop, settle_memory


def test_the_bots_run_on_uvloop_where_it_is_installed():
    async def loop_module() -> str:
        await asyncio.sleep(0)
        return type(asyncio.get_running_loop()).__module__

    module = run_event_loop(loop_module())
    expected = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    assert module.split(".")[0] == expected


def test_settled_memory_is_out_of_the_collectors_sight_and_young_objects_collected_less_often():
    before = gc.get_threshold()
    try:
        settle_memory()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
