"""`PydubAudioProcessor`: validation and canonical storage here, review copies and reels in
`bots.audio.review`.

Every blocking step (ffmpeg runs, level analysis, file writes) runs in an executor through
module-level functions with picklable arguments, so a thread or a process pool both work.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bots.audio import ffmpeg
from bots.audio.decode import Container, complete, resolve
from bots.audio.ffmpeg import AudioSegment, FfmpegError
from bots.audio.levels import MIN_SPEECH_SECONDS, speech_seconds, window_levels
from bots.audio.review import (
    CANONICAL_BITRATE,
    CANONICAL_OPUS,
    OGG_REVIEW,
    REVIEW_OUTPUTS,
    reel_sync,
    review_sync,
)
from bots.audio.store import MediaStore, sha256
from core.audio import AudioRejected, Reel, RejectReason, StoredAudio

T = TypeVar("T")
log = logging.getLogger(__name__)

MIN_SECONDS = 1.0  # shorter clips are mis-taps, not answers
GRACE_SECONDS = 0.25  # decoder padding allowance; the engine adds its own grace to max_seconds
DECODE_MARGIN = 0.5  # decode this far past the limit, enough to tell "too long" apart
VERIFY_TOLERANCE = 0.05  # canonical vs decoded original, seconds



class AudioStoreError(RuntimeError):
    """The canonical file could not be written or verified; the original upload was kept."""


@dataclass(frozen=True)
class Rejection:
    """A validation failure, returned (not raised) so it crosses process boundaries intact."""

    reason: RejectReason
    detail: str


class PydubAudioProcessor:
    """The audio pipeline on pydub and imageio-ffmpeg's ffmpeg, storing files under `root`.

    `executor` runs the heavy work (None: the event loop's default thread pool).
    `keep_originals` keeps each upload next to its canonical file instead of deleting it once
    the canonical file has been verified.
    """

    def __init__(self, root: Path, *, executor: Executor | None = None,
                 keep_originals: bool = False) -> None:
        self.store = MediaStore(root)
        self.executor = executor
        self.keep_originals = keep_originals

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args))

    def path(self, key: str) -> Path:
        """The canonical OGG/Opus file of `key`."""
        return self.store.path(key, "ogg")

    async def ingest(self, data: bytes, mime: str, *, key: str, max_seconds: float,
                     max_bytes: int) -> StoredAudio:
        """Validate `data` and store it as OGG/Opus under `key`; raise `AudioRejected` if unusable.

        Raises ValueError for an unsafe key and `AudioStoreError` if the canonical file fails
        its check (the upload is then kept as `<key>.orig.<ext>`).
        """
        self.store.check_key(key)
        if len(data) > max_bytes:
            raise AudioRejected(RejectReason.TOO_LARGE, f"{len(data)} bytes > {max_bytes}")
        if not data:
            raise AudioRejected(RejectReason.TOO_SHORT, "empty file")
        result = await self._run(ingest_sync, self.store, data, mime, key, max_seconds,
                                 self.keep_originals)
        if isinstance(result, Rejection):
            log.info("rejected %s (%s): %s: %s", key, mime, result.reason.value, result.detail)
            raise AudioRejected(result.reason, result.detail)
        return result

    async def review_copy(self, key: str, *, platform: str) -> tuple[str, str]:
        """Trimmed, loudness-normalised copy in the platform's inline format: (path, mime)."""
        output = REVIEW_OUTPUTS.get(platform, OGG_REVIEW)
        canonical, target = self.path(key), self.store.path(key, output.suffix)
        if not _is_fresh(target, canonical):
            await self._run(review_sync, self.store, key, output)
        return str(target), output.mime

    async def reel(self, keys: list[tuple[str, str]], *, key: str) -> Reel:
        """Every (title, key) clip in order, separated by a short tone, stored under `key`."""
        if not keys:
            raise ValueError("a reel needs at least one clip")
        for _, clip in [("", key), *keys]:
            self.store.check_key(clip)
        return await self._run(reel_sync, self.store, keys, key)

    def delete(self, key: str) -> None:
        """Remove the canonical file, original and review copies of `key`."""
        self.store.delete(key)


def _is_fresh(target: Path, source: Path) -> bool:
    try:
        return target.stat().st_mtime_ns >= source.stat().st_mtime_ns
    except FileNotFoundError:
        return False


def validate(segment: AudioSegment, max_seconds: float) -> Rejection | None:
    """Why a decoded clip cannot be an answer, or None."""
    duration = segment.duration_seconds
    if duration < MIN_SECONDS:
        return Rejection(RejectReason.TOO_SHORT, f"{duration:.2f} s < {MIN_SECONDS} s")
    if duration > max_seconds + GRACE_SECONDS:
        return Rejection(RejectReason.TOO_LONG, f"over {max_seconds + GRACE_SECONDS:.2f} s")
    speech = speech_seconds(window_levels(segment))
    if speech < MIN_SPEECH_SECONDS:
        return Rejection(RejectReason.SILENT, f"{speech:.2f} s of speech energy")
    return None


def decode_upload(path: Path, container: Container, max_seconds: float
                  ) -> AudioSegment | Rejection:
    """Decode a staged upload, or say why it is not audio."""
    try:
        return ffmpeg.decode(path, fmt=container.format, codec=container.codec,
                             limit=max_seconds + GRACE_SECONDS + DECODE_MARGIN)
    except FfmpegError as exc:
        return Rejection(RejectReason.CORRUPT, str(exc))


def ingest_sync(store: MediaStore, data: bytes, mime: str, key: str, max_seconds: float,
                keep_original: bool) -> StoredAudio | Rejection:
    """Blocking part of `ingest`."""
    store.sweep_scratch()
    container = resolve(mime, data)
    if container is None:
        return Rejection(RejectReason.CORRUPT, f"unsupported format ({mime})")
    if not complete(data):
        return Rejection(RejectReason.CORRUPT, "the file is cut short")
    with store.scratch(container.extension) as staged:
        store.write(staged, data)
        decoded = decode_upload(staged, container, max_seconds)
        if isinstance(decoded, Rejection):
            return decoded
        rejection = validate(decoded, max_seconds)
        if rejection is not None:
            return rejection
        original = store.path(key, f"orig.{container.extension}")
        store.make_dirs(original.parent)
        os.replace(staged, original)
    return store_canonical(store, key, decoded, original, keep_original)


def store_canonical(store: MediaStore, key: str, segment: AudioSegment, original: Path,
                    keep_original: bool) -> StoredAudio:
    """Encode `segment` as the canonical file, check it decodes back, then drop the original."""
    canonical = store.path(key, "ogg")
    try:
        with store.scratch("ogg") as part:
            ffmpeg.encode(segment, part, fmt="ogg", codec="libopus", bitrate=CANONICAL_BITRATE,
                          options=CANONICAL_OPUS)
            check = ffmpeg.decode(part, fmt="ogg", codec="opus")
            drift = abs(check.duration_seconds - segment.duration_seconds)
            if drift > VERIFY_TOLERANCE:
                raise AudioStoreError(f"canonical file is {drift:.3f} s off")
            store.make_dirs(canonical.parent)
            os.replace(part, canonical)
    except (FfmpegError, OSError, AudioStoreError) as exc:
        raise AudioStoreError(f"could not store {key!r}; the upload is kept at {original}") from exc
    for output in REVIEW_OUTPUTS.values():  # copies of an earlier clip under the same key
        store.path(key, output.suffix).unlink(missing_ok=True)
    if not keep_original:
        original.unlink(missing_ok=True)
    return StoredAudio(key=key, duration=check.duration_seconds, checksum=sha256(canonical),
                       size=canonical.stat().st_size)
