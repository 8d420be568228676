"""What every chat channel offers the composition root."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from aiohttp import web

from core.ports import Messenger

if TYPE_CHECKING:
    from core.engine import Engine


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


class EngineObserver:
    """`core.observe.Observer` forwarding to the engine's observer at the time of each call.

    The composition root installs its metrics in `Services.observer` (`bots.app.serve`) after
    the channels are built; a channel given no observer of its own counts into that one, so
    its retries land in the same registry as everything the engine counts. It forwards every
    `Observer` method (mypy checks that it still is one where the channels use it).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine  # read lazily: tests build channels without an engine

    def answer_received(self, kind: str, platform: str) -> None:
        self.engine.views.observer.answer_received(kind, platform)

    def reminder_sent(self, kind: str) -> None:
        self.engine.views.observer.reminder_sent(kind)

    def delivery_retried(self, platform: str) -> None:
        self.engine.views.observer.delivery_retried(platform)

    def delivery_failed(self, platform: str) -> None:
        self.engine.views.observer.delivery_failed(platform)

    def command_handled(self, command: str, seconds: float) -> None:
        self.engine.views.observer.command_handled(command, seconds)

    def conflict_retried(self) -> None:
        self.engine.views.observer.conflict_retried()

    def outbox_resent(self) -> None:
        self.engine.views.observer.outbox_resent()

    def step_given_up(self, kind: str, platform: str) -> None:
        self.engine.views.observer.step_given_up(kind, platform)
