"""What user-supplied text may look like when it reaches the database."""

from __future__ import annotations

# Control characters (NUL above all, which PostgreSQL refuses in text) never reach the database.
_CONTROL = dict.fromkeys(c for c in range(32) if chr(c) not in "\n\t")
_CONTROL[0x7F] = None


def is_clean_ref(ref: str) -> bool:
    """A platform reference we could have stored: short, printable, no control characters."""
    return 0 < len(ref) <= 128 and ref.isprintable()


def clean_text(text: str, limit: int) -> str:
    """User-supplied text as stored: no control characters, at most `limit` characters."""
    return text.translate(_CONTROL)[:limit]
