"""The log of the `quizbot` command: one line a record on stderr, no secret in it, and only
what an operator needs from the libraries.

* Secrets (the bot tokens, the webhook secret, the database password) are replaced by `***` in
  every record the handler writes, tracebacks included, and in the one-line errors the command
  prints (`redact`). This is the safety net: the code and the libraries are also kept from
  printing them in the first place (Bot API URLs hold the token, so the loggers that print
  request URLs are kept at WARNING).
* Library chatter at start-up is kept out (Alembic's plugin set-up, discord.py's "voice will NOT
  be supported"), and a library's report of a lost connection that it retries itself is one line,
  not a traceback a try (`OneLine`).
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterable
from urllib.parse import quote

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
HIDDEN = "***"
MIN_PART = 8  # shorter parts of a secret (a token's id) are not hidden on their own

# Loggers that print request URLs, which hold the Telegram token, at DEBUG or INFO.
URL_LOGGERS = ("httpx", "httpcore", "telegram.ext.ExtBot", "telegram.Bot", "discord.http")
# Chatty at INFO about things an operator does not act on; their warnings still show.
QUIET_AT_INFO = ("alembic", "telegram.ext.Application", "telegram.ext.Updater")
# Loggers of the libraries' own reconnect loops: a retried failure is one line, not a traceback.
RETRY_LOGGERS = ("telegram.ext", "telegram.ext.Updater", "discord.client", "discord.shard")
# discord.py warns at every start that voice is not supported: the bot has no voice feature.
DROPPED = ("voice will NOT be supported",)


class Redactor:
    """Replaces every known secret (and its URL-encoded form) in a text by `***`."""

    def __init__(self) -> None:
        self._forms: list[str] = []
        self._lock = threading.Lock()

    def add(self, secret: str, *, whole_only: bool = False) -> None:
        """Hide `secret`; a token's secret half too (`id:secret`, `a.b.secret`) unless
        `whole_only`."""
        if not secret:
            return
        forms = {secret, quote(secret, safe=""), quote(secret)}
        if not whole_only:
            for sep in (":", "."):
                tail = secret.rpartition(sep)[2]
                if sep in secret and len(tail) >= MIN_PART:
                    forms |= {tail, quote(tail, safe="")}
        with self._lock:
            known = set(self._forms) | {f for f in forms if f}
            self._forms = sorted(known, key=len, reverse=True)  # longest first

    def add_password(self, password: str) -> None:
        """A password may be short and an ordinary word: alone it is hidden only when long
        enough not to blank out other words; in a URL (`:pw@`) always."""
        if not password:
            return
        with self._lock:
            forms = {f":{password}@", f":{quote(password, safe='')}@"}
            if len(password) >= 4:
                forms |= {password, quote(password, safe="")}
            known = set(self._forms) | forms
            self._forms = sorted(known, key=len, reverse=True)

    def clear(self) -> None:
        with self._lock:
            self._forms = []

    def __call__(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                in_url = form.startswith(":") and form.endswith("@")
                text = text.replace(form, f":{HIDDEN}@" if in_url else HIDDEN)
        return text

    def __bool__(self) -> bool:
        return bool(self._forms)


REDACTOR = Redactor()


def redact(text: str) -> str:
    """`text` without any secret the command knows of."""
    return REDACTOR(text)


def hide_secrets(secrets: Iterable[str], passwords: Iterable[str] = ()) -> None:
    for secret in secrets:
        REDACTOR.add(secret)
    for password in passwords:
        REDACTOR.add_password(password)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message, traceback and stack without secrets (a handler's filter:
    it sees every record the handler writes, whichever logger it came from)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not REDACTOR:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging reports it itself
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class OneLine(logging.Filter):
    """A library logs a failure it retries with its traceback, once a try (python-telegram-bot's
    polling loop, discord.py's reconnect): keep the line, with the error's type and message in
    place of the traceback. Records of other levels and without an error pass unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        if any(dropped in message for dropped in DROPPED):
            return False
        if record.exc_info and record.exc_info[1] is not None:
            err = record.exc_info[1]
            detail = str(err).strip().splitlines()[0] if str(err).strip() else ""
            summary = f"{type(err).__name__}: {detail}" if detail else type(err).__name__
            record.msg, record.args = f"{message} ({summary})", None
            record.exc_info, record.exc_text = None, None
            if record.levelno > logging.WARNING:
                record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


_ONE_LINE = OneLine()


def quiet_libraries(level: int) -> None:
    """Keep secrets and chatter out of the libraries' logs at `level`."""
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        logger.setLevel(max(logging.WARNING, level))
    for name in QUIET_AT_INFO:
        if level > logging.DEBUG:
            logging.getLogger(name).setLevel(max(logging.WARNING, level))
    for name in RETRY_LOGGERS:
        logger = logging.getLogger(name)
        if _ONE_LINE not in logger.filters:
            logger.addFilter(_ONE_LINE)


def configure(level_name: str = "INFO") -> None:
    """Log to stderr at `level_name`, every line without secrets; quiet the libraries."""
    level = getattr(logging, level_name, logging.INFO)
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "quizbot", False)), None)
    if handler is None and not root.handlers:
        handler = logging.StreamHandler()
        handler.quizbot = True  # type: ignore[attr-defined]
        handler.setFormatter(logging.Formatter(FORMAT))
        root.addHandler(handler)
    for each in root.handlers:  # under pytest its capture handlers are the root's
        if not any(isinstance(f, RedactingFilter) for f in each.filters):
            each.addFilter(RedactingFilter())
    root.setLevel(level)
    quiet_libraries(level)
    _guard_uncaught()


def _guard_uncaught() -> None:
    """A traceback that reaches the top (a bug) is printed without secrets too."""
    if getattr(sys.excepthook, "quizbot", False):
        return
    import traceback

    def excepthook(kind, value, tb) -> None:
        text = "".join(traceback.format_exception(kind, value, tb))
        sys.stderr.write(redact(text))

    def thread_hook(args) -> None:
        if args.exc_type is SystemExit:
            return
        text = "".join(
            traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback)
        )
        name = args.thread.name if args.thread else "?"
        sys.stderr.write(f"Exception in thread {name}:\n{redact(text)}")

    excepthook.quizbot = True  # type: ignore[attr-defined]
    sys.excepthook = excepthook
    threading.excepthook = thread_hook
