"""Transcribers: an offline English engine (pocketsphinx, optional) and one that does nothing.

A transcript is a convenience for reviewers: transcription never raises into the interview flow.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import multiprocessing
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from bots.audio import ffmpeg
from bots.audio.bucket import S3Bucket
from bots.audio.store import MediaStore

log = logging.getLogger(__name__)

ASR_RATE = 16_000  # the rate of pocketsphinx's bundled en-US acoustic model

_decoder: Any = None  # one per worker process, created on first use



async def stored_clip(store: MediaStore, bucket: S3Bucket | None, key: str) -> Path | None:
    """The canonical file of clip `key` on local disk (fetched from the bucket if need be), or
    None (logged) when there is none."""
    path = store.path(key, "ogg")
    if not path.is_file() and bucket is not None:
        await asyncio.get_running_loop().run_in_executor(None, bucket.fetch, store, key)
    if not path.is_file():
        log.warning("no stored audio to transcribe for %s", key)
        return None
    return path

class NullTranscriber:
    """No transcripts (the default when no engine is installed)."""

    async def transcribe(self, key: str) -> str | None:
        return None


def pocketsphinx_available() -> bool:
    """True when the optional `pocketsphinx` package is installed."""
    return importlib.util.find_spec("pocketsphinx") is not None


def transcribe_file(path: str) -> str:
    """Recognise the speech in an audio file with pocketsphinx's bundled US English model."""
    global _decoder
    if _decoder is None:
        from pocketsphinx import Config, Decoder

        _decoder = Decoder(Config(samprate=ASR_RATE, loglevel="FATAL"))
    segment = ffmpeg.decode(Path(path), fmt="ogg", codec="opus", rate=ASR_RATE)
    _decoder.start_utt()
    _decoder.process_raw(segment.raw_data, full_utt=True)
    _decoder.end_utt()
    hypothesis = _decoder.hyp()
    return str(hypothesis.hypstr) if hypothesis is not None else ""


class PocketsphinxTranscriber:
    """Offline US English transcripts of stored clips under `root`.

    pocketsphinx holds the GIL while it decodes, so by default it runs in a one-worker process
    pool (started on first use with the "spawn" method, stopped by `close()`); pass `executor` to
    use another one. It decodes at about 3x real time on one core. With a `bucket`, a clip
    missing under `root` is fetched from it first (in a thread).
    """

    def __init__(self, root: Path, *, executor: Executor | None = None,
                 bucket: S3Bucket | None = None) -> None:
        self.store = MediaStore(root)
        self.bucket = bucket
        self._executor = executor
        self._own: ProcessPoolExecutor | None = None

    def _pool(self) -> Executor:
        if self._executor is not None:
            return self._executor
        if self._own is None:
            self._own = ProcessPoolExecutor(max_workers=1,
                                            mp_context=multiprocessing.get_context("spawn"))
        return self._own

    async def transcribe(self, key: str) -> str | None:
        """The transcript of clip `key`, or None (logged) when it cannot be made."""
        try:
            path = await stored_clip(self.store, self.bucket, key)
            if path is None:
                return None
            loop = asyncio.get_running_loop()
            text = await loop.run_in_executor(self._pool(), transcribe_file, str(path))
        except BrokenProcessPool:
            log.warning("transcription worker died; restarting it next time", exc_info=True)
            self.close()
            return None
        except Exception:
            log.warning("transcription of %s failed", key, exc_info=True)
            return None
        return text or None

    def close(self) -> None:
        """Stop the worker process this transcriber started, if any."""
        if self._own is not None:
            self._own.shutdown(wait=False, cancel_futures=True)
            self._own = None
