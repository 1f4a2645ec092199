"""`quizbot play` without --lang asks terms in the interface language (--ui, else $LANG)."""

from __future__ import annotations

import pytest

from tests.test_console import Terminal


@pytest.mark.parametrize("ui", ["zh", "en"])
def test_the_terminal_glossary_is_the_interface_language(tmp_path, ui):
    term = Terminal(tmp_path, "--count", "6", "--ui", ui)
    term.until_prompt()
    langs = {
        lang
        for (lang,) in term.query("SELECT json_extract(question, '$.lang') FROM round_questions")
    }
    term.send("quit")
    term.finish()
    assert langs == {ui}


def test_lang_mixed_stays_a_choice_in_the_terminal(tmp_path):
    term = Terminal(tmp_path, "--count", "10", "--ui", "zh", "--lang", "mixed")
    term.until_prompt()
    langs = {
        lang
        for (lang,) in term.query("SELECT json_extract(question, '$.lang') FROM round_questions")
    }
    term.send("quit")
    term.finish()
    assert langs == {"en", "zh"}
