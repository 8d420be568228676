"""Figures the README's reliability section states that no behavioural test pins down: the
outbox's retry age (30 s by default) and its sweep interval (a third of it)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import bots.app
from bots.app import build, serve
from bots.settings import Settings


class Built(Exception):
    """Raised by the stand-in sweeper once `serve` has built it."""


def test_outbox_retry_defaults_to_30_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INTERVIEWBOT_OUTBOX_RETRY", raising=False)
    assert Settings(_env_file=None).outbox_retry == 30.0


@pytest.mark.parametrize(("retry", "interval"), [("30", 10.0), ("2", 2 / 3), ("0.9", 0.5)])
async def test_the_sweep_runs_every_third_of_the_retry_age(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, retry: str, interval: float) -> None:
    seen: list[float] = []

    def sweeper(engine: object, interval: float) -> None:
        seen.append(interval)
        raise Built

    monkeypatch.setattr(bots.app, "OutboxSweeper", sweeper)
    settings = Settings(_env_file=None, DATABASE_URL=f"sqlite:///{tmp_path / 'ib.db'}",
                        INTERVIEWBOT_DATA_DIR=str(tmp_path / "data"),
                        INTERVIEWBOT_OUTBOX_RETRY=retry)
    app = build(settings)
    try:
        with pytest.raises(Built):
            await serve(app, [], asyncio.Event())
    finally:
        app.db.dispose()
    assert seen == [pytest.approx(interval)]  # at least 0.5 s


async def test_serve_freezes_what_start_up_built(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/benchmarks.md: a full collection walking the start-up heap stalled every chat for
    70 ms; `serve` freezes that heap once everything has started."""
    import gc
    import socket

    frozen = asyncio.Event()
    monkeypatch.setattr(gc, "freeze", frozen.set)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(_env_file=None, DATABASE_URL=f"sqlite:///{tmp_path / 'ib.db'}",
                        INTERVIEWBOT_DATA_DIR=str(tmp_path / "data"),
                        INTERVIEWBOT_HTTP_PORT=str(port))
    app = build(settings)
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(app, [], stop))
    try:
        await asyncio.wait_for(frozen.wait(), 60)
    finally:
        stop.set()
        await serving
        app.db.dispose()
