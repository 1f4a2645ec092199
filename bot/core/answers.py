"""Reading an answer event the same way for quiz rounds and practice."""

from __future__ import annotations

import logging

from bot.content.model import Question
from bot.core.events import Event, OptionAnswer, TextAnswer
from bot.core.grading import Grade, Grader
from bot.core.replies import Notice
from bot.i18n import interface_lang, t

log = logging.getLogger(__name__)


def dedup_key(event: Event) -> str:
    """What an answer is stored under: a redelivered update has the same key, a new answer
    never has an old one's. The adapters name an answer by what identifies the answer itself,
    not by the platform's update id (Telegram's update ids start again from a random number
    after a week without updates, and another Bot API server counts its own): a Telegram
    message by its chat and message id ("msg:<chat>:<message>"), a poll vote by the poll and
    the voter ("poll:<poll>:<user>"), a button press by the callback query's id
    ("cb:<id>"), a Discord interaction by its id (a snowflake, unique on Discord). Keys stored
    by earlier versions ("telegram:<update id>") keep their meaning and never meet these."""
    return f"{event.chat.platform}:{event.event_id}"[:160]


def dropped_as_duplicate(event: Event, key: str) -> list:
    """The reply to an answer already recorded under `key` (a redelivered update): none, and
    a line in the log, so that an answer that goes unanswered can always be traced."""
    log.info("answer dropped as a duplicate: %s (already recorded; a redelivered update)", key)
    return []


def from_another_chat(platform: str, platform_chat_id: str, event: Event) -> bool:
    """Whether the question an answer names lives in another chat than the answer came from
    (a forged or stale reference). Events that cannot tell their chat (a Telegram poll vote
    after a restart) name none."""
    return platform != event.chat.platform or bool(
        event.chat.platform_chat_id and platform_chat_id != event.chat.platform_chat_id
    )


def unknown_question(event: Event) -> Notice:
    """The reply to an answer whose reference names no question open to its sender."""
    return Notice(
        event.chat,
        t(interface_lang(event.sender.lang), "answer.unknown_question"),
        kind="error",
        private_to=event.sender.platform_user_id,
    )


def grade_event(
    grader: Grader, event: TextAnswer | OptionAnswer, question: Question
) -> tuple[Grade, int | None]:
    """The grade of an answer, and the option chosen (multiple choice). A typed answer to a
    multiple-choice question must name an option ("B", "2"); anything else is invalid."""
    if isinstance(event, OptionAnswer):
        return grader.grade_option(question, event.option), event.option
    if question.is_multiple_choice:
        index = option_from_text(event.text, len(question.options))
        if index is None:
            return Grade(False, "invalid", reason="pick_option"), None
        return grader.grade_option(question, index), index
    return grader.grade(question, event.text), None


def given_text(event: TextAnswer | OptionAnswer, question: Question) -> str:
    """What the user gave, as stored: the option's text, or what they typed."""
    if isinstance(event, OptionAnswer):
        if 0 <= event.option < len(question.options):
            return question.options[event.option]
        return str(event.option)
    return event.text


def option_from_text(text: str, count: int) -> int | None:
    """'2', 'b', 'B)', '(b)' -> option index; None when the text names no option."""
    cleaned = text.strip().strip("().:：）（").strip().upper()
    if len(cleaned) != 1 and not cleaned.isdigit():
        return None
    if cleaned.isdigit():
        index = int(cleaned) - 1
    elif "A" <= cleaned <= "Z":
        index = ord(cleaned) - ord("A")
    else:
        return None
    return index if 0 <= index < count else None
