"""Flood limits, blocked users and injected faults."""

from __future__ import annotations

import asyncio
import math

from aiohttp import web

from .api import BLOCKED, JSON, ApiError, RateLimits
from .inspection import Inspection
from .objects import ApiCall
from .state import _Bucket, _Fault

_RATE_LIMITED = frozenset(
    {
        "sendmessage",
        "sendvoice",
        "sendaudio",
        "senddocument",
        "sendphoto",
        "copymessage",
        "forwardmessage",
        "editmessagetext",
        "editmessagecaption",
        "editmessagereplymarkup",
    }
)


class Limits(Inspection):
    """What Telegram refuses: flood limits (429), users who blocked the bot (403), and faults a
    test injects (errors, dropped connections, delays)."""

    @property
    def rate_limits(self) -> RateLimits | None:
        """Flood limits enforced on sending methods; None (the default) disables them."""
        return self._rate_limits

    @rate_limits.setter
    def rate_limits(self, limits: RateLimits | None) -> None:
        self._rate_limits = limits
        self._overall_bucket = None
        self._chat_buckets.clear()

    def fail_next(
        self,
        method: str,
        status: int = 429,
        *,
        retry_after: int | None = None,
        times: int = 1,
        description: str | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` (`"*"`: any, `"download"`: files) with an
        error; a 429 carries `retry_after` (default 1) and a Retry-After header."""
        if status == 429 and retry_after is None:
            retry_after = 1
        self._add_fault(method, _Fault(status, description, retry_after, False, 0.0, times))

    def drop_next(self, method: str, *, times: int = 1) -> None:
        """Close the connection without answering the next `times` calls of `method`."""
        self._add_fault(method, _Fault(None, None, None, True, 0.0, times))

    def delay_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Hold the next `times` calls of `method` for `seconds`, then process them normally."""
        self._add_fault(method, _Fault(None, None, None, False, seconds, times))

    def fail_chat(self, chat_id: int, status: int = 502, *, times: int = 1,
                  description: str | None = None) -> None:
        """Answer the next `times` calls of any method aimed at `chat_id` with an error (an
        unreachable review group, say), whatever the method."""
        if times < 1:
            raise ValueError("times must be at least 1")
        retry = 1 if status == 429 else None
        self._chat_faults.setdefault(chat_id, []).append(
            _Fault(status, description, retry, False, 0.0, times))

    def delay_chat(self, chat_id: int, seconds: float, *, times: int = 1) -> None:
        """Hold the next `times` calls aimed at `chat_id` for `seconds` each (a slow chat)."""
        if times < 1:
            raise ValueError("times must be at least 1")
        self._chat_faults.setdefault(chat_id, []).append(
            _Fault(None, None, None, False, seconds, times))

    def _take_chat_fault(self, params: JSON) -> _Fault | None:
        chat_id = params.get("chat_id")
        faults = self._chat_faults.get(chat_id) if isinstance(chat_id, int) else None
        if not faults:
            return None
        fault = faults[0]
        fault.remaining -= 1
        if fault.remaining == 0:
            faults.pop(0)
        self.faults_served += 1
        return fault

    def _add_fault(self, method: str, fault: _Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("times must be at least 1")
        self._faults.setdefault(method.lower(), []).append(fault)

    def _take_fault(self, method: str) -> _Fault | None:
        for key in (method.lower(), "*"):
            faults = self._faults.get(key)
            if faults:
                fault = faults[0]
                fault.remaining -= 1
                if fault.remaining == 0:
                    faults.pop(0)
                self.faults_served += 1
                return fault
        return None

    async def _apply_fault(self, request: web.Request, fault: _Fault) -> None:
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.drop:
            if request.transport is not None:
                request.transport.abort()
            return
        if fault.status is None:
            return
        if fault.status == 429:
            seconds = fault.retry_after or 1
            raise ApiError(
                429,
                fault.description or f"Too Many Requests: retry after {seconds}",
                {"retry_after": seconds},
            )
        default = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
        raise ApiError(fault.status, fault.description or default.get(fault.status, "Error"))

    def _check_blocked(self, call: ApiCall) -> None:
        """A user who blocked the bot: every method that acts in their chat (send, edit,
        delete, chat actions, answering their callback queries) is refused with 403."""
        method = call.method.lower()
        if method.startswith("get") or method in {"setwebhook", "deletewebhook"}:
            return
        chat_id = call.params.get("chat_id")
        if method == "answercallbackquery":
            query = self._queries.get(str(call.params.get("callback_query_id") or ""))
            chat_id = query.user_id if query is not None else None
        if isinstance(chat_id, int) and chat_id in self._blocked:
            raise ApiError(403, BLOCKED)

    def _check_rate(self, params: JSON) -> None:
        limits = self._rate_limits
        chat_id = params.get("chat_id")
        if limits is None or not isinstance(chat_id, int):
            return
        now = self.clock()
        if self._overall_bucket is None:
            rate = limits.overall_per_second
            self._overall_bucket = _Bucket(rate, limits.overall_burst or max(1.0, rate), now)
        bucket = self._chat_buckets.get(chat_id)
        if bucket is None:
            if chat_id > 0:
                rate = limits.private_chat_per_second
                capacity = limits.private_chat_burst or max(1.0, rate)
            else:
                rate = limits.group_per_minute / 60
                capacity = limits.group_burst or max(1.0, limits.group_per_minute)
            bucket = self._chat_buckets[chat_id] = _Bucket(rate, capacity, now)
        wait = max(self._overall_bucket.wait_time(now), bucket.wait_time(now))
        if wait > 0:
            self.rate_limit_hits += 1
            seconds = max(1, math.ceil(wait))
            raise ApiError(
                429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds}
            )
        self._overall_bucket.tokens -= 1
        bucket.tokens -= 1
