"""`PydubAudioProcessor`: validation and canonical storage here, review copies and reels in
`bots.audio.review`, the optional bucket in `bots.audio.bucket`.

Every blocking step (ffmpeg runs, level analysis, file writes, bucket requests) runs in an
executor through module-level functions with picklable arguments, so a thread or a process
pool both work.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from bots.audio import ffmpeg
from bots.audio.bucket import ObjectStoreError, S3Bucket
from bots.audio.convert import CANONICAL, convert, ogg_opus_seconds
from bots.audio.decode import Container, complete, resolve
from bots.audio.ffmpeg import AudioSegment, FfmpegError
from bots.audio.join import join_sync
from bots.audio.levels import MIN_SPEECH_SECONDS, speech_seconds, window_levels
from bots.audio.review import (
    REEL,
    REVIEW_OUTPUTS,
    Output,
    reel_sync,
    review_sync,
)
from bots.audio.store import MediaStore, sha256
from bots.audio.sweep import ORPHAN_GRACE, MediaReferences, SweepReport, sweep_orphans
from core.audio import AudioRejected, Reel, RejectReason, StoredAudio
from core.capabilities import AudioFormat

T = TypeVar("T")
log = logging.getLogger(__name__)

MIN_SECONDS = 1.0  # shorter clips are mis-taps, not answers
GRACE_SECONDS = 0.25  # decoder padding allowance; the engine adds its own grace to max_seconds
DECODE_MARGIN = 0.5  # decode this far past the limit, enough to tell "too long" apart
VERIFY_TOLERANCE = 0.05  # canonical vs decoded original, seconds


class AudioStoreError(RuntimeError):
    """The canonical file could not be written or verified (the original upload was kept),
    or could not be stored in the bucket (nothing was kept)."""


@dataclass(frozen=True)
class Rejection:
    """A validation failure, returned (not raised) so it crosses process boundaries intact."""

    reason: RejectReason
    detail: str


class PydubAudioProcessor:
    """The audio pipeline on pydub and imageio-ffmpeg's ffmpeg, storing files under `root`.

    The heavy work runs in `executor`, or with `processes` in a process pool of that many
    workers owned by the processor (started on first use, replaced when a worker dies: the
    work it held is run once more in the new pool), or else in the event loop's default
    thread pool. `keep_originals` keeps each upload next to its canonical file instead of
    deleting it once the canonical file has been verified. `review_formats`: the review
    copies made with the canonical file, in the same ffmpeg run (others are made when first
    asked for).

    With a `bucket`, `root` is a working copy: each canonical file (and kept original, and
    reel) is uploaded before `ingest` (`reel`) returns, a file missing from `root` is fetched
    from the bucket when it is needed, and `delete` removes the objects too.
    """

    def __init__(self, root: Path, *, executor: Executor | None = None,
                 processes: int | None = None, keep_originals: bool = False,
                 bucket: S3Bucket | None = None,
                 review_formats: tuple[AudioFormat, ...] = tuple(REVIEW_OUTPUTS)) -> None:
        self.store = MediaStore(root)
        self.executor = executor
        self.processes = processes
        self.keep_originals = keep_originals
        self.bucket = bucket
        self.reviews = tuple(dict.fromkeys(REVIEW_OUTPUTS[f] for f in review_formats))
        self._pool: ProcessPoolExecutor | None = None
        self._deleting: set[asyncio.Future[int]] = set()

    def _executor(self) -> Executor | None:
        if self.processes is None:
            return self.executor
        if self._pool is None:
            # spawned, not forked: no copy of the event loop's threads, and the environment
            # (IMAGEIO_FFMPEG_EXE) as it is when the pool starts
            self._pool = ProcessPoolExecutor(max_workers=self.processes,
                                             mp_context=multiprocessing.get_context("spawn"))
        return self._pool

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            executor = self._executor()
            try:
                return await loop.run_in_executor(executor, functools.partial(fn, *args))
            except BrokenProcessPool as exc:
                if executor is self._pool and self._pool is not None:
                    self._pool.shutdown(wait=False, cancel_futures=True)
                    self._pool = None  # the next call starts a new pool
                if attempt == 2 or self.processes is None:
                    log.error("an audio worker died twice running %s", fn.__name__)
                    raise AudioStoreError(f"an audio worker died running {fn.__name__}") from exc
                log.warning("an audio worker died running %s; running it again", fn.__name__)
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Stop the worker processes this processor started, if any."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

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
        try:
            result = await self._run(ingest_sync, self.store, data, mime, key, max_seconds,
                                     self.keep_originals, self.bucket, self.reviews)
        except AudioStoreError as exc:  # channels log only the type: say why here
            log.error("storing %s failed: %s", key, exc)
            raise
        if isinstance(result, Rejection):
            log.info("rejected %s (%s): %s: %s", key, mime, result.reason.value, result.detail)
            raise AudioRejected(result.reason, result.detail)
        return result

    async def review_copy(self, key: str, *, fmt: AudioFormat) -> tuple[str, str]:
        """Trimmed, loudness-normalised copy in `fmt` (what a channel plays inline): (path,
        mime)."""
        output = REVIEW_OUTPUTS[fmt]
        canonical, target = self.path(key), self.store.path(key, output.suffix)
        if not _is_fresh(target, canonical):
            await self._run(review_from, self.store, self.bucket, key, output)
        return str(target), output.mime

    async def reel(self, keys: list[tuple[str, str]], *, key: str) -> Reel:
        """Every (title, key) clip in order, separated by a short tone, stored under `key`."""
        if not keys:
            raise ValueError("a reel needs at least one clip")
        for _, clip in [("", key), *keys]:
            self.store.check_key(clip)
        return await self._run(reel_from, self.store, self.bucket, keys, key)

    async def join(self, keys: list[str], *, key: str) -> StoredAudio:
        """The stored clips of `keys`, end to end, stored as one canonical file under `key`."""
        if not keys:
            raise ValueError("joining needs at least one clip")
        for clip in [key, *keys]:
            self.store.check_key(clip)
        return await self._run(join_sync, self.store, self.bucket, keys, key, False,
                               self.reviews)

    def delete(self, key: str) -> None:
        """Remove the canonical file, original and review copies of `key`, and its objects.

        The objects are deleted in the executor when called on the event loop (failures are
        logged; the orphan sweep removes what is left), at once otherwise (failures raise).
        """
        self.store.delete(key)
        if self.bucket is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no event loop (`interviewbot purge`): wait for it
            self.bucket.delete(key)
            return
        future = loop.run_in_executor(self.executor if self.processes is None else None,
                                      self.bucket.delete, key)
        self._deleting.add(future)
        future.add_done_callback(functools.partial(self._deleted, key))

    def _deleted(self, key: str, future: asyncio.Future[int]) -> None:
        self._deleting.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.warning("deleting %s from the bucket failed; the orphan sweep will retry: %s",
                        key, future.exception())

    async def drain(self) -> None:
        """Wait for the bucket deletions started by `delete` to finish."""
        while self._deleting:
            await asyncio.gather(*self._deleting, return_exceptions=True)

    def sweep_orphans(self, references: Callable[[], MediaReferences], *,
                      grace: float = ORPHAN_GRACE, now: float | None = None) -> SweepReport:
        """Remove media nothing refers to, older than `grace` seconds (blocking: run it in a
        thread); see `bots.audio.sweep`."""
        return sweep_orphans(self.store, self.bucket, references, grace=grace, now=now)


def _is_fresh(target: Path, source: Path) -> bool:
    try:
        return target.stat().st_mtime_ns >= source.stat().st_mtime_ns
    except FileNotFoundError:
        return False


def validate(segment: AudioSegment, max_seconds: float) -> Rejection | list[float]:
    """Why a decoded clip cannot be an answer, or its window levels (kept for the review
    copies' trim and gain)."""
    duration = segment.duration_seconds
    if duration < MIN_SECONDS:
        return Rejection(RejectReason.TOO_SHORT, f"{duration:.2f} s < {MIN_SECONDS} s")
    if duration > max_seconds + GRACE_SECONDS:
        return Rejection(RejectReason.TOO_LONG, f"over {max_seconds + GRACE_SECONDS:.2f} s")
    levels = window_levels(segment)
    speech = speech_seconds(levels)
    if speech < MIN_SPEECH_SECONDS:
        return Rejection(RejectReason.SILENT, f"{speech:.2f} s of speech energy")
    return levels


def decode_upload(path: Path, container: Container, max_seconds: float
                  ) -> AudioSegment | Rejection:
    """Decode a staged upload, or say why it is not audio."""
    try:
        return ffmpeg.decode(path, fmt=container.format, codec=container.codec,
                             limit=max_seconds + GRACE_SECONDS + DECODE_MARGIN)
    except FfmpegError as exc:
        return Rejection(RejectReason.CORRUPT, str(exc))


def ingest_sync(store: MediaStore, data: bytes, mime: str, key: str, max_seconds: float,
                keep_original: bool, bucket: S3Bucket | None = None,
                reviews: tuple[Output, ...] = ()) -> StoredAudio | Rejection:
    """Blocking part of `ingest`: one ffmpeg run decodes the upload, a second writes the
    canonical file and the `reviews` copies. With a `bucket`, the verified canonical file is
    uploaded before it returns (when that fails nothing is kept and `AudioStoreError` says
    why)."""
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
        levels = validate(decoded, max_seconds)
        if isinstance(levels, Rejection):
            return levels
        original = store.path(key, f"orig.{container.extension}")
        store.make_dirs(original.parent)
        os.replace(staged, original)
    stored = store_canonical(store, key, decoded, original, keep_original, levels, reviews)
    if bucket is not None:
        try:
            bucket.upload(store.path(key, "ogg"), key, "ogg", stored.checksum)
            if keep_original:
                bucket.upload(original, key, f"orig.{container.extension}")
        except ObjectStoreError as exc:
            store.delete(key)
            raise AudioStoreError(f"could not store {key!r} in the bucket: {exc}") from exc
    return stored


def review_from(store: MediaStore, bucket: S3Bucket | None, key: str, output: Output) -> None:
    """Blocking part of `review_copy`: the canonical file is fetched first if missing."""
    if bucket is not None:
        bucket.fetch(store, key)
    review_sync(store, key, output)


def reel_from(store: MediaStore, bucket: S3Bucket | None, keys: list[tuple[str, str]],
              key: str) -> Reel:
    """Blocking part of `reel`: missing clips are fetched first; the reel is uploaded (it can
    be made again from the clips, so a failed upload is only logged)."""
    if bucket is not None:
        for _, clip in keys:
            bucket.fetch(store, clip)
    reel = reel_sync(store, keys, key)
    if bucket is not None:
        try:
            bucket.upload(store.path(key, REEL.suffix), key, REEL.suffix)
        except ObjectStoreError as exc:
            log.warning("the reel %s was made but not stored in the bucket: %s", key, exc)
    return reel


def store_canonical(store: MediaStore, key: str, segment: AudioSegment, original: Path,
                    keep_original: bool, levels: list[float] | None = None,
                    reviews: tuple[Output, ...] = ()) -> StoredAudio:
    """Encode `segment` as the canonical file and the `reviews` copies in one ffmpeg run,
    check the canonical file's length from its pages, then drop the original."""
    canonical = store.path(key, "ogg")
    made: list[Path] = []
    try:
        with convert(store, segment, window_levels(segment) if levels is None else levels,
                     reviews) as parts:
            seconds = ogg_opus_seconds(parts[CANONICAL])
            drift = abs(seconds - segment.duration_seconds)
            if drift > VERIFY_TOLERANCE:
                raise AudioStoreError(f"canonical file is {drift:.3f} s off")
            store.make_dirs(canonical.parent)
            os.replace(parts[CANONICAL], canonical)
            for output in reviews:  # made after the canonical file, so they count as fresh
                target = store.path(key, output.suffix)
                os.replace(parts[output], target)
                os.utime(target)
                made.append(target)
    except (FfmpegError, OSError, ValueError, AudioStoreError) as exc:
        raise AudioStoreError(f"could not store {key!r}; the upload is kept at {original}") from exc
    for output in REVIEW_OUTPUTS.values():  # copies of an earlier clip under the same key
        if store.path(key, output.suffix) not in made:
            store.path(key, output.suffix).unlink(missing_ok=True)
    if not keep_original:
        original.unlink(missing_ok=True)
    return StoredAudio(key=key, duration=seconds, checksum=sha256(canonical),
                       size=canonical.stat().st_size)
