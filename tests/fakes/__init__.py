"""Offline stand-ins for chat platforms, used by the adapter tests."""

from .telegram_server import (
    ApiCall,
    FakeChat,
    FakeTelegramServer,
    FakeUser,
    Limits,
    UploadedFile,
    run_application,
)

__all__ = [
    "ApiCall",
    "FakeChat",
    "FakeTelegramServer",
    "FakeUser",
    "Limits",
    "UploadedFile",
    "run_application",
]
