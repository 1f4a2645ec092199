"""The `quizbot` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.config import ConfigError, Settings, load_settings
from bot.errors import StartupError

log = logging.getLogger("quizbot")

# `quizbot play`'s round options when not given.
# lang None: the chat's (the terminal's interface language, unless `settings lang` chose).
PLAY_DEFAULTS = {"count": 10, "lang": None, "qtype": "mixed"}
PLAY_FLAGS = {"count": "--count", "lang": "--lang", "qtype": "--type"}

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
    # The round options default to None, so that a resumed round can tell which were given.
    play.add_argument(
        "--count",
        type=_count,
        default=None,
        metavar="N",
        help=f"number of questions, 1-50 (default {PLAY_DEFAULTS['count']})",
    )
    play.add_argument(
        "--lang",
        choices=("en", "zh", "mixed"),
        default=None,
        help="glossary language of the questions (default: the interface language, --ui)",
    )
    play.add_argument(
        "--type",
        choices=("mc", "fill", "typed", "mixed"),
        default=None,
        dest="qtype",
        help=f"multiple choice, typed fill-in, or both (default {PLAY_DEFAULTS['qtype']})",
    )
    play.add_argument(
        "--new",
        action="store_true",
        help="stop the round left unfinished here, if any (its answers stay saved), and start "
        "a new one; without it, an unfinished round is resumed",
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
        if kind == "practice":
            study.add_argument(
                "--more",
                action="store_true",
                help="more new terms than today's limit (after it says the limit is reached)",
            )
        study.add_argument(
            "--ui",
            choices=("en", "zh"),
            default=None,
            help="interface language (default: from $LANG)",
        )
        study.set_defaults(func=cmd_practice, kind=kind, more=False)

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
    from bot.logs import redact

    try:
        code = int(args.func(args) or 0)
    except ConfigError as err:
        print(f"quizbot: configuration error: {redact(str(err))}", file=sys.stderr)
        code = 2
    except StartupError as err:
        # One line says what is wrong and what to do; the details are for DEBUG.
        log.debug("the failure in detail", exc_info=True)
        print(f"quizbot: {redact(str(err))}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        print("quizbot: stopped", file=sys.stderr)
        code = 130
    if argv is None:  # the command itself, not a test calling main()
        _leave_if_held_up(code)
    return code


def _leave_if_held_up(code: int) -> None:
    """Do not let work the command stopped waiting for (a migration stopped by Ctrl-C, a
    database connection's thread) hold the process up: exit at once. Whatever it was doing is
    one transaction, rolled back when the process ends."""
    import threading

    db = sys.modules.get("bot.storage.db")
    held = db is not None and db.migration_left_running()
    if not held:
        others = [
            t
            for t in threading.enumerate()
            if t is not threading.current_thread() and t.is_alive() and not t.daemon
        ]
        for thread in others:
            thread.join(timeout=1.0 / max(len(others), 1))
        held = any(t.is_alive() for t in others)
    if held:
        from bot.runner import leave_now

        leave_now(code)


def _settings() -> Settings:
    from bot.logs import configure, hide_secrets

    settings = load_settings()
    hide_secrets(*settings.secrets())
    # One line a record, secrets hidden, the libraries' URL logs (Bot API URLs hold the
    # token) and start-up chatter kept out.
    configure(settings.log_level)
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

    given = {k: getattr(args, k) for k in PLAY_DEFAULTS if getattr(args, k) is not None}
    chosen = {**PLAY_DEFAULTS, **given}
    request = RoundRequest(
        questions=chosen["count"], lang=chosen["lang"], types=chosen["qtype"], untimed=True
    )
    # The options as typed, for "quit and run: quizbot play --new --count 2 ..." on a resume.
    options = tuple(word for k, v in given.items() for word in (PLAY_FLAGS[k], str(v)))

    def session(console, runner, settings) -> int:
        # The round's own first line says how many questions (or which it resumes).
        console.say(t(console.lang, "console.intro"))
        status = console.play(runner, request, new=args.new, options=options)
        if settings.is_sqlite:
            path = settings.database_url.split("///", 1)[-1]
            console.say(t(console.lang, "console.saved", path=path))
        return status

    return _in_terminal(args, session)


def cmd_practice(args: argparse.Namespace) -> int:
    return _in_terminal(
        args,
        lambda console, runner, _settings: console.practice(runner, args.kind, more=args.more),
    )


def cmd_run(args: argparse.Namespace) -> int:
    from bot.runner import run_bots, run_event_loop

    settings = _settings()
    return run_event_loop(run_bots(settings))


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from bot.storage import db

    settings = _settings()
    # In a thread of its own, so that Ctrl-C stops the command at once (the migration's
    # transaction is then rolled back).
    asyncio.run(db.upgrade(settings.database_url, args.revision))
    print(f"database is at {args.revision}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
