"""Text utilities: normalising, masking every recognisable form, shortening cleanly."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.content.text import (
    BLANK,
    ELLIPSIS,
    first_sentence,
    key,
    mask,
    mentions,
    normalise,
    shorten,
    singular_key,
    split_sentences,
    strip_invisible,
    strip_noise,
)


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" for c in text)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Dropout  ", "dropout"),
        (fullwidth("DROPOUT"), "dropout"),
        ("“Fine-Tuning”", "fine tuning"),
        ("it's", "its"),
        ("損失函數", "损失函数"),
        ("過擬合", "过拟合"),
        ("\u200fdropout\u200e", "dropout"),
        ("a\x00b", "ab"),
        ("loss\n\tfunction", "loss function"),
        ("损失函数\uff0c", "损失函数"),
    ],
)
def test_normalise(raw, expected):
    assert normalise(raw) == expected


def test_keys_ignore_spacing_hyphens_and_plural():
    assert key("Fine-tuning") == key("fine tuning") == key("FINETUNING") == "finetuning"
    assert singular_key("Hyperparameters") == singular_key("hyperparameter")
    assert singular_key("EOS") == "eos"  # short words keep their final s
    assert singular_key("loss") == "loss"
    assert singular_key("Activities") == "activity"


@pytest.mark.parametrize(
    ("text", "names", "expected"),
    [
        (
            "Fine-tuning is the process of fine-tuning a model. Fine-tuned models; "
            "finetuning; fine tuning; Fine-Tunes.",
            ["Fine-tuning"],
            "____ is the process of ____ a model. ____ models; ____; ____; ____.",
        ),
        (
            "Backpropagation through time (BPTT) applies backpropagation; BPTT unrolls.",
            ["Backpropagation through time", "BPTT"],
            "____ (____) applies backpropagation; ____ unrolls.",
        ),
        (
            "Hyperparameters are settings; a hyperparameter is set; hyper-parameters too.",
            ["Hyperparameters"],
            "____ are settings; a ____ is set; ____ too.",
        ),
        ("Back propagation, back-propagated.", ["Backpropagation"], "____, ____."),
        (
            "An embedding embeds words into embedded vectors.",
            ["Embeddings"],
            "An ____ words into ____ vectors.",
        ),
        ("Entropy and entropies", ["Entropy"], "____ and ____"),
        ("TensorFlow uses tensors.", ["Tensor"], "TensorFlow uses ____."),
        ("T5 models; T5s; CT5", ["T5"], "____ models; ____; CT5"),
        ("EOS and EOSs", ["EOS"], "____ and ____"),
        ("chair and air", ["air"], "chair and ____"),
        (
            "这些函数被称为损失函数(loss function)",
            ["损失函数", "Loss function"],
            "这些函数被称为____(____)",
        ),
        ("模型过度拟合了,过拟合很常见", ["过度拟合", "过拟合"], "模型____了,____很常见"),
        ("超参数不是参数", ["参数"], "超____不是____"),
    ],
)
def test_mask(text, names, expected):
    assert mask(text, names) == expected


def test_mask_leaves_no_recognisable_form():
    text = "Fine-tuning: fine-tunes, fine-tuned, FINE TUNING and finetuning all mean fine tune."
    masked = mask(text, ["Fine-tuning"])
    assert not re.search(r"fine|tun", masked, re.IGNORECASE), masked
    assert not mentions(masked, ["Fine-tuning"])


def test_mentions_sees_width_and_traditional_forms():
    assert mentions(fullwidth("DROPOUT") + " works", ["Dropout"])
    assert mentions("這是損失函數", ["损失函数"])
    assert mentions("dropouts", ["Dropout"], inflect=False) is not False  # plural counts
    assert not mentions("the hair", ["air"])
    assert not mentions("TensorFlow", ["Tensor"])


def test_strip_noise():
    assert strip_noise("A model [1] is good [ 2 ]. Read https://x.io now.") == (
        "A model is good. Read now."
    )
    assert strip_noise("过度拟合很常见。阅读全文 »") == "过度拟合很常见。"


def test_sentences():
    text = "Adam is e.g. an optimizer. It uses 0.9 momentum! Done? 结束。好的"
    assert split_sentences(text) == [
        "Adam is e.g. an optimizer.",
        "It uses 0.9 momentum!",
        "Done?",
        "结束。",
        "好的",
    ]
    assert first_sentence("损失函数衡量差距。训练使它变小。") == "损失函数衡量差距。"


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("Short text.", 50, "Short text."),
        (
            "Pre-training trains a model on a large dataset first. Then it is adapted to a task.",
            60,
            "Pre-training trains a model on a large dataset first.",
        ),
        (
            "Pre-training is the process of training a model on a large dataset before adapting "
            "it to the task at hand",
            60,
            "Pre-training is the process of training a model on a large…",
        ),
        (
            "Models trained on large corpora (such as BERT and GPT) learn representations",
            50,
            "Models trained on large corpora…",
        ),
        ("A model of the world and of its", 28, "A model of the world…"),
        (
            "过度拟合,简单来说,就是模型在训练数据上表现得很好,但是在新的数据上表现不佳",
            30,
            "过度拟合,简单来说,就是模型在训练数据上表现得很好…",
        ),
        ("模型在训练数据上表现得很好但是在新的数据上表现不佳", 12, "模型在训练数据上表现…"),
    ],
)
def test_shorten(text, limit, expected):
    assert shorten(text, limit) == expected


DANGLING = re.compile(r"\b(?:the|a|an|and|or|of|to|in|with|for)$|[(\uff08,\uff0c]$", re.I)


@settings(max_examples=300, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(
            "the model of a and learns (such as BERT) data, 模型 的 训练数据 gradient-based "
            "tokens. 损失函数。 e.g. in fine-tuning".split()
        ),
        min_size=1,
        max_size=60,
    ),
    limit=st.integers(10, 120),
)
def test_shorten_properties(words, limit):
    text = " ".join(words)
    out = shorten(text, limit)
    assert len(out) <= limit
    if out == " ".join(text.split()):
        return
    body = out.removesuffix(ELLIPSIS)
    # never inside a word: the cut text is a prefix ending at a word boundary
    flat = " ".join(text.split())
    assert flat.startswith(body)
    rest = flat[len(body) :]
    if body and rest and body[-1].isascii() and body[-1].isalnum():
        assert not (rest[0].isascii() and rest[0].isalnum()), (body, rest)
    if out.endswith(ELLIPSIS):
        assert not DANGLING.search(body), out
        assert body.count("(") <= body.count(")"), out


def test_strip_invisible_keeps_words_apart():
    assert strip_invisible("loss\nfunction\u200b!") == "loss function!"
    assert BLANK == "____"
