"""The `quizbot` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.config import ConfigError, Settings, load_settings

log = logging.getLogger("quizbot")

DESCRIPTION = """\
A bilingual (English/Chinese) machine-learning glossary quiz bot for Telegram, Discord and the
terminal. Configuration comes from environment variables (or a .env file): see README.md."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quizbot", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    play = sub.add_parser(
        "play",
        help="play a quiz in the terminal",
        description="Play a quiz round in the terminal, at your own pace. Answers and scores "
        "are saved in the database (QUIZBOT_DATABASE_URL, by default a SQLite file).",
    )
    play.add_argument(
        "--count",
        type=_count,
        default=10,
        metavar="N",
        help="number of questions, 1-50 (default 10)",
    )
    play.add_argument(
        "--lang",
        choices=("en", "zh", "mixed"),
        default="mixed",
        help="glossary language of the questions (default mixed)",
    )
    play.add_argument(
        "--type",
        choices=("mc", "fill", "typed", "mixed"),
        default="mixed",
        dest="qtype",
        help="multiple choice, typed fill-in, or both (default mixed)",
    )
    play.add_argument(
        "--ui", choices=("en", "zh"), default=None, help="interface language (default: from $LANG)"
    )
    play.set_defaults(func=cmd_play)

    for kind, text in (
        ("practice", "study the terms due for review today, then new ones (spaced repetition)"),
        ("review", "replay the terms you missed in the last week"),
    ):
        study = sub.add_parser(
            kind,
            help=text,
            description=text[0].upper() + text[1:] + ". "
            "Progress is saved after every answer; quit with 'quit' or Ctrl-D.",
        )
        study.add_argument(
            "--ui",
            choices=("en", "zh"),
            default=None,
            help="interface language (default: from $LANG)",
        )
        study.set_defaults(func=cmd_practice, kind=kind)

    run = sub.add_parser(
        "run",
        help="run the bot on every platform whose token is set",
        description="Start the Telegram adapter when TELEGRAM_BOT_TOKEN is set and the Discord "
        "adapter when DISCORD_BOT_TOKEN is set, in one process. Stop with Ctrl-C.",
    )
    run.set_defaults(func=cmd_run)

    dbp = sub.add_parser(
        "db", help="database maintenance", description="Database maintenance commands."
    )
    db_sub = dbp.add_subparsers(dest="db_command", metavar="ACTION")
    upgrade = db_sub.add_parser(
        "upgrade",
        help="migrate the database to the newest schema",
        description="Apply every Alembic migration up to head. The bot also does this on start.",
    )
    upgrade.add_argument("revision", nargs="?", default="head", help="target (default head)")
    upgrade.set_defaults(func=cmd_db_upgrade)
    dbp.set_defaults(func=lambda args: _help(dbp))

    for module in ("bot.content.commands", "bot.content.question_commands"):
        try:
            register = __import__(module, fromlist=["register"]).register
        except ImportError:
            continue
        register(sub)
    return parser


def _count(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 50:
        raise argparse.ArgumentTypeError("must be a whole number from 1 to 50")
    return int(raw)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ConfigError as err:
        print(f"quizbot: configuration error: {err}", file=sys.stderr)
        return 2


def _settings() -> Settings:
    settings = load_settings()
    logging.basicConfig(
        level=getattr(logging, settings.log_level),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # Third-party HTTP logs can carry a bot token inside URLs: keep them quiet.
    for noisy in ("httpx", "httpcore", "telegram.ext.Updater", "discord.http"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return settings


def _glossary_problem(err: Exception) -> int:
    print("quizbot: the glossary is invalid:", file=sys.stderr)
    print(str(err), file=sys.stderr)
    return 1


def _in_terminal(args: argparse.Namespace, session) -> int:
    """Start the app on the configured database, run `session(console, runner, settings)` in
    this terminal, and close everything whatever happens."""
    import os

    from bot.adapters.console import ConsoleAdapter
    from bot.app import App
    from bot.content.glossary import GlossaryError
    from bot.i18n import interface_lang

    settings = _settings()
    logging.getLogger().setLevel(max(logging.WARNING, logging.getLogger().level))
    ui = interface_lang(args.ui, os.environ.get("LANG"))
    with asyncio.Runner() as runner:
        try:
            app = runner.run(App.create(settings))
        except GlossaryError as err:
            return _glossary_problem(err)
        try:
            console = ConsoleAdapter(app.hub, lang=ui)
            app.hub.add_adapter(console)
            return session(console, runner, settings)
        finally:
            runner.run(app.close())


def cmd_play(args: argparse.Namespace) -> int:
    from bot.core.services import RoundRequest
    from bot.i18n import t

    request = RoundRequest(questions=args.count, lang=args.lang, types=args.qtype, untimed=True)

    def session(console, runner, settings) -> int:
        console.say(t(console.lang, "console.welcome", total=args.count))
        status = console.play(runner, request)
        if settings.is_sqlite:
            path = settings.database_url.split("///", 1)[-1]
            console.say(t(console.lang, "console.saved", path=path))
        return status

    return _in_terminal(args, session)


def cmd_practice(args: argparse.Namespace) -> int:
    return _in_terminal(
        args, lambda console, runner, _settings: console.practice(runner, args.kind)
    )


def cmd_run(args: argparse.Namespace) -> int:
    from bot.runner import run_bots, run_event_loop

    settings = _settings()
    return run_event_loop(run_bots(settings))


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.storage import db

    settings = _settings()
    db.upgrade_sync(settings.database_url, args.revision)
    print(f"database is at {args.revision}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
