"""The outbox on SQL: one row per command with outbound work (its steps as JSON, see
core/outbox.py), leased to the process working on it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_
from sqlalchemy import select as core_select
from sqlmodel import Session

from core.ports import OutboxEntry
from storage.tables import OutboxRow

OUTBOX = OutboxRow.__table__  # type: ignore[attr-defined]


class SqlOutbox:
    """`OutboxRepository` on SQL: one row per command with outbound work, leased to the
    process working on it."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, body: str, due_at: datetime, owner: str | None = None,
            lease_until: datetime | None = None) -> int:
        done = self.session.execute(OUTBOX.insert().values(
            body=body, due_at=due_at, attempts=0, lease_owner=owner, lease_until=lease_until))
        return int(done.inserted_primary_key[0])  # type: ignore[attr-defined]

    def due(self, now: datetime, limit: int) -> list[OutboxEntry]:
        rows = self.session.execute(core_select(OUTBOX).where(
            OUTBOX.c.due_at <= now,
            or_(OUTBOX.c.lease_until.is_(None), OUTBOX.c.lease_until <= now),
        ).order_by(OUTBOX.c.id).limit(limit)).all()
        return [OutboxEntry(r.id, r.body, r.attempts, r.due_at, r.lease_owner, r.lease_until)
                for r in rows]

    def claim(self, entry: OutboxEntry, owner: str, now: datetime, until: datetime) -> bool:
        # the guard: nobody claimed it since it was read (attempts unchanged) and nobody
        # holds a lease on it now; of two sweeps that read it, only the first one's update
        # matches the row
        done = self.session.execute(OUTBOX.update().where(
            OUTBOX.c.id == entry.id, OUTBOX.c.attempts == entry.attempts,
            or_(OUTBOX.c.lease_until.is_(None), OUTBOX.c.lease_until <= now),
        ).values(lease_owner=owner, lease_until=until, attempts=entry.attempts + 1))
        return bool(done.rowcount == 1)  # type: ignore[attr-defined]

    def renew(self, entry_id: int, owner: str, until: datetime) -> bool:
        done = self.session.execute(OUTBOX.update().where(
            OUTBOX.c.id == entry_id, OUTBOX.c.lease_owner == owner).values(lease_until=until))
        return bool(done.rowcount == 1)  # type: ignore[attr-defined]

    def save(self, entry_id: int, owner: str, body: str, due_at: datetime,
             until: datetime | None) -> bool:
        done = self.session.execute(OUTBOX.update().where(
            OUTBOX.c.id == entry_id, OUTBOX.c.lease_owner == owner).values(
            body=body, due_at=due_at, lease_until=until,
            lease_owner=owner if until is not None else None))
        return bool(done.rowcount == 1)  # type: ignore[attr-defined]

    def done(self, entry_id: int, owner: str) -> bool:
        done = self.session.execute(OUTBOX.delete().where(
            OUTBOX.c.id == entry_id, OUTBOX.c.lease_owner == owner))
        return bool(done.rowcount == 1)  # type: ignore[attr-defined]
