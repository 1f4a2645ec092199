"""The discord.py client: one gateway connection or automatic sharding, the command tree with
its error handler, and the translator that serves the Chinese command descriptions."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.i18n import catalogue

if TYPE_CHECKING:
    from bot.adapters.discord.adapter import DiscordAdapter

log = logging.getLogger(__name__)

# Discord locales that get our Chinese catalogue (Simplified Chinese only, as the bot speaks).
TRANSLATED_LOCALES = {discord.Locale.chinese: "zh"}

# Slash commands work in servers and in the bot's DMs (the private study chat).
CONTEXTS = app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=False)
INSTALLS = app_commands.AppInstallationType(guild=True, user=False)


class QuizTranslator(app_commands.Translator):
    """Looks up `locale_str(..., key=...)` strings in the bot's own YAML catalogues."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        key = string.extras.get("key")
        lang = TRANSLATED_LOCALES.get(locale)
        if key is None or lang is None:
            return None
        return catalogue(lang).get(key)


class QuizTree(app_commands.CommandTree):
    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        # Never leave a command unanswered: log it and apologise privately.
        original = getattr(error, "original", error)
        await self.client.adapter.apologize(interaction, original)  # type: ignore[attr-defined]


class _QuizBotMixin:
    adapter: DiscordAdapter

    async def setup_hook(self) -> None:
        await self.adapter.setup(self)  # type: ignore[arg-type]

    async def close(self) -> None:
        try:
            await super().close()  # type: ignore[misc]
        finally:
            await self.adapter.closed()


class QuizBot(_QuizBotMixin, commands.Bot):
    """One gateway connection."""


class ShardedQuizBot(_QuizBotMixin, commands.AutoShardedBot):
    """discord.py runs every shard in this process."""


def parse_shards(raw: str) -> tuple[bool, int | None]:
    """QUIZBOT_DISCORD_SHARDS: empty -> one connection; `auto` -> as many shards as Discord
    recommends; a number -> that many shards."""
    raw = raw.strip().lower()
    if not raw:
        return False, None
    if raw == "auto":
        return True, None
    if raw.isdigit() and int(raw) >= 1:
        return True, int(raw)
    raise ValueError("QUIZBOT_DISCORD_SHARDS must be empty, 'auto' or a positive number")


def build_bot(adapter: DiscordAdapter, shards: str = "") -> commands.Bot:
    sharded, count = parse_shards(shards)
    options: dict[str, Any] = dict(
        command_prefix=commands.when_mentioned,  # no prefix commands: slash commands only
        help_command=None,
        # Slash commands, buttons and modals need no privileged intent; guilds keeps the
        # channel and role cache that interaction permissions and sends rely on.
        intents=discord.Intents(guilds=True),
        tree_cls=QuizTree,
        allowed_contexts=CONTEXTS,
        allowed_installs=INSTALLS,
        allowed_mentions=discord.AllowedMentions.none(),
    )
    bot: commands.Bot
    if sharded:
        bot = ShardedQuizBot(shard_count=count, **options)
    else:
        bot = QuizBot(**options)
    bot.adapter = adapter  # type: ignore[attr-defined]
    return bot
