"""Invitation links."""

from __future__ import annotations

from bots.settings import Settings


def telegram_link(settings: Settings, token: str, username: str | None = None) -> str:
    """The deep link that opens the bot with `/start <token>`; the username comes from getMe."""
    if username is None:
        if not settings.telegram_bot_token:
            raise RuntimeError("TELEGRAM_BOT_TOKEN is not set, so the bot's link is unknown")
        import httpx

        reply = httpx.get(f"{settings.telegram_api_url}{settings.telegram_bot_token}/getMe",
                          timeout=10).json()
        if not reply.get("ok"):
            raise RuntimeError(f"Telegram getMe failed: {reply.get('description')}")
        username = reply["result"]["username"]
    return f"https://t.me/{username}?start={token}"
