"""Invitation links."""

from __future__ import annotations

import httpx

from bots.settings import Settings


def bot_username(settings: Settings) -> str:
    """The Telegram bot's username, from getMe on the configured Bot API server."""
    if not settings.telegram_bot_token:
        raise RuntimeError("TELEGRAM_BOT_TOKEN is not set, so the bot's link is unknown")
    try:
        reply = httpx.get(f"{settings.telegram_api_url}{settings.telegram_bot_token}/getMe",
                          timeout=10).json()
    except (httpx.HTTPError, ValueError) as exc:
        raise RuntimeError(f"Telegram getMe failed: {exc}") from None
    if not reply.get("ok"):
        raise RuntimeError(f"Telegram getMe failed: {reply.get('description')}")
    return str(reply["result"]["username"])


def telegram_link(username: str, token: str) -> str:
    """The deep link that opens the bot with `/start <token>`."""
    return f"https://t.me/{username}?start={token}"
