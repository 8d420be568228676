"""The Telegram channel: python-telegram-bot adapter for candidates and review groups."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bots.channels import ChannelDeclaration
from bots.logs import webhook_secret_for
from core.capabilities import AudioFormat, Capabilities, IdSyntax, TimeZoneSource
from core.i18n import N_

if TYPE_CHECKING:
    from bots.app import App
    from bots.channels import Channel
    from bots.settings import Settings
    from core.engine import Engine

CAPABILITIES = Capabilities(
    platform="telegram",
    time_zone=TimeZoneSource.ASK,  # Telegram does not tell a bot where a person is
    command_syntax="/{}",
    inline_audio=AudioFormat.OGG_OPUS,  # shown as a voice message
    record_voice=N_("hold the microphone button"),
    max_download=20 * 1024 * 1024,  # what the Bot API lets a bot download
    ids=IdSyntax(people=r"\d+", chat_help="<chat or user id>", person_help="<user id>",
                 chat_examples=("-1001234",), person_examples=("123456",)),
)


def _make(settings: Settings, engine: Engine) -> Channel:
    from bots.telegram.channel import TelegramChannel

    return TelegramChannel(settings, engine)


def _derived(name: str, value: str) -> tuple[str, ...]:
    """The webhook secret derived from the bot token (`bots.telegram.channel.webhook_secret`)."""
    lowered = name.lower()
    return (webhook_secret_for(value),) if "telegram" in lowered and "token" in lowered else ()


async def _on_start(app: App) -> object:
    from bots.telegram.rights import warn_without_delete_rights

    return await warn_without_delete_rights(app)


CHANNEL = ChannelDeclaration(
    capabilities=CAPABILITIES,
    enabled=lambda settings: bool(settings.telegram_bot_token),
    make=_make,
    token_pattern=r"\d+:[A-Za-z0-9_-]{30,}",  # a bot token
    derived_secrets=_derived,
    on_start=_on_start,
)
