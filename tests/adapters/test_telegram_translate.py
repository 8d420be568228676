"""Raw Telegram updates (tests/fixtures/telegram/*.json) → core commands, for every kind."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bots.telegram.translate import EDITS_IGNORED, REPLY_AS_TEXT, Notice, translate
from core.commands import (
    ButtonPressed,
    InviteAccepted,
    MediaReceived,
    ReviewerText,
    TextReceived,
    UnsupportedReceived,
    UserCommand,
)
from core.refs import ChatRef, MediaRef, MessageRef, UserRef
from core.vocabulary import Verb

FIXTURES = Path(__file__).parent.parent / "fixtures" / "telegram"
BOT_ID = 123456789
BOT_NAME = "interviewbot_test_bot"
ADA = UserRef("telegram", "5551234")
ADA_CHAT = ChatRef("telegram", "5551234")
RITA = UserRef("telegram", "7770001")
GROUP = ChatRef("telegram", "-1001002003004")


def load(name: str) -> tuple[dict[str, Any], Update]:
    data = json.loads((FIXTURES / f"{name}.json").read_text())
    return data, Update.de_json(data, None)


PROMPT_TARGET = "fu:9f2c4e1a7b3d5e60:0a1b2c3d4e5f6a7b"
PROMPTS = {(str(GROUP), "88"): PROMPT_TARGET}  # the bot recorded message 88 as a prompt


def recorded(chat: ChatRef, message_id: str) -> str | None:
    return PROMPTS.get((str(chat), message_id))


def run(name: str) -> object:
    _, update = load(name)
    return translate(update, bot_username=BOT_NAME, bot_id=BOT_ID, prompts=recorded)


def delivery(name: str) -> str:
    data, _ = load(name)
    return f"telegram:update:{data['update_id']}"


def test_text() -> None:
    assert run("text") == TextReceived(
        ADA, ADA_CHAT, "I built a payment reconciliation service in Go.", delivery("text"))


def test_a_slash_without_a_command_entity_is_text() -> None:
    result = run("text_slash_path")
    assert isinstance(result, TextReceived)
    assert result.text.startswith("/usr/local")


def test_start_with_token_accepts_the_invitation() -> None:
    assert run("start_token") == InviteAccepted(
        ADA, ADA_CHAT, "Zk3q9vX2c8LmT0aBfR7yPw", delivery=delivery("start_token"), locale="en")


def test_start_carries_the_telegram_language_as_a_locale_hint() -> None:
    assert run("start_token_de") == InviteAccepted(
        ADA, ADA_CHAT, "Zk3q9vX2c8LmT0aBfR7yPw", delivery=delivery("start_token_de"),
        locale="de")


def test_language_command_carries_its_argument() -> None:
    assert run("language_de") == UserCommand(ADA, ADA_CHAT, Verb.LANGUAGE, delivery("language_de"),
                                             argument="de")


def test_start_without_token() -> None:
    assert run("start_plain") == InviteAccepted(ADA, ADA_CHAT, None,
                                                delivery=delivery("start_plain"), locale="en")


@pytest.mark.parametrize("name", ["help", "status", "withdraw", "delete"])
def test_user_commands(name: str) -> None:
    assert run(name) == UserCommand(ADA, ADA_CHAT, Verb(name), delivery(name))


def test_command_with_our_bot_name_in_a_private_chat() -> None:
    assert run("status_mention_private") == UserCommand(
        ADA, ADA_CHAT, Verb.STATUS, delivery("status_mention_private"))


def test_group_command_addressed_to_us_gets_help() -> None:
    assert run("help_group_mention") == UserCommand(RITA, GROUP, Verb.HELP,
                                                    delivery("help_group_mention"))


def test_group_command_for_another_bot_is_ignored() -> None:
    assert run("help_group_other_bot") is None


def test_voice_note() -> None:
    assert run("voice") == MediaReceived(ADA, ADA_CHAT, MediaRef(
        "telegram", "AwACAgIAAxkBAAIBVWVoice01", "voice", "audio/ogg", size=58213,
        duration=37.0), delivery("voice"))


def test_audio_file() -> None:
    assert run("audio") == MediaReceived(ADA, ADA_CHAT, MediaRef(
        "telegram", "CQACAgIAAxkBAAIBWAudio01", "audio", "audio/mpeg", size=1034112,
        duration=64.0, name="answer.mp3"), delivery("audio"))


def test_round_video_note() -> None:
    assert run("video_note") == MediaReceived(ADA, ADA_CHAT, MediaRef(
        "telegram", "DQACAgIAAxkBAAIBXNote01", "video_note", "video/mp4", size=412233,
        duration=12.0), delivery("video_note"))


def test_audio_document_is_media() -> None:
    assert run("document_audio") == MediaReceived(ADA, ADA_CHAT, MediaRef(
        "telegram", "BQACAgIAAxkBAAIBYDocAudio", "file", "audio/mp4", size=220431,
        name="voice memo.m4a"), delivery("document_audio"))


def test_oversized_voice_keeps_its_size_for_the_engine_to_refuse() -> None:
    result = run("voice_too_big")
    assert isinstance(result, MediaReceived)
    assert result.media.size == 23068672


@pytest.mark.parametrize(("name", "what"), [
    ("document_pdf", "document"),
    ("sticker", "sticker"),
    ("photo", "photo"),
    ("location", "location"),
    ("contact", "contact"),
    ("poll", "poll"),
    ("animation", "GIF"),
    ("forwarded_voice", "forwarded message"),
])
def test_unsupported(name: str, what: str) -> None:
    assert run(name) == UnsupportedReceived(ADA, ADA_CHAT, what)


def test_button_in_a_private_chat() -> None:
    data, _ = load("callback_private")
    assert run("callback_private") == ButtonPressed(
        ADA, ADA_CHAT, "kp:9f2c4e1a7b3d5e60:1c2d3e4f5a6b7c8d", MessageRef(ADA_CHAT, "15"),
        f"telegram:cbq:{data['callback_query']['id']}")


def test_button_in_a_review_group() -> None:
    result = run("callback_group")
    assert result == ButtonPressed(
        RITA, GROUP, "rt:9f2c4e1a7b3d5e60:0a1b2c3d4e5f6a7b:0:4", MessageRef(GROUP, "90"),
        "telegram:cbq:4382915472385112002")


def test_reply_to_a_ref_prompt_is_reviewer_text() -> None:
    assert run("reply_ref_group") == ReviewerText(
        RITA, GROUP, "fu:9f2c4e1a7b3d5e60:0a1b2c3d4e5f6a7b",
        "Could you say more about how you measured the latency?", delivery("reply_ref_group"))


def test_non_text_reply_to_a_ref_prompt_asks_for_text() -> None:
    assert run("reply_ref_voice") == Notice(GROUP, REPLY_AS_TEXT)


def test_ref_lines_from_other_bots_are_not_trusted() -> None:
    assert run("reply_other_bot") is None


def test_a_ref_line_in_a_message_routes_nothing_only_the_recorded_id_does() -> None:
    """A follow-up broadcast ends with the candidate's own text: a planted "ref:" line there
    must not route a reviewer's reply. Message 88 carries a "ref:" line; unrecorded, the reply
    is group chatter; recorded, it routes to what was recorded, not to what the text says."""
    _, update = load("reply_ref_group")
    assert translate(update, bot_username=BOT_NAME, bot_id=BOT_ID,
                     prompts=lambda chat, mid: None) is None
    assert translate(update, bot_username=BOT_NAME, bot_id=BOT_ID) is None
    other = "rq:9f2c4e1a7b3d5e60:1111222233334444"
    routed = translate(update, bot_username=BOT_NAME, bot_id=BOT_ID,
                       prompts=lambda chat, mid: other if (chat, mid) == (GROUP, "88") else None)
    assert isinstance(routed, ReviewerText) and routed.target == other


def test_group_chatter_is_ignored() -> None:
    assert run("group_chatter") is None


def test_edited_message_gets_a_polite_notice() -> None:
    assert run("edited_message") == Notice(ADA_CHAT, EDITS_IGNORED, ADA)


@pytest.mark.parametrize("name", ["channel_post", "my_chat_member"])
def test_other_updates_are_ignored(name: str) -> None:
    assert run(name) is None


def test_every_fixture_is_covered() -> None:
    source = Path(__file__).read_text()
    missing = [p.stem for p in FIXTURES.glob("*.json") if f'"{p.stem}"' not in source]
    assert not missing


def test_an_option_button_of_a_choice_question() -> None:
    from core import payloads as pl

    data, _ = load("callback_option")
    result = run("callback_option")
    assert result == ButtonPressed(
        ADA, ADA_CHAT, "ch:9f2c4e1a7b3d5e60:1:2", MessageRef(ADA_CHAT, "15"),
        f"telegram:cbq:{data['callback_query']['id']}")
    assert isinstance(result, ButtonPressed)
    assert pl.parse(result.payload) == pl.Payload(pl.CHOOSE, "9f2c4e1a7b3d5e60", ("1", "2"))
    assert pl.parse("ch:9f2c4e1a7b3d5e60:1:d") == pl.Payload(pl.CHOOSE, "9f2c4e1a7b3d5e60",
                                                             ("1", "d"))
