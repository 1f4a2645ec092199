"""The slash commands. Each one becomes a core `Command` (name + words, as typed elsewhere) and
goes through the adapter; choices and ranges are declared so that Discord itself validates them.

Admin-only actions are not hidden with default_permissions: everyone sees the commands, and the
core answers non-admins with a refusal that the adapter shows ephemerally.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.app_commands import Choice, Range, locale_str
from discord.ext import commands

from bot.core.settings import LANG_CHOICES, MODE_CHOICES, TYPE_GROUPS
from bot.i18n import INTERFACE_LANGS, t

if TYPE_CHECKING:
    from bot.adapters.discord.adapter import DiscordAdapter


def text(key: str) -> locale_str:
    """English text from the catalogue; the translator finds the Chinese one by `key`."""
    return locale_str(t("en", key), key=key)


def choices(prefix: str, values: tuple[str, ...] | list[str]) -> list[Choice[str]]:
    return [Choice(name=text(f"{prefix}.{v}"), value=v) for v in values]


SCOPES = ("chat", "global")
PERIODS = ("week", "month", "all", "lastweek", "lastmonth")
PRACTICE_ACTIONS = ("more", "stop")


class QuizCommands(commands.Cog):
    quiz = app_commands.Group(name="quiz", description=text("discord.cmd.quiz"))

    def __init__(self, adapter: DiscordAdapter) -> None:
        self.adapter = adapter

    @quiz.command(name="start", description=text("discord.cmd.quiz.start"))
    @app_commands.describe(questions=text("discord.cmd.quiz.start.questions"))
    async def quiz_start(
        self, interaction: discord.Interaction, questions: Range[int, 1, 50] | None = None
    ) -> None:
        args = ("start", str(questions)) if questions else ("start",)
        await self.adapter.run_command(interaction, [("quiz", args)])

    @quiz.command(name="stop", description=text("discord.cmd.quiz.stop"))
    async def quiz_stop(self, interaction: discord.Interaction) -> None:
        await self.adapter.run_command(interaction, [("quiz", ("stop",))])

    @app_commands.command(name="hint", description=text("discord.cmd.hint"))
    async def hint(self, interaction: discord.Interaction) -> None:
        await self.adapter.run_command(interaction, [("hint", ())])

    @app_commands.command(name="leaderboard", description=text("discord.cmd.leaderboard"))
    @app_commands.describe(
        scope=text("discord.cmd.leaderboard.scope"),
        period=text("discord.cmd.leaderboard.period"),
        image=text("discord.cmd.leaderboard.image"),
    )
    @app_commands.choices(
        scope=choices("discord.choice.scope", SCOPES),
        period=choices("discord.choice.period", PERIODS),
    )
    async def leaderboard(
        self,
        interaction: discord.Interaction,
        scope: str | None = None,
        period: str | None = None,
        image: bool = False,
    ) -> None:
        args = [a for a in (scope, period) if a] + (["image"] if image else [])
        await self.adapter.run_command(interaction, [("leaderboard", tuple(args))])

    @app_commands.command(name="stats", description=text("discord.cmd.stats"))
    async def stats(self, interaction: discord.Interaction) -> None:
        await self.adapter.run_command(interaction, [("stats", ())], personal=True)

    @app_commands.command(name="settings", description=text("discord.cmd.settings"))
    @app_commands.describe(
        questions=text("discord.cmd.settings.questions"),
        seconds=text("discord.cmd.settings.seconds"),
        types=text("discord.cmd.settings.types"),
        lang=text("discord.cmd.settings.lang"),
        mode=text("discord.cmd.settings.mode"),
        topics=text("discord.cmd.settings.topics"),
    )
    @app_commands.choices(
        types=choices("discord.choice.types", list(TYPE_GROUPS)),
        lang=choices("discord.choice.glossary", LANG_CHOICES),
        mode=choices("discord.choice.mode", MODE_CHOICES),
    )
    async def settings(
        self,
        interaction: discord.Interaction,
        questions: Range[int, 1, 50] | None = None,
        seconds: Range[int, 5, 600] | None = None,
        types: str | None = None,
        lang: str | None = None,
        mode: str | None = None,
        topics: Range[str, 1, 200] | None = None,
    ) -> None:
        changes = {
            "questions": questions,
            "seconds": seconds,
            "types": types,
            "lang": lang,
            "mode": mode,
            "topics": topics,
        }
        events = [("settings", (key, str(v))) for key, v in changes.items() if v is not None]
        if events:
            await self.adapter.run_command(interaction, events)
        else:
            await self.adapter.run_command(interaction, [("settings", ())], personal=True)

    @app_commands.command(name="practice", description=text("discord.cmd.practice"))
    @app_commands.describe(action=text("discord.cmd.practice.action"))
    @app_commands.choices(action=choices("discord.choice.practice", PRACTICE_ACTIONS))
    async def practice(self, interaction: discord.Interaction, action: str | None = None) -> None:
        await self.adapter.run_command(interaction, [("practice", (action,) if action else ())])

    @app_commands.command(name="review", description=text("discord.cmd.review"))
    async def review(self, interaction: discord.Interaction) -> None:
        await self.adapter.run_command(interaction, [("review", ())])

    @app_commands.command(name="lang", description=text("discord.cmd.lang"))
    @app_commands.describe(language=text("discord.cmd.lang.language"))
    @app_commands.choices(language=choices("discord.choice.ui", INTERFACE_LANGS))
    async def lang(self, interaction: discord.Interaction, language: str | None = None) -> None:
        if language:
            await self.adapter.run_command(interaction, [("lang", (language,))])
        else:
            await self.adapter.run_command(interaction, [("lang", ())], personal=True)

    @app_commands.command(name="reset", description=text("discord.cmd.reset"))
    async def reset(self, interaction: discord.Interaction) -> None:
        await self.adapter.run_command(interaction, [("reset", ())])

    @app_commands.command(name="help", description=text("discord.cmd.help"))
    async def help(self, interaction: discord.Interaction) -> None:
        await self.adapter.run_command(interaction, [("help", ())], personal=True)
