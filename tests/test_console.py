"""The terminal quiz driven as a person would: through stdin and stdout of `quizbot play`."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

PROMPT = "> "


class Terminal:
    """`quizbot play` in a child process; reads its output up to each prompt."""

    def __init__(self, data_dir: Path, *args: str) -> None:
        env = {**os.environ, "QUIZBOT_DATA_DIR": str(data_dir), "LANG": "C.UTF-8"}
        env.pop("QUIZBOT_DATABASE_URL", None)
        self.db = data_dir / "quizbot.sqlite3"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "play", *args],
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

    def open_question(self) -> dict:
        with sqlite3.connect(self.db) as conn:
            row = conn.execute(
                "SELECT question FROM round_questions WHERE status = 'open'"
            ).fetchone()
        return json.loads(row[0])

    def query(self, sql: str) -> list[tuple]:
        with sqlite3.connect(self.db) as conn:
            return conn.execute(sql).fetchall()


def right_answer(question: dict) -> str:
    if question["options"]:
        return "ABCDEFGHIJ"[question["correct_option"]]
    return question["answer"]


def test_a_whole_round_in_the_terminal_is_scored_and_saved(tmp_path):
    term = Terminal(tmp_path, "--count", "3", "--lang", "en")
    screen = term.until_prompt()
    assert "Question 1/3" in screen
    for number in (1, 2, 3):
        question = term.open_question()
        assert question["prompt"] in screen or question["prompt"].split("\n")[-1] in screen
        term.send(right_answer(question))
        screen = term.until_prompt() if number < 3 else term.finish()
        assert "✅ Right!" in screen
        if number < 3:
            assert f"Question {number + 1}/3" in screen
            assert f"{number}/{number} right" in screen
    assert "The round is over" in screen and "You got 3 of 3 right, 1,800 points" in screen
    assert str(term.db) in screen
    assert term.proc.returncode == 0
    assert term.query("SELECT count(*), sum(correct), sum(points) FROM answers") == [
        (3, 3, 1800)
    ]  # 500, +100 and +200 streak bonus
    assert term.query(
        "SELECT points, correct, answered FROM scores WHERE period = 'all' AND chat_id != 0"
    ) == [(1800, 3, 3)]
    assert term.query("SELECT status FROM rounds") == [("finished",)]


def test_invalid_input_gets_a_hint_and_the_same_question(tmp_path):
    term = Terminal(tmp_path, "--count", "2", "--type", "mc")
    first_screen = term.until_prompt()
    last = re.findall(r"^([A-D])\) ", first_screen, re.MULTILINE)[-1]  # 3 or 4 options
    term.send("Z")
    screen = term.until_prompt()
    assert f"option letter, A to {last}" in screen
    assert "Question 1/2" in screen  # asked again
    term.send("")
    assert "Question 1/2" in term.until_prompt()
    assert term.query("SELECT count(*) FROM answers") == [(0,)]
    assert first_screen


def test_end_of_input_ends_cleanly_with_answers_saved(tmp_path):
    term = Terminal(tmp_path, "--count", "5", "--type", "fill")
    term.until_prompt()
    question = term.open_question()
    assert question["options"] == []
    term.send(question["answer"])
    term.until_prompt()
    rest = term.finish()
    assert "The round was stopped" in rest and "Bye!" in rest
    assert "Traceback" not in term.transcript
    assert term.proc.returncode == 0
    assert term.query("SELECT count(*), sum(correct) FROM answers") == [(1, 1)]
    assert term.query("SELECT status FROM rounds") == [("stopped",)]


def test_quit_mid_round_then_play_again(tmp_path):
    term = Terminal(tmp_path, "--count", "2")
    term.until_prompt()
    term.send("quit")
    assert "Bye!" in term.finish()
    again = Terminal(tmp_path, "--count", "2")
    assert "Question 1/2" in again.until_prompt()
    again.finish()
    assert again.query("SELECT count(*) FROM rounds") == [(2,)]


@pytest.mark.parametrize("args", [["--count", "0"], ["--count", "x"], ["--lang", "fr"]])
def test_bad_arguments_are_refused_before_anything_starts(tmp_path, args):
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "play", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "QUIZBOT_DATA_DIR": str(tmp_path)},
        timeout=60,
    )
    assert proc.returncode == 2
    assert "usage: quizbot play" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "quizbot.sqlite3").exists()


def test_an_invalid_glossary_stops_start_up_with_the_check_messages(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text('entries:\n  - id: "x"\n    term: "X"\n    lang: yes\n', encoding="utf-8")
    env = {**os.environ, "QUIZBOT_DATA_DIR": str(tmp_path), "QUIZBOT_CONTENT_DIR": str(bad)}
    play = subprocess.run(
        [sys.executable, "-m", "bot.cli", "play"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    check = subprocess.run(
        [sys.executable, "-m", "bot.cli", "content", "check", str(bad)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert play.returncode == 1 and check.returncode == 1
    problems = [
        line
        for line in check.stdout.splitlines() + check.stderr.splitlines()
        if line.startswith(str(bad))
    ]
    assert problems and all(p in play.stderr for p in problems)
    assert "Traceback" not in play.stderr


def test_the_chinese_interface_reaches_every_message(tmp_path):
    term = Terminal(tmp_path, "--count", "2", "--ui", "zh", "--type", "mc")
    screen = term.until_prompt()
    assert "本轮共 2 题" in screen and "第 1/2 题" in screen
    term.send("Z")
    assert "请用选项字母" in term.until_prompt()
    term.send("quit")
    rest = term.finish()
    assert "本轮测验已中止" in rest and "再见" in rest


def test_report_after_a_result_asks_the_reason_and_stores_it_once(tmp_path):
    term = Terminal(tmp_path, "--count", "2", "--type", "fill", "--lang", "en")
    screen = term.until_prompt()
    assert "'report' after a result to report the question" in screen  # the help line
    term.send("report")
    assert "Nothing to report yet" in term.until_prompt()
    first = term.open_question()
    for attempt in ("wrong guess one", "wrong guess two", "wrong guess three"):
        term.send(attempt)
        screen = term.until_prompt()
    assert "The answer:" in screen and "Question 2/2" in screen  # three tries: the result

    term.send("report")
    screen = term.until_prompt()
    assert screen.splitlines()[:5] == [
        "What is wrong with this question?",
        "1) The answer key is wrong",
        "2) My answer should count",
        "3) The question is unclear",
        "Type 1, 2 or 3 (anything else: not reported).",
    ]
    term.send("2")
    assert "⚑ Thanks, reported: My answer should count." in term.until_prompt()
    term.send("report")
    term.until_prompt()
    term.send("2")
    assert "You already reported this question" in term.until_prompt()
    term.send("REPORT")
    term.until_prompt()
    term.send("never mind")
    assert "Not reported." in term.until_prompt()

    # The round's last question can be reported after the podium.
    second = term.open_question()
    term.send(right_answer(second))
    screen = term.until_prompt()
    assert "The round is over" in screen and "Type report to report the last question" in screen
    term.send("report")
    term.until_prompt()
    term.send("3")
    rest = term.finish()
    assert "⚑ Thanks, reported: The question is unclear." in rest and "Bye!" in rest
    assert term.proc.returncode == 0
    assert term.query(
        "SELECT r.entry_id, r.answer, r.reason, r.status FROM question_reports r ORDER BY r.id"
    ) == [
        (first["entry_id"], "wrong guess three", "should_count", "open"),
        (second["entry_id"], second["answer"], "unclear", "open"),  # answered right: kept
    ]
