"""Every interface message exists in English and Chinese with the same placeholders."""

import string

import pytest

from bot.i18n import INTERFACE_LANGS, catalogue, interface_lang, t


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_key_exists_in_every_language():
    keys = {lang: set(catalogue(lang)) for lang in INTERFACE_LANGS}
    for lang, mine in keys.items():
        for other, theirs in keys.items():
            missing = sorted(theirs - mine)
            assert not missing, f"{lang} lacks keys that {other} has: {missing}"


@pytest.mark.parametrize("key", sorted(catalogue("en")))
def test_placeholders_match_across_languages(key):
    assert placeholders(catalogue("en")[key]) == placeholders(catalogue("zh").get(key, ""))


def test_language_choice_falls_back_to_english():
    assert interface_lang("zh-hans") == "zh"
    assert interface_lang(None, "zh_CN.UTF-8") == "zh"
    assert interface_lang("fr", None) == "en"
    assert t("xx", "answer.wrong") == t("en", "answer.wrong")
    assert t("zh", "answer.wrong") != t("en", "answer.wrong")
