"""The terminal as a newcomer meets it: `quizbot play|practice|review` say only what the terminal
understands (no `/practice stop`), mention `hint` where it helps, say a count once and in good
English, resume an unfinished round saying which and how to start afresh (`--new`), and speak
to one person, not a group."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.i18n import t
from tests.test_console import right_answer

PROMPT = "> "


class Terminal:
    """`quizbot <command> ...` in a child process; reads its output up to each prompt."""

    def __init__(self, data_dir: Path, command: str, *args: str) -> None:
        env = {**os.environ, "QUIZBOT_DATA_DIR": str(data_dir), "LANG": "C.UTF-8"}
        env.pop("QUIZBOT_DATABASE_URL", None)
        self.db = data_dir / "quizbot.sqlite3"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", command, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            text=True,
            encoding="utf-8",
            bufsize=0,
        )
        self.transcript = ""

    def until_prompt(self, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        chunk = ""
        while not chunk.endswith(PROMPT):
            if time.monotonic() > deadline:
                raise AssertionError(f"no prompt; output so far:\n{self.transcript}{chunk}")
            char = self.proc.stdout.read(1)
            if char == "":
                raise AssertionError(f"quizbot exited early:\n{self.transcript}{chunk}")
            chunk += char
        self.transcript += chunk
        return chunk

    def send(self, line: str) -> None:
        self.transcript += line + "\n"
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def finish(self, timeout: float = 30) -> str:
        self.proc.stdin.close()
        rest = self.proc.stdout.read()
        self.proc.wait(timeout)
        self.transcript += rest
        return rest

    def run_to_end(self, timeout: float = 60) -> str:
        """For a command that ends without asking anything."""
        out, _ = self.proc.communicate(timeout=timeout)
        self.transcript += out
        return out

    def close_the_window(self) -> None:
        """What closing the terminal mid-round does: the process is hung up on, at once."""
        self.proc.send_signal(signal.SIGHUP)
        self.proc.wait(30)
        self.proc.stdout.close()
        self.proc.stdin.close()

    def query(self, sql: str) -> list[tuple]:
        import sqlite3

        with sqlite3.connect(self.db) as conn:
            return conn.execute(sql).fetchall()

    def open_question(self) -> dict:
        [(question,)] = self.query("SELECT question FROM round_questions WHERE status = 'open'")
        return json.loads(question)


# ------------------------------------------------------------------ practice and review


@pytest.mark.parametrize("ui", ["en", "zh"])
def test_practice_says_what_the_terminal_understands(tmp_path, ui):
    term = Terminal(tmp_path, "practice", "--ui", ui)
    screen = term.until_prompt()
    assert "practice stop" not in screen and "/practice" not in screen
    hint, quit_ = ("'hint'", "'quit'") if ui == "en" else ("hint", "quit")
    before_question = screen.split(t(ui, "practice.header", number=1))[0]
    assert hint in before_question and quit_ in before_question  # how to ask and to leave
    # Under the (multiple-choice) question, how to answer it, hint included.
    assert screen.rstrip(PROMPT).rstrip().endswith(t(ui, "console.choose"))
    term.send("quit")
    rest = term.finish()
    assert t(ui, "console.bye") in rest and "Traceback" not in term.transcript


def test_a_typed_question_says_hint_not_a_chat_command():
    """Practice asks typed questions once a term was recognised among options; the line under
    them says `hint` and `quit`, as a round's typed question in the terminal does."""
    from bot.adapters.console import terminal_words

    for lang in ("en", "zh"):
        typed = t(lang, "practice.typed_hint")
        shown = terminal_words(f"{t(lang, 'practice.header', number=3)}\n____: a clue\n\n{typed}")
        assert shown.splitlines()[-1] == t(lang, "question.typed_console")
        assert "/practice" not in shown
        said = terminal_words(t(lang, "practice.start", due=3, new=7))
        assert said == t(lang, "console.practice.start", due=3, new=7)
        assert "practice stop" not in said
        cap = terminal_words(t(lang, "practice.cap_reached", count=10, cap=10, more=5))
        assert "quizbot practice --more" in cap and "/practice" not in cap


def test_a_stopped_review_says_review_stopped(tmp_path):
    play = Terminal(tmp_path, "play", "--count", "1", "--type", "fill", "--lang", "en")
    play.until_prompt()
    for guess in ("wrong guess one", "wrong guess two", "wrong guess three"):
        play.send(guess)
        screen = play.until_prompt()
    assert "The round is over" in screen
    play.finish()

    review = Terminal(tmp_path, "review")
    screen = review.until_prompt()
    assert "Review of the terms you missed" in screen and "Review · 1" in screen
    review.send("quit")
    rest = review.finish()
    assert "Review stopped and saved: 0 answered, 0 right." in rest
    assert "Practice stopped" not in review.transcript


def test_a_practice_session_that_comes_to_its_end_ends_the_terminal_too(tmp_path):
    """After the last question of a session, the next line is no answer to a question that is
    not there ("No question is open ... /quiz"): the session's end ends the command."""
    play = Terminal(tmp_path, "play", "--count", "1", "--type", "fill", "--lang", "en")
    play.until_prompt()
    for guess in ("wrong guess one", "wrong guess two", "wrong guess three"):
        play.send(guess)
        play.until_prompt()
    play.finish()

    review = Terminal(tmp_path, "review")
    review.until_prompt()
    [(question,)] = review.query("SELECT question FROM practice_items WHERE status = 'open'")
    review.send(right_answer(json.loads(question)))  # the one missed term, answered right
    screen = review.until_prompt()  # the last question can still be reported
    assert "review complete" in screen and "Type report to report the last question" in screen
    rest = review.finish()
    assert "/quiz" not in review.transcript and "No question is open" not in review.transcript
    assert "Bye!" in rest


def test_practice_with_a_round_left_unfinished_says_how_in_the_terminal(tmp_path):
    term = Terminal(tmp_path, "play", "--count", "3", "--lang", "en")
    term.until_prompt()
    term.close_the_window()
    practice = Terminal(tmp_path, "practice")
    out = practice.run_to_end()
    assert "/quiz stop" not in out
    assert "run quizbot play to finish it" in out


# ------------------------------------------------------------------ rounds


def test_the_count_is_said_once_and_one_question_is_one(tmp_path):
    two = Terminal(tmp_path, "play", "--count", "2", "--type", "mc")
    screen = two.until_prompt()
    assert screen.count("2 questions") == 1  # the welcome does not repeat the round's intro
    assert "Type 'hint' for a hint" in screen
    assert (
        screen.rstrip(PROMPT)
        .rstrip()
        .endswith("Type the letter of your answer (or 'hint', 'quit').")
    )
    two.send("quit")
    two.finish()

    one = Terminal(tmp_path, "play", "--count", "1", "--type", "fill")
    screen = one.until_prompt()
    assert "1 questions" not in screen
    assert "A round of one question at your own pace" in screen
    assert "Type your answer (or 'hint', 'quit')." in screen  # a typed question says hint
    one.send("quit")
    one.finish()


@pytest.mark.parametrize("ui", ["en", "zh"])
def test_a_solo_round_without_an_answer_says_you_not_nobody(tmp_path, ui):
    term = Terminal(tmp_path, "play", "--count", "2", "--ui", ui)
    term.until_prompt()
    term.send("quit")
    rest = term.finish()
    assert t(ui, "round.over.stopped") in rest
    assert t(ui, "console.round.empty") in rest
    assert t(ui, "round.over.empty") not in rest


def test_a_resumed_round_says_which_and_how_to_start_afresh(tmp_path):
    first = Terminal(tmp_path, "play", "--count", "5", "--lang", "zh", "--type", "mc")
    first.until_prompt()
    first.send(right_answer(first.open_question()))
    assert "Question 2/5" in first.until_prompt()
    first.close_the_window()  # mid-round: the round stays unfinished

    # Other options: the old round is resumed, and the screen says so and how to start afresh.
    again = Terminal(tmp_path, "play", "--count", "2", "--lang", "en", "--type", "mc")
    screen = again.until_prompt()
    assert "2 questions" not in screen
    assert "Resuming your unfinished round: question 2 of 5." in screen
    assert "Your options (--count 2 --lang en --type mc) are for a new round" in screen
    assert "quizbot play --new --count 2 --lang en --type mc" in screen
    assert "Question 2/5" in screen
    again.close_the_window()

    plain = Terminal(tmp_path, "play")
    screen = plain.until_prompt()
    assert "Resuming your unfinished round: question 2 of 5." in screen
    assert "To start afresh instead, quit and run: quizbot play --new" in screen
    plain.close_the_window()

    # --new: the unfinished round is stopped (its answers kept) and the new one starts.
    fresh = Terminal(tmp_path, "play", "--new", "--count", "2", "--lang", "en", "--type", "mc")
    screen = fresh.until_prompt()
    assert "Your unfinished round (question 2 of 5) is stopped; its answers stay saved." in screen
    assert "A round of 2 questions" in screen and "Question 1/2" in screen
    assert "Resuming" not in screen
    fresh.send("quit")
    fresh.finish()
    assert fresh.query("SELECT total, status FROM rounds ORDER BY id") == [
        (5, "stopped"),
        (2, "stopped"),
    ]
    assert fresh.query("SELECT count(*), sum(correct) FROM answers") == [(1, 1)]

    # --new with nothing unfinished just starts a round.
    alone = Terminal(tmp_path, "play", "--new", "--count", "1")
    screen = alone.until_prompt()
    assert "A round of one question" in screen and "unfinished" not in screen
    alone.send("quit")
    alone.finish()


def test_the_score_line_groups_thousands(tmp_path):
    term = Terminal(tmp_path, "play", "--count", "3", "--lang", "en", "--type", "mc")
    term.until_prompt()
    for _ in range(2):
        term.send(right_answer(term.open_question()))
        screen = term.until_prompt()
    assert "Score: 1,100 points, 2/2 right." in screen  # 500, then 500 + 100 streak bonus
    term.send("quit")
    term.finish()
