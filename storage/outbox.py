"""The outbox on SQL: one row per command with outbound work (its steps as JSON, see
core/outbox.py), leased to the process working on it."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from sqlalchemy import Connection, bindparam, or_
from sqlalchemy import select as core_select

from core.ports import OutboxEntry
from storage.tables import OutboxRow

OUTBOX = OutboxRow.__table__  # type: ignore[attr-defined]
_C = OUTBOX.c
_FREE = or_(_C.lease_until.is_(None), _C.lease_until <= bindparam("now"))
_HELD = (_C.id == bindparam("_id"), _C.lease_owner == bindparam("_owner"))
# built once: every answer adds an entry and settles it
ADD = OUTBOX.insert()
DUE = core_select(OUTBOX).where(_C.due_at <= bindparam("now"), _FREE).order_by(_C.id).limit(
    bindparam("limit"))
CLAIM = OUTBOX.update().where(_C.id == bindparam("_id"), _C.attempts == bindparam("_attempts"),
                              _FREE)
HELD = OUTBOX.update().where(*_HELD)
DONE = OUTBOX.delete().where(*_HELD)


class SqlOutbox:
    """`OutboxRepository` on SQL: one row per command with outbound work, leased to the
    process working on it."""

    def __init__(self, connection: Callable[[], Connection]) -> None:
        self.connection = connection

    def add(self, body: str, due_at: datetime, owner: str | None = None,
            lease_until: datetime | None = None) -> int:
        done = self.connection().execute(ADD, {
            "body": body, "due_at": due_at, "attempts": 0, "lease_owner": owner,
            "lease_until": lease_until})
        key = done.inserted_primary_key
        assert key is not None
        return int(key[0])

    def due(self, now: datetime, limit: int) -> list[OutboxEntry]:
        rows = self.connection().execute(DUE, {"now": now, "limit": limit})
        return [OutboxEntry(r.id, r.body, r.attempts, r.due_at, r.lease_owner, r.lease_until)
                for r in rows]

    def claim(self, entry: OutboxEntry, owner: str, now: datetime, until: datetime) -> bool:
        # the guard: nobody claimed it since it was read (attempts unchanged) and nobody
        # holds a lease on it now; of two sweeps that read it, only the first one's update
        # matches the row
        done = self.connection().execute(CLAIM, {
            "_id": entry.id, "_attempts": entry.attempts, "now": now,
            "lease_owner": owner, "lease_until": until, "attempts": entry.attempts + 1})
        return done.rowcount == 1

    def renew(self, entry_id: int, owner: str, until: datetime) -> bool:
        done = self.connection().execute(HELD, {"_id": entry_id, "_owner": owner,
                                                "lease_until": until})
        return done.rowcount == 1

    def save(self, entry_id: int, owner: str, body: str, due_at: datetime,
             until: datetime | None) -> bool:
        done = self.connection().execute(HELD, {
            "_id": entry_id, "_owner": owner, "body": body, "due_at": due_at,
            "lease_until": until, "lease_owner": owner if until is not None else None})
        return done.rowcount == 1

    def done(self, entry_id: int, owner: str) -> bool:
        done = self.connection().execute(DONE, {"_id": entry_id, "_owner": owner})
        return done.rowcount == 1

    def done_all(self, entry_ids: Collection[int], owner: str) -> int:
        """Remove several finished entries `owner` holds in one statement; how many went."""
        if not entry_ids:
            return 0
        # one statement run for each id (an executemany): an IN list would be rendered anew
        # for every batch size
        done = self.connection().execute(DONE, [{"_id": i, "_owner": owner} for i in entry_ids])
        return int(done.rowcount)
