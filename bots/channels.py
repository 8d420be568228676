"""The registration point of chat channels, and what every channel offers the composition root.

A channel is one package under bots/ whose `__init__.py` declares `CHANNEL`, a
`ChannelDeclaration`, plus one line in `REGISTERED` below. Everything that differs by channel
reads the declarations: the engine's capabilities (core/capabilities.py), which channels
`interviewbot run` starts (`enabled`, `make`), start-up checks, the secrets logs redact, the
review audio format. See docs/adding-a-channel.md.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from aiohttp import web

from core.capabilities import CHANNELS, Capabilities
from core.ports import Messenger

if TYPE_CHECKING:
    from bots.app import App
    from bots.settings import Settings
    from core.engine import Engine

# One line per channel: the package that declares it.
REGISTERED: list[str] = [
    "bots.telegram",
    "bots.slack",
    "bots.console",
]


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


def _never(_settings: Settings) -> bool:
    return False


def _none(_name: str, _value: str) -> tuple[str, ...]:
    return ()


@dataclass(frozen=True)
class ChannelDeclaration:
    """What a channel package tells the rest of interviewbot about itself.

    `enabled` says whether the settings ask for it (its credentials are set); `make` builds
    the running channel (import heavy libraries inside it, so that declaring stays cheap);
    `token_pattern` is a regular expression of its credentials' shape, redacted from every
    log line; `derived_secrets(name, value)` lists secrets derived from a setting (redacted
    too); `on_start` runs once the channels are up (checks that only warn).
    """

    capabilities: Capabilities
    enabled: Callable[[Settings], bool] = _never
    make: Callable[[Settings, Engine], Channel] | None = None
    token_pattern: str | None = None
    derived_secrets: Callable[[str, str], tuple[str, ...]] = _none
    on_start: Callable[[App], Awaitable[object]] | None = None

    @property
    def name(self) -> str:
        return self.capabilities.platform


def declarations() -> tuple[ChannelDeclaration, ...]:
    """Every registered channel's declaration; registers their capabilities with the engine."""
    found = []
    for module in REGISTERED:
        declaration = importlib.import_module(module).CHANNEL
        if not isinstance(declaration, ChannelDeclaration):
            raise TypeError(f"{module}.CHANNEL is not a ChannelDeclaration")
        if CHANNELS[declaration.name] is not declaration.capabilities:
            CHANNELS.register(declaration.capabilities)
        found.append(declaration)
    return tuple(found)


def declaration(name: str) -> ChannelDeclaration | None:
    """The declaration of the channel called `name` (its platform), if registered."""
    return next((d for d in declarations() if d.name == name), None)
