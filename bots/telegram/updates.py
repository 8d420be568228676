"""Receiving updates: parsing that cannot get stuck, and processing order.

An update PTB cannot parse (Telegram added or dropped a field PTB insists on) would otherwise
stop polling for good: PTB logs the raw batch, personal data included, and fetches the same
batch again forever. `UpdatesBot` reads a polled batch once, as PTB does; only when that fails
does it read the batch again update by update (`parse_update`), so that an unreadable update
becomes an empty one (its update_id only), skipped with a log line naming just the id, and
PTB's log line with the raw batch is dropped (`RawBatchFilter`).

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
from telegram.error import TelegramError
from telegram.ext import BaseUpdateProcessor, ExtBot

from bots.telegram.transport import AiohttpRequest

log = logging.getLogger("interviewbot.telegram")
JSONDict = dict[str, Any]

QUEUED_LIMIT = 4096  # updates waiting in memory (PTB's semaphore); work is bounded separately


def parse_update(data: JSONDict, bot: Bot | None) -> Update:
    """An `Update` from its JSON; one PTB cannot read becomes an empty update (its id only)."""
    try:
        return Update.de_json(data, bot)
    except Exception as exc:
        log.warning("skipped update %s: python-telegram-bot could not read it (%s)",
                    data.get("update_id"), type(exc).__name__)
        return Update.de_json({"update_id": int(data["update_id"])}, bot)


class UpdatesRequest(AiohttpRequest):
    """The getUpdates transport; keeps the last batch as it arrived, for `UpdatesBot`."""

    __slots__ = ("batch",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch: list[JSONDict] = []

    def parse_json_payload(self, payload: bytes) -> JSONDict:  # type: ignore[override]
        data = AiohttpRequest.parse_json_payload(payload)
        result = data.get("result")
        self.batch = [u for u in result if isinstance(u, dict)] if isinstance(result, list) else []
        return data


class RawBatchFilter(logging.Filter):
    """Drops PTB's critical line carrying a batch it could not parse (personal data);
    `UpdatesBot` reads that batch again and logs each unreadable update by id."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Error while parsing updates!")


class UpdatesBot(ExtBot[int]):
    """PTB's bot, polling with an `UpdatesRequest`: a batch it cannot parse is read again
    update by update instead of stopping polling."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        logger = self._LOGGER  # where PTB logs a batch it could not parse, raw
        if not any(isinstance(f, RawBatchFilter) for f in logger.filters):
            logger.addFilter(RawBatchFilter())

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        try:
            return await super().get_updates(*args, **kwargs)
        except TelegramError:
            raise
        except Exception:
            request = self._request[0]
            batch = request.batch if isinstance(request, UpdatesRequest) else []
            if not batch:
                raise
            return tuple(parse_update(u, self) for u in batch)


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
