"""The console channel: the person at the terminal is the candidate, then the reviewer.

It runs when no other channel is enabled (`interviewbot run` with no credentials), so it
declares no `enabled`/`make`: `bots.app.run_console` starts it on the bundled script.
"""

from __future__ import annotations

from bots.channels import ChannelDeclaration
from core.capabilities import AudioFormat, Capabilities, TimeZoneSource

CAPABILITIES = Capabilities(
    platform="console",
    time_zone=TimeZoneSource.INVITATION,  # the person at the terminal: no question asked
    command_syntax="/{}",
    inline_audio=AudioFormat.OGG_OPUS,
    record_voice="send /voice and the file's path",
)

CHANNEL = ChannelDeclaration(capabilities=CAPABILITIES)
