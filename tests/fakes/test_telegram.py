"""The fake Telegram Bot API against the real python-telegram-bot, and at the HTTP level."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from fakes.telegram import FakeTelegram, RateLimits, find_button

VOICE = Path(__file__).resolve().parents[1] / "fixtures" / "audio" / "voice.ogg"


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.api_url, base_file_url=fake.file_url) as client:
        yield client


def build_app(fake: FakeTelegram) -> Application[Any, Any, Any, Any, Any, Any]:
    return (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.api_url)
        .base_file_url(fake.file_url)
        .job_queue(None)
        .build()
    )


@contextlib.asynccontextmanager
async def running(app: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[None]:
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=5)
        try:
            yield
        finally:
            await app.updater.stop()
            await app.stop()


async def raw_post(
    fake: FakeTelegram, method: str, token: str | None = None, **data: Any
) -> tuple[int, dict[str, Any], Any]:
    url = f"{fake.api_url}{token or fake.token}/{method}"
    async with aiohttp.ClientSession() as session, session.post(url, json=data) as response:
        return response.status, dict(response.headers), await response.json()


# ------------------------------------------------------------------ with python-telegram-bot


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


async def test_injected_429_surfaces_as_retry_after(fake: FakeTelegram, bot: Bot) -> None:
    ada = fake.user(1001, started=True)
    fake.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(ada.id, "hi")
    assert caught.value.retry_after == dtm.timedelta(seconds=3)
    await bot.send_message(ada.id, "hi")
    assert [call.status for call in fake.calls_to("sendMessage")] == [429, 200]
    assert len(fake.messages(ada.id)) == 1


async def test_server_errors_and_dropped_connections_are_network_errors(
    fake: FakeTelegram, bot: Bot
) -> None:
    ada = fake.user(1001, started=True)
    fake.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError, match=r"(?i)Bad Gateway"):
        await bot.send_message(ada.id, "one")
    fake.drop_next("sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(ada.id, "two")
    await bot.send_message(ada.id, "three")
    assert [m.text for m in fake.messages(ada.id)] == ["three"]


async def test_bot_cannot_write_first_or_to_unknown_chats(fake: FakeTelegram, bot: Bot) -> None:
    ada = fake.user(1001, "Ada")
    with pytest.raises(Forbidden, match=r"(?i)bot can't initiate conversation with a user"):
        await bot.send_message(ada.id, "hello?")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "hello?")
    fake.send_command(ada, "/start")
    await bot.send_message(ada.id, "welcome")
    fake.block(ada)
    with pytest.raises(Forbidden, match=r"(?i)blocked"):
        await bot.send_message(ada.id, "still there?")


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


async def test_token_bucket_counts_429s() -> None:
    now = [1000.0]
    limits = RateLimits(overall_per_second=30, private_chat_per_second=1, group_per_minute=20)
    async with (
        FakeTelegram(rate_limits=limits, clock=lambda: now[0]) as fake,
        Bot(fake.token, base_url=fake.api_url) as client,
    ):
        ada = fake.user(1001, started=True)
        group = fake.group(-100123, "Reviewers")
        for word in ("one", "two", "three"):  # a private chat tolerates a short burst
            await client.send_message(ada.id, word)
        for _ in range(2):
            with pytest.raises(RetryAfter):
                await client.send_message(ada.id, "too soon")
        for n in range(20):
            await client.send_message(group.id, f"review {n}")
        with pytest.raises(RetryAfter):
            await client.send_message(group.id, "21st in a minute")
        now[0] += 1.0
        await client.send_message(ada.id, "four")  # then about one a second
        with pytest.raises(RetryAfter):
            await client.send_message(ada.id, "five")
        assert fake.rate_limit_hits == 4
        assert len(fake.messages(ada.id)) == 4
        assert len(fake.messages(group.id)) == 20


async def test_strict_by_default() -> None:
    async with FakeTelegram() as fake:
        assert fake.rate_limits == RateLimits()
        assert fake.callback_query_ttl == 15.0
        assert fake.privacy_mode


async def test_callback_queries_expire_by_default() -> None:
    now = [0.0]
    async with (
        FakeTelegram(clock=lambda: now[0]) as fake,
        Bot(fake.token, base_url=fake.api_url) as client,
    ):
        ada = fake.user(1001, started=True)
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Keep", callback_data="k")]])
        sent = await client.send_message(ada.id, "Got it", reply_markup=keyboard)
        early = fake.press_button(ada, fake.message(ada.id, sent.message_id), label="Keep")
        late = fake.press_button(ada, fake.message(ada.id, sent.message_id), label="Keep")
        assert await client.answer_callback_query(early["callback_query"]["id"])
        now[0] += 15.5
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await client.answer_callback_query(late["callback_query"]["id"])


async def test_privacy_mode_withholds_other_group_messages(fake: FakeTelegram,
                                                           bot: Bot) -> None:
    me = await bot.get_me()
    assert me.can_read_all_group_messages is False
    ada = fake.user(1001)
    group = fake.group(-100200, "Reviewers")
    sent = await bot.send_message(group.id, "A new answer to review")
    mine = fake.message(group.id, sent.message_id)
    chatter = fake.send_text(ada, "lunch?", chat=group)
    other_bot = fake.send_command(ada, "/start@some_other_bot", chat=group)
    command = fake.send_command(ada, "/help", chat=group)
    addressed = fake.send_command(ada, "/help", chat=group, mention=True)
    reply = fake.send_text(ada, "Looks good", chat=group, reply_to=mine)
    mention_text = f"@{fake.bot_username} what next?"
    mention = fake.send_text(ada, mention_text, chat=group, entities=[
        {"type": "mention", "offset": 0, "length": len(fake.bot_username) + 1}])
    private = fake.send_text(ada, "hello")  # private chats are not affected
    assert [u["update_id"] for u in (chatter, other_bot)] == [None, None]
    assert [w["message"]["text"] for w in fake.withheld] == ["lunch?", "/start@some_other_bot"]
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [
        u["update_id"] for u in (command, addressed, reply, mention, private)]


async def test_privacy_mode_off_delivers_everything() -> None:
    async with (
        FakeTelegram(privacy_mode=False) as fake,
        Bot(fake.token, base_url=fake.api_url) as client,
    ):
        assert (await client.get_me()).can_read_all_group_messages is True
        update = fake.send_text(fake.user(1001), "lunch?", chat=fake.group(-100200))
        assert [u.update_id for u in await client.get_updates(timeout=0)] == [
            update["update_id"]]


async def test_a_user_who_blocked_the_bot_gets_403_on_every_method(fake: FakeTelegram,
                                                                   bot: Bot) -> None:
    ada = fake.user(1001, started=True)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Keep", callback_data="k")]])
    sent = await bot.send_message(ada.id, "Got it", reply_markup=keyboard)
    press = fake.press_button(ada, fake.message(ada.id, sent.message_id), label="Keep")
    fake.block(ada, notify=False)
    fake.rate_limits = None  # seven calls at once in one chat: only the 403s are looked at
    calls = [
        bot.send_message(ada.id, "still there?"),
        bot.send_voice(ada.id, VOICE.read_bytes()),
        bot.edit_message_text("Kept", chat_id=ada.id, message_id=sent.message_id),
        bot.edit_message_reply_markup(chat_id=ada.id, message_id=sent.message_id),
        bot.delete_message(ada.id, sent.message_id),
        bot.send_chat_action(ada.id, "typing"),
        bot.answer_callback_query(press["callback_query"]["id"]),
    ]
    for call in calls:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await call
    assert fake.message(ada.id, sent.message_id).text == "Got it"


async def test_overall_bucket_spans_chats() -> None:
    now = [0.0]
    limits = RateLimits(overall_per_second=5)
    async with FakeTelegram(rate_limits=limits, clock=lambda: now[0]) as fake:
        people = [fake.user(2000 + n, started=True) for n in range(6)]
        statuses = [
            (await raw_post(fake, "sendMessage", chat_id=person.id, text="hi"))[0]
            for person in people
        ]
        assert statuses == [200] * 5 + [429]
        status, headers, body = await raw_post(fake, "sendMessage", chat_id=people[5].id, text="x")
        assert status == 429
        assert headers["Retry-After"] == str(body["parameters"]["retry_after"])
        assert fake.rate_limit_hits == 2


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


# ------------------------------------------------------------------ webhook push


@contextlib.asynccontextmanager
async def receiver(secret: str) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.Response:
        if request.headers.get("X-Telegram-Bot-Api-Secret-Token") != secret:
            return web.Response(status=403)
        received.append(await request.json())
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook", received
    finally:
        await runner.cleanup()


async def test_webhook_push_with_the_right_secret(fake: FakeTelegram, bot: Bot) -> None:
    async with receiver("s3cret") as (url, received):
        await bot.set_webhook(url, secret_token="s3cret")
        with pytest.raises(Conflict):
            await bot.get_updates()
        update = fake.send_text(fake.user(1001), "via webhook")
        await fake.wait_for(lambda: received)
        assert received == [update]
        info = await bot.get_webhook_info()
        assert info.url == url and info.pending_update_count == 0
        await bot.delete_webhook()
        fake.send_text(fake.user(1001), "polled")
        polled = await bot.get_updates()
        assert [u.message.text for u in polled if u.message] == ["polled"]


async def test_webhook_push_with_a_wrong_secret_is_retried_then_reported() -> None:
    async with (
        FakeTelegram(webhook_max_attempts=3, webhook_retry_delay=0) as fake,
        Bot(fake.token, base_url=fake.api_url) as client,
        receiver("right") as (url, received),
    ):
        await client.set_webhook(url, secret_token="wrong")
        fake.send_text(fake.user(1001), "hello")
        await fake.wait_for(lambda: len(fake.webhook_deliveries) == 3)
        assert [d.status for d in fake.webhook_deliveries] == [403, 403, 403]
        assert received == []
        info = await client.get_webhook_info()
        assert "403" in str(info.last_error_message)


async def test_webhook_pushes_chats_concurrently_and_each_chat_in_order(bot: Bot,
                                                                         fake: FakeTelegram
                                                                         ) -> None:
    """Like Telegram: another chat's update is not held up by a slow one, while the next
    update of the same chat waits until the previous one was answered."""
    release = asyncio.Event()
    arrived: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        update = await request.json()
        arrived.append(update["message"]["text"])
        if update["message"]["text"] == "ada 1":
            await release.wait()
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        await bot.set_webhook(f"http://127.0.0.1:{runner.addresses[0][1]}/hook")
        ada, bob = fake.user(1001), fake.user(1002)
        fake.send_text(ada, "ada 1")
        fake.send_text(ada, "ada 2")
        fake.send_text(bob, "bob 1")
        await fake.wait_for(lambda: len(arrived) == 2)
        assert sorted(arrived) == ["ada 1", "bob 1"]  # ada 2 waits for ada 1's answer
        assert fake.pending_updates == 2
        release.set()
        await fake.wait_for(lambda: len(arrived) == 3 and fake.pending_updates == 0)
        assert arrived[2] == "ada 2"
        assert all(d.ok for d in fake.webhook_deliveries)
        await bot.delete_webhook()
    finally:
        release.set()
        await runner.cleanup()


# ------------------------------------------------------------------ protocol level


async def test_wrong_token_and_unknown_method(fake: FakeTelegram) -> None:
    status, _, body = await raw_post(fake, "getMe", token="1:wrong")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    status, _, body = await raw_post(fake, "frobnicate")
    assert status == 404 and body["ok"] is False


async def test_injected_429_has_retry_after_header(fake: FakeTelegram) -> None:
    fake.fail_next("getMe", retry_after=7, times=2)
    for _ in range(2):
        status, headers, body = await raw_post(fake, "getMe")
        assert status == 429 and headers["Retry-After"] == "7"
        assert body == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        }
    assert (await raw_post(fake, "getMe"))[0] == 200


async def test_long_poll_wakes_on_injection_and_honours_offset(fake: FakeTelegram) -> None:
    ada = fake.user(1001)
    poll = asyncio.create_task(raw_post(fake, "getUpdates", timeout=30))
    await fake.wait_for(lambda: fake.calls_to("getUpdates"))
    fake.send_text(ada, "one")
    status, _, body = await asyncio.wait_for(poll, 10)
    assert status == 200 and [u["message"]["text"] for u in body["result"]] == ["one"]
    fake.send_text(ada, "two")
    fake.send_text(ada, "three")
    _, _, body = await raw_post(fake, "getUpdates", offset=1, limit=1)
    assert [u["update_id"] for u in body["result"]] == [1]
    _, _, body = await raw_post(fake, "getUpdates", offset=2)
    assert [u["update_id"] for u in body["result"]] == [2, 3]
    _, _, body = await raw_post(fake, "getUpdates", offset=4, timeout=0)
    assert body["result"] == [] and fake.pending_updates == 0


async def test_a_second_poller_terminates_the_first(fake: FakeTelegram) -> None:
    first = asyncio.create_task(raw_post(fake, "getUpdates", timeout=30))
    await fake.wait_for(lambda: fake.calls_to("getUpdates"))
    second = asyncio.create_task(raw_post(fake, "getUpdates", timeout=30))
    status, _, body = await asyncio.wait_for(first, 10)
    assert status == 409 and "terminated by other getUpdates" in body["description"]
    fake.send_text(fake.user(1001), "hi")
    assert (await asyncio.wait_for(second, 10))[0] == 200


async def test_form_encoded_and_multipart_bodies(fake: FakeTelegram) -> None:
    ada = fake.user(1001, started=True)
    markup = {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}
    url = f"{fake.api_url}{fake.token}"
    async with aiohttp.ClientSession() as session:
        form = {"chat_id": str(ada.id), "text": "123", "reply_markup": json.dumps(markup)}
        async with session.post(f"{url}/sendMessage", data=form) as response:
            body = await response.json()
        assert body["result"]["text"] == "123"
        assert body["result"]["reply_markup"] == markup
        multipart = aiohttp.FormData()
        multipart.add_field("chat_id", str(ada.id))
        multipart.add_field("duration", "2")
        multipart.add_field("audio", b"ID3-bytes", filename="answer.mp3", content_type="audio/mpeg")
        async with session.post(f"{url}/sendAudio", data=multipart) as response:
            body = await response.json()
        assert body["result"]["audio"]["file_name"] == "answer.mp3"
    sent = fake.last_message(ada.id)
    assert sent.media == b"ID3-bytes" and sent.media_kind == "audio"


async def test_wait_for_fails_only_on_timeout(fake: FakeTelegram) -> None:
    with pytest.raises(TimeoutError):
        await fake.wait_for_message(1001, contains="never", timeout=0.05)


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
