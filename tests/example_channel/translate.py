"""Raw example payloads (JSON objects) into engine commands: pure, tested from fixtures."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.commands import (
    ButtonPressed,
    Command,
    InviteAccepted,
    MediaReceived,
    TextReceived,
    UnsupportedReceived,
    UserCommand,
)
from core.refs import ChatRef, MediaRef, MessageRef, UserRef
from core.vocabulary import Verb
from tests.example_channel import CAPABILITIES

PLATFORM = CAPABILITIES.platform


def command(payload: Mapping[str, Any]) -> Command | None:
    """The command a payload means, None for what the bot ignores (its own messages,
    unknown event types). Delivery keys make a redelivered payload a no-op."""
    if payload.get("from_bot"):
        return None
    user = UserRef(PLATFORM, str(payload["user"]))
    chat = ChatRef(PLATFORM, str(payload["chat"]))
    delivery = f"{PLATFORM}:{payload['id']}"
    kind = payload.get("type")
    if kind == "open":  # the person opened an invitation link
        return InviteAccepted(user, chat, payload.get("token"), tz=payload.get("tz"),
                              delivery=delivery)
    if kind == "text":
        text = str(payload.get("text", ""))
        if text.startswith("!"):
            verb = Verb.parse(text[1:].split(" ", 1)[0]) or Verb.HELP
            return UserCommand(user, chat, verb, delivery)
        return TextReceived(user, chat, text, delivery)
    if kind == "press":
        message = MessageRef(chat, str(payload["message"]))
        return ButtonPressed(user, chat, str(payload["data"]), message, delivery)
    if kind == "audio":
        media = MediaRef(PLATFORM, str(payload["file"]), "voice", str(payload["mime"]),
                         size=payload.get("size"), duration=payload.get("seconds"))
        return MediaReceived(user, chat, media, delivery)
    if kind in ("sticker", "image"):
        return UnsupportedReceived(user, chat, str(kind))
    return None
