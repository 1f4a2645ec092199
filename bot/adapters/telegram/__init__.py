"""Telegram, on python-telegram-bot 22: `TelegramAdapter(settings, hub)`."""

from bot.adapters.telegram.adapter import TelegramAdapter

__all__ = ["TelegramAdapter"]
