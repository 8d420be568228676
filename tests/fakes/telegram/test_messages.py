"""Messages and files as the Bot API checks them: edits, text and button limits, getFile."""

from __future__ import annotations

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from fakes.telegram import FakeTelegram


async def test_edit_must_change_something(fake: FakeTelegram, bot: Bot) -> None:
    fake.rate_limits = None  # six raw calls at once in one chat, no limiter: the edit rules only
    ada = fake.user(1001, started=True)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Done", callback_data="done")]])
    sent = await bot.send_message(
        ada.id, "<b>Question 1 of 3</b>", parse_mode="HTML", reply_markup=keyboard
    )
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "<b>Question 1 of 3</b>",
            chat_id=ada.id,
            message_id=sent.message_id,
            parse_mode="HTML",
            reply_markup=keyboard,
        )
    await bot.edit_message_text("Question 1 of 3 ✓", chat_id=ada.id, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(chat_id=ada.id, message_id=sent.message_id)
    message = fake.message(ada.id, sent.message_id)
    assert message.text == "Question 1 of 3 ✓"
    assert message.reply_markup is None
    assert message.history[0]["entities"][0]["type"] == "bold"
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=ada.id, message_id=999)


async def test_limits_on_text_and_buttons(fake: FakeTelegram, bot: Bot) -> None:
    fake.rate_limits = None  # six raw sends at once in one chat, no limiter: the size rules only
    ada = fake.user(1001, started=True)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(ada.id, "x" * 4097)
    await bot.send_message(ada.id, "x" * 4096)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("Rate", callback_data="r" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(ada.id, "rate", reply_markup=too_long)
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(ada.id, "1 < 2 <i>oops", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)reserved"):
        await bot.send_message(ada.id, "Deadline: 1.5.", parse_mode="MarkdownV2")
    await bot.send_message(ada.id, r"*Deadline:* 1\.5\.", parse_mode="MarkdownV2")
    assert fake.last_message(ada.id).text == "Deadline: 1.5."


async def test_get_file_refuses_files_over_20_mb(fake: FakeTelegram, bot: Bot) -> None:
    ada = fake.user(1001)
    update = fake.send_voice(ada, b"OggS-small", duration=1500, file_size=25 * 1024 * 1024)
    voice = update["message"]["voice"]
    assert voice["file_size"] == 25 * 1024 * 1024
    with pytest.raises(BadRequest, match=r"(?i)file is too big"):
        await bot.get_file(voice["file_id"])
    with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
        await bot.get_file("nope")
