"""Helpers for the fake Slack's own tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from fakes import slack as ev

TOKEN = "xoxb-test"
SECRET = "shh-signing-secret"
AUDIO = b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00" + bytes(range(256)) * 8


def rating_blocks(prefix: str = "rate") -> list[dict[str, Any]]:
    return [
        {"type": "section", "block_id": "q1", "text": {"type": "mrkdwn", "text": "*Question 1*"}},
        {
            "type": "actions",
            "block_id": "r1",
            "elements": [
                {
                    "type": "button",
                    "action_id": f"{prefix}:{n}",
                    "text": {"type": "plain_text", "text": f"{n} ★"},
                    "value": f"ans-1:{n}",
                }
                for n in range(1, 6)
            ],
        },
        {
            "type": "actions",
            "block_id": "keep",
            "elements": [
                {
                    "type": "button",
                    "action_id": "keep",
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Keep"},
                    "value": "keep-1",
                },
                {
                    "type": "button",
                    "action_id": "rerecord",
                    "text": {"type": "plain_text", "text": "Re-record"},
                    "value": "redo-1",
                },
            ],
        },
    ]


@dataclass
class BoltHarness:
    app: AsyncApp
    sender: ev.SlackSender
    seen: list[dict[str, Any]]


def _bolt_web_app(app: AsyncApp) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", handle)
    return web_app
