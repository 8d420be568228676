"""The 3-second acknowledgement: redelivery with retry headers, no retry when asked or for
interactions."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiohttp import web

from fakes import slack as ev

from .helpers import SECRET


@dataclass
class SlowApp:
    """An HTTP endpoint that never answers the requests numbered in `stuck`, answers the
    others at once with `statuses[n]` (200 past the list)."""

    stuck: set[int]
    statuses: list[int]
    seen: list[dict[str, str]]
    never: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        n = len(self.seen)
        self.seen.append({k: v for k, v in request.headers.items() if k.startswith("X-Slack")})
        await request.read()
        if n in self.stuck:
            await self.never.wait()  # set only at cleanup: past any deadline
        status = self.statuses[n] if n < len(self.statuses) else 200
        headers = {"X-Slack-No-Retry": "1"} if status == 418 else {}
        return web.Response(status=status, headers=headers)


async def _serve(app: SlowApp) -> tuple[web.AppRunner, str]:
    web_app = web.Application()
    web_app.router.add_post("/slack/events", app.handle)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def test_an_event_not_acknowledged_in_time_is_redelivered_with_retry_headers() -> None:
    app = SlowApp(stuck={0}, statuses=[200, 500, 200], seen=[])
    runner, base = await _serve(app)
    try:
        async with ev.SlackSender(base, SECRET, ack_deadline=1.0) as sender:
            assert ev.ACK_DEADLINE == 3.0  # Slack's; shortened here to keep the test quick
            reply = await sender.event(ev.message("U0GRACE", "hello", channel="D1"))
            assert reply.status == 200
            assert sender.redeliveries == [(1, "http_timeout"), (2, "http_error")]
            assert [h.get("X-Slack-Retry-Num") for h in app.seen] == [None, "1", "2"]
            assert [h.get("X-Slack-Retry-Reason") for h in app.seen] == [
                None, "http_timeout", "http_error"]
            # at most three retries
            app.seen.clear()
            app.statuses, app.stuck = [503] * 5, set()
            assert (await sender.event(ev.message("U0GRACE", "again", channel="D1"))).status == 503
            assert len(app.seen) == 4
    finally:
        app.never.set()
        await runner.cleanup()


async def test_no_retry_when_asked_and_none_for_interactions() -> None:
    app = SlowApp(stuck={1}, statuses=[418], seen=[])
    runner, base = await _serve(app)
    try:
        async with ev.SlackSender(base, SECRET, ack_deadline=1.0) as sender:
            assert (await sender.event(ev.message("U0GRACE", "x", channel="D1"))).status == 418
            late = await sender.interaction({"type": "block_actions", "actions": []})
            assert late.status == 0 and len(sender.timeouts) == 1
            assert len(app.seen) == 2 and sender.redeliveries == []
    finally:
        app.never.set()
        await runner.cleanup()
