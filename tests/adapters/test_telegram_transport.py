"""The aiohttp transport under python-telegram-bot: what reaches the server, and each failure.

A real PTB `Bot` over `AiohttpRequest` against a small aiohttp server on 127.0.0.1 that records
what it was sent and answers as the test says (the Bot API's shapes, a 429, or nothing at all).
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bots.telegram.transport import AiohttpRequest

TOKEN = "123:abc"
ME = {"id": 123, "is_bot": True, "first_name": "Bot", "username": "bot"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def sent(chat_id: int, text: str) -> dict[str, Any]:
    return {"message_id": 7, "date": 1_700_000_000, "text": text,
            "chat": {"id": chat_id, "type": "private"}}


@dataclass
class Server:
    url: str
    seen: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    answer: Handler | None = None  # replaces the normal answer for the next requests


async def _default(server: Server, request: web.Request) -> web.StreamResponse:
    method = request.match_info["method"]
    if request.content_type == "application/json":
        params: dict[str, Any] = await request.json()
    else:
        form = await request.post()
        params = {key: (value.file.read() if isinstance(value, web.FileField) else value)
                  for key, value in form.items()}
    server.seen.append((method, request.content_type, params))
    if method == "getMe":
        return web.json_response({"ok": True, "result": ME})
    if server.answer is not None:
        return await server.answer(request)
    return web.json_response({"ok": True, "result": sent(int(params["chat_id"]), "x")})


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server("")

    async def route(request: web.Request) -> web.StreamResponse:
        return await _default(state, request)

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", route)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.url = f"http://127.0.0.1:{runner.addresses[0][1]}/bot"
    yield state
    await runner.cleanup()


async def _bot(url: str, **timeouts: float | None) -> Bot:
    bot = Bot(TOKEN, base_url=url, request=AiohttpRequest(4, **timeouts))
    await bot.initialize()
    return bot


async def test_parameters_travel_as_json_with_nested_objects(server: Server) -> None:
    bot = await _bot(server.url)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Submit", callback_data="sb:1:2")]])
    message = await bot.send_message(42, "Question 1", reply_markup=markup)
    await bot.shutdown()
    assert message.message_id == 7 and message.chat.id == 42
    method, content_type, params = server.seen[-1]
    assert (method, content_type) == ("sendMessage", "application/json")
    assert params["text"] == "Question 1"
    assert json.loads(params["reply_markup"]) == {
        "inline_keyboard": [[{"text": "Submit", "callback_data": "sb:1:2"}]]}


async def test_files_travel_as_multipart_beside_the_parameters(server: Server) -> None:
    bot = await _bot(server.url)
    await bot.send_voice(42, b"OggS-not-really", caption="Answer 1", filename="a.ogg")
    await bot.shutdown()
    method, content_type, params = server.seen[-1]
    assert (method, content_type) == ("sendVoice", "multipart/form-data")
    assert params["voice"] == b"OggS-not-really"
    assert params["caption"] == "Answer 1" and params["chat_id"] == "42"


async def test_a_429_becomes_retry_after_and_a_400_bad_request(server: Server) -> None:
    bot = await _bot(server.url)

    async def flood(_request: web.Request) -> web.Response:
        return web.json_response({"ok": False, "error_code": 429, "description": "Too Many",
                                  "parameters": {"retry_after": 3}}, status=429)

    server.answer = flood
    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(42, "hi")
    assert raised.value.retry_after == 3

    async def refused(_request: web.Request) -> web.Response:
        return web.json_response({"ok": False, "error_code": 400,
                                  "description": "Bad Request: message is not modified"},
                                 status=400)

    server.answer = refused
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.send_message(42, "hi")
    await bot.shutdown()


async def test_a_server_that_never_answers_is_a_timeout(server: Server) -> None:
    never = asyncio.Event()

    async def hang(_request: web.Request) -> web.Response:
        await never.wait()  # set once the test is over, so the server can close
        return web.json_response({"ok": True, "result": True})

    bot = await _bot(server.url, read_timeout=0.3)
    server.answer = hang
    with pytest.raises(TimedOut):
        await bot.send_message(42, "hi")
    with pytest.raises(TimedOut):  # a timeout PTB passes per call wins over the default
        await bot.send_message(42, "hi", read_timeout=0.2)
    never.set()
    await bot.shutdown()


async def test_nobody_listening_is_a_network_error() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = AiohttpRequest(1)
    await request.initialize()
    with pytest.raises(NetworkError, match=r"aiohttp\.ClientConnectorError"):
        await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    await request.shutdown()


async def test_shutdown_closes_and_initialize_opens_again(server: Server) -> None:
    request = AiohttpRequest(1)
    with pytest.raises(NetworkError, match="not initialized"):  # PTB wraps the RuntimeError
        await request.post(f"{server.url}{TOKEN}/getMe")
    async with request:
        result = await request.post(f"{server.url}{TOKEN}/getMe")
        assert result == ME
    with pytest.raises(NetworkError, match="not initialized"):
        await request.post(f"{server.url}{TOKEN}/getMe")
    await request.initialize()
    assert await request.post(f"{server.url}{TOKEN}/getMe") == ME
    await request.shutdown()
