"""The engine's collaborators, handed to every handler."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from core.audio import AudioProcessor, Transcriber
from core.capabilities import capabilities
from core.errors import ScriptError, ScriptRetired
from core.observe import NullObserver, Observer
from core.ports import Clock, Messenger, ScriptCatalog, UnitOfWork, UnitOfWorkFactory
from core.queries import InterviewQueries
from core.refs import ChatRef
from core.script import Script


class Pinned(Protocol):
    """An interview as far as its script goes: the aggregate or a read model of it."""

    @property
    def id(self) -> str: ...
    @property
    def script_id(self) -> str: ...
    @property
    def script_revision(self) -> str | None: ...


@dataclass
class Services:
    """Ports the handlers use; built once by the composition root."""

    uow: UnitOfWorkFactory
    scripts: ScriptCatalog
    clock: Clock
    audio: AudioProcessor
    queries: InterviewQueries  # the read side adapters use (core/queries.py)
    messengers: dict[str, Messenger] = field(default_factory=dict)
    transcriber: Transcriber | None = None
    review_destinations: tuple[ChatRef, ...] | None = None  # overrides the scripts' lists
    observer: Observer = field(default_factory=NullObserver)
    # committed outbound work not done by then (the process died?) is done by a sweep
    outbox_retry: timedelta = timedelta(seconds=30)
    # the people ("platform:id") in a user group, as last resolved by its channel's adapter
    group_members: Callable[[str], frozenset[str]] = field(default=lambda _group: frozenset())

    # pinned scripts by revision hash: revisions never change, so they are kept once read
    _pinned: dict[str, Script] = field(default_factory=dict, repr=False)

    def script(self, of: str | Pinned) -> Script:
        """An interview's script: the revision it was invited to, whatever the files say now
        (a legacy interview with no revision: its script's current file). Given a script id:
        the served script of that id, for a new invitation."""
        if isinstance(of, str):
            return self._served(of)
        if of.script_revision is None:
            return self._served(of.script_id)
        pinned = self._pinned.get(of.script_revision)
        if pinned is not None:
            return pinned
        current = self.scripts.revision(of.script_id)
        if current is not None and current.hash == of.script_revision:
            script = self._served(of.script_id)
        else:
            with self.uow() as uow:
                revision = uow.scripts.get(of.script_revision)
            if revision is None:
                raise ScriptError(f"interview {of.id}: script revision "
                                  f"{of.script_revision[:12]} is not stored")
            script = self.scripts.parse_revision(revision)
        self._pinned[of.script_revision] = script
        return script

    def _served(self, script_id: str) -> Script:
        script = self.scripts.get(script_id)
        if script is None:
            raise ScriptError(f"no interview script with id {script_id!r}")
        return script

    def pin(self, uow: UnitOfWork, script_id: str) -> tuple[Script, str]:
        """The served script for a new invitation, and the revision it pins (kept in `uow`).
        A script that was served once and is no longer is retired: `ScriptRetired`."""
        script = self.scripts.get(script_id)
        revision = self.scripts.revision(script_id)
        if script is None or revision is None:
            if uow.scripts.latest(script_id) is not None:
                raise ScriptRetired(
                    f"interview script {script_id!r} is retired (no longer among the served "
                    "scripts): it takes no new invitations; its open interviews go on")
            raise ScriptError(f"no interview script with id {script_id!r}")
        uow.scripts.add(revision)
        self._pinned.setdefault(revision.hash, script)
        return script, revision.hash

    def destinations(self, script: Script) -> tuple[ChatRef, ...]:
        """Where reviewers see an interview: the override, else the script's list."""
        if self.review_destinations is not None:
            return self.review_destinations
        return tuple(ChatRef.parse(d) for d in script.review.destinations)

    def download_limit(self, platform: str) -> int:
        return capabilities(platform).max_download
