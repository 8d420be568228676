"""Inbound delivery keys (Telegram update ids, Slack event ids, timer keys) on SQL: each is
handled once. A key is recorded with the transaction of the command it started, and inserted
first when it commits, so a redelivery fails before any other write."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, bindparam, func
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError

from core.ports import AlreadyHandled
from storage.tables import DeliveryRow

DELIVERY = DeliveryRow.__table__  # type: ignore[attr-defined]
SEEN = core_select(DELIVERY.c.key).where(DELIVERY.c.key == bindparam("key"))
INSERT = DELIVERY.insert()


class SqlDeliveries:
    """The delivery keys of one transaction, and the ones committed before."""

    def __init__(self, connection: Callable[[], Connection]) -> None:
        self.connection = connection
        self.pending: dict[str, datetime] = {}

    def first(self, key: str, at: datetime | None = None) -> bool:
        """Record `key`; False if this transaction or a committed one recorded it."""
        if key in self.pending or self.seen(key):
            return False
        self.pending[key] = at or datetime.now(UTC)
        return True

    def record(self, key: str) -> None:
        """Record `key` unchecked: `flush` raises `AlreadyHandled` if it was committed."""
        self.pending.setdefault(key, datetime.now(UTC))

    def seen(self, key: str) -> bool:
        return self.connection().execute(SEEN, {"key": key}).first() is not None

    def recent(self, prefix: str, since: datetime) -> int:
        query = core_select(func.count()).select_from(DELIVERY).where(
            DELIVERY.c.key.startswith(prefix, autoescape=True), DELIVERY.c.seen_at >= since)
        return int(self.connection().execute(query).scalar_one())

    def flush(self) -> None:
        """Insert this transaction's keys; `AlreadyHandled` if one of them was committed
        before (the insert is the only statement that can break the key's uniqueness)."""
        if not self.pending:
            return
        try:
            self.connection().execute(INSERT, [
                {"key": k, "seen_at": at} for k, at in self.pending.items()])
        except IntegrityError as exc:
            raise AlreadyHandled(str(exc.orig)) from exc

    def forget(self) -> None:
        self.pending.clear()
