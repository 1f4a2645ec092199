"""Buttons and the answer modal.

Every button is a `DynamicItem`: what it means lives in its custom_id (`<ref>:<option>`,
`<ref>:answer`, `cmd:<command words>`, `report:<ref>` under a result and `report:<ref>:<reason>`
in the ephemeral choice it opens, where the question ref is `rq:<round question id>` or
`pr:<practice item id>`), so clicks keep working after a restart and no view state is held in
memory. The answer modal works the same way (`<ref>:modal:<nonce>`): it is not stored, and the
adapter reads every modal submission itself (`modal_ref`, `typed_answer`). The handlers live on
the adapter (`interaction.client.adapter`); discord.py only logs errors raised by a dynamic
item and silently drops interactions nothing claims, so the adapter catches and answers both.
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
REF = r"(?P<ref>(?:rq|pr):[0-9]{1,19})"
OPTION_ID = re.compile(REF + r":(?P<option>[0-9])")
ANSWER_ID = re.compile(REF + r":answer")
# At least one word: "cmd:   " would make a CommandButton whose own id ("cmd:") fails this
# template, an error inside discord.py that leaves the click unanswered.
COMMAND_ID = re.compile(r"cmd:(?=[ ]*[a-z0-9])(?P<words>[a-z0-9 ]{1,90})")
MODAL_ID = re.compile(REF + r":modal:[0-9a-f]{12}")
REPORT_ID = re.compile(r"report:" + REF)
REASON_ID = re.compile(r"report:" + REF + r":(?P<reason>[a-z_]{1,16})")


def is_our_button(custom_id: object) -> bool:
    """Whether one of the dynamic items below claims this custom_id (discord.py matches them
    with `fullmatch` too); any other click would get no answer at all from discord.py."""
    return isinstance(custom_id, str) and any(
        p.fullmatch(custom_id) for p in (OPTION_ID, ANSWER_ID, COMMAND_ID, REPORT_ID, REASON_ID)
    )


def modal_ref(custom_id: object) -> str | None:
    """The question ref of an answer modal's custom_id, or None for anything else."""
    match = MODAL_ID.fullmatch(custom_id) if isinstance(custom_id, str) else None
    return match["ref"] if match else None


def typed_answer(components: object) -> str:
    """The text of the answer field in a modal submission's components (action rows or
    labels around text inputs); "" when it is missing or malformed."""
    stack = [components]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node))
        elif isinstance(node, dict):
            if node.get("custom_id") == ANSWER_FIELD and isinstance(node.get("value"), str):
                return node["value"]
            stack.extend(node.get(key) for key in ("components", "component") if key in node)
    return ""


def adapter_of(interaction: discord.Interaction) -> DiscordAdapter:
    return interaction.client.adapter  # type: ignore[attr-defined]


class OptionButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=OPTION_ID,
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
    template=ANSWER_ID,
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
    template=COMMAND_ID,
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


class ReportButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=REPORT_ID,
):
    """⚑ Report under a question's result: opens an ephemeral choice of reasons."""

    def __init__(self, ref: str, label: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:80], custom_id=f"report:{ref}", style=discord.ButtonStyle.secondary
            )
        )
        self.ref = ref

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> ReportButton:
        return cls(match["ref"], item.label or "Report")

    async def callback(self, interaction: discord.Interaction) -> Any:
        await adapter_of(interaction).on_report(interaction, self.ref)


class ReasonButton(
    discord.ui.DynamicItem[discord.ui.Button],
    template=REASON_ID,
):
    """One reason in the ephemeral choice that ⚑ Report opens."""

    def __init__(self, ref: str, reason: str, label: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=label[:80],
                custom_id=f"report:{ref}:{reason}",
                style=discord.ButtonStyle.secondary,
            )
        )
        self.ref = ref
        self.reason = reason

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> ReasonButton:
        return cls(match["ref"], match["reason"], item.label or "")

    async def callback(self, interaction: discord.Interaction) -> Any:
        await adapter_of(interaction).on_report(interaction, self.ref, self.reason)


DYNAMIC_ITEMS = (OptionButton, AnswerButton, CommandButton, ReportButton, ReasonButton)


class AnswerModal(discord.ui.Modal):
    """A text field for a typed question. It is finished before it is sent, so discord.py
    does not keep it: a modal kept in memory is lost by a restart (or its timeout), and
    discord.py drops its submission unanswered. The adapter's `on_modal` handles every
    submission by its custom_id instead, like the buttons."""

    def __init__(self, ref: str, lang: str) -> None:
        super().__init__(
            title=t(lang, "discord.modal.title")[:45],
            timeout=None,
            custom_id=f"{ref}:modal:{os.urandom(6).hex()}",
        )
        self.add_item(
            discord.ui.TextInput(
                label=t(lang, "discord.modal.label")[:45],
                custom_id=ANSWER_FIELD,
                placeholder=t(lang, "discord.modal.placeholder")[:100],
                max_length=200,
            )
        )
        self.stop()  # not stored by send_modal: see the class docstring
