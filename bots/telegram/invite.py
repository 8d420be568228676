"""Invitation deep links: `https://t.me/<bot username>?start=<token>`.

`bots.links.telegram_link` (the CLI's `invite --telegram`) asks getMe for the username over
plain HTTP at TELEGRAM_API_URL; the running channel knows it from PTB's own getMe. Both build
the link the same way.
"""

from __future__ import annotations

import re

START_PARAMETER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what Telegram passes on to /start


def deep_link(username: str, token: str) -> str:
    """The link that opens a chat with the bot and sends `/start <token>`."""
    if token != "<token>" and not START_PARAMETER.match(token):
        raise ValueError("a /start parameter is 1-64 characters of A-Z, a-z, 0-9, _ and -")
    return f"https://t.me/{username}?start={token}"
