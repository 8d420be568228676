"""Slack channel: Bolt in HTTP or Socket Mode, Block Kit rendering, the Web API messenger."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bots.channels import ChannelDeclaration
from core.capabilities import AudioFormat, Capabilities, IdSyntax, TimeZoneSource
from core.i18n import N_

if TYPE_CHECKING:
    from bots.channels import Channel
    from bots.settings import Settings
    from core.engine import Engine

CAPABILITIES = Capabilities(
    platform="slack",
    time_zone=TimeZoneSource.PROFILE,  # the adapter reads the person's zone from users.info
    command_syntax="/interview {}",  # one slash command, the verb as its argument
    inline_audio=AudioFormat.M4A_AAC,  # plays inline in every Slack client
    record_voice=N_("hold the microphone button"),
    ids=IdSyntax(
        people=r"[UW].*", groups=r"S.*", chat_help="<channel, user or user group id>",
        person_help="U…", group_help="a Slack user group (slack:S…)",
        chat_examples=("C0REVIEWS",), person_examples=("U0ADA", "S0LEADS")),
)


def _make(settings: Settings, engine: Engine) -> Channel:
    from bots.slack.channel import SlackChannel

    return SlackChannel(settings, engine)


CHANNEL = ChannelDeclaration(
    capabilities=CAPABILITIES,
    enabled=lambda settings: bool(settings.slack_bot_token),
    make=_make,
    token_pattern=r"xox[a-z]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+",  # bot, user, app-level tokens
)
