"""Helpers for tests that run `python -m bot.cli ...` as a real process, as an operator would:
a clean environment (no real HOME, no settings of the machine), recognisable secrets, and
checks that a failure is one line, without a traceback or a secret."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Recognisable secrets: no output may hold "SECRET" (nor any part of these).
TOKEN = "123456:SECRETsecret"
DISCORD_TOKEN = "MTIzNDU2Nzg5.SECRETdiscord.SECRETdiscordSECRETdiscord"
PASSWORD = "pw-SECRET"

# Loaded by the processes of a test when its folder is on PYTHONPATH: lets a test take the
# PostgreSQL driver away, or point discord.py's HTTP at a server on 127.0.0.1.
SHIM = """\
import os
import sys

if os.environ.get("QUIZBOT_TEST_NO_ASYNCPG"):

    class _NoAsyncpg:
        def find_spec(self, name, path=None, target=None):
            if name == "asyncpg" or name.startswith("asyncpg."):
                raise ModuleNotFoundError("No module named 'asyncpg'", name="asyncpg")
            return None

    sys.meta_path.insert(0, _NoAsyncpg())

if os.environ.get("QUIZBOT_TEST_DISCORD_API"):
    import discord.http

    discord.http.Route.BASE = os.environ["QUIZBOT_TEST_DISCORD_API"]
"""


@dataclass
class Ran:
    code: int | None
    output: str
    seconds: float

    @property
    def lines(self) -> list[str]:
        return self.output.splitlines()


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The environment of a fresh operator's shell: the machine's own settings removed, HOME
    and the data folder inside `tmp_path`, the shim loadable."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("QUIZBOT_", "TELEGRAM_", "DISCORD_", "PYTEST", "XDG_"))
    }
    shim = tmp_path / "shim"
    shim.mkdir(exist_ok=True)
    (shim / "sitecustomize.py").write_text(SHIM)
    env.update(
        HOME=str(tmp_path / "home"),
        QUIZBOT_DATA_DIR=str(tmp_path / "data"),
        PYTHONPATH=os.pathsep.join([str(shim), str(REPO)]),
        PYTHONUNBUFFERED="1",
    )
    env.update(settings)
    return env


async def start_cli(*args: str, env: dict[str, str], cwd: Path, prefix: tuple[str, ...] = ()):
    """`python -m bot.cli ARGS` started, stdout and stderr together in one pipe."""
    return await asyncio.create_subprocess_exec(
        *prefix,
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def run_cli(
    *args: str,
    env: dict[str, str],
    cwd: Path,
    timeout: float = 60,  # noqa: ASYNC109
    prefix: tuple[str, ...] = (),
) -> Ran:
    started = time.monotonic()
    process = await start_cli(*args, env=env, cwd=cwd, prefix=prefix)
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        output, _ = await process.communicate()
        raise AssertionError(f"still running after {timeout} s: {output.decode()}") from None
    return Ran(process.returncode, output.decode(), time.monotonic() - started)


async def read_until(process, wanted: str, timeout: float = 30) -> str:  # noqa: ASYNC109
    """The process's output up to the first line that contains `wanted`."""
    seen: list[str] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        try:
            line = await asyncio.wait_for(process.stdout.readline(), max(left, 0.01))
        except TimeoutError:
            raise AssertionError(f"no {wanted!r} within {timeout} s: {''.join(seen)}") from None
        if not line:
            raise AssertionError(f"ended before {wanted!r}: {''.join(seen)}")
        seen.append(line.decode())
        if wanted in seen[-1]:
            return "".join(seen)


def assert_no_secret(output: str) -> None:
    assert "SECRET" not in output, f"a secret was printed:\n{output}"


def assert_one_line_failure(ran: Ran, *fragments: str) -> str:
    """The command failed, said so in one line (its last), which holds `fragments`, and
    printed no traceback and no secret. Returns that line."""
    output = ran.output
    assert ran.code not in (0, None), output
    assert "Traceback" not in output and "Unclosed" not in output, output
    assert_no_secret(output)
    said = [line for line in ran.lines if line.startswith("quizbot:")]
    assert len(said) == 1, output
    assert ran.lines[-1] == said[0], output
    for fragment in fragments:
        assert fragment in said[0], output
    return said[0]
