"""Pacing, rate tiers and injected faults."""

from __future__ import annotations

import math
from collections import deque

from .api import METHOD_TIERS, TIER_PER_MINUTE, _SlackError
from .inspection import Inspection
from .objects import PacingViolation, _Fault


class Limits(Inspection):
    """Rate limits as Slack applies them (per-channel pacing of chat.postMessage, method tiers)
    and faults a test injects."""

    def fail_next(
        self,
        method: str,
        error: str = "ratelimited",
        *,
        status: int | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Fail the next ``times`` calls of ``method``.

        ``method`` is a Web API method name, ``"upload"`` (the upload URL) or ``"files-pri"``
        (private downloads). ``status`` defaults to 429 for ``ratelimited`` (with a ``Retry-After``
        of ``retry_after`` or 1 second) and 200 otherwise.
        """
        if status is None:
            status = 429 if error == "ratelimited" else 200
        if retry_after is None and status == 429:
            retry_after = 1
        self._faults.setdefault(method, deque()).append(_Fault(error, status, retry_after, times))

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.popleft()
        return fault

    def _check_tier(self, method: str) -> None:
        """Slack's per-method rate tiers (requests per minute per workspace, bursts of up to a
        minute's worth): 429 ``ratelimited`` with ``Retry-After`` beyond them."""
        if not self.enforce_tiers:
            return
        per_minute = TIER_PER_MINUTE[METHOD_TIERS.get(method, 3)]
        now = self.pacing_clock()
        bucket = self._tier_buckets.setdefault(method, [float(per_minute), now])
        bucket[0] = min(float(per_minute), bucket[0] + (now - bucket[1]) * per_minute / 60)
        bucket[1] = now
        if bucket[0] < 1:
            self.tier_limited.append(method)
            wait = math.ceil((1 - bucket[0]) * 60 / per_minute)
            raise _SlackError("ratelimited", 429, _headers={"Retry-After": str(wait)})
        bucket[0] -= 1

    def _track_pacing(self, channel: str) -> None:
        """About ``pace_limit`` posts a second per channel after a burst of ``pace_burst``
        (Slack grants "generous bursts"); beyond it 429 when enforced, else a violation."""
        now = self.pacing_clock()
        window = self._post_times.setdefault(channel, deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        bucket = self._pace_buckets.setdefault(channel, [float(self.pace_burst), now])
        bucket[0] = min(float(self.pace_burst), bucket[0] + (now - bucket[1]) * self.pace_limit)
        bucket[1] = now
        if bucket[0] < 1 and self.enforce_pacing:
            raise _SlackError("ratelimited", 429, _headers={"Retry-After": "1"})
        window.append(now)
        if bucket[0] < 1:
            self.pacing_violations.append(
                PacingViolation(channel, now, len(window), self.pace_limit)
            )
        bucket[0] = max(0.0, bucket[0] - 1)
