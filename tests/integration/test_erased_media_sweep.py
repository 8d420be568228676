"""Copies of an erased interview's media cached on another process (review copies, canonical
files fetched from the bucket) go on that process's next sweep, however recent they are;
the same recent files of an interview still running are kept."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from bots.audio import PydubAudioProcessor
from core.states import State
from storage.media_refs import media_refs
from tests.integration.test_orphan_sweep import add_interview, names, put, sqlite_db

__all__ = ["sqlite_db"]


def test_recent_copies_of_an_erased_interview_go_at_once(sqlite_db: Engine,
                                                         tmp_path: Path) -> None:
    root = tmp_path / "media"
    live = add_interview(sqlite_db, State.IN_PROGRESS, None)
    erased = add_interview(sqlite_db, State.ERASED)
    put(root, f"{erased}/take1.ogg", mtime=None)  # cached a moment ago, before the erasure
    put(root, f"{erased}/take1.review.ogg", mtime=None)
    put(root, f"{live}/inflight.ogg", mtime=None)  # a take being stored: kept (grace)

    report = PydubAudioProcessor(root).sweep_orphans(lambda: media_refs(sqlite_db))

    assert report.keys == (f"{erased}/take1",) and report.files == 2
    assert names(root) == [f"{live}/inflight.ogg"]
    refs = media_refs(sqlite_db)
    assert refs.gone(f"{erased}/anything") and not refs.gone(f"{live}/inflight")


async def test_a_running_process_sweeps_again_and_again(tmp_path: Path) -> None:
    """`run` sweeps periodically, not only at start-up: a copy of an erased interview that
    appears after the first sweep is gone by a later one."""
    import asyncio
    import time

    from bots.app import build, sweep_periodically
    from bots.settings import Settings

    settings = Settings(_env_file=None, DATABASE_URL=f"sqlite:///{tmp_path / 'ib.db'}",
                        INTERVIEWBOT_DATA_DIR=str(tmp_path / "data"))
    app = build(settings)
    task = asyncio.create_task(sweep_periodically(app, interval=0.05))
    try:
        erased = add_interview(app.db, State.ERASED)
        put(settings.media_dir, f"{erased}/take1.review.ogg", mtime=None)
        deadline = time.monotonic() + 60
        while names(settings.media_dir):
            assert time.monotonic() < deadline, "never swept again"
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        app.db.dispose()
