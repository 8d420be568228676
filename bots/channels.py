"""What every chat channel offers the composition root."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from core.ports import Messenger


class Channel(Protocol):
    """A running connection to one chat platform (Telegram, Slack)."""

    @property
    def name(self) -> str: ...

    @property
    def messenger(self) -> Messenger: ...

    def add_routes(self, app: web.Application) -> bool:
        """Add HTTP routes (webhooks) to the shared server; True if it needs the server."""
        ...

    async def start(self) -> None:
        """Connect (polling, Socket Mode, or ready for webhooks)."""
        ...

    async def stop(self) -> None:
        """Disconnect and release resources."""
        ...

    def connected(self) -> bool:
        """Whether the channel is receiving (polling or webhook set, socket open, HTTP ready)."""
        ...

    async def open_outbound(self) -> None:
        """Make the messenger usable without receiving anything (for CLI commands)."""
        ...

    async def close_outbound(self) -> None:
        """Release what `open_outbound` acquired."""
        ...
