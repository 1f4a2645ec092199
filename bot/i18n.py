"""The bot's own words, in English and Simplified Chinese.

One catalogue per language: every `bot/locales/<lang>/*.yaml` file merged (one file per feature,
so features never edit each other's files); a key defined twice is an error. `t(lang, key,
**values)` formats a message. The glossary is content, not interface, and is never translated here.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

LOCALES_DIR = Path(__file__).parent / "locales"
DEFAULT_LANG = "en"
INTERFACE_LANGS = ("en", "zh")


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
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template
