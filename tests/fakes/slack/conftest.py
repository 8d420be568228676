"""Fixtures of the fake Slack's own tests: a workspace, a Web API client, a Bolt app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from fakes import slack as ev
from fakes.slack import FakeSlack

from .helpers import SECRET, TOKEN, BoltHarness, _bolt_web_app


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    # these check the fake's API from raw clients that post without pacing (pacing: own tests)
    async with FakeSlack(bot_token=TOKEN, enforce_pacing=False) as server:
        server.user("U0GRACE", "Grace", "America/New_York", real_name="Grace Hopper")
        server.user("U0ADA", "Ada", "Europe/London")
        server.channel("C0REVIEWS", "reviews", members=["U0ADA"])
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=fake.api_url)


@pytest.fixture
async def bolt(fake: FakeSlack) -> AsyncIterator[BoltHarness]:
    app = AsyncApp(
        signing_secret=SECRET,
        client=AsyncWebClient(token=TOKEN, base_url=fake.api_url),
    )
    seen: list[dict[str, Any]] = []

    @app.event("message")
    async def on_message(event: dict[str, Any], say: Any, request: Any) -> None:
        seen.append({"event": event, "retry": request.headers.get("x-slack-retry-num", [None])[0]})
        if event.get("subtype") in (None, "file_share"):
            files = event.get("files") or []
            await say(f"Got: {event.get('text') or files[0]['subtype']}")

    @app.event("app_home_opened")
    async def on_home(event: dict[str, Any], client: AsyncWebClient) -> None:
        seen.append({"home": event["user"]})
        await client.views_publish(
            user_id=event["user"],
            view={
                "type": "home",
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": "Your interviews: none"}}
                ],
            },
        )

    @app.action("keep")
    async def on_keep(ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        await ack()
        seen.append({"action": body["actions"][0], "user": body["user"]["id"]})
        await respond(replace_original=True, text="Kept answer 1")

    @app.command("/interview")
    async def on_command(ack: Any, command: dict[str, Any]) -> None:
        await ack(f"status for {command['user_id']}: {command['text']}")

    @app.view("follow_up")
    async def on_submit(ack: Any, view: dict[str, Any]) -> None:
        await ack()
        seen.append({"submitted": view["state"]["values"]})

    runner = web.AppRunner(_bolt_web_app(app), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with ev.SlackSender(f"http://127.0.0.1:{port}", SECRET) as sender:
        yield BoltHarness(app, sender, seen)
    await runner.cleanup()
