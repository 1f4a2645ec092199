"""Word-level rules of the grader (`bot.core.grading`): the language knowledge it relies on.

* `variant_keys`: the comparison keys of a text, character-level Traditional -> Simplified
  (`bot.content.text.singular_key`) and phrase-level Taiwan -> Mainland (OpenCC `tw2sp`: 網路 ->
  网络, 演算法 -> 算法, 資料 -> 数据), so a Taiwanese spelling meets a Mainland name either way.
* `generic_head`: a Chinese answer made of a name plus a generic head noun (反向传播 + 算法).
* `describes_method`: whether a Chinese entry names a method, the only kind a head such as 算法
  fits (反向传播算法 is backpropagation; 损失函数算法 is not a loss function).
* `same_inflection`: two English words that are inflections of one stem (tune, tuned, tuning),
  never a derivation (normal / normalization, convolution / convolutional).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc
import snowballstemmer

from bot.content.model import Entry
from bot.content.text import first_sentence, has_cjk, singular_key, strip_invisible

# Phrase-level Taiwan -> Mainland Simplified (vocabulary as well as characters).
_TW2SP = opencc.OpenCC("tw2sp")
_STEMMER = snowballstemmer.stemmer("english")

# Generic head nouns a teacher accepts after the name of a method, longest first.
GENERIC_HEADS = ("算法", "方法", "技术", "法")
# A name already ending in one of these is not given another head (丢弃法 + 算法).
_HEADED = ("法", "术")
# "X法" where the last character of X and 法 make a word of their own: the head then attaches to
# that character, not to the name (…语 + 法 = 语法 "grammar").
_FA_WORDS = frozenset(
    "语法 文法 句法 词法 用法 说法 做法 想法 看法 写法 读法 办法 手法 技法 书法 笔法 章法 "
    "刑法 宪法 民法 立法 司法 执法 违法 合法 非法 无法 设法 魔法 戏法 兵法 佛法 心法 算法 "
    "方法 疗法 国法 家法".split()
)
# How a Chinese definition says "a method": a clause ending in one of these.
_METHOD_NOUNS = ("算法", "方法", "技术", "技巧", "手段", "办法")
_CLAUSE = re.compile(r"[，。；：、,.;:！？!?（）()]")

# Words that turn an answer into its opposite: never the slip of a typo.
NEGATIONS = frozenset("no not non nor never without".split())


@lru_cache(maxsize=16384)
def taiwan_to_mainland(text: str) -> str:
    """`text` with Taiwan vocabulary and characters made Mainland Simplified (CJK text only)."""
    if not has_cjk(text):
        return text
    return _TW2SP.convert(unicodedata.normalize("NFKC", strip_invisible(text)))


@lru_cache(maxsize=16384)
def variant_keys(text: str) -> frozenset[str]:
    """Every key `text` is compared under: character-level and, for Chinese, phrase-level
    conversion (生成對抗網路 -> 生成对抗网路 and 生成对抗网络). Empty keys are left out."""
    keys = {singular_key(text)}
    if has_cjk(text):
        keys.add(singular_key(taiwan_to_mainland(text)))
    keys.discard("")
    return frozenset(keys)


def generic_head(text_key: str) -> list[tuple[str, str]]:
    """(base, head) splits of a Chinese key ending in a generic head noun, longest head first."""
    if not has_cjk(text_key):
        return []
    out = []
    for head in GENERIC_HEADS:
        base = text_key[: -len(head)]
        if text_key.endswith(head) and len(base) >= 2 and has_cjk(base[-1]):
            if base.endswith(_HEADED):
                continue
            if head == "法" and base[-1] + head in _FA_WORDS:
                continue
            out.append((base, head))
    return out


def describes_method(entry: Entry, kinds: list[str]) -> bool:
    """True when `entry` names a method (an algorithm, technique, procedure).

    `kinds` are the curated kinds of the entry, then of its translation twins: the entry's own
    decides when set, else the twins' (all must be "method"). With no kind at all, the entry's
    clue, gist or definition must call it one: a clause ending in 方法/算法/技术
    ("一种计算误差的方法"). Unsure means no.
    """
    if kinds and kinds[0]:
        return kinds[0] == "method"
    known = [k for k in kinds[1:] if k]
    if known:
        return all(k == "method" for k in known)
    texts = [entry.clue, entry.gist, first_sentence(entry.definition or "")]
    for text in texts:
        if not text or not has_cjk(text):
            continue
        clauses = [c.strip() for c in _CLAUSE.split(text) if c.strip()]
        for clause in clauses:
            if clause.endswith(_METHOD_NOUNS) or clause.endswith(
                tuple(n + "之一" for n in _METHOD_NOUNS)
            ):
                return True
    return False


@lru_cache(maxsize=8192)
def _stem(word: str) -> str:
    return _STEMMER.stemWord(word)


def _inflects(word: str, stem: str) -> bool:
    """True when `word` is `stem` plus an inflection (s, es, ed, ing), spelling rules included."""
    if word == stem:
        return True
    rest = word[len(stem) :] if word.startswith(stem) else None
    if rest is not None:
        if rest in ("e", "s", "es", "ed", "ing", "ings") or (rest == "d" and stem.endswith("e")):
            return True
        if stem and rest in (stem[-1] + "ed", stem[-1] + "ing"):  # stop -> stopped
            return True
    if stem.endswith("e") and word.startswith(stem[:-1]):  # tune -> tuning
        return word[len(stem) - 1 :] in ("ing", "ings", "ed")
    if stem.endswith("i") and word.startswith(stem[:-1]):  # studi -> study, studies, studied
        return word[len(stem) - 1 :] in ("y", "ies", "ied", "ying")
    return False


def same_inflection(a: str, b: str) -> bool:
    """True when two lowercase English words are inflections of one stem ("tuned", "tuning")."""
    if not (a.isascii() and b.isascii() and a.isalpha() and b.isalpha()):
        return False
    if min(len(a), len(b)) < 3:
        return False
    stem = _stem(a)
    return stem == _stem(b) and len(stem) >= 3 and _inflects(a, stem) and _inflects(b, stem)


def is_action_word(word: str) -> bool:
    """A last word naming an action ("tuning", "training", "stopping"): its other inflections
    name the same thing. A noun's ("map", "set") make another word ("mapping", "setting")."""
    return word.isascii() and word.isalpha() and len(word) >= 5 and word.endswith(("ing", "ed"))


def is_acronym(word: str) -> bool:
    """A word as written in a name that is an abbreviation or a code: "EOS", "ReLU", "T5"."""
    return sum(ch.isupper() for ch in word) >= 2 or any(ch.isdigit() for ch in word)


__all__ = [
    "GENERIC_HEADS",
    "NEGATIONS",
    "describes_method",
    "generic_head",
    "is_acronym",
    "is_action_word",
    "same_inflection",
    "taiwan_to_mainland",
    "variant_keys",
]
