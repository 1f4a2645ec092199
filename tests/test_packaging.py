"""The version ranges pyproject.toml admits are ones the code works with (issue 19)."""

from __future__ import annotations

import inspect
import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]


def _requirement(name: str) -> Requirement:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    [found] = [r for r in map(Requirement, project["dependencies"]) if r.name == name]
    return found


def test_python_telegram_bot_older_than_22_8_is_not_admitted():
    """Every multiple-choice question is a quiz poll sent with `correct_option_ids`, which
    python-telegram-bot has from 22.8 on: 22.5-22.7 would fail every one."""
    from telegram import Bot

    assert "correct_option_ids" in inspect.signature(Bot.send_poll).parameters
    allowed = _requirement("python-telegram-bot").specifier
    assert allowed.contains(version("python-telegram-bot"))
    assert not any(allowed.contains(old) for old in ("22.5", "22.6", "22.7"))
    assert allowed.contains("22.8")
