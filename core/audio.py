"""Audio port: what the engine needs from an audio pipeline, and why a clip can be refused."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from core.capabilities import AudioFormat


class RejectReason(enum.Enum):
    """Why an audio answer was not accepted. Each has its own message to the candidate."""

    CORRUPT = "corrupt"
    TOO_SHORT = "too_short"
    SILENT = "silent"
    TOO_LONG = "too_long"
    TOO_LARGE = "too_large"


class AudioRejected(Exception):
    """Raised by an `AudioProcessor` when a clip cannot be an answer; nothing was stored."""

    def __init__(self, reason: RejectReason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class StoredAudio:
    """A validated clip stored in canonical form (OGG/Opus mono) under the media store."""

    key: str  # storage key relative to the media root, derived from ids only
    duration: float  # seconds of the canonical file
    checksum: str  # sha256 hex of the canonical file
    size: int  # bytes of the canonical file


@dataclass(frozen=True)
class Chapter:
    """One entry of an interview reel's chapter list."""

    title: str
    start: float  # seconds from the start of the reel


@dataclass(frozen=True)
class Reel:
    """One file with every answer of an interview in order, plus its chapters."""

    key: str
    duration: float
    chapters: tuple[Chapter, ...]


class AudioProcessor(Protocol):
    """Validates, converts and prepares audio. Implementations run heavy work off the event loop."""

    async def ingest(
        self, data: bytes, mime: str, *, key: str, max_seconds: float, max_bytes: int
    ) -> StoredAudio:
        """Validate `data` (any supported container) and store it canonically under `key`.

        Raises `AudioRejected` and stores nothing when the clip is unusable.
        """
        ...

    async def review_copy(self, key: str, *, fmt: AudioFormat) -> tuple[str, str]:
        """Loudness-normalised, silence-trimmed copy for reviewers, in `fmt` (the format
        their channel plays inline, `Capabilities.inline_audio`).

        Returns (absolute path, mime type).
        """
        ...

    async def reel(self, keys: list[tuple[str, str]], *, key: str) -> Reel:
        """Join (title, audio key) pairs, separated by a short tone, into one file at `key`."""
        ...

    async def join(self, keys: list[str], *, key: str) -> StoredAudio:
        """Join stored clips end to end into one canonical recording at `key` (a voice answer
        sent in several clips)."""
        ...

    def delete(self, key: str) -> None:
        """Remove every file derived from `key` (canonical, original, review copies)."""
        ...


@runtime_checkable
class MultilingualTranscriber(Protocol):
    """A transcriber that takes the expected language and says which it heard."""

    async def transcribe_in(self, key: str, language: str | None = None
                            ) -> HeardSpeech | None: ...


class HeardSpeech(Protocol):
    """A transcript and the language it was heard in."""

    @property
    def text(self) -> str: ...

    @property
    def language(self) -> str | None: ...


class Transcriber(Protocol):
    """Optional speech-to-text; must never raise into the interview flow."""

    async def transcribe(self, key: str) -> str | None:
        """Return a transcript of the stored clip `key`, or None when unavailable."""
        ...
