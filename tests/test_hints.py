"""Hints: a multiple-choice hint rules out wrong options (showing the answer's letters would
pick out the one option that has them); a typed hint shows the first letters."""

from __future__ import annotations

import random

from bot.core import engine, render
from bot.core.replies import AskQuestion, Notice
from tests.test_rounds import ADMIN, ALICE, BOB, Harness, first


async def test_a_multiple_choice_hint_rules_out_wrong_options(uow_factory, mini_glossary, clock):
    h = Harness(uow_factory, mini_glossary, clock)
    await h.command(ADMIN, "settings", "types", "mc")
    ask = first(await h.command(ALICE, "quiz"), AskQuestion)
    question = ask.question
    right = f"{render.OPTION_LABELS[question.correct_option]}) {question.answer}"
    one = first(await h.command(BOB, "hint"), Notice).text
    two = first(await h.command(ALICE, "hint"), Notice).text
    for text, level in ((one, 1), (two, 2)):
        ruled_out = engine.options_ruled_out(question, level, ask.round_question_id)
        assert len(ruled_out) == min(level, len(question.options) - 2)
        assert question.correct_option not in ruled_out
        for i in ruled_out:
            assert f"{render.OPTION_LABELS[i]}) {question.options[i]}" in text
        assert right not in text and f"Hint {level}/2: not " in text
    # The second hint keeps what the first ruled out: every player sees the same options go.
    assert set(engine.options_ruled_out(question, 1, ask.round_question_id)) <= set(
        engine.options_ruled_out(question, 2, ask.round_question_id)
    )


def test_a_hint_never_rules_out_every_wrong_option(mini_glossary):
    from bot.content.questions import QuestionGenerator

    gen = QuestionGenerator(mini_glossary, seed=1)
    for question in gen.generate(20, types=["def_term", "term_def", "translate"]):
        for salt in range(20):
            ruled_out = engine.options_ruled_out(question, 2, salt)
            assert question.correct_option not in ruled_out
            assert len(question.options) - len(ruled_out) >= 2
    rng = random.Random(0)
    typed = gen.generate(5, types=["fill"])
    for question in typed:
        assert engine.options_ruled_out(question, 1, rng.randrange(100)) == []
        shown = render.hint_line("en", question, 1, 7)
        assert shown == engine.hint_text(question.answer, 1)


async def test_a_chinese_hint_reads_chinese(uow_factory, mini_glossary, clock):
    h = Harness(uow_factory, mini_glossary, clock)
    await h.command(ADMIN, "settings", "types", "mc")
    await h.command(ADMIN, "lang", "zh")
    first(await h.command(ALICE, "quiz"), AskQuestion)
    text = first(await h.command(BOB, "hint"), Notice).text
    assert text.startswith("提示 1/2：答案不是 ")
