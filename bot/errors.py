"""Failures that stop a command, told in one line.

`StartupError` is something outside the bot's code that keeps it from working: a database it
cannot reach or write, a platform that is unreachable or refuses the token. Its message is one
line for people, saying what is wrong and what to do, and never holds a secret (a token, a
password): the command prints it and exits non-zero, without a traceback. Settings that are
wrong in themselves are `bot.config.ConfigError`.
"""

from __future__ import annotations


class StartupError(Exception):
    """The one-line reason a command cannot go on (what is wrong, and what to do)."""
