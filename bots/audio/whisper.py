"""Transcripts in the answer's language: faster-whisper (optional extra `interviewbot[whisper]`)
with a local CTranslate2 model folder (`INTERVIEWBOT_TRANSCRIBE_MODEL`); nothing is downloaded.

A transcript is a convenience for reviewers: transcription never raises into the interview flow.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bots.audio.bucket import S3Bucket
from bots.audio.store import MediaStore
from bots.audio.transcribe import stored_clip

log = logging.getLogger(__name__)

ModelLoader = Callable[[str], Any]  # a model path -> an object with faster-whisper's transcribe


@dataclass(frozen=True)
class Transcript:
    """A transcript and the language it was heard in (ISO 639-1, as Whisper names it)."""

    text: str
    language: str | None
    probability: float | None = None


def faster_whisper_available() -> bool:
    """True when the optional `faster-whisper` package is installed."""
    return importlib.util.find_spec("faster_whisper") is not None


def load_whisper(path: str) -> Any:
    """A CTranslate2 Whisper model from a local folder, on the CPU with int8 weights."""
    from faster_whisper import WhisperModel

    return WhisperModel(path, device="cpu", compute_type="int8")


class WhisperTranscriber:
    """Transcripts in the answer's language with faster-whisper (CTranslate2).

    The model (`INTERVIEWBOT_TRANSCRIBE_MODEL`, a local folder: nothing is downloaded) loads on
    first use, in the one worker thread that then runs every transcription (CTranslate2 works
    outside the GIL, so the event loop keeps running). A `language` hint (the interview's)
    skips detection; without one, Whisper detects the language and the transcript names it.
    """

    def __init__(self, root: Path, model_path: str, *, loader: ModelLoader = load_whisper,
                 bucket: S3Bucket | None = None, beam_size: int = 5) -> None:
        self.store = MediaStore(root)
        self.bucket = bucket
        self.model_path = model_path
        self._loader = loader
        self._model: Any = None
        self._beam_size = beam_size
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="whisper")
        self.languages: dict[str, str] = {}  # clip key -> the language heard in it

    def _run(self, path: str, language: str | None) -> Transcript:
        if self._model is None:
            self._model = self._loader(self.model_path)
        segments, info = self._model.transcribe(path, language=language,
                                                beam_size=self._beam_size)
        text = " ".join(s.text.strip() for s in segments if s.text.strip())
        return Transcript(text, getattr(info, "language", None) or language,
                          getattr(info, "language_probability", None))

    async def transcribe_in(self, key: str, language: str | None = None) -> Transcript | None:
        """The transcript of clip `key` and its language, or None (logged) on any failure."""
        try:
            path = await stored_clip(self.store, self.bucket, key)
            if path is None:
                return None
            loop = asyncio.get_running_loop()
            found = await loop.run_in_executor(self._pool, self._run, str(path), language)
        except Exception:
            log.warning("transcription of %s failed", key, exc_info=True)
            return None
        if found.language:
            self.languages[key] = found.language
        return found if found.text else None

    async def transcribe(self, key: str) -> str | None:
        """The transcriber port: the text of clip `key` in whatever language it was spoken."""
        found = await self.transcribe_in(key)
        return found.text if found else None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
