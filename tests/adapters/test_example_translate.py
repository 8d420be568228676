"""The example channel's translation, from raw payload fixtures (tests/fixtures/example/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.commands import (
    ButtonPressed,
    InviteAccepted,
    MediaReceived,
    TextReceived,
    UnsupportedReceived,
    UserCommand,
)
from core.refs import ChatRef, MediaRef, MessageRef, UserRef
from core.vocabulary import Verb
from tests.example_channel.translate import command

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "example"
ADA = UserRef("example", "u-ada")
DM = ChatRef("example", "dm-ada")


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def test_opening_an_invitation_carries_the_profile_zone() -> None:
    assert command(load("open")) == InviteAccepted(ADA, DM, "TOKEN", tz="Europe/Lisbon",
                                                   delivery="example:ev-1")


@pytest.mark.parametrize(("name", "verb"), [("status", Verb.STATUS),
                                            ("unknown_command", Verb.HELP)])
def test_commands_are_words_of_the_vocabulary(name: str, verb: Verb) -> None:
    found = command(load(name))
    assert isinstance(found, UserCommand) and found.name is verb


def test_text_button_audio_and_the_rest() -> None:
    assert command(load("text")) == TextReceived(ADA, DM, "I found a race in the cache.",
                                                 "example:ev-4")
    assert command(load("press")) == ButtonPressed(
        ADA, DM, "cs:0123456789abcdef", MessageRef(DM, "7"), "example:ev-5")
    assert command(load("audio")) == MediaReceived(ADA, DM, MediaRef(
        "example", "tests/fixtures/audio/voice.ogg", "voice", "audio/ogg", size=58213,
        duration=6.0), "example:ev-6")
    assert command(load("sticker")) == UnsupportedReceived(ADA, DM, "sticker")
    assert command(load("from_bot")) is None
