"""Grading tables: what a fair marker accepts and rejects, in English and Chinese."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.content.model import Entry, Glossary, Question, QuestionType
from bot.core.grading import MAX_ANSWER_CHARS, Grade, Grader


def _e(id, term, lang, aliases=(), translations=()):
    return Entry(
        id=id,
        term=term,
        lang=lang,
        definition=f"Definition of {term}.",
        gist=f"Gist of {term}.",
        aliases=tuple(aliases),
        translations=tuple(translations),
    )


GLOSSARY = Glossary(
    (
        _e("dropout", "Dropout", "en", translations=["zh-dropout"]),
        _e("backprop", "Backpropagation", "en", aliases=["Backprop"]),
        _e("bptt", "Backpropagation through time", "en", aliases=["BPTT"]),
        _e("gradient", "Gradient", "en"),
        _e("exploding", "Exploding gradient", "en"),
        _e("fine-tuning", "Fine-tuning", "en"),
        _e("hyper", "Hyperparameters", "en"),
        _e("hpo", "Hyperparameter optimization", "en"),
        _e("t5", "T5", "en"),
        _e("eos", "EOS token", "en", aliases=["EOS"]),
        _e("air", "Air", "en"),
        _e("chair", "Chair", "en"),
        _e("unsup", "Unsupervised learning", "en"),
        _e("loss", "Loss function", "en", aliases=["Cost function"], translations=["zh-loss"]),
        _e("zh-loss", "损失函数", "zh", translations=["loss"]),
        _e("zh-backprop", "反向传播", "zh"),
        _e("zh-overfit", "过度拟合", "zh", aliases=["过拟合"]),
        _e("zh-param", "参数", "zh"),
        _e("zh-hyper", "超参数", "zh"),
        _e("zh-unsup", "无监督学习", "zh"),
        _e("zh-dropout", "丢弃法", "zh", translations=["dropout"]),
    )
)
GRADER = Grader(GLOSSARY)


def typed(entry_id: str) -> Question:
    entry = GLOSSARY.get(entry_id)
    return Question(
        type=QuestionType.FILL_IN,
        lang=entry.lang,
        prompt="Type the missing term:\n____ ...",
        answer=entry.term,
        accepted=entry.names,
        entry_id=entry.id,
        explanation="...",
    )


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" for c in text)


ACCEPTED = [
    # (entry, typed, how, matched)
    ("dropout", "Dropout", "exact", "Dropout"),
    ("dropout", "dropout", "exact", "Dropout"),
    ("dropout", "  DROPOUT \n", "exact", "Dropout"),
    ("dropout", fullwidth("DROPOUT"), "normalised", "Dropout"),
    ("dropout", '"dropout"', "normalised", "Dropout"),
    ("dropout", "“Dropout”.", "normalised", "Dropout"),
    ("dropout", "drop-out", "normalised", "Dropout"),
    ("dropout", "drop out!", "normalised", "Dropout"),
    ("dropout", "\u200fdropout\u200e", "exact", "Dropout"),  # RTL/LTR marks stripped
    ("dropout", "I think it's dropout", "in_sentence", "Dropout"),
    ("dropout", "the answer is dropout", "in_sentence", "Dropout"),
    ("dropout", "Dropout, I guess?", "in_sentence", "Dropout"),
    ("dropout", "dropuot", "typo", "Dropout"),
    ("fine-tuning", "fine tuning", "normalised", "Fine-tuning"),
    ("fine-tuning", "finetuning", "normalised", "Fine-tuning"),
    ("fine-tuning", "FINE–TUNING", "normalised", "Fine-tuning"),
    ("hyper", "hyperparameter", "normalised", "Hyperparameters"),
    ("hyper", "hyper-parameters", "normalised", "Hyperparameters"),
    ("backprop", "Backpropogation", "typo", "Backpropagation"),
    ("backprop", "back propagation", "normalised", "Backpropagation"),
    ("backprop", "backprop", "alias", "Backprop"),
    ("bptt", "BPTT", "alias", "BPTT"),
    ("bptt", "bptt", "alias", "BPTT"),
    ("bptt", "backpropogation throug time", "typo", "Backpropagation through time"),
    ("bptt", "it's BPTT", "in_sentence", "BPTT"),
    ("t5", "t5", "exact", "T5"),
    ("t5", fullwidth("T5"), "normalised", "T5"),
    ("eos", "eos", "alias", "EOS"),
    ("eos", "EOS-token", "normalised", "EOS token"),
    ("chair", "chiar", "typo", "Chair"),
    ("loss", "cost function", "alias", "Cost function"),
    ("zh-loss", "损失函数", "exact", "损失函数"),
    ("zh-loss", "損失函數", "normalised", "损失函数"),  # Traditional
    ("zh-loss", " 损失函数。", "normalised", "损失函数"),
    ("zh-loss", "答案是损失函数", "in_sentence", "损失函数"),
    ("zh-loss", "是损失函数吧", "in_sentence", "损失函数"),
    ("zh-loss", "我觉得是损失函数", "in_sentence", "损失函数"),
    ("zh-overfit", "过拟合", "alias", "过拟合"),
    ("zh-overfit", "過擬合", "alias", "过拟合"),
    ("zh-overfit", "過度擬合", "normalised", "过度拟合"),
    ("zh-backprop", "反向傳播", "normalised", "反向传播"),
    ("zh-param", "参数", "exact", "参数"),
]


@pytest.mark.parametrize(("entry_id", "text", "how", "matched"), ACCEPTED)
def test_accepted(entry_id, text, how, matched):
    grade = GRADER.grade(typed(entry_id), text)
    assert grade == Grade(True, how, matched=matched)


REJECTED = [
    ("eos", "EOT"),
    ("eos", "EOT token"),
    ("t5", "T6"),
    ("t5", "T"),
    ("air", "chair"),
    ("chair", "air"),
    ("chair", "hair"),  # one edit from "Chair", but just as close to "Air"
    ("gradient", "Exploding gradient"),
    ("gradient", "exploding gradients"),
    ("exploding", "Gradient"),
    ("exploding", "gradients"),
    ("backprop", "Backpropagation through time"),
    ("backprop", "BPTT"),
    ("bptt", "Backpropagation"),
    ("hyper", "Hyperparameter optimization"),
    ("hpo", "Hyperparameters"),
    ("unsup", "supervised learning"),
    ("dropout", "not dropout"),
    ("dropout", "dropout or gradient"),
    ("dropout", "dropout and backpropagation"),
    ("dropout", "丢弃法"),  # the twin is a different language's answer
    ("dropout", "dropouts are great for regularization of deep networks"),
    ("dropout", "dripoot"),
    ("dropout", "12"),
    ("zh-loss", "损失"),
    ("zh-loss", "损失函"),  # no typo tolerance in Chinese
    ("zh-loss", "不是损失函数"),
    ("zh-param", "超参数"),
    ("zh-hyper", "参数"),
    ("zh-unsup", "半监督学习"),
    ("zh-loss", "loss function"),  # the English twin for a Chinese question
]


@pytest.mark.parametrize(("entry_id", "text"), REJECTED)
def test_rejected(entry_id, text):
    grade = GRADER.grade(typed(entry_id), text)
    assert grade == Grade(False, "wrong"), grade


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("\u3000", "empty"),  # ideographic space
        ("x" * 10_000, "too_long"),
        ("dropout " * 30, "too_long"),
        ("😀😀", "no_text"),
        ("\x00\x07", "no_text"),
        ("\u200f\u200e", "no_text"),
        ("?!…", "no_text"),
    ],
)
def test_invalid(text, reason):
    assert GRADER.grade(typed("dropout"), text) == Grade(False, "invalid", reason=reason)


def test_length_cap_is_the_documented_one():
    assert GRADER.grade(typed("dropout"), "a" * MAX_ANSWER_CHARS).how == "wrong"
    assert GRADER.grade(typed("dropout"), "a" * (MAX_ANSWER_CHARS + 1)).reason == "too_long"


def test_a_rival_entry_as_close_as_the_answer_blocks_a_typo():
    assert GRADER.grade(typed("chair"), "chir").how == "typo"
    only_chair = Grader(Glossary((_e("chair", "Chair", "en"),)))
    assert only_chair.grade(typed("chair"), "chaix").how == "typo"
    with_rival = Grader(Glossary((_e("chair", "Chair", "en"), _e("chain", "Chain", "en"))))
    assert with_rival.grade(typed("chair"), "chaix").how == "wrong"  # as close to "Chain"


def multiple_choice() -> Question:
    return Question(
        type=QuestionType.DEFINITION_TO_TERM,
        lang="en",
        prompt="Which term is described here?\n...",
        answer="Dropout",
        accepted=("Dropout",),
        entry_id="dropout",
        explanation="Dropout: ...",
        options=("Gradient", "Dropout", "T5"),
        correct_option=1,
    )


def test_grade_option():
    q = multiple_choice()
    assert GRADER.grade_option(q, 1) == Grade(True, "exact", matched="Dropout")
    assert GRADER.grade_option(q, 0) == Grade(False, "wrong")
    for bad in (-1, 3, 99, True):
        assert GRADER.grade_option(q, bad) == Grade(False, "invalid", reason="out_of_range")
    assert GRADER.grade_option(typed("dropout"), 0).reason == "out_of_range"


def test_typed_text_on_a_multiple_choice_question():
    q = multiple_choice()
    assert GRADER.grade(q, "dropout").correct
    assert GRADER.grade(q, "2") == Grade(True, "exact", matched="Dropout")
    assert GRADER.grade(q, "gradient") == Grade(False, "wrong")
    assert GRADER.grade(q, "4").reason == "out_of_range"


def test_cloze_answer_that_is_another_entry_is_not_a_rival_of_itself():
    q = Question(
        type=QuestionType.CLOZE,
        lang="en",
        prompt="Type the missing word (Dropout):\n... reduces ____.",
        answer="Loss function",
        accepted=("Loss function", "Cost function"),
        entry_id="dropout",
        explanation="...",
    )
    assert GRADER.grade(q, "loss functions").how == "normalised"
    assert GRADER.grade(q, "cost funtcion").how == "typo"


@settings(max_examples=400, deadline=None)
@given(text=st.text(max_size=300))
def test_grade_never_raises_on_any_text(text):
    for entry_id in ("dropout", "zh-loss", "t5", "bptt"):
        grade = GRADER._grade(typed(entry_id), text)  # the unguarded path: no hidden errors
        assert isinstance(grade, Grade)
        assert grade.how in (
            "exact",
            "alias",
            "normalised",
            "typo",
            "in_sentence",
            "wrong",
            "invalid",
        )
        assert grade.correct == (grade.how not in ("wrong", "invalid"))
        assert (grade.reason is not None) == (grade.how == "invalid")


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(
        alphabet=st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Z", "C", "M"]),
        max_size=50,
    )
)
def test_grade_never_raises_on_odd_unicode(text):
    grade = GRADER.grade(typed("zh-overfit"), text)
    assert isinstance(grade, Grade)
    assert GRADER.grade(typed("zh-overfit"), text + "过拟合").how != "invalid" or len(text) > 190
