"""Replies as Discord embeds, files and button rows.

The words come from the core: every reply's `text` is already in the chat's language and starts
with its headline (the answer of a question, "The round is over!", the board's title), so the
embeds split that text instead of re-translating it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import discord

from bot.adapters.discord.components import (
    AnswerButton,
    CommandButton,
    OptionButton,
    ReasonButton,
    ReportButton,
)
from bot.content.model import Question
from bot.core.render import OPTION_LABELS
from bot.core.replies import (
    AnswerFeedback,
    AskQuestion,
    Confirm,
    Image,
    Leaderboard,
    QuestionResult,
    Reply,
    ReportChoice,
    RoundOver,
)
from bot.i18n import t

# Discord's limits.
CONTENT_MAX = 2000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FOOTER_MAX = 2048

QUESTION_COLOUR = discord.Colour.blurple()
CLOSED_COLOUR = discord.Colour.dark_grey()
RIGHT_COLOUR = discord.Colour.green()
NOBODY_COLOUR = discord.Colour.red()
PODIUM_COLOUR = discord.Colour.gold()
BOARD_COLOUR = discord.Colour.blue()


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str) -> str:
    """The core's words are plain text: where Discord reads Markdown (message content, embed
    titles and descriptions; not footers), a player called `*Ann*` or `[x](https://…)` must
    show as typed, not as italics or a masked link."""
    return discord.utils.escape_markdown(text)


def headline_embed(text: str, colour: discord.Colour) -> discord.Embed:
    """First line as the title, the rest as the description."""
    head, _, rest = text.strip().partition("\n")
    return discord.Embed(
        title=clip(plain(head), TITLE_MAX),
        description=clip(plain(rest.strip()), DESCRIPTION_MAX),
        colour=colour,
    )


def finished_view(view: discord.ui.View) -> discord.ui.View:
    """Stopped views are not stored by discord.py: the buttons are dispatched by custom_id."""
    view.stop()
    return view


# ---------------------------------------------------------------- questions


def question_embed(reply: AskQuestion) -> discord.Embed:
    question = reply.question
    assert question is not None
    lines = [plain(question.prompt)]
    if question.options:
        lines.append("")
        lines += [f"**{OPTION_LABELS[i]}**  {plain(opt)}" for i, opt in enumerate(question.options)]
    embed = discord.Embed(
        title=clip(plain(reply.header), TITLE_MAX),
        description=clip("\n".join(lines), DESCRIPTION_MAX),
        colour=QUESTION_COLOUR,
    )
    footer = []
    if not question.options:
        footer.append(t(reply.lang, "discord.question.typed"))
    if reply.seconds:
        footer.append(t(reply.lang, "discord.question.timer", seconds=reply.seconds))
    if footer:
        embed.set_footer(text=clip("  ·  ".join(footer), FOOTER_MAX))
    return embed


def question_ref(reply: AskQuestion) -> str:
    """What answers to this question carry: `rq:<id>` for rounds, `pr:<id>` for practice."""
    return reply.question_ref or f"rq:{reply.round_question_id}"


def question_view(reply: AskQuestion) -> discord.ui.View:
    question = reply.question
    assert question is not None
    ref = question_ref(reply)
    view = discord.ui.View(timeout=None)
    if question.options:
        for i in range(len(question.options)):
            view.add_item(OptionButton(ref, i))
    else:
        view.add_item(AnswerButton(ref, t(reply.lang, "discord.answer_button")))
    return finished_view(view)


def closed_question(
    embed: discord.Embed,
    ref: str,
    question: Question | None,
    answer_line: str | None,
    answer_label: str,
) -> tuple[discord.Embed, discord.ui.View]:
    """The question message once closed: grey, the answer in the footer, buttons disabled (the
    right option in green)."""
    embed = embed.copy()
    embed.colour = CLOSED_COLOUR
    if answer_line:
        embed.set_footer(text=clip(answer_line, FOOTER_MAX))
    view = discord.ui.View(timeout=None)
    if question is not None and question.options:
        for i in range(len(question.options)):
            right = i == question.correct_option and answer_line is not None
            style = discord.ButtonStyle.success if right else discord.ButtonStyle.secondary
            view.add_item(OptionButton(ref, i, disabled=True, style=style))
    else:
        view.add_item(AnswerButton(ref, answer_label, disabled=True))
    return embed, finished_view(view)


# ---------------------------------------------------------------- other replies


@dataclass
class Payload:
    """What one message carries; `kwargs()` feeds send_message / followup.send / channel.send."""

    content: str | None = None
    embed: discord.Embed | None = None
    png: bytes | None = None
    filename: str = "image.png"
    view: discord.ui.View | None = None

    def kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.content:
            out["content"] = clip(plain(self.content), CONTENT_MAX)
        if self.embed is not None:
            out["embed"] = self.embed
        if self.png is not None:
            # A fresh File each time: discord.py consumes its stream when sending.
            out["file"] = discord.File(io.BytesIO(self.png), filename=self.filename)
        if self.view is not None:
            out["view"] = self.view
        return out


def report_view(ref: str, lang: str) -> discord.ui.View | None:
    """⚑ Report under a question's result (a round's result, a practice verdict)."""
    if not ref:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(ReportButton(ref, t(lang, "report.button")))
    return finished_view(view)


def reasons_view(choice: ReportChoice) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for code, label in choice.reasons:
        view.add_item(ReasonButton(choice.question_ref, code, label))
    return finished_view(view)


def payload(reply: Reply) -> Payload:
    """Everything but questions (those carry buttons and are remembered for the closing edit)."""
    if isinstance(reply, QuestionResult):
        colour = RIGHT_COLOUR if reply.winners else NOBODY_COLOUR
        view = report_view(reply.report_ref, reply.lang)
        return Payload(embed=headline_embed(reply.text, colour), view=view)
    if isinstance(reply, AnswerFeedback) and reply.report_ref:
        return Payload(content=reply.text, view=report_view(reply.report_ref, reply.lang))
    if isinstance(reply, ReportChoice):
        return Payload(content=reply.prompt or reply.text, view=reasons_view(reply))
    if isinstance(reply, RoundOver):
        return Payload(embed=headline_embed(reply.text, PODIUM_COLOUR))
    if isinstance(reply, Leaderboard):
        return Payload(embed=headline_embed(reply.text, BOARD_COLOUR))
    if isinstance(reply, Image):
        return Payload(content=reply.text or None, png=reply.png, filename=reply.filename)
    if isinstance(reply, Confirm):
        view = discord.ui.View(timeout=None)
        view.add_item(CommandButton(reply.yes_command, reply.yes_label, discord.ButtonStyle.danger))
        view.add_item(CommandButton(reply.no_command, reply.no_label))
        return Payload(content=reply.text, view=finished_view(view))
    return Payload(content=reply.text)
