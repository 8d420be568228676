"""The system clock (timezone-aware UTC)."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """`core.ports.Clock` on the machine's time."""

    def now(self) -> datetime:
        return datetime.now(UTC)
