"""Discord adapter (discord.py 2.7): slash commands, buttons, modals and embeds.

`create_bot(settings, hub=None)` builds the configured bot without starting it (tests run it
offline with simcord); `DiscordAdapter(settings, hub)` is what `quizbot run` starts. Set
QUIZBOT_DISCORD_SHARDS to `auto` or a number to run the shards of a large bot in one process.
"""

from bot.adapters.discord.adapter import DiscordAdapter, create_bot

__all__ = ["DiscordAdapter", "create_bot"]
