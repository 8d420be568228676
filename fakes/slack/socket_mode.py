"""Slack Socket Mode for the fake workspace: `apps.connections.open` and a local WebSocket.

Speaks Slack's envelope protocol as documented for Socket Mode:

- `apps.connections.open` (authenticated with the app-level `xapp-` token) answers a
  single-use `ws://` URL; connecting to it gets `{"type": "hello", ...}` first.
- Deliveries are envelopes `{"envelope_id", "type", "payload", "accepts_response_payload",
  "retry_attempt", "retry_reason"}` of type `events_api` (payload: the `event_callback` body),
  `interactive` (payload: the interaction payload) or `slash_commands` (payload: the
  command's fields).
- The app acknowledges each with `{"envelope_id": ..., "payload"?: ...}`. An envelope not
  acknowledged can be delivered again (`redeliver`) with `retry_attempt` + 1, as Slack does.
- `refresh()` sends `{"type": "disconnect", "reason": "refresh_requested"}`; the client asks
  `apps.connections.open` for a new URL and connects again.

Install with `FakeSlack(..., app_token="xapp-...")`: `FakeSlack.socket` is then a
`SocketModeServer` on the same HTTP server.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .sender import SlackReply

JSON = dict[str, Any]
PATH = "/socket-mode/link"


@dataclass
class Envelope:
    """One delivery and what came back for it."""

    envelope_id: str
    type: str
    payload: JSON
    retry_attempt: int = 0
    acks: list[JSON] = field(default_factory=list)
    connection: int = 0  # which connection it went out on

    def message(self) -> JSON:
        return {"envelope_id": self.envelope_id, "type": self.type, "payload": self.payload,
                "accepts_response_payload": self.type != "events_api",
                "retry_attempt": self.retry_attempt,
                "retry_reason": "timeout" if self.retry_attempt else ""}


class SocketModeServer:
    """The WebSocket side of the fake Slack (see the module docstring)."""

    def __init__(self, app_token: str, base_url: Callable[[], str],
                 changed: Callable[[], None]) -> None:
        self.app_token = app_token
        self._base_url = base_url
        self._changed = changed
        self._tickets: set[str] = set()
        self._ids = itertools.count(1)
        self.connections: list[web.WebSocketResponse] = []
        self.opened = 0  # apps.connections.open calls answered
        self.envelopes: dict[str, Envelope] = {}
        self.disconnects_sent = 0
        self._connected = asyncio.Condition()

    # -- wiring into FakeSlack -------------------------------------------------------------
    def install(self, app: web.Application) -> None:
        app.router.add_get(PATH, self._handle_ws)

    def connections_open(self, token: str | None) -> JSON:
        """`apps.connections.open`: a fresh single-use URL (the caller checks the token)."""
        ticket = secrets.token_hex(8)
        self._tickets.add(ticket)
        self.opened += 1
        url = self._base_url().replace("http://", "ws://", 1)
        return {"url": f"{url}{PATH}?ticket={ticket}&app_id=A0FAKE"}

    # -- the socket -------------------------------------------------------------------------
    async def _handle_ws(self, request: web.Request) -> web.WebSocketResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            raise web.HTTPUnauthorized(text="invalid ticket")
        self._tickets.discard(ticket)  # single use, like Slack's
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connections.append(ws)
        number = len(self.connections)
        await ws.send_str(json.dumps({
            "type": "hello", "num_connections": 1,
            "debug_info": {"host": "fake-socket", "approximate_connection_time": 18060},
            "connection_info": {"app_id": "A0FAKE"}}))
        async with self._connected:
            self._connected.notify_all()
        self._changed()
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            try:
                data = json.loads(msg.data)
            except ValueError:
                continue
            envelope = self.envelopes.get(str(data.get("envelope_id", "")))
            if envelope is not None:
                envelope.acks.append(data)
                self._changed()
        _ = number
        return ws

    @property
    def current(self) -> web.WebSocketResponse | None:
        live = [ws for ws in self.connections if not ws.closed]
        return live[-1] if live else None

    async def wait_connected(self, count: int = 1, timeout: float = 30.0) -> None:
        """Until `count` connections have said hello and one of them is open."""
        async def ready() -> None:
            async with self._connected:
                await self._connected.wait_for(
                    lambda: len(self.connections) >= count and self.current is not None)
        await asyncio.wait_for(ready(), timeout)

    # -- deliveries -------------------------------------------------------------------------
    async def deliver(self, kind: str, payload: Mapping[str, Any]) -> Envelope:
        """Send one envelope on the current connection; returns it (its `acks` fill in)."""
        envelope = Envelope(f"env-{next(self._ids)}-{secrets.token_hex(4)}", kind, dict(payload))
        self.envelopes[envelope.envelope_id] = envelope
        await self._send(envelope)
        return envelope

    async def redeliver(self, envelope: Envelope) -> Envelope:
        """Slack's retry of an envelope: the same payload, a new envelope id, retry + 1."""
        again = Envelope(f"env-{next(self._ids)}-{secrets.token_hex(4)}", envelope.type,
                         envelope.payload, envelope.retry_attempt + 1)
        self.envelopes[again.envelope_id] = again
        await self._send(again)
        return again

    async def _send(self, envelope: Envelope) -> None:
        ws = self.current
        assert ws is not None, "no Socket Mode connection is open"
        envelope.connection = self.connections.index(ws) + 1
        await ws.send_str(json.dumps(envelope.message()))

    async def wait_ack(self, envelope: Envelope, timeout: float = 30.0) -> JSON:
        """The app's acknowledgement of `envelope` (by its envelope_id)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not envelope.acks:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"envelope {envelope.envelope_id} was never acknowledged")
            await asyncio.sleep(0.01)
        return envelope.acks[0]

    async def refresh(self) -> None:
        """`disconnect` with reason `refresh_requested`, as Slack sends before rotating."""
        ws = self.current
        assert ws is not None
        self.disconnects_sent += 1
        await ws.send_str(json.dumps({"type": "disconnect", "reason": "refresh_requested",
                                      "debug_info": {"host": "fake-socket"}}))

    async def drop(self) -> None:
        """Close the current connection from the server side (a network drop)."""
        ws = self.current
        if ws is not None:
            await ws.close()

    async def close(self) -> None:
        for ws in self.connections:
            if not ws.closed:
                await ws.close()


class SocketSender:
    """Delivers what `SlackSender` POSTs over the Socket Mode connection instead, and returns
    the app's acknowledgement as a `SlackReply` (its response payload as the body), so the
    e2e helpers (`SlackWorld`) run unchanged in Socket Mode."""

    def __init__(self, server: SocketModeServer) -> None:
        self.server = server
        self.delivered: list[Envelope] = []

    @property
    def last(self) -> Envelope:
        return self.delivered[-1]

    async def _send(self, kind: str, payload: Mapping[str, Any]) -> Any:
        envelope = await self.server.deliver(kind, payload)
        self.delivered.append(envelope)
        ack = await self.server.wait_ack(envelope)
        body = ack.get("payload")
        return SlackReply(200, json.dumps(body) if body is not None else "")

    async def event(self, envelope: Mapping[str, Any], **_options: Any) -> Any:
        return await self._send("events_api", envelope)

    async def interaction(self, payload: Mapping[str, Any], **_options: Any) -> Any:
        return await self._send("interactive", payload)

    async def command(self, fields: Mapping[str, str], **_options: Any) -> Any:
        return await self._send("slash_commands", dict(fields))
