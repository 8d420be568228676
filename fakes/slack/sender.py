"""Signing and sending Slack's requests to the app: the 3-second acknowledgement and redelivery."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import aiohttp


def sign(signing_secret: str, timestamp: int | str, body: str | bytes) -> str:
    """The ``X-Slack-Signature`` value for ``body`` sent at ``timestamp``."""
    raw = body.decode("utf-8") if isinstance(body, bytes) else body
    base = f"v0:{timestamp}:{raw}".encode()
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class SlackReply:
    """The app's HTTP answer to one delivery."""

    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    elapsed: float = 0.0

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


ACK_DEADLINE = 3.0  # seconds Slack waits for the app's HTTP answer
MAX_RETRIES = 3  # Slack redelivers a failed event three times


class SlackSender:
    """POSTs signed Slack requests to a Bolt app's ``/slack/events`` endpoint, as Slack does.

    Slack waits ``ack_deadline`` (3 s) for an answer. An Events API delivery that gets none, or a
    non-2xx answer, is sent again up to three times with ``X-Slack-Retry-Num`` and
    ``X-Slack-Retry-Reason`` (``http_timeout``, ``http_error``); Slack spaces them out (at
    once, after a minute, after five), the fake sends them after ``retry_delays`` (no wait by
    default). An answer carrying ``X-Slack-No-Retry: 1`` is not retried; nor are requests a
    test forges (bad or missing signature, a given timestamp or retry number). An interaction
    or slash command not answered in time is not retried: Slack shows the person an error; the
    fake gives up on it (status 0) and lists it in ``timeouts``. ``redeliveries`` lists every
    automatic retry as ``(retry number, reason)``.
    """

    def __init__(
        self,
        base_url: str,
        signing_secret: str,
        *,
        path: str = "/slack/events",
        clock: Callable[[], float] = time.time,
        ack_deadline: float = ACK_DEADLINE,
        retry_delays: Sequence[float] = (0.0,) * MAX_RETRIES,
    ) -> None:
        self.url = base_url.rstrip("/") + path
        self.signing_secret = signing_secret
        self.clock = clock
        self.ack_deadline = ack_deadline
        self.retry_delays = tuple(retry_delays)
        self.sent: list[tuple[bytes, dict[str, str]]] = []
        self.redeliveries: list[tuple[int, str]] = []
        self.timeouts: list[bytes] = []
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SlackSender:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def event(self, envelope: Mapping[str, Any], **options: Any) -> SlackReply:
        """Send an Events API envelope (JSON body), redelivered as Slack does when the app
        does not answer 2xx in time. See ``post`` for options."""
        body = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)
        forged = any(options.get(k) for k in ("bad_signature", "signature", "unsigned", "age")) \
            or options.get("timestamp") is not None or options.get("retry_num") is not None
        reply = await self.post(body, "application/json", **options)
        if forged:
            return reply
        for number, delay in enumerate(self.retry_delays, 1):
            if 200 <= reply.status < 300 or reply.headers.get("X-Slack-No-Retry") == "1":
                break
            reason = "http_timeout" if reply.status == 0 else "http_error"
            self.redeliveries.append((number, reason))
            if delay:
                await asyncio.sleep(delay)
            reply = await self.post(body, "application/json", retry_num=number,
                                    retry_reason=reason, **options)
        return reply

    async def interaction(self, payload: Mapping[str, Any], **options: Any) -> SlackReply:
        """Send an interaction payload form-encoded as ``payload=<json>``."""
        body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))})
        return await self.post(body, "application/x-www-form-urlencoded", **options)

    async def command(self, fields: Mapping[str, str], **options: Any) -> SlackReply:
        """Send slash command fields form-encoded."""
        return await self.post(
            urlencode(dict(fields)), "application/x-www-form-urlencoded", **options
        )

    async def post(
        self,
        body: str | bytes,
        content_type: str,
        *,
        bad_signature: bool = False,
        signature: str | None = None,
        age: float = 0.0,
        timestamp: int | None = None,
        unsigned: bool = False,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        headers: Mapping[str, str] | None = None,
    ) -> SlackReply:
        """POST a raw body with Slack's headers.

        ``bad_signature`` signs with a different secret, ``signature`` sends that value verbatim,
        ``age`` dates the request that many seconds back (Bolt rejects more than 300),
        ``unsigned`` omits the signature headers, ``retry_num`` adds ``X-Slack-Retry-Num`` and
        ``X-Slack-Retry-Reason`` as Slack does when it redelivers.
        """
        raw = body.encode("utf-8") if isinstance(body, str) else body
        ts = timestamp if timestamp is not None else int(self.clock() - age)
        hdrs: dict[str, str] = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "Accept": "*/*",
        }
        if not unsigned:
            secret = self.signing_secret + "-wrong" if bad_signature else self.signing_secret
            hdrs["X-Slack-Request-Timestamp"] = str(ts)
            hdrs["X-Slack-Signature"] = signature or sign(secret, ts, raw)
        if retry_num is not None:
            hdrs["X-Slack-Retry-Num"] = str(retry_num)
            hdrs["X-Slack-Retry-Reason"] = retry_reason
        if headers:
            hdrs.update(headers)
        self.sent.append((raw, hdrs))
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.ack_deadline):
                async with self._session.post(self.url, data=raw, headers=hdrs) as resp:
                    text = await resp.text()
                    return SlackReply(resp.status, text, dict(resp.headers),
                                      time.monotonic() - started)
        except TimeoutError:
            # Slack stops waiting; the app may still be working on it
            self.timeouts.append(raw)
            return SlackReply(0, "", {}, time.monotonic() - started)
