"""Outbound replies: what the bot says, as plain data.

Every reply carries `text`, already written in the chat's language, so a simple adapter (the
console) can just print it. Richer adapters render the structured fields natively: a question as a
Telegram quiz poll or Discord buttons, a podium as an embed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.content.model import Question
from bot.core.events import ChatRef


@dataclass(frozen=True, slots=True)
class Reply:
    chat: ChatRef
    text: str
    # When set, only this user should see it (Discord ephemeral, a Telegram reply to them).
    private_to: str | None = None
    # The platform message this answers, when the platform threads replies.
    reply_to: str | None = None


@dataclass(frozen=True, slots=True)
class Notice(Reply):
    """A short message: an acknowledgement, a refusal, a usage hint."""

    kind: str = "info"  # info, ok, error, usage, refused


@dataclass(frozen=True, slots=True)
class AskQuestion(Reply):
    round_question_id: int = 0
    question: Question | None = None
    position: int = 0
    total: int = 0
    seconds: int | None = None  # None: untimed
    lang: str = "en"  # interface language for the adapter's own labels
    typed_hint: str = ""  # how to answer a typed question on this kind of chat
    header: str = ""  # "Question 3/10" in the interface language
    # The reference answers must carry (buttons, modals) when it is not "rq:<round_question_id>":
    # practice questions use "pr:<practice item id>".
    question_ref: str = ""


@dataclass(frozen=True, slots=True)
class Standing:
    rank: int
    name: str
    points: int
    correct: int
    answered: int
    is_caller: bool = False

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


@dataclass(frozen=True, slots=True)
class QuestionResult(Reply):
    round_question_id: int = 0
    question: Question | None = None
    lang: str = "en"  # interface language of the chat
    winners: tuple[str, ...] = ()
    top: tuple[Standing, ...] = ()
    # The question a "report this question" action under the result names ("rq:<id>").
    report_ref: str = ""


@dataclass(frozen=True, slots=True)
class RoundOver(Reply):
    round_id: int = 0
    reason: str = "done"  # done, idle, stopped
    table: tuple[Standing, ...] = ()


@dataclass(frozen=True, slots=True)
class AnswerFeedback(Reply):
    """The verdict on one answer, for chats where each answer gets its own reply (private chats,
    Discord ephemeral confirmations). Group chats get it folded into the QuestionResult."""

    correct: bool = False
    points: int = 0
    late: bool = False
    # The verdict without restating the option picked, for widgets that show the pick
    # themselves (a quiz poll); empty when there is no shorter form than `text`.
    verdict: str = ""
    # Set when this verdict is the question's result (practice: "pr:<id>"): the adapter offers
    # "report this question" under it, as under a QuestionResult.
    report_ref: str = ""
    lang: str = "en"  # interface language for the adapter's own labels


@dataclass(frozen=True, slots=True)
class ReportChoice(Reply):
    """The reasons a learner picks from when reporting the question `question_ref` as wrong.
    Choosing one sends the command `report <question_ref> <code>` back. `text` has the prompt
    and the reasons numbered 1, 2, 3 (the terminal prints it); `prompt` is the prompt alone,
    for widgets that show the reasons as buttons."""

    question_ref: str = ""
    reasons: tuple[tuple[str, str], ...] = ()  # (code, label), in the order of their numbers
    prompt: str = ""
    lang: str = "en"


@dataclass(frozen=True, slots=True)
class Leaderboard(Reply):
    scope: str = "chat"
    period: str = "all"
    rows: tuple[Standing, ...] = ()
    caller: Standing | None = None
    title: str = ""
    lang: str = "en"  # interface language of the chat


@dataclass(frozen=True, slots=True)
class Image(Reply):
    """A picture (PNG bytes) with `text` as its caption."""

    png: bytes = b""
    filename: str = "image.png"


@dataclass(frozen=True, slots=True)
class Confirm(Reply):
    """A yes/no question (e.g. resetting a board); the adapter may render buttons that send
    the `yes_command` / `no_command` back as commands."""

    yes_command: tuple[str, ...] = field(default_factory=tuple)
    no_command: tuple[str, ...] = field(default_factory=tuple)
    yes_label: str = "Yes"
    no_label: str = "No"
