"""Settings from the environment: good values load, bad ones stop with one clear line."""

import pytest

from bot.cli import main
from bot.config import DEFAULT_TELEGRAM_BASE_URL, ConfigError, Secret, load_settings


def test_defaults_use_the_embedded_sqlite_file(tmp_path, monkeypatch):
    monkeypatch.setenv("QUIZBOT_DATA_DIR", str(tmp_path))
    settings = load_settings({"QUIZBOT_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite+aiosqlite:///{tmp_path / 'quizbot.sqlite3'}"
    assert settings.telegram_base_url == DEFAULT_TELEGRAM_BASE_URL
    assert not settings.telegram_token and not settings.discord_token


def test_plain_database_urls_get_the_async_driver():
    s = load_settings({"QUIZBOT_DATABASE_URL": "postgresql://bot:pw@db.example/quiz"})
    assert s.database_url == "postgresql+asyncpg://bot:pw@db.example/quiz"
    s = load_settings({"QUIZBOT_DATABASE_URL": "sqlite:///x.sqlite3"})
    assert s.database_url == "sqlite+aiosqlite:///x.sqlite3"


def test_the_file_url_is_derived_from_the_base_url():
    s = load_settings({"QUIZBOT_TELEGRAM_BASE_URL": "http://127.0.0.1:8081/bot/"})
    assert s.telegram_base_url == "http://127.0.0.1:8081/bot"
    assert s.telegram_base_file_url == "http://127.0.0.1:8081/file/bot"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"QUIZBOT_DATABASE_URL": "not a url"}, "not a valid SQLAlchemy URL"),
        ({"QUIZBOT_DATABASE_URL": "mysql://x@y/z"}, "unsupported database 'mysql'"),
        ({"QUIZBOT_TELEGRAM_BASE_URL": "ftp://x"}, "http:// or https://"),
        ({"TELEGRAM_BOT_TOKEN": "nocolon"}, "does not look like a bot token"),
        ({"QUIZBOT_TELEGRAM_WEBHOOK_PORT": "99999"}, "port number"),
        ({"QUIZBOT_LOG_LEVEL": "LOUD"}, "QUIZBOT_LOG_LEVEL"),
    ],
)
def test_bad_values_raise_one_line_errors(env, message):
    with pytest.raises(ConfigError, match=message) as err:
        load_settings(env)
    assert "\n" not in str(err.value)


def test_tokens_never_print():
    secret_value = "123456:SUPER-SECRET"
    s = load_settings({"TELEGRAM_BOT_TOKEN": secret_value, "DISCORD_BOT_TOKEN": "abc.def"})
    assert secret_value not in repr(s) and secret_value not in str(s)
    assert s.telegram_token.reveal() == secret_value
    assert repr(Secret("x")) == "Secret('***')"


def test_a_bad_value_stops_the_cli_without_a_traceback(monkeypatch, capsys):
    monkeypatch.setenv("QUIZBOT_DATABASE_URL", "::::")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:SECRET-TOKEN")
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "QUIZBOT_DATABASE_URL" in err
    assert "Traceback" not in err and "SECRET-TOKEN" not in err


def test_run_without_tokens_says_what_to_set(monkeypatch, capsys, tmp_path):
    for name in ("TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "TELEGRAM_BOT_TOKEN" in err and "DISCORD_BOT_TOKEN" in err and "quizbot play" in err


@pytest.mark.parametrize(
    "argv", [["--help"], ["play", "--help"], ["run", "--help"], ["db", "upgrade", "--help"]]
)
def test_every_command_has_useful_help(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "usage: quizbot" in out and len(out.splitlines()) > 3
