"""The outbox sweep: every process re-does, now and then, committed outbound work that is due
(its process died before sending, or a send failed and waits for another attempt)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from core.engine import Engine

log = logging.getLogger("interviewbot.outbox")


class OutboxSweeper:
    """Calls `Engine.resend_due` every `interval` seconds until stopped."""

    def __init__(self, engine: Engine, interval: float) -> None:
        self.engine = engine
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="outbox-sweep")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                while await self.engine.resend_due():
                    pass
            except Exception:
                log.exception("outbox sweep failed; trying again later")
            await asyncio.sleep(self.interval)
