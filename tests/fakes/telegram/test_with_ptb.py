"""The fake Telegram Bot API against the real python-telegram-bot: updates, files, buttons."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, TimedOut
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from fakes.telegram import FakeTelegram, find_button

from .helpers import VOICE, build_app, running


async def test_echo_bot_answers_a_text(fake: FakeTelegram) -> None:
    app = build_app(fake)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(f"echo: {update.message.text}")

    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    ada = fake.user(1001, first_name="Ada", username="ada")
    async with running(app):
        fake.send_text(ada, "hello")
        reply = await fake.wait_for_message(ada.id, contains="echo: hello")
    assert reply.payload["from"]["username"] == fake.bot_username
    assert fake.pending_updates == 0
    assert [call.method for call in fake.calls][:2] == ["getMe", "deleteWebhook"]


async def test_deep_link_command_reaches_command_handler(fake: FakeTelegram) -> None:
    app = build_app(fake)
    seen: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.set_result(list(context.args or []))

    app.add_handler(CommandHandler("start", start))
    async with running(app):
        fake.send_command(fake.user(1002, "Bo"), "/start", "invite-abc")
        assert await asyncio.wait_for(seen, 10) == ["invite-abc"]


async def test_voice_note_downloads_with_identical_bytes(fake: FakeTelegram) -> None:
    app = build_app(fake)
    data = VOICE.read_bytes()
    downloaded: asyncio.Future[tuple[bytes, str]] = asyncio.get_running_loop().create_future()

    async def on_voice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.voice is not None
        file = await update.message.voice.get_file()
        content = bytes(await file.download_as_bytearray())
        downloaded.set_result((content, str(file.file_path)))
        await update.message.reply_voice(content, duration=update.message.voice.duration)

    app.add_handler(MessageHandler(filters.VOICE, on_voice))
    ada = fake.user(1001, "Ada")
    async with running(app):
        fake.send_voice(ada, data, duration=4)
        content, file_path = await asyncio.wait_for(downloaded, 10)
        echoed = await fake.wait_for_message(ada.id, predicate=lambda m: m.media is not None)
    assert content == data
    assert file_path.startswith(f"{fake.file_url}{fake.token}/voice/")
    assert echoed.media == data
    assert echoed.payload["voice"]["duration"] == 4
    assert echoed.payload["voice"]["mime_type"] == "audio/ogg"


async def test_button_press_reaches_handler_and_second_answer_fails(fake: FakeTelegram) -> None:
    app = build_app(fake)
    outcome: asyncio.Future[tuple[str, str]] = asyncio.get_running_loop().create_future()

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Saved")
        try:
            await query.answer("again")
        except BadRequest as exc:
            outcome.set_result((str(query.data), exc.message))

    app.add_handler(CallbackQueryHandler(on_button))
    ada = fake.user(1001, "Ada", started=True)
    keyboard = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Keep", callback_data="keep:1")],
            [InlineKeyboardButton("Re-record (2 left)", callback_data="redo:1")],
        ]
    )
    async with running(app):
        await app.bot.send_message(ada.id, "Got it", reply_markup=keyboard)
        sent = fake.last_message(ada.id)
        assert sent.button_labels == ["Keep", "Re-record (2 left)"]
        fake.press_button(ada, sent, label="Re-record")
        data, error = await asyncio.wait_for(outcome, 10)
    assert data == "redo:1"
    assert "query is too old" in error.lower()
    assert [(a.text, a.data, a.user_id) for a in fake.callback_answers] == [
        ("Saved", "redo:1", ada.id)
    ]


async def test_edited_message_and_duplicate_delivery_reach_the_bot(fake: FakeTelegram) -> None:
    app = build_app(fake)
    seen: list[tuple[int, str]] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        seen.append((update.update_id, str(message.text)))

    app.add_handler(MessageHandler(filters.TEXT, record))
    ada = fake.user(1001, "Ada")
    async with running(app):
        first = fake.send_text(ada, "typo")
        fake.edit_text(ada, first, "fixed")
        await fake.wait_for(lambda: len(seen) == 2)
        fake.redeliver(first["update_id"])
        await fake.wait_for(lambda: len(seen) == 3)
    assert seen == [(1, "typo"), (2, "fixed"), (1, "typo")]


async def test_group_review_button_pressed_by_member(fake: FakeTelegram) -> None:
    app = build_app(fake)
    pressed: asyncio.Future[tuple[int, int]] = asyncio.get_running_loop().create_future()

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer()
        pressed.set_result((query.from_user.id, query.message.chat.id))

    app.add_handler(CallbackQueryHandler(on_button))
    group = fake.group(-1001234, "Hiring team")
    reviewer = fake.user(3001, "Rita")
    async with running(app):
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton(str(n), callback_data=f"rate:{n}") for n in range(1, 6)]]
        )
        await app.bot.send_message(group.id, "Answer 1", reply_markup=keyboard)
        card = fake.last_message(group.id)
        assert find_button(card.reply_markup, "4") == "rate:4"
        fake.press_button(reviewer, card, label="4")
        assert await asyncio.wait_for(pressed, 10) == (reviewer.id, group.id)


async def test_every_simulated_kind_parses_in_ptb(fake: FakeTelegram, bot: Bot) -> None:
    ada = fake.user(1001, "Ada", last_name="L", username="ada", language_code="pt")
    group = fake.group(-1001234567890, "Hiring team")
    fake.send_audio(ada, b"ID3", duration=5, file_name="answer.mp3", title="Answer")
    fake.send_video_note(ada, b"mp4-bytes", duration=7)
    fake.send_document(ada, b"%PDF", file_name="cv.pdf")
    fake.send_photo(ada, caption="me")
    fake.send_sticker(ada)
    fake.send_message(ada, {"location": {"latitude": 38.7, "longitude": -9.1}})
    fake.send_command(fake.user(3001, "Rita"), "/help", chat=group, mention=True)
    fake.block(ada)
    assert fake.group(-4001, "Small").type == "group"
    updates = await bot.get_updates()
    messages = [u.effective_message for u in updates[:7]]
    audio, note, document, photo, sticker, location, command = messages[:7]
    assert audio is not None and audio.audio is not None and audio.audio.file_name == "answer.mp3"
    assert note is not None and note.video_note is not None and note.video_note.length == 240
    assert document is not None and document.document is not None
    assert document.document.mime_type == "application/pdf"
    assert photo is not None and len(photo.photo) == 3 and photo.caption == "me"
    assert sticker is not None and sticker.sticker is not None
    assert location is not None and location.location is not None
    assert command is not None and command.chat.type == "supergroup"
    assert command.text == f"/help@{fake.bot_username}"
    assert updates[-1].my_chat_member is not None
    assert updates[-1].my_chat_member.new_chat_member.status == "kicked"
    file = await bot.get_file(note.video_note.file_id)
    assert bytes(await file.download_as_bytearray()) == b"mp4-bytes"


async def test_candidate_voice_copied_to_review_group(fake: FakeTelegram, bot: Bot) -> None:
    ada = fake.user(1001, "Ada")
    group = fake.group(-1001234, "Hiring team")
    update = fake.send_voice(ada, b"OggS-answer", duration=9)
    voice_id = update["message"]["voice"]["file_id"]
    await bot.send_voice(group.id, voice_id, caption="Answer 1 of 3")
    await bot.copy_message(group.id, ada.id, update["message"]["message_id"])
    resent, copied = fake.messages(group.id)
    assert resent.media == copied.media == b"OggS-answer"
    assert resent.text == "Answer 1 of 3"
    await bot.delete_message(group.id, copied.message_id)
    assert fake.messages(group.id) == [resent]
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(group.id, copied.message_id)


async def test_misc_methods(fake: FakeTelegram, bot: Bot) -> None:
    ada = fake.user(1001, started=True)
    await bot.set_my_commands([("status", "Progress and deadline"), ("help", "How it works")])
    assert [c.command for c in await bot.get_my_commands()] == ["status", "help"]
    assert await bot.send_chat_action(ada.id, "record_voice")
    with pytest.raises(BadRequest):
        await bot.send_chat_action(ada.id, "dancing")
    me = await bot.get_me()
    assert me.username == fake.bot_username and me.is_bot


async def test_slow_answer_times_out_client_but_is_still_processed(fake: FakeTelegram) -> None:
    ada = fake.user(1001, started=True)
    fake.delay_next("sendMessage", 0.2)
    async with Bot(fake.token, base_url=fake.api_url) as client:
        with pytest.raises(TimedOut):
            await client.send_message(ada.id, "slow", read_timeout=0.02)
    await fake.wait_for(lambda: fake.messages(ada.id))
    assert fake.last_message(ada.id).text == "slow"
