"""The orphan sweep: media no take row refers to (a crash between storing a recording and
committing its take) is removed once older than the grace period, from the media folder and
from the bucket; everything referenced, recent or not ours is kept."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bots.app import build, sweep_in_background
from bots.audio import PydubAudioProcessor, S3Bucket, S3Location
from bots.audio.store import MediaStore
from bots.settings import Settings
from core.states import State
from storage.db import make_engine
from storage.media_refs import media_refs, referenced_keys
from storage.migrate import upgrade
from storage.tables import InterviewRow, TakeRow
from tests.support.console import run_cli
from tests.support.s3 import moto_s3, new_bucket, object_names

AUDIO = Path(__file__).resolve().parents[1] / "fixtures" / "audio"
HOUR = 3600.0
OLD = time.time() - 2 * HOUR  # mtime of files from before the grace period
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_s3() as url:
        yield url


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'sweep.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def add_interview(db: Engine, state: State = State.IN_PROGRESS, *takes: str | None) -> str:
    """An interview row with one take row per media key given (None: a text take)."""
    interview_id = uuid.uuid4().hex
    now = datetime.now(UTC)
    with Session(db) as session:
        session.add(InterviewRow(
            id=interview_id, script_id="sweep", number=next(_numbers), candidate_name="",
            token_hash=uuid.uuid4().hex, invited_at=now, deadline=now + timedelta(days=7),
            platform="telegram", state=state.value))
        session.flush()
        for number, key in enumerate(takes, 1):
            session.add(TakeRow(id=uuid.uuid4().hex, interview_id=interview_id, number=number,
                                kind="voice" if key else "text", received_at=now,
                                text=None if key else "typed", media_key=key))
        session.commit()
    return interview_id


def put(root: Path, name: str, mtime: float | None = OLD) -> Path:
    """A file under the media root as the store writes them, modified at `mtime` (None: now)."""
    store = MediaStore(root)
    path = store.write(root / name, (AUDIO / "voice.ogg").read_bytes())
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def names(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_media_refs_are_take_keys_and_reels_of_interviews_not_erased(db: Engine) -> None:
    live = add_interview(db, State.IN_PROGRESS, None)
    live_keys = [f"{live}/{uuid.uuid4().hex}" for _ in range(2)]
    with Session(db) as session:
        for number, key in enumerate(live_keys, 2):
            session.add(TakeRow(id=key.split("/")[1], interview_id=live, number=number,
                                kind="voice", received_at=datetime.now(UTC), media_key=key))
        session.commit()
    erased = add_interview(db, State.ERASED)
    invited = add_interview(db, State.INVITED)

    assert referenced_keys(db) == {*live_keys, f"{live}/reel", f"{invited}/reel"}
    refs = media_refs(db)
    assert refs.interviews == {live, erased, invited}
    assert refs.keeps(live_keys[0]) and refs.keeps(f"{live}/reel")
    assert not refs.keeps(f"{live}/orphan") and not refs.keeps(f"{erased}/reel")
    assert refs.keeps("unknown-interview/take")  # not this database's: left alone


def test_only_old_unreferenced_media_of_known_interviews_goes(sqlite_db: Engine,
                                                              tmp_path: Path) -> None:
    root = tmp_path / "media"
    live = add_interview(sqlite_db, State.IN_PROGRESS, None)
    kept_take = f"{live}/take1"
    with Session(sqlite_db) as session:
        session.add(TakeRow(id="take1", interview_id=live, number=9, kind="voice",
                            received_at=datetime.now(UTC), media_key=kept_take))
        session.commit()
    erased = add_interview(sqlite_db, State.ERASED)
    put(root, f"{kept_take}.ogg")
    put(root, f"{kept_take}.review.ogg")
    put(root, f"{live}/crashed.ogg")  # the durability test's case: written, never committed
    put(root, f"{live}/crashed.review.m4a")
    put(root, f"{live}/inflight.ogg", mtime=None)  # an ingest whose take is not committed yet
    put(root, f"{live}/mixed.ogg")
    put(root, f"{live}/mixed.review.ogg", mtime=None)  # recently used: the key is not old
    put(root, f"{live}/reel.ogg")  # the reel of an interview not erased
    put(root, f"{erased}/reel.ogg")  # erased: its reel should have gone with it
    put(root, f"{erased}/late.ogg")
    put(root, "someone-else/take.ogg")  # an interview this database does not know
    put(root, f"{live}/nested/deeper.ogg")  # not a media key of ours
    put(root, f"{live}/README")
    put(root, ".staging/upload.ogg", mtime=None)

    audio = PydubAudioProcessor(root)
    report = audio.sweep_orphans(lambda: media_refs(sqlite_db))

    assert report.keys == tuple(sorted([f"{live}/crashed", f"{erased}/late",
                                        f"{erased}/reel"]))
    assert (report.files, report.objects) == (4, 0)
    assert names(root) == sorted([
        ".staging/upload.ogg", f"{kept_take}.ogg", f"{kept_take}.review.ogg",
        f"{live}/inflight.ogg", f"{live}/mixed.ogg", f"{live}/mixed.review.ogg",
        f"{live}/reel.ogg", "someone-else/take.ogg", f"{live}/nested/deeper.ogg",
        f"{live}/README"])
    assert not (root / erased).exists()  # emptied folders go too
    assert audio.sweep_orphans(lambda: media_refs(sqlite_db)).keys == ()  # nothing left to do
    # with no grace at all the recent ones would go: the default hour is what protects them
    assert audio.sweep_orphans(lambda: media_refs(sqlite_db), grace=0).keys == (
        f"{live}/inflight", f"{live}/mixed")


def test_the_sweep_removes_old_orphans_from_the_bucket_too(
        sqlite_db: Engine, tmp_path: Path, endpoint: str) -> None:
    location = S3Location(new_bucket(endpoint), "media", endpoint)
    bucket = S3Bucket(location)
    root = tmp_path / "media"
    live = add_interview(sqlite_db, State.COMPLETED, None)
    referenced = f"{live}/take1"
    with Session(sqlite_db) as session:
        session.add(TakeRow(id="take1", interview_id=live, number=2, kind="voice",
                            received_at=datetime.now(UTC), media_key=referenced))
        session.commit()
    erased = add_interview(sqlite_db, State.ERASED)
    clip = AUDIO / "voice.ogg"
    for key in (referenced, f"{live}/crashed", f"{live}/reel", f"{erased}/reel",
                "someone-else/take"):
        bucket.upload(clip, key, "ogg")
    put(root, f"{live}/crashed.ogg")  # the crashed process's own copy
    put(root, f"{referenced}.ogg")
    stored = bucket.stored_keys()
    # A recording "in flight" (from another process, so only in the bucket), stamped by the
    # bucket's clock (whole seconds) after the others: stored again until its stamp is later.
    inflight, stamp = f"{live}/inflight", max(stored.values())
    deadline = time.monotonic() + 60
    while bucket.stored_keys().get(inflight, stamp) <= stamp:
        assert time.monotonic() < deadline, "the bucket's clock never moved on"
        bucket.upload(clip, inflight, "ogg")
    now = bucket.stored_keys()[inflight]
    audio = PydubAudioProcessor(root, bucket=bucket)
    # the sweep's clock is the bucket's: everything stamped before the in-flight one is old
    report = audio.sweep_orphans(lambda: media_refs(sqlite_db), grace=0.5, now=now)

    assert report.keys == tuple(sorted([f"{live}/crashed", f"{erased}/reel"]))
    assert (report.files, report.objects) == (1, 2)
    assert object_names(endpoint, location.bucket) == sorted(
        f"media/{key}.ogg" for key in (referenced, f"{live}/inflight", f"{live}/reel",
                                       "someone-else/take"))
    assert names(root) == [f"{referenced}.ogg"]


async def test_run_sweeps_in_the_background_at_start(tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(_env_file=None, DATABASE_URL=f"sqlite:///{tmp_path / 'ib.db'}",
                        INTERVIEWBOT_DATA_DIR=str(tmp_path / "data"))
    app = build(settings)
    try:
        interview_id = add_interview(app.db)
        put(settings.media_dir, f"{interview_id}/crashed.ogg")
        caplog.set_level(logging.INFO)
        task = asyncio.create_task(sweep_in_background(app))
        await asyncio.sleep(0)  # the loop is free while the sweep runs in a thread
        await asyncio.wait_for(task, 30)
    finally:
        app.db.dispose()
    assert names(settings.media_dir) == []
    assert any(r.getMessage() == "orphaned media swept" and getattr(r, "files", None) == 1
               for r in caplog.records)


def test_purge_reports_the_orphans_it_removed(tmp_path: Path) -> None:
    invited = run_cli(tmp_path, "invite", "backend-engineer", "--name", "Ada", "--console")
    assert invited.returncode == 0, invited.stderr
    interview_id = invited.stdout.split()[1]
    media = tmp_path / "data" / "media"
    put(media, f"{interview_id}/crashed.ogg")
    put(media, f"{interview_id}/crashed.orig.mp3")
    put(media, f"{interview_id}/inflight.ogg", mtime=None)

    result = run_cli(tmp_path, "purge", "--older-than", "90d")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["erased 0 interviews older than 90d",
                                          "removed 2 orphaned media files older than 1h"]
    assert names(media) == [f"{interview_id}/inflight.ogg"]
    bad = run_cli(tmp_path, "purge", "--older-than", "90d", "--orphans-older-than", "soon")
    assert bad.returncode == 1 and "'soon' is not a duration" in bad.stderr


def test_purge_sweeps_the_bucket(tmp_path: Path, endpoint: str) -> None:
    location = S3Location(new_bucket(endpoint), "m", endpoint)
    s3 = {"INTERVIEWBOT_MEDIA_S3_URL": f"s3://{location.bucket}/m",
          "INTERVIEWBOT_MEDIA_S3_ENDPOINT": endpoint}
    invited = run_cli(tmp_path, "invite", "backend-engineer", "--name", "Ada", "--console", **s3)
    assert invited.returncode == 0, invited.stderr
    interview_id = invited.stdout.split()[1]
    bucket = S3Bucket(location)
    bucket.upload(AUDIO / "voice.ogg", f"{interview_id}/crashed", "ogg")
    stamp = bucket.stored_keys()[f"{interview_id}/crashed"]
    deadline = time.monotonic() + 60
    while time.time() <= stamp + 1.05:  # until the object is older than "1s" by its own stamp
        assert time.monotonic() < deadline
        time.sleep(0.05)

    result = run_cli(tmp_path, "purge", "--older-than", "90d", "--orphans-older-than", "1s",
                     **s3)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        "removed 0 orphaned media files and 1 bucket object older than 1s")
    assert object_names(endpoint, location.bucket) == []

    down = run_cli(tmp_path, "purge", "--older-than", "90d", **{
        **s3, "INTERVIEWBOT_MEDIA_S3_ENDPOINT": "http://127.0.0.1:9"})
    assert down.returncode == 1
    assert down.stderr.strip() == (
        f"error: ObjectStoreError: list s3://{location.bucket}/m/ at http://127.0.0.1:9: "
        "cannot reach the object store at http://127.0.0.1:9")
