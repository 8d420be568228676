"""Receiving updates: parsing that cannot get stuck, and processing order.

An update PTB cannot parse (Telegram added or dropped a field PTB insists on) would otherwise
stop polling for good: PTB logs the raw batch, personal data included, and fetches the same
batch again forever. `UpdatesRequest` and `parse_update` turn such an update into an empty
one (its update_id only), which is skipped with a log line naming just the id.

PTB hands every update to the processor as its own task, in the order the updates arrived.
`PerChatUpdateProcessor` chains the updates of one chat (each waits for the one before it),
so a slow chat (audio conversion, 1 msg/s pacing, a 429 pause) never holds up the others,
while one person's messages are still handled in the order they were sent.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable
from typing import Any

from telegram import Bot, Update
from telegram.ext import BaseUpdateProcessor
from telegram.request import BaseRequest

from bots.telegram.transport import AiohttpRequest

log = logging.getLogger("interviewbot.telegram")
JSONDict = dict[str, Any]

QUEUED_LIMIT = 4096  # updates waiting in memory (PTB's semaphore); work is bounded separately


def parseable(data: JSONDict, bot: Bot | None = None) -> JSONDict:
    """The update itself if PTB can read it, else just its update_id (so it is skipped)."""
    try:
        Update.de_json(data, bot)
    except Exception as exc:
        log.warning("skipped update %s: python-telegram-bot could not read it (%s)",
                    data.get("update_id"), type(exc).__name__)
        return {"update_id": int(data["update_id"])}
    return data


def parse_update(data: JSONDict, bot: Bot) -> Update:
    """An `Update` from webhook JSON; unreadable content becomes an empty update."""
    return Update.de_json(parseable(data, bot), bot)


class UpdatesRequest(AiohttpRequest):
    """The getUpdates transport, with unreadable updates replaced before PTB parses them."""

    @staticmethod
    def parse_json_payload(payload: bytes) -> JSONDict:
        data = BaseRequest.parse_json_payload(payload)
        result = data.get("result")
        if isinstance(result, list):
            data["result"] = [parseable(u) if isinstance(u, dict) and "update_id" in u else u
                              for u in result]
        return data


def chat_key(update: object) -> str:
    """What orders updates: the person in the chat (in a private chat, the chat itself).

    In a review group each reviewer's presses stay in order without waiting for the others'.
    """
    if isinstance(update, Update):
        chat, user = update.effective_chat, update.effective_user
        if chat is not None and user is not None:
            return f"{chat.id}:{user.id}"
        if chat is not None:
            return f"{chat.id}"
        if user is not None:
            return f"user:{user.id}"
        return f"update:{update.update_id}"
    return f"object:{id(update)}"


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Runs up to `workers` updates at once, never two of one person in one chat, in arrival
    order."""

    def __init__(self, workers: int = 32) -> None:
        super().__init__(QUEUED_LIMIT)
        self.workers = workers
        self._slots = asyncio.Semaphore(workers)
        self._tails: dict[str, asyncio.Future[None]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for the chat's previous update, then for a free worker, then run."""
        key = chat_key(update)
        previous = self._tails.get(key)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[key] = done
        started = False
        try:
            if previous is not None:
                await previous
            async with self._slots:
                started = True
                await coroutine
        finally:
            if not started and inspect.iscoroutine(coroutine):
                coroutine.close()  # cancelled while waiting (shutdown): never started
            done.set_result(None)
            if self._tails.get(key) is done:
                del self._tails[key]

    async def initialize(self) -> None:
        """Nothing to allocate."""

    async def shutdown(self) -> None:
        """Nothing to free; PTB waits for running updates before calling this."""

    @property
    def waiting_chats(self) -> int:
        """Chats with an update in progress (for tests and health output)."""
        return len(self._tails)
