"""Settings from environment variables (and an optional `.env` file).

A bad value stops start-up with a one-line `ConfigError`; tokens are wrapped in `Secret` so that
they never show up in a log line, a repr or an error message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_TELEGRAM_BASE_URL = "https://api.telegram.org/bot"
KNOWN_DIALECTS = ("sqlite", "postgresql")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DEFAULT_START_TIMEOUT = 30.0  # seconds `quizbot run` keeps trying to reach a platform at start
POSTGRES_EXTRA = "pip install -e '.[postgres]'"


class ConfigError(Exception):
    """A setting has a value the bot cannot use. The message is one line meant for people."""


class Secret:
    """A string that refuses to be printed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def data_dir() -> Path:
    """Where the embedded database lives: $QUIZBOT_DATA_DIR, else the XDG data folder."""
    if explicit := os.environ.get("QUIZBOT_DATA_DIR"):
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg).expanduser() / "quizbot"


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{data_dir() / 'quizbot.sqlite3'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    telegram_token: Secret = field(default_factory=lambda: Secret(""))
    telegram_base_url: str = DEFAULT_TELEGRAM_BASE_URL
    telegram_webhook_url: str = ""
    telegram_webhook_listen: str = "0.0.0.0"
    telegram_webhook_port: int = 8443
    telegram_webhook_secret: Secret = field(default_factory=lambda: Secret(""))
    discord_token: Secret = field(default_factory=lambda: Secret(""))
    discord_shards: str = ""  # "", "auto" or a positive number (checked by load_settings)
    content_paths: tuple[Path, ...] = ()
    log_level: str = "INFO"
    start_timeout: float = DEFAULT_START_TIMEOUT

    @property
    def telegram_base_file_url(self) -> str:
        """python-telegram-bot's file URL for the configured API: `.../bot` -> `.../file/bot`."""
        base = self.telegram_base_url.rstrip("/")
        head, _, last = base.rpartition("/")
        return f"{head}/file/{last}"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def safe_database_url(self) -> str:
        """The database URL with its password hidden, for logs and messages."""
        return make_url(self.database_url).render_as_string(hide_password=True)

    def secrets(self) -> tuple[list[str], list[str]]:
        """(tokens and other secrets, passwords) that must never be printed."""
        tokens = [
            self.telegram_token.reveal(),
            self.telegram_webhook_secret.reveal(),
            self.discord_token.reveal(),
        ]
        password = make_url(self.database_url).password
        return [t for t in tokens if t], [str(password)] if password else []


def _database_url(raw: str) -> str:
    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(
            "QUIZBOT_DATABASE_URL is not a valid SQLAlchemy URL "
            "(expected e.g. sqlite+aiosqlite:///quizbot.sqlite3 or "
            "postgresql+asyncpg://user@host/db)"
        ) from None
    dialect = url.get_backend_name()
    if dialect not in KNOWN_DIALECTS:
        raise ConfigError(
            f"QUIZBOT_DATABASE_URL uses the unsupported database {dialect!r}; "
            "use sqlite or postgresql"
        )
    # Pick the async driver ourselves so that plain `sqlite:///` and `postgresql://` URLs work.
    driver = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}[dialect]
    if dialect == "postgresql":
        try:
            import asyncpg  # noqa: F401
        except ImportError:
            raise ConfigError(
                "QUIZBOT_DATABASE_URL is a PostgreSQL URL, but the PostgreSQL driver (asyncpg) "
                f"is not installed: install the postgres extra ({POSTGRES_EXTRA})"
            ) from None
    if url.get_driver_name() != driver:
        url = url.set(drivername=f"{dialect}+{driver}")
    return url.render_as_string(hide_password=False)


def _http_url(name: str, raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name} must be an http:// or https:// URL")
    return raw.rstrip("/")


def _port(name: str, raw: str) -> int:
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"{name} must be a port number between 1 and 65535")
    return int(raw)


def _shards(raw: str) -> str:
    raw = raw.lower()
    if raw == "auto" or (raw.isdigit() and int(raw) >= 1):
        return raw
    raise ConfigError("QUIZBOT_DISCORD_SHARDS must be 'auto' or a positive number of shards")


def _seconds(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 86_400:
        raise ConfigError(f"{name} must be a number of seconds (e.g. 30)")
    return value


def load_settings(environ: dict[str, str] | None = None, *, dotenv: bool = True) -> Settings:
    """Read settings from `environ` (default: the process environment plus the `.env` file of
    the current directory, whose values never override the environment's)."""
    if environ is None:
        if dotenv:
            from dotenv import load_dotenv

            # Not python-dotenv's find_dotenv(): it starts from the calling module's folder
            # (inside the installed package), not from where the command runs.
            try:
                here = Path.cwd()
            except OSError:  # the working directory was removed: no .env to read
                here = None
            if here is not None:
                load_dotenv(here / ".env", override=False)
        environ = dict(os.environ)
    env = {k: v.strip() for k, v in environ.items()}

    values: dict = {}
    if raw := env.get("QUIZBOT_DATABASE_URL"):
        values["database_url"] = _database_url(raw)
    if raw := env.get("TELEGRAM_BOT_TOKEN"):
        if ":" not in raw or any(c.isspace() for c in raw):
            raise ConfigError("TELEGRAM_BOT_TOKEN does not look like a bot token (id:secret)")
        values["telegram_token"] = Secret(raw)
    if raw := env.get("QUIZBOT_TELEGRAM_BASE_URL"):
        values["telegram_base_url"] = _http_url("QUIZBOT_TELEGRAM_BASE_URL", raw)
    if raw := env.get("QUIZBOT_TELEGRAM_WEBHOOK_URL"):
        values["telegram_webhook_url"] = _http_url("QUIZBOT_TELEGRAM_WEBHOOK_URL", raw)
    if raw := env.get("QUIZBOT_TELEGRAM_WEBHOOK_LISTEN"):
        values["telegram_webhook_listen"] = raw
    if raw := env.get("QUIZBOT_TELEGRAM_WEBHOOK_PORT"):
        values["telegram_webhook_port"] = _port("QUIZBOT_TELEGRAM_WEBHOOK_PORT", raw)
    if raw := env.get("QUIZBOT_TELEGRAM_WEBHOOK_SECRET"):
        values["telegram_webhook_secret"] = Secret(raw)
    if raw := env.get("DISCORD_BOT_TOKEN"):
        if any(c.isspace() for c in raw):
            raise ConfigError("DISCORD_BOT_TOKEN must not contain spaces")
        values["discord_token"] = Secret(raw)
    if raw := env.get("QUIZBOT_DISCORD_SHARDS"):
        values["discord_shards"] = _shards(raw)
    if raw := env.get("QUIZBOT_START_TIMEOUT"):
        values["start_timeout"] = _seconds("QUIZBOT_START_TIMEOUT", raw)
    if raw := env.get("QUIZBOT_CONTENT_DIR"):
        values["content_paths"] = tuple(Path(p).expanduser() for p in raw.split(os.pathsep) if p)
    if raw := env.get("QUIZBOT_LOG_LEVEL"):
        if raw.upper() not in LOG_LEVELS:
            raise ConfigError(f"QUIZBOT_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        values["log_level"] = raw.upper()
    return Settings(**values)
