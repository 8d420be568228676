"""Ports: what the engine needs from the outside world, as `typing.Protocol`s.

Adapters implement `Messenger`; storage implements `UnitOfWork`; bots/ supplies the clock,
the scheduler and the audio pipeline (see core/audio.py).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol

from core.fairness_records import FairnessRecords
from core.messages import OutMessage
from core.model import (
    AuditEntry,
    Interview,
    Rating,
    ReviewerDecision,
    ReviewPost,
)
from core.refs import ChatRef, MediaRef, MessageRef, UserRef
from core.script import Script
from core.states import State


class DeliveryFailed(Exception):
    """A messenger gave up sending (after its own retries); the text says why."""


class AlreadyHandled(Exception):
    """The same inbound delivery was committed by someone else first (a redelivery)."""


class ConcurrentUpdate(Exception):
    """Another transaction changed the same interview first; run the command again."""


class MediaTooLarge(Exception):
    """A file is larger than the platform lets a bot download."""


class StepFailed(Exception):
    """An outbox step could not be done this time (it is tried again later)."""


class Messenger(Protocol):
    """Sends and edits messages on one platform, and fetches files people sent."""

    platform: str

    async def send(self, chat: ChatRef, message: OutMessage) -> MessageRef:
        """Send a message; return a reference for later edits."""
        ...

    async def edit(self, ref: MessageRef, message: OutMessage) -> None:
        """Replace a sent message's text and buttons (no error if nothing changed)."""
        ...

    async def notify(self, chat: ChatRef, user: UserRef, text: str) -> None:
        """Tell one person something privately in a shared chat (an ephemeral message)."""
        ...

    async def download(self, media: MediaRef, max_bytes: int) -> bytes:
        """Fetch a file; raise `MediaTooLarge` beyond `max_bytes` or the platform's limit."""
        ...

    async def delete(self, ref: MessageRef) -> list[MessageRef]:
        """Delete a sent message with its parts (pieces of a split text, uploaded files).

        A message already gone counts as deleted. Returns the messages the platform refused
        to delete (too old, no right to): the caller edits those instead. Raises
        `DeliveryFailed` when the platform could not be reached.
        """
        ...


class Clock(Protocol):
    """The current time, timezone-aware UTC."""

    def now(self) -> datetime: ...


class Scheduler(Protocol):
    """Timers: the engine tells the scheduler when an interview needs a look again."""

    def interview_changed(self, interview: Interview) -> None:
        """(Re)plan reminders and the deadline of an interview from its current state."""
        ...


class InterviewRepository(Protocol):
    """Interviews with their answers, takes, follow-ups and candidate questions."""

    def add(self, interview: Interview) -> None: ...

    def get(self, interview_id: str) -> Interview | None: ...

    def by_token_hash(self, token_hash: str) -> Interview | None: ...

    def current_for(self, user: UserRef) -> Interview | None:
        """The candidate's newest interview that is open or still wrapping up."""
        ...

    def for_script(self, script_id: str) -> list[Interview]: ...

    def live(self, states: Iterable[State]) -> list[Interview]:
        """Every interview in one of `states` (for the scheduler's reconciliation)."""
        ...

    def next_number(self, script_id: str) -> int: ...

    def is_candidate(self, script_id: str, user: UserRef) -> bool:
        """Whether the person was ever invited to this script as a candidate."""

    def completed_page(self, script_ids: Iterable[str], offset: int, limit: int
                       ) -> list[Interview]:
        """Completed interviews of some scripts, newest first, one bounded page."""


class ReviewRepository(Protocol):
    """Ratings, decisions, review posts and the audit log."""

    def ratings(self, interview_id: str) -> list[Rating]: ...

    def put_rating(self, rating: Rating) -> Rating | None:
        """Insert or replace a reviewer's score; return the replaced rating, if any."""
        ...

    def decisions(self, interview_id: str) -> list[ReviewerDecision]: ...

    def put_decision(self, decision: ReviewerDecision) -> None: ...

    def posts(self, interview_id: str) -> list[ReviewPost]: ...

    def add_post(self, post: ReviewPost) -> None: ...

    def add_post_unless_erased(self, post: ReviewPost) -> bool:
        """Record a post unless its interview is erased (False then: delete the message).

        Takes the interview row's write lock, so an erasure that commits meanwhile either
        sees this post or is seen by it."""
        ...

    def remove_post(self, post: ReviewPost) -> None:
        """Forget a post (once it is deleted from its chat)."""
        ...

    def audit(self, entry: AuditEntry) -> None: ...

    def add_reply_prompt(self, chat: ChatRef, message_id: str, target: str, at: datetime
                         ) -> None:
        """Record a force-reply prompt the bot sent."""

    def reply_target(self, chat: ChatRef, message_id: str) -> str | None:
        """What a reply to this bot message is for, if it was recorded as a prompt."""

    def audit_log(self, interview_id: str) -> list[AuditEntry]: ...

    def erase(self, interview_id: str) -> None:
        """Remove ratings' links to personal data (kept anonymous) and posts of an interview."""
        ...

    def reminders_sent(self, interview_id: str) -> int:
        """Candidate reminders sent for an interview (delivery keys of `core.report`)."""
        ...


@dataclass(frozen=True)
class OutboxEntry:
    """One command's committed outbound work (JSON steps, see core/outbox.py).

    `lease_owner` is the process working on it until `lease_until`; nobody else takes it
    before the lease expires. `attempts` counts claims (a sweep taking the entry over)."""

    id: int
    body: str
    attempts: int
    due_at: datetime
    lease_owner: str | None = None
    lease_until: datetime | None = None


class OutboxRepository(Protocol):
    """Outbound work committed with the change that caused it, kept until performed."""

    def add(self, body: str, due_at: datetime, owner: str | None = None,
            lease_until: datetime | None = None) -> int:
        """Keep `body`, leased to `owner` until `lease_until` (the process that will do it)."""
        ...

    def due(self, now: datetime, limit: int) -> list[OutboxEntry]:
        """Entries due at `now` whose lease (if any) has expired, oldest first."""
        ...

    def claim(self, entry: OutboxEntry, owner: str, now: datetime, until: datetime) -> bool:
        """Lease `entry` to `owner` until `until`; False if someone claimed it since it was
        read (its `attempts` moved on) or holds an unexpired lease on it."""
        ...

    def renew(self, entry_id: int, owner: str, until: datetime) -> bool:
        """Extend `owner`'s lease; False if it lost the lease (expired and taken over)."""
        ...

    def save(self, entry_id: int, owner: str, body: str, due_at: datetime,
             until: datetime | None) -> bool:
        """Keep the steps' new state; `until` None releases the lease. False if `owner` no
        longer holds the lease (nothing is written)."""
        ...

    def done(self, entry_id: int, owner: str) -> bool:
        """Remove an entry whose steps are all done or given up (if `owner` holds it)."""
        ...

    def done_all(self, entry_ids: Collection[int], owner: str) -> int:
        """`done` for several entries at once; returns how many were removed."""
        ...


@dataclass(frozen=True)
class ScriptRevision:
    """One version of a script as invited to: content-addressed (`hash` of `source`)."""

    hash: str
    script_id: str
    source: str  # the script's text as the catalogue read it (opaque to the engine)


class ScriptRevisionRepository(Protocol):
    """Script revisions interviews are pinned to; rows are never changed or removed."""

    def add(self, revision: ScriptRevision) -> None:
        """Keep `revision` (nothing happens if its hash is already kept)."""
        ...

    def get(self, revision_hash: str) -> ScriptRevision | None: ...

    def latest(self, script_id: str) -> ScriptRevision | None:
        """The newest revision of a script id interviews were pinned to, if any."""
        ...


class UnitOfWork(Protocol):
    """One transaction: repositories plus inbound de-duplication; commit or nothing."""

    @property
    def interviews(self) -> InterviewRepository: ...

    @property
    def reviews(self) -> ReviewRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def scripts(self) -> ScriptRevisionRepository: ...

    @property
    def fairness(self) -> FairnessRecords: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def first_delivery(self, key: str, at: datetime | None = None) -> bool:
        """Record an inbound delivery key; False if it was recorded before (a duplicate)."""
        ...

    def record_delivery(self, key: str) -> None:
        """Record an inbound delivery key with this transaction, unchecked: the commit raises
        `AlreadyHandled` if it was recorded before (a redelivery is rare; no read for it)."""
        ...

    def seen(self, key: str) -> bool:
        """Whether a delivery key is recorded (committed), without recording it."""
        ...

    def recent(self, prefix: str, since: datetime) -> int:
        """How many delivery keys starting with `prefix` were recorded at or after `since`."""
        ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    def __call__(self) -> UnitOfWork: ...


class ScriptCatalog(Protocol):
    """The interview scripts the engine knows."""

    def get(self, script_id: str) -> Script | None: ...

    def all(self) -> Iterable[Script]: ...

    def revision(self, script_id: str) -> ScriptRevision | None:
        """The current revision of a served script (to pin an invitation to)."""
        ...

    def parse_revision(self, revision: ScriptRevision) -> Script:
        """The script a stored revision holds; raise `ScriptError` if it no longer parses."""
        ...

