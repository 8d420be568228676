"""Sends outgoing webhooks (Standard Webhooks) from the `webhook_delivery` table.

Each row was committed with the change that caused it (bots/webhook_events.py). A sender
takes a due row with a lease (a conditional UPDATE: of two processes, one wins), POSTs it
signed with the `standardwebhooks` package, and marks it delivered on a 2xx. Anything else
puts it back with a doubling delay, up to `MAX_ATTEMPTS`; every attempt carries the row's id
as `webhook-id`, so a receiver can drop a repeat.

The sender does not poll: `wake()` (called when a transaction that wrote rows has committed,
see `WebhookRecorder.on_commit`) starts a pass at once; otherwise it sleeps until the next
retry falls due, and at most `interval` seconds, the sweep that finds rows other processes
wrote and could not send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import Engine
from standardwebhooks import Webhook

from bots.webhook_events import DEFAULT_SECRET_ENV, backoff, event_body, new_webhook_id, secret_for
from storage.webhook_rows import PendingWebhook, WebhookRows

log = logging.getLogger("interviewbot.webhooks")
MAX_ATTEMPTS = 10  # about 43 minutes of doubling from 5 s, then the row is marked failed
LEASE = timedelta(seconds=60)  # longer than one attempt's timeout
KEEP = timedelta(days=30)  # delivered and failed rows are deleted after this
PRUNE_EVERY = 600.0  # seconds between two prunes of one sender
TIMEOUT = 15.0
SWEEP = 30.0  # seconds between two looks for rows written by other processes


class WebhookMetrics:
    """`interviewbot_webhooks_{delivered,retried,failed}_total{type}`."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.delivered = Counter("interviewbot_webhooks_delivered", "Webhook events delivered.",
                                 ["type"], registry=registry)
        self.retried = Counter("interviewbot_webhooks_retried", "Webhook attempts that failed "
                               "and will be tried again.", ["type"], registry=registry)
        self.failed = Counter("interviewbot_webhooks_failed", "Webhook events given up after "
                              f"{MAX_ATTEMPTS} attempts (or with no secret).", ["type"],
                              registry=registry)


@dataclass(frozen=True)
class Attempt:
    """The outcome of one POST."""

    ok: bool
    detail: str


def sign_headers(secret: str, msg_id: str, at: datetime, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt."""
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, at, body),
            "content-type": "application/json", "user-agent": "interviewbot-webhooks/1"}


async def post(client: httpx.AsyncClient, url: str, secret: str, msg_id: str, body: str
               ) -> Attempt:
    now = datetime.now(UTC)
    try:
        reply = await client.post(url, content=body.encode(),
                                  headers=sign_headers(secret, msg_id, now, body))
    except httpx.HTTPError as exc:
        return Attempt(False, f"{type(exc).__name__}: {exc}"[:300])
    if 200 <= reply.status_code < 300:
        return Attempt(True, str(reply.status_code))
    return Attempt(False, f"HTTP {reply.status_code}")


class WebhookSender:
    """Delivers due rows; `run` loops until stopped, `deliver_due` does one pass."""

    def __init__(self, db: Engine, secret: str | None, *, first_retry: float = 5.0,
                 interval: float = SWEEP, registry: CollectorRegistry | None = None) -> None:
        self.db = db
        self.rows = WebhookRows(db)
        self.secret = secret
        self.first_retry = first_retry
        self.interval = interval
        self.metrics = WebhookMetrics(registry)
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._woken = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pruned = 0.0

    def start(self) -> None:
        self._stop.clear()
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stop.set()
        self._woken.set()
        if self._task is not None:
            await self._task

    def wake(self) -> None:
        """Rows were committed: start a pass now. Safe from any thread (a commit may run in
        a worker thread); does nothing before `start`."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._woken.set)

    async def _pause(self) -> None:
        """Until woken, the next retry falls due, or `interval` has passed."""
        wait = self.interval
        try:
            upcoming = await asyncio.to_thread(self.rows.next_due)
        except Exception:
            upcoming = None
        if upcoming is not None:
            wait = min(wait, max(0.0, (upcoming - datetime.now(UTC)).total_seconds()))
        if wait > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), wait)

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            while not self._stop.is_set():
                self._woken.clear()  # rows committed from here on wake the next pause
                try:
                    await self.deliver_due(client)
                    if time.monotonic() - self._pruned > PRUNE_EVERY:
                        self._pruned = time.monotonic()
                        await asyncio.to_thread(self.prune, datetime.now(UTC) - KEEP)
                except Exception:
                    log.exception("webhook delivery pass failed")
                if not self._stop.is_set():
                    await self._pause()

    def prune(self, before: datetime) -> int:
        """Delete delivered and failed rows created before `before`; return how many."""
        return self.rows.prune(before)

    def _due(self, now: datetime, limit: int) -> list[PendingWebhook]:
        return self.rows.due(now, limit)

    def _claim(self, row: PendingWebhook, now: datetime) -> bool:
        """Lease a row for one attempt from `now` (the moment of the claim, not of the pass:
        a pass of slow receivers must not hand out leases that have already run out); False
        if another process took it first or holds a lease on it."""
        return self.rows.claim(row, now, LEASE)

    def _settle(self, row: PendingWebhook, attempt: Attempt) -> None:
        now = datetime.now(UTC)
        tries = row.attempts + 1
        if attempt.ok:
            values = {"status": "delivered", "delivered_at": now, "leased_until": None,
                      "last_error": None}
            self.metrics.delivered.labels(row.event_type).inc()
        elif tries >= MAX_ATTEMPTS:
            values = {"status": "failed", "leased_until": None, "last_error": attempt.detail}
            self.metrics.failed.labels(row.event_type).inc()
            log.error("webhook %s (%s) given up after %d attempts: %s", row.id, row.event_type,
                      tries, attempt.detail)
        else:
            values = {"due_at": now + backoff(tries, self.first_retry), "leased_until": None,
                      "last_error": attempt.detail}
            self.metrics.retried.labels(row.event_type).inc()
            log.warning("webhook %s (%s) attempt %d failed: %s", row.id, row.event_type, tries,
                        attempt.detail)
        self.rows.settle(row.id, values)

    async def deliver_due(self, client: httpx.AsyncClient, limit: int = 50) -> int:
        """One pass: every due row this process can lease; returns the attempts made."""
        now = datetime.now(UTC)
        rows = await asyncio.to_thread(self._due, now, limit)
        made = 0
        for row in rows:
            if not await asyncio.to_thread(self._claim, row, datetime.now(UTC)):
                continue
            secret = secret_for(row.secret_env, self.secret)
            if not secret:
                attempt = Attempt(False, f"no secret in {row.secret_env or DEFAULT_SECRET_ENV}")
                row.attempts = MAX_ATTEMPTS - 1  # nothing to retry until configured
            else:
                attempt = await post(client, row.url, secret, row.id, row.body)
            await asyncio.to_thread(self._settle, row, attempt)
            made += 1
        return made


async def ping(url: str, secret: str) -> tuple[str, Attempt]:
    """`interviewbot webhooks test`: one signed `ping` event, not stored, not retried."""
    msg_id = new_webhook_id()
    body = event_body("ping", {"message": "interviewbot webhook test"}, datetime.now(UTC))
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        return msg_id, await post(client, url, secret, msg_id, body)
