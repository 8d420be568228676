"""The audio pipeline in its own process pool: many clips at once, a worker killed mid-clip,
ffmpeg failing. Real ffmpeg, real worker processes; faults are made by putting a wrapper in
front of ffmpeg (IMAGEIO_FFMPEG_EXE, read by each worker when the pool starts)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.audio import AudioStoreError, PydubAudioProcessor
from core.audio import AudioRejected, RejectReason
from tests.support.ffmpeg_faults import KILL_WORKER, encodes, ffmpeg_wrapper

FIXTURES = Path(__file__).parent.parent / "fixtures" / "audio"
MAX_BYTES = 20 * 1024 * 1024
SPEECH_SECONDS = 5.92


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
async def pool(tmp_path: Path) -> AsyncIterator[PydubAudioProcessor]:
    audio = PydubAudioProcessor(tmp_path / "media", processes=2)
    try:
        yield audio
    finally:
        audio.close()


async def ingest(audio: PydubAudioProcessor, key: str, name: str = "voice.ogg") -> float:
    stored = await audio.ingest(fixture(name), "audio/ogg", key=key, max_seconds=300,
                                max_bytes=MAX_BYTES)
    return stored.duration


async def test_clips_at_once_are_spread_over_the_workers(pool: PydubAudioProcessor) -> None:
    durations = await asyncio.gather(*(ingest(pool, f"i/{n}") for n in range(6)))
    assert durations == pytest.approx([SPEECH_SECONDS] * 6, abs=0.05)
    assert pool._pool is not None and len(pool._pool._processes) == 2
    with pytest.raises(AudioRejected) as refused:
        await ingest(pool, "i/silent", "silence.ogg")
    assert refused.value.reason is RejectReason.SILENT  # a refusal crosses the process boundary
    for n in range(6):
        assert (pool.store.path(f"i/{n}", "review.ogg")).is_file()


async def test_a_worker_killed_mid_clip_is_replaced_and_the_clip_stored(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the first encoding run kills the worker process running it (SIGKILL, as the OOM killer
    # would); later runs are real
    marker = tmp_path / "killed-once"
    exe = ffmpeg_wrapper(tmp_path, "ffmpeg-kill-once",
                  f'[ -e "{marker}" ] || {{ touch "{marker}"; kill -9 $PPID; sleep 5; }}')
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(exe))
    audio = PydubAudioProcessor(tmp_path / "media", processes=2)
    try:
        durations = await asyncio.gather(*(ingest(audio, f"i/{n}") for n in range(3)))
    finally:
        audio.close()
    assert marker.exists()  # a worker was killed...
    assert durations == pytest.approx([SPEECH_SECONDS] * 3, abs=0.05)  # ...and nothing lost
    assert encodes(exe) >= 4  # the killed clip (and any other in that pool) ran again


async def test_a_worker_killed_twice_is_a_store_error_and_the_next_pool_works(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exe = ffmpeg_wrapper(tmp_path, "ffmpeg-kill", KILL_WORKER)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(exe))
    audio = PydubAudioProcessor(tmp_path / "media", processes=1)
    try:
        with pytest.raises(AudioStoreError, match="worker died"):
            await ingest(audio, "i/a")
        assert encodes(exe) == 2  # tried once more in a new pool, then given up
        assert not audio.store.path("i/a", "ogg").exists()
        monkeypatch.delenv("IMAGEIO_FFMPEG_EXE")
        assert await ingest(audio, "i/a") == pytest.approx(SPEECH_SECONDS, abs=0.05)
    finally:
        audio.close()


async def test_ffmpeg_failing_to_encode_is_a_store_error_that_keeps_the_upload(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exe = ffmpeg_wrapper(tmp_path, "ffmpeg-fail", "echo 'Conversion failed!' >&2; exit 1")
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(exe))
    audio = PydubAudioProcessor(tmp_path / "media", processes=1)
    try:
        with pytest.raises(AudioStoreError, match="the upload is kept"):
            await ingest(audio, "i/a")
    finally:
        audio.close()
    assert encodes(exe) == 1  # a failure of ffmpeg is not retried: it would fail again
    kept = audio.store.path("i/a", "orig.ogg")
    assert kept.read_bytes() == fixture("voice.ogg")
    assert sorted(p.name for p in kept.parent.iterdir()) == ["a.orig.ogg"]


def test_the_pool_is_not_started_until_needed(tmp_path: Path) -> None:
    audio = PydubAudioProcessor(tmp_path / "media", processes=os.cpu_count())
    assert audio._pool is None
    audio.close()
