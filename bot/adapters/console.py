"""The terminal adapter: a private study chat on standard input and output.

Questions print with lettered options; typed questions take a line of text. `hint` asks for a
hint, `report` after a question's result reports that question (the reasons are numbered, one
line picks one), `quit`, Ctrl-D or Ctrl-C end the round with everything answered so far saved
(each answer is committed as it arrives). Invalid input gets a short hint and the same question
again.
"""

from __future__ import annotations

import asyncio
import getpass
import itertools
import sys
from collections.abc import Callable
from typing import TextIO

from bot.core.events import ChatRef, Command, OptionAnswer, Sender, TextAnswer
from bot.core.hub import Hub
from bot.core.replies import (
    AnswerFeedback,
    AskQuestion,
    Notice,
    QuestionResult,
    Reply,
    ReportChoice,
    RoundOver,
)
from bot.core.services import RoundRequest
from bot.i18n import interface_lang, t

QUIT_WORDS = {"quit", "exit", "q", ":q", "退出"}
HINT_WORDS = {"hint", "h", "?", "提示"}
REPORT_WORDS = {"report", "报错"}


def local_user(lang: str | None = None) -> Sender:
    try:
        name = getpass.getuser()
    except Exception:
        name = "you"
    return Sender(platform_user_id="local", display_name=name or "you", lang=lang)


class ConsoleAdapter:
    platform = "console"

    def __init__(
        self,
        hub: Hub,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        lang: str | None = None,
        sender: Sender | None = None,
    ) -> None:
        self.hub = hub
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.lang = interface_lang(lang)
        # The terminal's language plays the part of a platform's user language.
        self.sender = sender or local_user(self.lang)
        self.chat = ChatRef(self.platform, "local", "private", "terminal")
        self._ids = itertools.count(1)
        self._last_question: AskQuestion | None = None
        self._report_ref = ""  # the question of the last result shown, for `report`
        self._over = False

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, reply: Reply) -> str | None:
        self._print(reply)
        return None

    # -------------------------------------------------------------- the loop

    def play(self, runner: asyncio.Runner, request: RoundRequest) -> int:
        """Play one round in the terminal; returns the exit status."""
        now = self.hub.clock
        resumed = runner.run(self.hub.quiz.current_question(self.chat, self.sender, now()))
        if resumed is not None:
            self.say(t(self.lang, "console.resumed"))
            self._print(resumed)
        else:
            replies = runner.run(self.hub.quiz.start_round(self.chat, self.sender, now(), request))
            self._show(replies)
            if not any(isinstance(r, AskQuestion) for r in replies):
                return 1
        return self._loop(runner, self._stop_round)

    def practice(self, runner: asyncio.Runner, kind: str = "practice") -> int:
        """A spaced-repetition session (`practice`) or a replay of missed terms (`review`)."""
        replies = runner.run(self.hub.handle(self._command(kind)))
        self._show(replies)
        if not any(isinstance(r, AskQuestion) for r in replies):
            return 0  # nothing due: the reply said when to come back
        self.say(t(self.lang, "console.help"))
        return self._loop(runner, lambda run: self._stop_practice(run, kind))

    def _loop(self, runner: asyncio.Runner, finish: Callable) -> int:
        try:
            while not self._over:
                line = self._read()
                if line is None or line.strip().lower() in QUIT_WORDS:
                    finish(runner.run)
                    break
                if line.strip().lower() in REPORT_WORDS:
                    self._report(runner)
                    continue
                self._show(runner.run(self._handle(line)))
            else:  # the round came to its end: its last question can still be reported
                if self._report_ref:
                    self.say(t(self.lang, "console.report.last"))
                    line = self._read()
                    if line is not None and line.strip().lower() in REPORT_WORDS:
                        self._report(runner)
        except KeyboardInterrupt:
            self.say("")
            finish(runner.run)
        self.say(t(self.lang, "console.bye"))
        return 0

    def _command(self, name: str, *args: str) -> Command:
        event_id = f"console-{self.hub.clock().timestamp()}-{next(self._ids)}"
        return Command(self.chat, self.sender, event_id, self.hub.clock(), name=name, args=args)

    async def _handle(self, line: str) -> list[Reply]:
        text = line.strip()
        if text.lower() in HINT_WORDS:
            return await self.hub.handle(self._command("hint"))
        event_id = f"console-{self.hub.clock().timestamp()}-{next(self._ids)}"
        asked = self._last_question
        ref = (asked.question_ref or None) if asked else None
        question = asked.question if asked else None
        if question is not None and question.is_multiple_choice and _is_option(text, question):
            event = OptionAnswer(
                self.chat,
                self.sender,
                event_id,
                self.hub.clock(),
                option=_option_index(text),
                question_ref=ref,
            )
        else:
            event = TextAnswer(
                self.chat, self.sender, event_id, self.hub.clock(), text=line, question_ref=ref
            )
        return await self.hub.handle(event)

    def _report(self, runner: asyncio.Runner) -> None:
        """`report`: the reasons, numbered; one line picks one (anything else reports nothing)."""
        if not self._report_ref:
            self.say(t(self.lang, "console.report.nothing"))
            return
        replies = runner.run(self.hub.handle(self._command("report", self._report_ref)))
        choice = next((r for r in replies if isinstance(r, ReportChoice)), None)
        if choice is None:
            self._show(replies)  # a refusal
            return
        self.say(choice.text)
        self.say(t(self.lang, "console.report.pick"))
        line = (self._read() or "").strip()
        index = int(line) - 1 if line.isdigit() else -1
        if not 0 <= index < len(choice.reasons):
            self.say(t(self.lang, "console.report.cancelled"))
            return
        code = choice.reasons[index][0]
        for reply in runner.run(self.hub.handle(self._command("report", self._report_ref, code))):
            self.say(reply.text)

    def _stop_round(self, run: Callable) -> None:
        if not self._over:
            replies = run(
                self.hub.quiz.stop_round(self.chat, self.sender, self.hub.clock(), is_admin=True)
            )
            self._show([r for r in replies if isinstance(r, RoundOver)])

    def _stop_practice(self, run: Callable, kind: str) -> None:
        self._over = True
        self._show(run(self.hub.handle(self._command(kind, "stop"))))

    def _read(self) -> str | None:
        try:
            self.stdout.write("> ")
            self.stdout.flush()
            line = self.stdin.readline()
        except EOFError:
            return None
        if line == "":
            self.say("")
            return None
        return line.rstrip("\n")

    # -------------------------------------------------------------- output

    def _show(self, replies: list[Reply]) -> None:
        invalid = False
        for reply in replies:
            self._print(reply)
            if isinstance(reply, Notice) and reply.kind in ("usage", "error"):
                invalid = True
        if invalid and self._last_question is not None and not self._over:
            self._print(self._last_question)

    def _print(self, reply: Reply) -> None:
        if isinstance(reply, AskQuestion):
            self._last_question = reply
            self.say("")
            self.say(reply.text)
            return
        if isinstance(reply, QuestionResult | AnswerFeedback) and reply.report_ref:
            self._report_ref = reply.report_ref
        if isinstance(reply, QuestionResult):
            self.say(reply.text)
            if reply.top:
                me = reply.top[0]
                self.say(
                    t(
                        self.lang,
                        "console.score",
                        points=me.points,
                        correct=me.correct,
                        answered=me.answered,
                    )
                )
            return
        if isinstance(reply, RoundOver):
            self._over = True
            self.say("")
            self.say(reply.text)
            return
        if isinstance(reply, AnswerFeedback | Notice):
            self.say(reply.text)
            return
        self.say(reply.text)

    def say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()


def _is_option(text: str, question) -> bool:
    index = _option_index(text)
    return index is not None and 0 <= index < len(question.options)


def _option_index(text: str) -> int | None:
    cleaned = text.strip().strip("().").upper()
    if cleaned.isdigit() and len(cleaned) <= 2:
        return int(cleaned) - 1
    if len(cleaned) == 1 and "A" <= cleaned <= "J":
        return ord(cleaned) - ord("A")
    return None
