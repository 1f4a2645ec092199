"""What sort of thing an entry names (glossary.KINDS), for entries whose curator did not say.

Multiple-choice options are drawn from one kind, so that none stands out by its category or its
grammar ("a type of layer" with one layer among the options). The guess reads the head noun of
the definition's first sentence and is conservative: no clear head noun, no kind (and such an
entry is then matched against entries of any kind).
"""

from __future__ import annotations

import re

from bot.content.model import Entry
from bot.content.text import first_sentence, normalise

# Head nouns by kind, English: matched as "a/an/the [adjectives] <noun>" at the start of the
# definition or after "is a/an".
_EN = {
    "method": "algorithm method technique procedure process approach strategy optimizer "
    "optimiser way",
    "model": "network model architecture autoencoder transformer",
    "component": "layer mechanism token component unit kernel filter",
    "measure": "measure metric quantity loss score parameter hyperparameter gradient vector",
    "data": "array dataset matrix collection subset sample",
    "problem": "problem phenomenon issue difficulty",
    "field": "field area branch paradigm subfield discipline",
    "tool": "library framework tool toolkit package",
}
_ZH = {
    "method": "方法 算法 技术 过程 策略",
    "model": "网络 模型",
    "component": "层 机制 组件",
    "measure": "度量 指标 损失 参数",
    "data": "数组 数据集 集合",
    "problem": "问题 现象",
    "field": "领域 范式",
    "tool": "框架 工具 库",
}
_EN_HEADS = {w: kind for kind, words in _EN.items() for w in words.split()}
_ZH_HEADS = [(w, kind) for kind, words in _ZH.items() for w in words.split()]
_EN_HEAD = re.compile(
    r"^(?:.*?\b(?:is|are)\s+)?(?:a|an|the|one)\s+(?:[a-z-]+\s+){0,4}?(?P<noun>[a-z]+?)s?\b"
    r"(?:\s+(?:that|which|used|of|for|in|to|where|whose|with)\b|[,.;:]|$)"
)


def infer_kind(entry: Entry) -> str:
    """The entry's kind from its definition, or "" when unsure."""
    sentence = first_sentence(entry.definition)
    if entry.lang == "zh":
        # "一种……的方法": the head noun ends the first clause.
        clause = re.split(r"[，。；：,;:]", sentence)[0]
        for word, kind in sorted(_ZH_HEADS, key=lambda wk: -len(wk[0])):
            if clause.endswith(word) or clause.endswith(word + "之一"):
                return kind
        return ""
    m = _EN_HEAD.match(normalise(sentence))
    if m is None:
        return ""
    return _EN_HEADS.get(m.group("noun"), "")


__all__ = ["infer_kind"]
