"""OutMessage → Bot API shapes, and the force-reply round trip through `translate`."""

from __future__ import annotations

from telegram import ForceReply, InlineKeyboardMarkup, Update

from bots.telegram.render import chunks, clip, is_voice, render
from bots.telegram.translate import translate
from core.commands import ReviewerText
from core.messages import Audio, Button, OutMessage


def test_buttons_become_an_inline_keyboard_with_payloads_as_callback_data() -> None:
    message = OutMessage("Keep it?", ((Button("Keep", "kp:1:2", "primary"),
                                       Button("Re-record (1 left)", "rr:1:2")),))
    rendered = render(message)
    assert rendered.text == "Keep it?"
    assert isinstance(rendered.markup, InlineKeyboardMarkup)
    row = rendered.markup.inline_keyboard[0]
    assert [(b.text, b.callback_data, b.style) for b in row] == [
        ("Keep", "kp:1:2", "primary"), ("Re-record (1 left)", "rr:1:2", None)]


def test_plain_message_has_no_markup() -> None:
    assert render(OutMessage("Hello")).markup is None


def test_title_and_fields_are_lines_of_text() -> None:
    message = OutMessage("Body", title="Card", fields=(("Length", "2:10"),))
    assert render(message).text == "Card\nBody\nLength: 2:10"


def test_ask_reply_is_a_selective_force_reply_routed_by_its_message_id() -> None:
    target = "fu:9f2c4e1a7b3d5e60:0a1b2c3d4e5f6a7b"
    rendered = render(OutMessage("Reply with your question.", ask_reply=target))
    assert isinstance(rendered.markup, ForceReply)
    assert rendered.markup.selective is True
    assert rendered.text == "Reply with your question."  # no routing data in the text
    group = {"id": -1001, "type": "supergroup", "title": "Reviews"}
    bot = {"id": 42, "is_bot": True, "first_name": "Bot", "username": "ib_bot"}
    rita = {"id": 7, "is_bot": False, "first_name": "Rita"}
    update = Update.de_json({"update_id": 9, "message": {
        "message_id": 2, "from": rita, "chat": group, "date": 1, "text": "Why Go?",
        "reply_to_message": {"message_id": 1, "from": bot, "chat": group, "date": 1,
                             "text": rendered.text}}}, None)
    command = translate(update, bot_username="ib_bot", bot_id=42,
                        prompts=lambda chat, mid: target if mid == "1" else None)
    assert isinstance(command, ReviewerText)
    assert (command.target, command.text) == (target, "Why Go?")


def test_long_texts_split_at_line_breaks_within_the_limit() -> None:
    text = "\n".join(f"line {i} " + "x" * 50 for i in range(200))
    parts = chunks(text, 4096)
    assert all(len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == text
    assert chunks("y" * 9000, 4096) == ["y" * 4096, "y" * 4096, "y" * 808]


def test_clip_marks_the_cut() -> None:
    assert clip("abc", 5) == "abc"
    assert clip("abcdefgh", 5) == "abcd…"


def test_small_ogg_opus_goes_as_a_voice_note_else_as_audio() -> None:
    ogg = Audio("/x/review.ogg", "audio/ogg", "Question 1", 30.0)
    assert is_voice(ogg, 400_000)
    assert not is_voice(ogg, 1_500_000)
    assert not is_voice(Audio("/x/review.m4a", "audio/mp4", "Question 1", 30.0), 10_000)
