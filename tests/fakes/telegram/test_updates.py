"""Updates: webhook push (secret, retries, ordering per chat), long polling, the HTTP protocol."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import Conflict

from fakes.telegram import FakeTelegram

from .helpers import raw_post


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


async def test_wrong_token_and_unknown_method(fake: FakeTelegram) -> None:
    status, _, body = await raw_post(fake, "getMe", token="1:wrong")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
    status, _, body = await raw_post(fake, "frobnicate")
    assert status == 404 and body["ok"] is False


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
