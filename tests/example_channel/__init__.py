"""An example chat channel: the smallest complete one, the template of docs/adding-a-channel.md.

Its "platform" is in-process: people's messages arrive as JSON payloads handed to
`ExampleChannel.receive` (a real channel gets them from a webhook or a socket), and what the
bot sends is kept in `ExampleMessenger.sent`. Tests register it with one line,
`REGISTERED.append("tests.example_channel")`, exactly as a channel under bots/ is
registered in bots/channels.py.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from bots.channels import ChannelDeclaration
from core.capabilities import AudioFormat, Capabilities, IdSyntax, TimeZoneSource

if TYPE_CHECKING:
    from bots.channels import Channel
    from bots.settings import Settings
    from core.engine import Engine

TOKEN_VARIABLE = "EXAMPLE_CHAT_TOKEN"  # the channel's own setting: enables it when set

CAPABILITIES = Capabilities(
    platform="example",
    time_zone=TimeZoneSource.PROFILE,  # each payload that opens an invitation carries a zone
    command_syntax="!{}",  # people type !status, !help...
    inline_audio=AudioFormat.M4A_AAC,
    record_voice="tap Record",
    max_download=5 * 1024 * 1024,
    ids=IdSyntax(people=r"u-\w+", groups=r"team-\w+", chat_help="<room or person id>",
                 person_help="u-…", group_help="a team (example:team-…)",
                 chat_examples=("room-reviews",), person_examples=("u-ada", "team-leads")),
)


def token() -> str | None:
    """The channel's credential, from the environment (a channel may read its own settings)."""
    return os.environ.get(TOKEN_VARIABLE) or None


def _make(settings: Settings, engine: Engine) -> Channel:
    from tests.example_channel.channel import ExampleChannel

    return ExampleChannel(engine)


CHANNEL = ChannelDeclaration(
    capabilities=CAPABILITIES,
    enabled=lambda _settings: token() is not None,
    make=_make,
    token_pattern=r"exm-[A-Za-z0-9]{16,}",
)
