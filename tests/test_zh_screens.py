"""Every Chinese screen reads as Chinese: no raw code where a value is shown, no English word
that is not a term or something to type, and one word for each thing.

Each message of the Chinese catalogue is rendered with sample values. A placeholder that may
receive a code (a setting's value, a language, a topic, a scope...) gets each code in turn, and
the code must not show: the catalogue names it (`{lang:@value.lang}`, see bot/i18n.py).
"""

from __future__ import annotations

import re
import string

import pytest

from bot.content.glossary import TAGS
from bot.core.boards import PERIOD_ARGS, SCOPES, settings_text
from bot.core.reports import REASONS
from bot.core.settings import LANG_CHOICES, MODE_CHOICES, TYPE_GROUPS, ChatSettings
from bot.i18n import INTERFACE_LANGS, catalogue, t

ZH = catalogue("zh")

# Placeholders that may be handed a code, and the codes they may be handed.
CODES: dict[str, tuple[str, ...]] = {
    "lang": (*LANG_CHOICES, *INTERFACE_LANGS),
    "types": tuple(TYPE_GROUPS),
    "mode": MODE_CHOICES,
    "topics": ("training, transfer-learning, nlp", *TAGS),
    "scope": SCOPES,
    "period": tuple(PERIOD_ARGS),
    "rating": ("again", "hard", "good", "easy"),
    "reason": tuple(REASONS),
    "key": ("questions", "seconds", "types", "lang", "topics", "mode"),
}
# Placeholders that show what a user typed or is to type (command syntax), codes included.
SYNTAX = {("settings.topics", "topics"), ("settings.unknown_key", "key")}
# English on a Chinese screen: names, and the words the terminal takes as typed.
TERMS = {"English", "Telegram", "Discord", "UTC", "UTC+8", "Asia/Shanghai", "Ctrl-D", "A"}
TERMINAL_WORDS = {"hint", "quit", "report"}
TYPED = {"settings.topics": {"all"}, "discord.cmd.settings.topics": {"all"}}  # topics all
# A command and its arguments as typed: `/leaderboard [chat|global]`, `quizbot practice --more`.
COMMAND = re.compile(r"(?<![\w/])(?:/|quizbot )[a-z][^\u2e80-\u9fff\u3000-\u303f\uff00-\uffef“”]*")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9+/_-]*")


def placeholders(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def literal(template: str) -> str:
    return "".join(text for text, _, _, _ in string.Formatter().parse(template))


def words(text: str, code: str) -> int:
    return len(re.findall(rf"(?<![A-Za-z0-9_-]){re.escape(code)}(?![A-Za-z0-9_-])", text))


def samples(key: str, template: str) -> list[dict[str, str]]:
    """Values for the template: neutral ones, then each code in turn where a code may go."""
    names = placeholders(template)
    neutral = {name: "7" for name in names}
    out = [neutral]
    for name in names:
        if name in CODES and (key, name) not in SYNTAX:
            out += [{**neutral, name: code} for code in CODES[name]]
    return out


@pytest.mark.parametrize("key", sorted(ZH))
def test_no_raw_code_where_a_value_is_shown(key):
    template = ZH[key]
    allowed = literal(template)  # "/lang en 或 /lang zh" says what to type
    for values in samples(key, template):
        shown = t("zh", key, **values)
        for name, code in values.items():
            if code == "7":
                continue
            for item in (c.strip() for c in code.split(",")):
                assert words(shown, item) <= words(allowed, item), (
                    f"{key}: {{{name}}}={code!r} shows the code {item!r}: {shown}"
                )


@pytest.mark.parametrize("key", sorted(ZH))
def test_no_english_word_on_a_chinese_screen(key):
    shown = COMMAND.sub(" ", t("zh", key, **dict.fromkeys(placeholders(ZH[key]), "七")))
    allowed = TERMS | TERMINAL_WORDS | TYPED.get(key, set())
    english = [w for w in WORD.findall(shown) if w not in allowed]
    assert not english, f"{key}: English words {english} in {shown!r}"


def test_settings_and_languages_are_named():
    everything = ChatSettings(types="mc", lang="mixed", topics=("nlp", "rl"), mode="classic")
    assert settings_text("zh", everything) == (
        "测验设置：每轮 10 题，每题 20 秒；题型：选择题；术语语言：中英混合；"
        "主题：自然语言处理、强化学习；经典计分。"
    )
    assert settings_text("zh", ChatSettings(lang="zh")) == (
        "测验设置：每轮 10 题，每题 20 秒；题型：各类混合；术语语言：中文；主题：全部；按速度计分。"
    )
    assert t("zh", "lang.current", lang="zh").startswith("界面语言：中文。")
    assert t("en", "lang.current", lang="zh").startswith("Interface language: Chinese.")
    assert t("zh", "settings.range", key="seconds", low=5, high=600).startswith(
        "每题秒数必须是 5 到 600 之间的整数"
    )


def test_one_word_for_each_thing():
    zh = "\n".join(ZH.values())
    # "global" is 全站, everywhere.
    assert "全局" not in zh and "全部用户" not in zh
    for key in ("board.scope.global", "discord.choice.scope.global"):
        assert ZH[key] == "全站"
    # /practice is 练习, /review is 复习错题.
    for key in ("help.practice", "telegram.menu.practice", "discord.cmd.practice"):
        assert "练习" in ZH[key] and "复习" not in ZH[key], key
    for key in ("practice.help.review", "telegram.menu.review", "discord.cmd.review"):
        assert "复习错题" in ZH[key], key
    # The settings are the chat's, not this round's.
    assert "本轮设置" not in zh
    # Phrases a native reader stumbled on: calques, and a daily cap where English says
    # "left for today".
    for phrase in ("练习是个人的", "本轮已被停止", "今天最多"):
        assert phrase not in zh, phrase
    assert "今天还可以学" in ZH["practice.start"]
