"""Pure helpers for the Telegram adapter: Telegram's length rules, HTML, commands, callback data.

Telegram measures lengths in UTF-16 code units (an emoji counts twice), after markup is removed.
Nothing here talks to the network, so these rules are easy to test on their own.
"""

from __future__ import annotations

import html
import re

MESSAGE_MAX = 4096
CAPTION_MAX = 1024
POLL_QUESTION_MAX = 300
POLL_OPTION_MAX = 100
EXPLANATION_MAX = 200
EXPLANATION_LINE_FEEDS = 2
CALLBACK_DATA_MAX = 64  # bytes
ELLIPSIS = "…"


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` UTF-16 units, with an ellipsis when something was cut."""
    if utf16_len(text) <= limit:
        return text
    out: list[str] = []
    used = utf16_len(ELLIPSIS)
    for char in text:
        used += utf16_len(char)
        if used > limit:
            break
        out.append(char)
    return "".join(out).rstrip() + ELLIPSIS


def clip_lines(text: str, limit: int) -> str:
    """Whole lines while they fit (a long table loses its tail, not half a row)."""
    if utf16_len(text) <= limit:
        return text
    kept: list[str] = []
    used = utf16_len(ELLIPSIS)
    for line in text.split("\n"):
        cost = utf16_len(line) + 1
        if used + cost > limit:
            break
        kept.append(line)
        used += cost
    if not kept:
        return clip(text, limit)
    return "\n".join([*kept, ELLIPSIS])


# Telegram turns "@name" in any message into a mention, which notifies that user: a player
# calling themselves "@someone" would ping them with every result. A word joiner after the @
# keeps the text as it looks and makes no mention.
_MENTION = re.compile(r"@(?=\w)")
WORD_JOINER = "\u2060"


def no_mentions(text: str) -> str:
    return _MENTION.sub("@" + WORD_JOINER, text)


def html_text(text: str, *, bold_first_line: bool = False, limit: int = MESSAGE_MAX) -> str:
    """Plain text as Telegram HTML: mentions defused, clipped to the limit (markup does not
    count), then escaped, optionally with the first line in bold."""
    text = clip_lines(no_mentions(text), limit)
    if not bold_first_line:
        return html.escape(text, quote=False)
    first, sep, rest = text.partition("\n")
    return f"<b>{html.escape(first, quote=False)}</b>{sep}{html.escape(rest, quote=False)}"


def poll_question(header: str, prompt: str, position: int, total: int) -> str:
    """The poll's question with its header ("Question 3/10") on top, within 300 units.

    A long prompt keeps the short header "3/10"; only a prompt that alone fills the poll is cut.
    """
    for head in (header, f"{position}/{total}"):
        candidate = f"{head}\n{prompt}" if head else prompt
        if utf16_len(candidate) <= POLL_QUESTION_MAX:
            return candidate
    short = f"{position}/{total}\n"
    return short + clip(prompt, POLL_QUESTION_MAX - utf16_len(short))


def poll_question_under(
    lead: str, header: str, prompt: str, position: int, total: int
) -> str | None:
    """`lead` (a verdict) above the poll's question, or None when the two do not fit in one
    poll without cutting the prompt."""
    for head in (header, f"{position}/{total}"):
        candidate = "\n".join(part for part in (lead, head, prompt) if part)
        if utf16_len(candidate) <= POLL_QUESTION_MAX:
            return candidate
    return None


def poll_explanation(explanation: str) -> str | None:
    """At most 200 units and two line feeds, or None when there is nothing to explain."""
    text = explanation.strip()
    if not text:
        return None
    lines = text.split("\n")
    if len(lines) > EXPLANATION_LINE_FEEDS + 1:
        keep = lines[:EXPLANATION_LINE_FEEDS]
        text = "\n".join([*keep, " ".join(lines[EXPLANATION_LINE_FEEDS:])])
    return clip(text, EXPLANATION_MAX)


def poll_options(options: tuple[str, ...]) -> list[str]:
    return [clip(option, POLL_OPTION_MAX) or "?" for option in options]


def parse_command(text: str, bot_username: str | None) -> tuple[str, tuple[str, ...]] | None:
    """'/Quiz@MyBot start 5' -> ('quiz', ('start', '5')). None when the text is no command, or a
    command addressed to another bot ('/quiz@otherbot' in a group with several bots)."""
    words = text.split()
    if not words or not words[0].startswith("/") or len(words[0]) < 2:
        return None
    name, _, target = words[0][1:].partition("@")
    if target and bot_username and target.lower() != bot_username.lower():
        return None
    if not name:
        return None
    return name.lower(), tuple(words[1:])


def command_data(command: tuple[str, ...]) -> str | None:
    """Callback data that sends `command` back when its button is clicked (None if too long)."""
    data = "cmd:" + " ".join(command)
    return data if len(data.encode("utf-8")) <= CALLBACK_DATA_MAX else None


def image_data(scope: str, period: str) -> str | None:
    data = f"img:{scope}:{period}"
    return data if len(data.encode("utf-8")) <= CALLBACK_DATA_MAX else None


# "rep:<question ref>" (the ⚑ Report button) or "rep:<question ref>:<reason>" (a reason).
_REPORT = re.compile(r"(?P<ref>(?:rq|pr):[0-9]{1,10})(?::(?P<reason>[a-z_]{1,16}))?")


def report_data(ref: str, reason: str | None = None) -> str | None:
    """Callback data of "report this question" (`reason` None) or of one of its reasons."""
    data = f"rep:{ref}:{reason}" if reason else f"rep:{ref}"
    if len(data.encode("utf-8")) > CALLBACK_DATA_MAX or not _REPORT.fullmatch(data[4:]):
        return None
    return data


# "ans:<question ref>:<option index>": an option button of a question asked as a message
# because the chat refused its poll.
_ANSWER = re.compile(r"(?P<ref>(?:rq|pr):[0-9]{1,10}):(?P<option>[0-9])")
OPTION_LETTERS = "ABCDEFGHIJ"
OPTION_BUTTONS_PER_ROW = 5

# Said once in a chat whose first poll Telegram refused (a group that does not let members
# send polls), above the first question asked with buttons instead.
POLLS_REFUSED = {
    "en": "Polls are not allowed in this chat, so questions come as messages: answer with the "
    "buttons below (or reply with the option's letter).",
    "zh": "本群不允许发送投票，题目改为普通消息：请点下方按钮作答（或回复选项字母）。",
}


def answer_data(ref: str, option: int) -> str | None:
    """Callback data of an option button (None if the question's reference does not fit)."""
    data = f"ans:{ref}:{option}"
    if len(data.encode("utf-8")) > CALLBACK_DATA_MAX or not _ANSWER.fullmatch(data[4:]):
        return None
    return data


def parse_callback(data: str) -> tuple[str, tuple[str, ...]] | None:
    """Callback data -> (kind, words): ('cmd', ('reset', 'confirm')), ('img', (scope, period)),
    ('rep', (question ref,)), ('rep', (question ref, reason)) or ('ans', (question ref,
    option index))."""
    kind, _, rest = data.partition(":")
    if kind == "ans":
        match = _ANSWER.fullmatch(rest)
        return None if match is None else ("ans", (match["ref"], match["option"]))
    if kind == "rep":
        match = _REPORT.fullmatch(rest)
        if match is None:
            return None
        return ("rep", tuple(w for w in (match["ref"], match["reason"]) if w))
    if kind == "cmd":
        words = tuple(rest.split())
        return ("cmd", words) if words else None
    if kind == "img":
        scope, _, period = rest.partition(":")
        return ("img", (scope, period)) if scope and period else None
    return None


def display_name(first_name: str | None, last_name: str | None, username: str | None) -> str:
    full = " ".join(part for part in (first_name, last_name) if part).strip()
    if full:
        return full
    return f"@{username}" if username else "?"
