"""The fake Telegram's state and the plumbing every part of it uses."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from .api import CALLBACK_QUERY_TTL, DEFAULT_TOKEN, JSON, STRICT_LIMITS, ApiError, RateLimits
from .objects import (
    ApiCall,
    BotMessage,
    CallbackAnswer,
    FakeGroup,
    FakeUser,
    StoredFile,
    Upload,
    WebhookDelivery,
)


class _Signal:
    """Wakes every waiter once per `notify()`."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float | None) -> None:
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)


class _Bucket:
    """A token bucket on an injectable clock."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = now

    def wait_time(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


@dataclass
class _Fault:
    status: int | None
    description: str | None
    retry_after: int | None
    drop: bool
    delay: float
    remaining: int


@dataclass
class _Pending:
    update: JSON
    redelivery: bool = False

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])

    @property
    def kind(self) -> str:
        return next(key for key in self.update if key != "update_id")


@dataclass
class _Query:
    user_id: int
    data: str | None
    at: float
    answered: bool = False


Handler = Callable[[JSON, dict[str, Upload]], Any]


class TelegramState:
    """What the fake knows: people, chats, messages, queued updates, files; and the plumbing that
    wakes waiters when it changes."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "interviewbot_test_bot",
        bot_first_name: str = "Interview Bot",
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: RateLimits | None = STRICT_LIMITS,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        webhook_max_attempts: int = 3,
        webhook_retry_delay: float = 0.05,
        webhook_timeout: float = 10.0,
        callback_query_ttl: float | None = CALLBACK_QUERY_TTL,
        privacy_mode: bool = True,
    ) -> None:
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 123456789
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.host = host
        self.port = port
        self.clock = clock
        self.wall_clock = wall_clock
        self.webhook_max_attempts = webhook_max_attempts
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_timeout = webhook_timeout
        self.callback_query_ttl = callback_query_ttl
        self.privacy_mode = privacy_mode
        self.withheld: list[JSON] = []  # group messages privacy mode kept from the bot

        self.calls: list[ApiCall] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.files: dict[str, StoredFile] = {}
        self.rate_limit_hits = 0
        self.faults_served = 0

        self._users: dict[int, FakeUser] = {}
        self._groups: dict[int, FakeGroup] = {}
        self._started: set[int] = set()
        self._blocked: set[int] = set()
        self._bot_messages: dict[tuple[int, int], BotMessage] = {}
        self._bot_log: list[BotMessage] = []
        self._chat_logs: dict[int, list[BotMessage]] = {}
        self._chat_signals: dict[int, _Signal] = {}
        self._user_messages: dict[tuple[int, int], JSON] = {}
        self._next_message_id: dict[int, int] = {}
        self._queue: list[_Pending] = []
        self._history: dict[int, JSON] = {}
        self.update_times: dict[int, float] = {}
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._file_numbers = itertools.count(1)
        self._queries: dict[str, _Query] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._seq = 0
        self._last_action: dict[int, int] = {}
        self._changed = _Signal()
        self._updates_changed = _Signal()
        self._closing = False
        # groups where the bot is an admin with the right to delete messages (any age)
        self.delete_rights: set[int] = set()
        self._chat_faults: dict[int, list[_Fault]] = {}

        self._rate_limits = rate_limits
        self._overall_bucket: _Bucket | None = None
        self._chat_buckets: dict[int, _Bucket] = {}

        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self._webhook_info: JSON = {}
        self._webhook_task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None

        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler) for name, handler in self._handlers().items()
        }

    def _handlers(self) -> dict[str, Handler]:
        """The Bot API methods served, by name (the server class lists them)."""
        raise NotImplementedError

    @property
    def url(self) -> str:
        """Base URL of the server, e.g. `http://127.0.0.1:41234`."""
        if self._runner is None:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """Value for PTB's `base_url` / TELEGRAM_API_URL (token is appended)."""
        return f"{self.url}/bot"

    @property
    def file_url(self) -> str:
        """Value for PTB's `base_file_url` / TELEGRAM_FILE_URL (token is appended)."""
        return f"{self.url}/file/bot"

    @property
    def bot_user(self) -> JSON:
        """The bot's own `User` object."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _signal(self) -> None:
        self._changed.notify()

    def _signal_updates(self) -> None:
        self._updates_changed.notify()
        self._changed.notify()

    def _signal_chat(self, chat_id: int) -> None:
        signal = self._chat_signals.get(chat_id)
        if signal is not None:
            signal.notify()
        self._changed.notify()

    def _enqueue(self, kind: str, payload: JSON, *, chat_id: int | None = None) -> JSON:
        update_id = next(self._update_ids)
        update = {"update_id": update_id, kind: payload}
        self._history[update_id] = update
        self.update_times[update_id] = self.clock()
        self._queue.append(_Pending(copy.deepcopy(update)))
        if chat_id is not None:
            self._last_action[chat_id] = self._seq
        self._signal_updates()
        return update

    def _new_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _find_message(self, chat_id: int, message_id: int) -> JSON | None:
        bot_message = self._bot_messages.get((chat_id, message_id))
        if bot_message is not None and not bot_message.deleted:
            return bot_message.payload
        return self._user_messages.get((chat_id, message_id))

    @staticmethod
    def _json_response(
        body: JSON, status: int = 200, headers: dict[str, str] | None = None
    ) -> web.Response:
        return web.Response(
            body=json.dumps(body, ensure_ascii=False).encode(),
            status=status,
            content_type="application/json",
            headers=headers,
        )

    def _error_response(self, error: ApiError) -> web.Response:
        headers = None
        if error.parameters and "retry_after" in error.parameters:
            headers = {"Retry-After": str(error.parameters["retry_after"])}
        return self._json_response(error.body(), error.status, headers)
