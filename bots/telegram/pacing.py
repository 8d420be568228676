"""Telegram flood limits: 30 messages/s overall, 20/min per group, and 1/s per private chat.

PTB's `AIORateLimiter` enforces the first two and retries 429s; `ChatPacedRateLimiter` adds the
per-private-chat pacing in front of it. That pacing counts from when the previous request to
the chat *finished*, not from when it was let through: a request let through on time can still
reach Telegram late (a busy event loop, a queue at the overall limiter) and the next one early,
which Telegram answers with a 429 (measured: see the Telegram e2e tests). Finishing-time pacing
also sends one chat's messages strictly one after another, so they arrive in order.

Every 429 retry is counted as `Observer.delivery_retried("telegram")`: the request's callback
is wrapped, and every call of it after the first is a retry.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram.ext import AIORateLimiter

from core.observe import NullObserver, Observer

JSONDict = dict[str, Any]
Callback = Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]]
_MAX_TRACKED_CHATS = 1024
MARGIN = 1.05  # pace 5% under each limit


@dataclass(frozen=True)
class Pacing:
    """Limits and retries for outgoing requests. Defaults follow Telegram's documented limits."""

    overall_per_second: float = 30.0
    group_per_minute: float = 20.0
    private_per_second: float = 1.0
    private_burst: int = 1  # messages a private chat may get at once before pacing starts
    retries_after_429: int = 3  # AIORateLimiter max_retries, each honouring retry_after
    network_retries: int = 3  # 5xx, timeouts, dropped connections
    backoff: float = 0.5  # seconds before the first network retry; doubled each time
    edit_cache: int = 4096  # remember this many rendered messages to skip no-op edits


def is_paced(endpoint: str) -> bool:
    """Methods that put something in a chat (sending, editing); not answers or downloads."""
    return endpoint.startswith(("send", "edit", "copy", "forward")) and (
        endpoint != "sendChatAction")


class _ChatPace:
    """One private chat: a lock (one request at a time) and when recent requests finished."""

    __slots__ = ("finished", "lock")

    def __init__(self, burst: int) -> None:
        self.lock = asyncio.Lock()
        self.finished: deque[float] = deque(maxlen=burst)


class ChatPacedRateLimiter(AIORateLimiter):
    """`AIORateLimiter` plus at most `private_burst` messages per private chat in any
    `private_burst / private_per_second` seconds."""

    def __init__(self, pacing: Pacing, observer: Observer | None = None,
                 connections: int = 16) -> None:
        # Overall: evenly spaced, no burst. A limiter that lets 30 go at once uses up the
        # server's own burst allowance; after that every request arrives with ~1 ms to spare
        # and the least jitter gives a 429 (bench.pacing: 75-93 of them in 1000 messages).
        # Spaced, the server's bucket stays full and absorbs up to a second of jitter.
        overall = pacing.overall_per_second
        super().__init__(
            overall_max_rate=1 if overall > 0 else 0,
            overall_time_period=MARGIN / overall if overall > 0 else 0,
            group_max_rate=pacing.group_per_minute,
            group_time_period=60 * MARGIN,
            max_retries=pacing.retries_after_429,
        )
        self._burst = max(1, pacing.private_burst)
        self._window = (self._burst / pacing.private_per_second * MARGIN
                        if pacing.private_per_second > 0 else 0.0)
        self._chats: dict[int, _ChatPace] = {}
        self.observer: Observer = observer or NullObserver()
        # requests in flight at once: no more than the HTTP pool's connections, so that
        # httpcore never queues (it rescans its whole queue against every connection)
        self._slots = asyncio.Semaphore(connections)

    def _pace(self, chat_id: int, now: float) -> _ChatPace:
        if chat_id not in self._chats and len(self._chats) >= _MAX_TRACKED_CHATS:
            for key, pace in list(self._chats.items()):
                if not pace.lock.locked() and (
                        not pace.finished or pace.finished[-1] + self._window < now):
                    del self._chats[key]  # idle: forget it
        if chat_id not in self._chats:
            self._chats[chat_id] = _ChatPace(self._burst)
        return self._chats[chat_id]

    def _counted(self, callback: Callback) -> Callback:
        """`callback`, reporting every call after the first (AIORateLimiter's retries after a
        429) to the observer."""
        calls = 0

        async def call(*args: Any, **kwargs: Any) -> bool | JSONDict | list[JSONDict]:
            nonlocal calls
            calls += 1
            if calls > 1:
                self.observer.delivery_retried("telegram")
            async with self._slots:
                return await callback(*args, **kwargs)

        return call

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        """Wait for the private chat's turn first, then for the overall and group limits."""
        callback = self._counted(callback)
        chat_id = _int(data.get("chat_id"))
        if chat_id is None or chat_id <= 0 or not self._window or not is_paced(endpoint):
            return await super().process_request(callback, args, kwargs, endpoint, data,
                                                 rate_limit_args)
        loop = asyncio.get_running_loop()
        pace = self._pace(chat_id, loop.time())
        async with pace.lock:
            if len(pace.finished) == self._burst:
                delay = pace.finished[0] + self._window - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            try:
                return await super().process_request(callback, args, kwargs, endpoint, data,
                                                     rate_limit_args)
            finally:
                pace.finished.append(loop.time())


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
