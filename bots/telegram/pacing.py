"""Telegram flood limits: 30 messages/s overall, 20/min per group, about 1/s per private chat.

Telegram documents "about one message per second in a particular chat; short bursts are
allowed, but eventually 429". `ChatPacedRateLimiter` (PTB's `AIORateLimiter` with its group
limits and 429 retries) paces in three places:

* Each private chat has a token bucket: `private_burst` messages at once, refilled at
  `private_per_second`. A candidate who answers the moment a question arrives gets the reply
  at once; only a chat that keeps sending faster than 1/s is paced. The bucket is charged when
  a request *finishes*, not when it is let through: Telegram saw the request no later than
  that, so its own bucket always holds at least as much as ours and a request let through on
  time cannot reach it early (a busy event loop, a queue at the overall limit) and get a 429.
  One chat's requests go strictly one after another, so they also arrive in order.
* The overall 30/s is a token bucket with priorities: a private chat's request (a candidate's
  reply) takes the next token ahead of any group or channel request waiting for one (review
  cards), so a reply never waits behind another chat's card burst. Cards use what replies
  leave free; within a priority, first come first served.
* Groups and channels: AIORateLimiter's 20 per minute each.

Every 429 retry is counted as `Observer.delivery_retried("telegram")`: the request's callback
is wrapped, and every call of it after the first is a retry. `waited(chat_id)` tells how long a
private chat's requests were held by its own pacing and by the overall limit (for tests and
benchmarks).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Any

from telegram.ext import AIORateLimiter

from core.observe import NullObserver, Observer

JSONDict = dict[str, Any]
Callback = Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]]
_MAX_TRACKED_CHATS = 1024
MARGIN = 1.05  # pace 5% under each limit
CANDIDATE, OTHER = 0, 1  # overall-limit priorities: private chats first, then groups/channels


@dataclass(frozen=True)
class Pacing:
    """Limits and retries for outgoing requests. Defaults follow Telegram's documented limits."""

    overall_per_second: float = 30.0
    overall_burst: int = 30  # requests at once within the overall limit (see the limiter)
    group_per_minute: float = 20.0
    private_per_second: float = 1.0
    # messages a private chat may get at once before pacing starts: Telegram tolerates short
    # bursts; the fake Bot API lets 3 through (fakes/telegram/api.py, RateLimits)
    private_burst: int = 3
    retries_after_429: int = 3  # AIORateLimiter max_retries, each honouring retry_after
    network_retries: int = 3  # 5xx, timeouts, dropped connections
    backoff: float = 0.5  # seconds before the first network retry; doubled each time
    edit_cache: int = 4096  # remember this many rendered messages to skip no-op edits

    def shared_by(self, processes: int) -> Pacing:
        """The pacing for one of `processes` processes sending with the same bot token: the
        per-bot limits (overall, per group) are the token's, so each takes its share. (A
        private chat is paced in full by each: one chat's messages come from one process at a
        time, in the reply to that chat's update.)"""
        if processes <= 1:
            return self
        return replace(self, overall_per_second=self.overall_per_second / processes,
                       overall_burst=max(1, self.overall_burst // processes),
                       group_per_minute=self.group_per_minute / processes)


def is_paced(endpoint: str) -> bool:
    """Methods that put something in a chat (sending, editing); not answers or downloads."""
    return endpoint.startswith(("send", "edit", "copy", "forward")) and (
        endpoint != "sendChatAction")


class _ChatPace:
    """One private chat: a lock (one request at a time), its token bucket, and how long its
    requests waited (`paced` by the bucket, `queued` for an overall slot)."""

    __slots__ = ("held", "lock", "paced", "queued", "stamp", "tokens")

    def __init__(self, burst: float, now: float) -> None:
        self.lock = asyncio.Lock()
        self.tokens = burst
        self.stamp = now
        self.paced = 0.0
        self.queued = 0.0
        self.held: deque[float] = deque(maxlen=64)  # per request let through: seconds paced

    def refill(self, now: float, rate: float, burst: float) -> None:
        self.tokens = min(burst, self.tokens + (now - self.stamp) * rate)
        self.stamp = max(self.stamp, now)

    def idle(self, now: float, rate: float, burst: float) -> bool:
        """Nothing in flight and the bucket full again: nothing to remember."""
        return not self.lock.locked() and self.tokens + (now - self.stamp) * rate >= burst


class PriorityBucket:
    """A token bucket (`burst` at once, refilled at `rate` per second) whose waiting requests
    are served lowest priority number first, in arrival order within a priority.

    A request takes a token when it is let through (`acquire`) and the bucket is charged when
    it finishes (`settle`); in between the token is held as in flight. Telegram counts a
    request when it arrives, which is after it was let through and no later than its answer,
    so Telegram's bucket always holds at least what this one has free: the whole burst can be
    used without a request ever arriving early (as the private chats' buckets above)."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._inflight = 0
        self._stamp = 0.0
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def _free(self) -> float:
        return self._tokens - self._inflight

    async def acquire(self, priority: int) -> float:
        """Wait for a token; the seconds waited. Every acquire is followed by one `settle`."""
        loop = asyncio.get_running_loop()
        asked = loop.time()
        self._refill(asked)
        if not self._waiting and self._free() >= 1:
            self._inflight += 1
            return 0.0
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), future))
        self._arm(loop)
        try:
            await future  # a cancelled waiter stays in the heap, done: _grant skips it
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():  # granted, then cancelled: unused
                self._inflight -= 1
                self._grant(loop)
            raise
        return loop.time() - asked

    def settle(self) -> None:
        """The request let through by `acquire` has finished: charge its token now."""
        loop = asyncio.get_running_loop()
        self._refill(loop.time())
        self._tokens -= 1
        self._inflight -= 1
        if self._waiting and self._timer is None:
            self._arm(loop)

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is None and self._waiting:
            # all of the burst in flight: the next settle re-arms (free stays below 1 until)
            if self._inflight >= self.burst:
                return
            delay = max(0.0, (1 - self._free()) / self.rate)
            self._timer = loop.call_at(loop.time() + delay, self._grant, loop)

    def _grant(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._refill(loop.time())
        while self._waiting and self._free() >= 1 - 1e-9:
            *_, future = heapq.heappop(self._waiting)
            if not future.done():
                future.set_result(None)
                self._inflight += 1
        self._arm(loop)


class ChatPacedRateLimiter(AIORateLimiter):
    """`AIORateLimiter` (group limits, 429 retries) with a token bucket per private chat and
    the overall limit handed out by priority, private chats first."""

    def __init__(self, pacing: Pacing, observer: Observer | None = None,
                 connections: int = 16) -> None:
        # Overall: a burst of `overall_burst` (30, Telegram's own), charged when each request
        # finishes (PriorityBucket). Charged when let through instead, a burst of 30 used up
        # the server's allowance and the least jitter gave a 429 (bench.pacing: 75-93 in 1000
        # messages), so the burst had been cut to 20, which queued replies whenever more than
        # 30 steps/s came for a few seconds (bench.realistic --quick: p99 135 ms against the
        # echo bot's 8). Charged on finishing: 0 429s in 1000 messages and p99 10 ms.
        super().__init__(
            overall_max_rate=0,  # replaced by self.overall, which knows priorities
            group_max_rate=pacing.group_per_minute,
            group_time_period=60 * MARGIN,
            max_retries=pacing.retries_after_429,
        )
        overall = pacing.overall_per_second
        self.overall = (PriorityBucket(overall, max(1, pacing.overall_burst))
                        if overall > 0 else None)
        self._burst = float(max(1, pacing.private_burst))
        self._rate = pacing.private_per_second / MARGIN
        self._chats: dict[int, _ChatPace] = {}
        self.observer: Observer = observer or NullObserver()
        # requests in flight at once: no more than the HTTP pool's connections, so that
        # httpcore never queues (it rescans its whole queue against every connection)
        self._slots = asyncio.Semaphore(connections)

    def waited(self, chat_id: int) -> tuple[float, float]:
        """Seconds a private chat's requests have waited so far: for its own pacing, and for
        an overall slot. (0, 0) for a chat not tracked (never paced, or idle and forgotten)."""
        pace = self._chats.get(chat_id)
        return (pace.paced, pace.queued) if pace else (0.0, 0.0)

    def held(self, chat_id: int) -> list[float]:
        """For each of a private chat's latest requests (up to 64), in the order they were let
        through: the seconds its own pacing held it."""
        pace = self._chats.get(chat_id)
        return list(pace.held) if pace else []

    @property
    def burst(self) -> float:
        return self._burst

    def tokens(self, chat_id: int) -> float:
        """Messages a private chat could get at once now, before its pacing starts."""
        pace = self._chats.get(chat_id)
        if pace is None:
            return self._burst
        elapsed = asyncio.get_running_loop().time() - pace.stamp
        return min(self._burst, pace.tokens + max(0.0, elapsed) * self._rate)

    def _pace(self, chat_id: int, now: float) -> _ChatPace:
        if chat_id not in self._chats and len(self._chats) >= _MAX_TRACKED_CHATS:
            for key, pace in list(self._chats.items()):
                if pace.idle(now, self._rate, self._burst):
                    del self._chats[key]
        if chat_id not in self._chats:
            self._chats[chat_id] = _ChatPace(self._burst, now)
        return self._chats[chat_id]

    def _wrapped(self, callback: Callback, priority: int | None,
                 pace: _ChatPace | None) -> Callback:
        """`callback` behind an overall slot (`priority` None: no slot, like AIORateLimiter for
        requests without a chat), reporting every call after the first (AIORateLimiter's
        retries after a 429) to the observer."""
        calls = 0

        async def call(*args: Any, **kwargs: Any) -> bool | JSONDict | list[JSONDict]:
            nonlocal calls
            calls += 1
            if calls > 1:
                self.observer.delivery_retried("telegram")
            overall = self.overall
            if priority is None or overall is None:
                async with self._slots:
                    return await callback(*args, **kwargs)
            queued = await overall.acquire(priority)
            if pace is not None:
                pace.queued += queued
            try:
                async with self._slots:
                    return await callback(*args, **kwargs)
            finally:
                overall.settle()  # charged when finished (see PriorityBucket)

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
        """Wait for the private chat's bucket first, then for the group limit and an overall
        slot."""
        raw = data.get("chat_id")
        chat_id = _int(raw)
        private = chat_id is not None and chat_id > 0
        priority = None if raw is None else CANDIDATE if private else OTHER
        if not private or chat_id is None or self._rate <= 0 or not is_paced(endpoint):
            return await super().process_request(
                self._wrapped(callback, priority, None), args, kwargs, endpoint, data,
                rate_limit_args)
        loop = asyncio.get_running_loop()
        pace = self._pace(chat_id, loop.time())
        async with pace.lock:
            began = loop.time()
            pace.refill(began, self._rate, self._burst)
            held = 0.0
            while pace.tokens < 1 - 1e-9:
                await asyncio.sleep((1 - pace.tokens) / self._rate)
                pace.refill(loop.time(), self._rate, self._burst)
                held = loop.time() - began
            pace.paced += held
            pace.held.append(held)
            try:
                return await super().process_request(
                    self._wrapped(callback, priority, pace), args, kwargs, endpoint, data,
                    rate_limit_args)
            finally:
                # charged when finished: Telegram has seen it by now (see the module doc)
                pace.refill(loop.time(), self._rate, self._burst)
                pace.tokens -= 1


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None
