"""An applicant tracking system stand-in: a local aiohttp server that receives webhooks,
verifies them with the `standardwebhooks` package, can fail on purpose, and keeps what it saw.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from standardwebhooks import Webhook, WebhookVerificationError

SECRET = "whsec_" + "c2VjcmV0LXNpZ25pbmcta2V5LWZvci10aGUtdGVzdHMh"  # base64 of 32 bytes


@dataclass
class Received:
    msg_id: str
    event: dict[str, Any]


@dataclass
class AtsStandIn:
    """Answers 500 to the first `fail_first` requests, then 200; records verified events once
    per `webhook-id` (as a receiver should) and every attempt."""

    secret: str = SECRET
    fail_first: int = 0
    delay: float = 0.0  # seconds before answering (a slow receiver)
    attempts: list[str] = field(default_factory=list)  # webhook-id of every request
    events: dict[str, Received] = field(default_factory=dict)  # accepted, by webhook-id
    rejected: list[str] = field(default_factory=list)  # signature failures
    port: int = 0
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/interviewbot"

    async def _hook(self, request: web.Request) -> web.Response:
        raw = await request.text()
        msg_id = request.headers.get("webhook-id", "")
        self.attempts.append(msg_id)
        if self.delay:
            await asyncio.sleep(self.delay)
        try:
            event = Webhook(self.secret).verify(raw, dict(request.headers))
        except WebhookVerificationError as exc:
            self.rejected.append(str(exc))
            return web.Response(status=400)
        if len(self.attempts) <= self.fail_first:
            return web.Response(status=500, text="ATS is down")
        if msg_id not in self.events:
            self.events[msg_id] = Received(msg_id, event if isinstance(event, dict)
                                           else json.loads(raw))
        return web.Response(status=204)

    async def __aenter__(self) -> AtsStandIn:
        app = web.Application()
        app.router.add_post("/hooks/interviewbot", self._hook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    def of_type(self, event_type: str) -> list[Received]:
        return [r for r in self.events.values() if r.event["type"] == event_type]

    async def wait_for(self, event_type: str, count: int = 1, timeout: float = 30) -> list[
            Received]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.of_type(event_type)) < count:
            if loop.time() > deadline:
                seen = [r.event["type"] for r in self.events.values()]
                raise TimeoutError(f"no {event_type} webhook (seen: {seen})")
            await asyncio.sleep(0.02)
        return self.of_type(event_type)
