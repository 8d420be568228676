"""The `webhook_delivery` table: events written with the change that caused them (inside the
unit of work's session), then leased, settled and pruned by the sender (bots/webhooks.py)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from storage.tables import WebhookDeliveryRow

T = WebhookDeliveryRow
PendingWebhook = WebhookDeliveryRow  # what the sender reads of a row
TABLE = WebhookDeliveryRow.__table__  # type: ignore[attr-defined]


def add_event(session: Session, *, msg_id: str, event_type: str, interview_id: str,
              url: str, secret_env: str, body: str, now: datetime) -> None:
    """One event for one receiver, in the caller's transaction."""
    session.add(WebhookDeliveryRow(
        id=msg_id, event_type=event_type, interview_id=interview_id, url=url,
        secret_env=secret_env, body=body, created_at=now, due_at=now, attempts=0))
    session.flush()


def scrub_pending(session: Session, interview_id: str) -> None:
    """Remove the candidate's name from the interview's events not yet delivered."""
    rows = session.execute(select(TABLE.c.id, TABLE.c.body).where(
        TABLE.c.interview_id == interview_id, TABLE.c.status == "pending")).all()
    for row in rows:
        body = json.loads(row.body)
        if body.get("data", {}).pop("candidate_name", None) is not None:
            session.execute(update(TABLE).where(TABLE.c.id == row.id).values(
                body=json.dumps(body, separators=(",", ":"), sort_keys=True)))


class WebhookRows:
    """What the sender does with the table: due rows, leases, outcomes, pruning."""

    def __init__(self, db: Engine) -> None:
        self.db = db

    def due(self, now: datetime, limit: int) -> list[WebhookDeliveryRow]:
        with self.db.connect() as conn:
            rows = conn.execute(select(TABLE).where(
                col(T.status) == "pending", col(T.due_at) <= now,
                or_(col(T.leased_until).is_(None), col(T.leased_until) <= now),
            ).order_by(col(T.created_at)).limit(limit)).all()
        return [WebhookDeliveryRow(**dict(r._mapping)) for r in rows]

    def next_due(self, limit: int = 100) -> datetime | None:
        """When the next pending row can be taken (due, and its lease run out), if any."""
        with self.db.connect() as conn:
            rows = conn.execute(select(TABLE.c.due_at, TABLE.c.leased_until)
                                .where(TABLE.c.status == "pending")
                                .order_by(TABLE.c.due_at).limit(limit)).all()
        return min((max(due, leased or due) for due, leased in rows), default=None)

    def claim(self, row: WebhookDeliveryRow, now: datetime, lease: timedelta) -> bool:
        """Lease a row for one attempt from `now`; False if another process took it first
        or holds a lease on it."""
        with self.db.begin() as conn:
            done = conn.execute(update(T).where(
                col(T.id) == row.id, col(T.status) == "pending", col(T.attempts) == row.attempts,
                or_(col(T.leased_until).is_(None), col(T.leased_until) <= now),
            ).values(leased_until=now + lease, attempts=row.attempts + 1))
        return bool(done.rowcount == 1)

    def settle(self, row_id: str, values: dict[str, Any]) -> None:
        with self.db.begin() as conn:
            conn.execute(update(T).where(col(T.id) == row_id).values(**values))

    def prune(self, before: datetime) -> int:
        """Delete delivered and failed rows created before `before`; return how many."""
        with self.db.begin() as conn:
            done = conn.execute(TABLE.delete().where(
                TABLE.c.status != "pending", TABLE.c.created_at < before))
        return int(done.rowcount or 0)
