"""Buttons and the answer modal.

Every button is a `DynamicItem`: what it means lives in its custom_id (`<ref>:<option>`,
`<ref>:answer`, `cmd:<command words>`, where the question ref is `rq:<round question id>` or
`pr:<practice item id>`), so clicks keep working after a restart and no view state is held in
memory. The handlers themselves live on the adapter (`interaction.client
.adapter`); discord.py only logs errors raised by a dynamic item, so the adapter catches them.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.core.render import OPTION_LABELS
from bot.i18n import t

if TYPE_CHECKING:
    from bot.adapters.discord.adapter import DiscordAdapter

ANSWER_FIELD = "answer"  # fixed custom_id of the modal's text field
MODAL_TIMEOUT = 15 * 60  # seconds a modal may stay open before its handler is dropped
REF = r"(?P<ref>(?:rq|pr):[0-9]{1,19})"


def adapter_of(interaction: discord.Interaction) -> DiscordAdapter:
    return interaction.client.adapter  # type: ignore[attr-defined]


class OptionButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=re.compile(REF + r":(?P<option>[0-9])"),
):
    """One multiple-choice option, labelled A, B, C...; the option text is in the embed."""

    def __init__(
        self,
        ref: str,
        option: int,
        *,
        disabled: bool = False,
        style: discord.ButtonStyle = discord.ButtonStyle.primary,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=OPTION_LABELS[option],
                custom_id=f"{ref}:{option}",
                style=style,
                disabled=disabled,
            )
        )
        self.ref = ref
        self.option = option

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> OptionButton:
        return cls(match["ref"], int(match["option"]))

    async def callback(self, interaction: discord.Interaction) -> Any:
        await adapter_of(interaction).on_option(interaction, self.ref, self.option)


class AnswerButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=re.compile(REF + r":answer"),
):
    """Opens the modal where a typed answer is written (no Message Content intent needed)."""

    def __init__(self, ref: str, label: str, *, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:80],
                custom_id=f"{ref}:answer",
                style=discord.ButtonStyle.primary,
                disabled=disabled,
            )
        )
        self.ref = ref

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> AnswerButton:
        return cls(match["ref"], item.label or "Answer")

    async def callback(self, interaction: discord.Interaction) -> Any:
        await adapter_of(interaction).on_answer_button(interaction, self.ref)


class CommandButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=re.compile(r"cmd:(?P<words>[a-z0-9 ]{1,90})"),
):
    """Sends a command when clicked: the yes/no buttons of a `Confirm` reply."""

    def __init__(
        self,
        words: tuple[str, ...],
        label: str,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    ) -> None:
        super().__init__(
            discord.ui.Button(label=label[:80], custom_id=f"cmd:{' '.join(words)}", style=style)
        )
        self.words = words

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> CommandButton:
        return cls(tuple(match["words"].split()), item.label or "")

    async def callback(self, interaction: discord.Interaction) -> Any:
        await adapter_of(interaction).on_command_button(interaction, self.words)


DYNAMIC_ITEMS = (OptionButton, AnswerButton, CommandButton)


class AnswerModal(discord.ui.Modal):
    """A text field for a typed question. The custom_id is unique per opening, so two members
    typing at once never share (and close) one modal handler."""

    def __init__(self, ref: str, lang: str) -> None:
        super().__init__(
            title=t(lang, "discord.modal.title")[:45],
            timeout=MODAL_TIMEOUT,
            custom_id=f"{ref}:modal:{os.urandom(6).hex()}",
        )
        self.ref = ref
        self.answer: discord.ui.TextInput[AnswerModal] = discord.ui.TextInput(
            label=t(lang, "discord.modal.label")[:45],
            custom_id=ANSWER_FIELD,
            placeholder=t(lang, "discord.modal.placeholder")[:100],
            max_length=200,
        )
        self.add_item(self.answer)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await adapter_of(interaction).on_typed(interaction, self.ref, self.answer.value)

    async def on_error(self, interaction: discord.Interaction, error: Exception, /) -> None:
        await adapter_of(interaction).apologize(interaction, error)
