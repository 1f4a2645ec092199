"""The bot's own words, in English and Simplified Chinese.

One catalogue per language: every `bot/locales/<lang>/*.yaml` file merged (one file per feature,
so features never edit each other's files); a key defined twice is an error. `t(lang, key,
**values)` formats a message. The glossary is content, not interface, and is never translated here.

A placeholder may name its value instead of showing it: `{lang:@value.lang}` shows the
value `zh` as the message `value.lang.zh` ("Chinese", 中文), and a comma-separated list
item by item (`{topics:@topic}`: "training, nlp" -> 训练、自然语言处理). A value without such a
message is shown as it is (a name already translated, a word the user typed). So the catalogue,
not the code, decides that a screen never shows a raw code such as `mixed` or `zh`.
"""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

import yaml

LOCALES_DIR = Path(__file__).parent / "locales"
DEFAULT_LANG = "en"
INTERFACE_LANGS = ("en", "zh")
NAMED = ":@"  # in a template: a placeholder whose value is shown by its name


@cache
def catalogue(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / lang).glob("*.yaml")):
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh) or {}
        for key, value in data.items():
            if key in merged:
                raise ValueError(f"{path}: message key {key!r} is defined twice")
            merged[str(key)] = str(value)
    return merged


def interface_lang(*candidates: str | None) -> str:
    """The first candidate that names a supported language ('zh-hans' -> 'zh'), else English."""
    for candidate in candidates:
        if candidate:
            code = candidate.lower().replace("_", "-").split("-")[0]
            if code in INTERFACE_LANGS:
                return code
    return DEFAULT_LANG


def t(lang: str | None, key: str, /, **values: object) -> str:
    lang = lang if lang in INTERFACE_LANGS else DEFAULT_LANG
    template = catalogue(lang).get(key)
    if template is None:
        template = catalogue(DEFAULT_LANG).get(key, key)
    try:
        if NAMED in template:
            return _Formatter(lang).vformat(template, (), values)
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template


def name_of(lang: str, prefix: str, value: object) -> str:
    """`value` by its name in `lang` (the message `<prefix>.<value>`), item by item when it is a
    comma-separated list; as it is where there is no such message."""
    text = str(value)
    if "," not in text:
        return _name(lang, prefix, text)
    names = [_name(lang, prefix, item.strip()) for item in text.split(",") if item.strip()]
    return t(lang, "list.separator").join(names)


def _name(lang: str, prefix: str, item: str) -> str:
    key = f"{prefix}.{item}"
    if key in catalogue(lang) or key in catalogue(DEFAULT_LANG):
        return t(lang, key)
    return item


class _Formatter(string.Formatter):
    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def format_field(self, value: object, format_spec: str) -> str:
        if format_spec.startswith("@"):
            return name_of(self.lang, format_spec[1:], value)
        return super().format_field(value, format_spec)
