"""The engine's collaborators, handed to every handler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from core.audio import AudioProcessor, Transcriber
from core.errors import ScriptError
from core.observe import NullObserver, Observer
from core.ports import Clock, Messenger, ScriptCatalog, UnitOfWorkFactory
from core.refs import ChatRef
from core.script import Script

DEFAULT_MAX_DOWNLOAD = 20 * 1024 * 1024  # Telegram's bot download limit


@dataclass
class Services:
    """Ports the handlers use; built once by the composition root."""

    uow: UnitOfWorkFactory
    scripts: ScriptCatalog
    clock: Clock
    audio: AudioProcessor
    messengers: dict[str, Messenger] = field(default_factory=dict)
    transcriber: Transcriber | None = None
    review_destinations: tuple[ChatRef, ...] | None = None  # overrides the scripts' lists
    max_download: dict[str, int] = field(default_factory=dict)
    observer: Observer = field(default_factory=NullObserver)
    # committed outbound work not done by then (the process died?) is done by a sweep
    outbox_retry: timedelta = timedelta(seconds=30)
    # members ("slack:U…") of a Slack user group ("slack:S…"), as last resolved by the adapter
    group_members: Callable[[str], frozenset[str]] = field(default=lambda _group: frozenset())

    def script(self, script_id: str) -> Script:
        script = self.scripts.get(script_id)
        if script is None:
            raise ScriptError(f"no interview script with id {script_id!r}")
        return script

    def destinations(self, script: Script) -> tuple[ChatRef, ...]:
        """Where reviewers see an interview: the override, else the script's list."""
        if self.review_destinations is not None:
            return self.review_destinations
        return tuple(ChatRef.parse(d) for d in script.review.destinations)

    def download_limit(self, platform: str) -> int:
        return self.max_download.get(platform, DEFAULT_MAX_DOWNLOAD)
