"""The terminal adapter: a private study chat on standard input and output.

Questions print with lettered options; typed questions take a line of text. `hint` asks for a
hint, `report` after a question's result reports that question (the reasons are numbered, one
line picks one), `quit`, Ctrl-D or Ctrl-C end the round with everything answered so far saved
(each answer is committed as it arrives). Invalid input gets a short hint and the same question
again.

The core writes for chats, where a user sends `/practice stop`; the terminal takes words
instead. Lines of the core's replies that name chat commands (or that fit a group, not one
person at a terminal) are shown in the terminal's own words (`TERMINAL_WORDS`), with the same
figures.
"""

from __future__ import annotations

import asyncio
import getpass
import itertools
import re
import string
import sys
from collections.abc import Callable
from functools import cache
from typing import TextIO

from bot.core import render
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
from bot.i18n import INTERFACE_LANGS, catalogue, interface_lang, t

QUIT_WORDS = {"quit", "exit", "q", ":q", "退出"}
HINT_WORDS = {"hint", "h", "?", "提示"}
REPORT_WORDS = {"report", "报错"}

# A core message (a whole line of a reply) -> what the terminal says in its place, with the
# same values; None leaves the line out.
TERMINAL_WORDS: dict[str, str | None] = {
    "practice.start": "console.practice.start",  # "... practice stop ends the session"
    "practice.typed_hint": "question.typed_console",  # "(/practice hint for a hint)"
    "question.typed_private": "question.typed_console",
    "practice.cap_reached": "console.practice.cap_reached",  # "Send /practice more ..."
    "practice.idle_ended": "console.practice.idle_ended",
    "practice.round_running": "console.practice.round_running",  # "(/quiz stop)"
    "practice.none": None,  # quitting a session that has just ended: nothing to say
    "review.nothing": "console.review.nothing",  # "Try /practice."
    "round.over.empty": "console.round.empty",  # "Nobody answered": there is only you
}
# A review is stopped like a practice session, and says so in its own words.
REVIEW_WORDS = {**TERMINAL_WORDS, "practice.stopped": "console.review.stopped"}


@cache
def _pattern(lang: str, key: str) -> re.Pattern[str] | None:
    """A catalogue message as a pattern that a line matches when it is that message, its
    placeholders captured by name."""
    template = catalogue(lang).get(key)
    if not template:
        return None
    parts = []
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name:
            group = f"(?P={name})" if f"(?P<{name}>" in "".join(parts) else f"(?P<{name}>.+?)"
            parts.append(group)
    return re.compile("".join(parts))


def terminal_words(text: str, words: dict[str, str | None] = TERMINAL_WORDS) -> str:
    """`text` with every line that is one of the `words` messages (in either language) said
    the terminal's way."""
    out = []
    for line in text.split("\n"):
        for key, instead in words.items():
            found = next(
                (
                    (lang, m)
                    for lang in INTERFACE_LANGS
                    if (pattern := _pattern(lang, key)) and (m := pattern.fullmatch(line))
                ),
                None,
            )
            if found is not None:
                lang, match = found
                line = None if instead is None else t(lang, instead, **match.groupdict())
                break
        if line is not None:
            out.append(line)
    return "\n".join(out)


def is_message(text: str, key: str) -> bool:
    """Whether a line of `text` is the catalogue message `key` (in either language)."""
    patterns = [p for lang in INTERFACE_LANGS if (p := _pattern(lang, key))]
    return any(p.fullmatch(line) for line in text.split("\n") for p in patterns)


def command_line(*words: str) -> str:
    """`quizbot play --new ...` as a user would type it."""
    return " ".join(("quizbot", *words))


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
        self._words = TERMINAL_WORDS
        self._studying = False  # a practice or review session, not a round

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, reply: Reply) -> str | None:
        self._print(reply)
        return None

    # -------------------------------------------------------------- the loop

    def play(
        self,
        runner: asyncio.Runner,
        request: RoundRequest,
        *,
        new: bool = False,
        options: tuple[str, ...] = (),
    ) -> int:
        """Play one round in the terminal; returns the exit status.

        A round left unfinished (the terminal closed mid-round) is resumed, saying which
        question of how many and how to start afresh instead; `options` are the round options
        the user gave (`--count 2`, ...), which apply to a new round only. `new`: stop the
        unfinished round (its answers stay) and start afresh."""
        now = self.hub.clock
        resumed = runner.run(self.hub.quiz.current_question(self.chat, self.sender, now()))
        if resumed is not None and new:
            runner.run(
                self.hub.quiz.stop_round(self.chat, self.sender, now(), is_admin=True)
            )  # its podium is not news: say what happened to it instead
            self.say(
                t(self.lang, "console.discarded", position=resumed.position, total=resumed.total)
            )
            resumed = None
        if resumed is not None:
            self.say(
                t(
                    self.lang,
                    "console.resumed.round",
                    position=resumed.position,
                    total=resumed.total,
                )
            )
            afresh = command_line("play", "--new", *options)
            if options:
                self.say(
                    t(
                        self.lang,
                        "console.resumed.options",
                        options=" ".join(options),
                        command=afresh,
                    )
                )
            else:
                self.say(t(self.lang, "console.resumed.afresh", command=afresh))
            self._print(resumed)
        else:
            replies = runner.run(self.hub.quiz.start_round(self.chat, self.sender, now(), request))
            self._show(replies)
            if not any(isinstance(r, AskQuestion) for r in replies):
                return 1
        return self._loop(runner, self._stop_round)

    def practice(
        self, runner: asyncio.Runner, kind: str = "practice", *, more: bool = False
    ) -> int:
        """A spaced-repetition session (`practice`; `more`: beyond today's new terms) or a
        replay of missed terms (`review`)."""
        self._studying = True
        if kind == "review":
            self._words = REVIEW_WORDS
        args = ("more",) if more and kind == "practice" else ()
        replies = runner.run(self.hub.handle(self._command(kind, *args)))
        asked = [r for r in replies if isinstance(r, AskQuestion)]
        self._show([r for r in replies if not isinstance(r, AskQuestion)])
        if not asked:
            return 0  # nothing due: the reply said when to come back
        self.say(t(self.lang, "console.help"))
        self._show(asked)
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
                replies = runner.run(self._handle(line))
                self._show(replies)
                if self._session_over(replies):
                    self._over = True
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

    def _session_over(self, replies: list[Reply]) -> bool:
        """Whether a practice or review session has just ended: an answer was judged and no
        question follows (the last reply said what comes next), or it ended idle. A round
        ends with its RoundOver instead."""
        if not self._studying or any(isinstance(r, AskQuestion) for r in replies):
            return False
        return any(isinstance(r, AnswerFeedback) for r in replies) or any(
            is_message(r.text, "practice.idle_ended") for r in replies
        )

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
        text = terminal_words(reply.text, self._words)
        if isinstance(reply, AskQuestion):
            self._last_question = reply
            self.say("")
            self.say(text)
            if reply.question is not None and reply.question.is_multiple_choice:
                self.say(t(reply.lang, "console.choose"))  # a typed one says how already
            return
        if isinstance(reply, QuestionResult | AnswerFeedback) and reply.report_ref:
            self._report_ref = reply.report_ref
        if isinstance(reply, QuestionResult):
            self.say(text)
            if reply.top:
                me = reply.top[0]
                self.say(
                    t(
                        self.lang,
                        "console.score",
                        points=render.number(self.lang, me.points),
                        correct=render.number(self.lang, me.correct),
                        answered=render.number(self.lang, me.answered),
                    )
                )
            return
        if isinstance(reply, RoundOver):
            self._over = True
            self.say("")
        if text:
            self.say(text)

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
