"""A person's written input: cleaned of control characters, and checked for words."""

from __future__ import annotations

import unicodedata


def clean_text(text: str) -> str:
    """A person's text without control characters (PostgreSQL cannot even store NUL), keeping
    line breaks and tabs, trimmed."""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc"
                   ).strip()


def unreadable(text: str, what: str) -> str | None:
    """Why `text` cannot be taken as a written `what` (answer, reply, question), or None.

    Under two letters or digits is no answer: empty, only spaces or invisible characters
    (zero-width, control), or only emoji or punctuation.
    """
    if sum(ch.isalnum() for ch in text) >= 2:
        return None
    if not any(ch.isprintable() and not ch.isspace() for ch in text):
        return f"That {what} is empty. Please write your {what}."
    return f"That {what} has no words in it. Please write your {what} in words."
