"""A chat's round settings: defaults, allowed ranges and parsing of user input.

The glossary language of the questions (`lang`) follows the chat's interface language until the
chat chooses one (`/settings lang en|zh|mixed`): an English chat is asked English terms, a
Chinese one Chinese terms. `ChatSettings.following` gives a chat's settings in step with its
interface language; `bot.core.services.chat_lang`, which settles that language, applies it to
the chat as loaded (not saved: only a choice is), so every reader of the settings (rounds,
practice, `/settings`) sees the language in use.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from bot.content.glossary import TAGS
from bot.content.model import QuestionType

TYPE_GROUPS: dict[str, tuple[QuestionType, ...]] = {
    "mixed": tuple(QuestionType),
    "mc": tuple(t for t in QuestionType if t.is_multiple_choice),
    "typed": tuple(t for t in QuestionType if not t.is_multiple_choice),
    **{str(t): (t,) for t in QuestionType},
}
LANG_CHOICES = ("en", "zh", "mixed")
MODE_CHOICES = ("speed", "classic")
QUESTIONS_RANGE = (1, 50)
SECONDS_RANGE = (5, 600)


class SettingError(ValueError):
    """A value out of range or unknown; `key` and `values` feed the i18n message."""

    def __init__(self, message_key: str, /, **values: object) -> None:
        super().__init__(message_key)
        self.key = message_key
        self.values = values


@dataclass(frozen=True, slots=True)
class ChatSettings:
    questions: int = 10
    seconds: int = 20
    types: str = "mixed"
    lang: str = "mixed"  # glossary language of the questions (see lang_chosen)
    topics: tuple[str, ...] = field(default_factory=tuple)
    mode: str = "speed"
    # Whether the chat chose `lang`; until it does, `lang` is its interface language.
    lang_chosen: bool = False

    @property
    def question_types(self) -> tuple[QuestionType, ...]:
        return TYPE_GROUPS.get(self.types, TYPE_GROUPS["mixed"])

    def to_json(self) -> dict:
        data = asdict(self)
        data["topics"] = list(self.topics)
        return data

    @classmethod
    def from_json(cls, data: dict | None) -> ChatSettings:
        """Lenient: unknown keys or stale values fall back to the defaults."""
        data = dict(data or {})
        chosen = data.pop("lang_chosen", None)
        settings = cls()
        for key, value in data.items():
            try:
                settings = settings.with_value(key, value)
            except SettingError:
                continue
        if chosen is None:  # saved before choices were told apart: "mixed" was the default then
            chosen = data.get("lang") in LANG_CHOICES and data.get("lang") != "mixed"
        return replace(settings, lang_chosen=bool(chosen))

    @staticmethod
    def following(data: dict | None, lang: str) -> dict | None:
        """A chat's stored settings (`chat.settings`) with the glossary language set to the
        chat's interface language `lang`, unless the chat chose one; None when nothing changes.
        On the stored values alone: it runs for every answer."""
        data = data or {}
        stored = data.get("lang")
        if stored == lang or lang not in LANG_CHOICES:
            return None
        chosen = data.get("lang_chosen")
        if chosen is None:  # saved before choices were told apart: "mixed" was the default then
            chosen = stored in LANG_CHOICES and stored != "mixed"
        if chosen and stored in LANG_CHOICES:
            return None
        return {**data, "lang": lang, "lang_chosen": False}

    def with_value(self, key: str, value: object) -> ChatSettings:
        """A copy with one setting changed; raises SettingError naming the allowed values."""
        key = str(key).strip().lower()
        if key in ("questions", "count"):
            return replace(self, questions=_int_in("questions", value, QUESTIONS_RANGE))
        if key in ("seconds", "time"):
            return replace(self, seconds=_int_in("seconds", value, SECONDS_RANGE))
        if key == "types":
            return replace(self, types=_choice("types", value, tuple(TYPE_GROUPS)))
        if key == "lang":
            return replace(self, lang=_choice("lang", value, LANG_CHOICES), lang_chosen=True)
        if key == "mode":
            return replace(self, mode=_choice("mode", value, MODE_CHOICES))
        if key == "topics":
            if isinstance(value, list | tuple):
                items = [str(v) for v in value]
            else:
                items = str(value).replace(",", " ").split()
            topics = tuple(sorted({t.strip().lower() for t in items if t.strip()} - {"all"}))
            unknown = [t for t in topics if t not in TAGS]
            if unknown:  # saved, it would leave rounds with no question to ask
                raise SettingError(
                    "settings.topics", unknown=", ".join(unknown)[:100], topics=", ".join(TAGS)
                )
            return replace(self, topics=topics)
        raise SettingError(
            "settings.unknown_key",
            key=key[:40],
            keys="questions, seconds, types, lang, topics, mode",
        )


def _int_in(name: str, value: object, bounds: tuple[int, int]) -> int:
    low, high = bounds
    try:
        number = int(str(value).strip())
    except ValueError:
        raise SettingError("settings.range", key=name, low=low, high=high) from None
    if not low <= number <= high:
        raise SettingError("settings.range", key=name, low=low, high=high)
    return number


def _choice(name: str, value: object, choices: tuple[str, ...]) -> str:
    text = str(value).strip().lower()
    if text not in choices:
        raise SettingError("settings.choice", key=name, choices=", ".join(choices))
    return text
