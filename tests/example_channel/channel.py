"""The example channel's messenger (the `core.ports.Messenger` port) and channel."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from core.engine import Engine
from core.messages import OutMessage
from core.ports import MediaTooLarge
from core.refs import ChatRef, MediaRef, MessageRef, UserRef
from tests.example_channel import CAPABILITIES
from tests.example_channel.translate import command


@dataclass
class Sent:
    """One message as the example platform shows it."""

    ref: MessageRef
    message: OutMessage
    deleted: bool = False


class ExampleMessenger:
    """Keeps what the bot sends per chat; files are local paths (`MediaRef.file_id`)."""

    platform = CAPABILITIES.platform

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.notes: list[tuple[ChatRef, UserRef, str]] = []
        self._ids = (str(n) for n in itertools.count(1))

    def chat(self, chat: ChatRef) -> list[Sent]:
        return [s for s in self.sent if s.ref.chat == chat and not s.deleted]

    async def send(self, chat: ChatRef, message: OutMessage) -> MessageRef:
        ref = MessageRef(chat, next(self._ids))
        self.sent.append(Sent(ref, message))
        return ref

    async def edit(self, ref: MessageRef, message: OutMessage) -> None:
        for sent in self.sent:
            if sent.ref.id == ref.id:
                sent.message = message

    async def notify(self, chat: ChatRef, user: UserRef, text: str) -> None:
        self.notes.append((chat, user, text))

    async def delete(self, ref: MessageRef) -> list[MessageRef]:
        for sent in self.sent:
            if sent.ref.id == ref.id:
                sent.deleted = True
        return []

    async def download(self, media: MediaRef, max_bytes: int) -> bytes:
        path = Path(media.file_id)
        if path.stat().st_size > max_bytes:
            raise MediaTooLarge(f"{path.stat().st_size} bytes")
        return path.read_bytes()


class ExampleChannel:
    """`bots.channels.Channel` for the example platform."""

    name = CAPABILITIES.platform

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.messenger = ExampleMessenger()
        self.running = False

    async def receive(self, payload: Mapping[str, Any]) -> str | None:
        """Hand one inbound payload to the engine; a button's private answer is noted."""
        cmd = command(payload)
        if cmd is None:
            return None
        reply = await self.engine.handle(cmd)
        if reply:
            await self.messenger.notify(cmd.chat, cmd.user, reply)
        return reply

    def add_routes(self, app: web.Application) -> bool:
        return False  # nothing arrives over HTTP here

    async def start(self) -> None:
        self.running = True

    async def stop(self) -> None:
        self.running = False

    def connected(self) -> bool:
        return self.running

    async def open_outbound(self) -> None:
        return None

    async def close_outbound(self) -> None:
        return None
