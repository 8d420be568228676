"""Review copies and reels: decoded canonical clips, trimmed and normalised, re-encoded."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from pydub.generators import Sine

from bots.audio import ffmpeg
from bots.audio.ffmpeg import SAMPLE_RATE, AudioSegment
from bots.audio.levels import prepare_for_review
from bots.audio.store import MediaStore
from core.audio import Chapter, Reel
from core.capabilities import AudioFormat

CANONICAL_BITRATE = "32k"
CANONICAL_OPUS = ("-compression_level", "10")  # stored once per answer: best quality per bit
# Review copies are regenerated on demand: complexity 6 encodes about 2.5x faster than 10, and
# constrained VBR holds the bitrate (below 7, unconstrained VBR overshoots 32k by about a third).
REVIEW_OPUS = ("-compression_level", "6", "-vbr", "constrained")
TELEGRAM_VOICE_BYTES = 1_000_000  # Telegram shows OGG/Opus up to 1 MB as a voice message
VOICE_BITRATE_RANGE = (12, 32)  # kbit/s bounds for review copies sized to that limit
AAC_BITRATE = "64k"

SEPARATOR_SILENCE_MS = 400
TONE_MS = 250
TONE_HZ = 660
TONE_DBFS = -20.0


@dataclass(frozen=True)
class Output:
    """A review copy format."""

    suffix: str
    format: str
    codec: str
    mime: str
    bitrate: str | None  # None: the highest that keeps a voice note under Telegram's 1 MB
    options: tuple[str, ...] = ()


OGG_REVIEW = Output("review.ogg", "ogg", "libopus", "audio/ogg", None, REVIEW_OPUS)
M4A_REVIEW = Output("review.m4a", "ipod", "aac", "audio/mp4", AAC_BITRATE,
                    ("-movflags", "+faststart"))
REEL = Output("ogg", "ogg", "libopus", "audio/ogg", CANONICAL_BITRATE, CANONICAL_OPUS)
REVIEW_OUTPUTS = {AudioFormat.OGG_OPUS: OGG_REVIEW, AudioFormat.M4A_AAC: M4A_REVIEW}


def load(store: MediaStore, key: str) -> AudioSegment:
    """Decode the canonical file of `key` (FileNotFoundError when there is none)."""
    path = store.path(key, "ogg")
    if not path.is_file():
        raise FileNotFoundError(f"no stored audio for {key!r}")
    return ffmpeg.decode(path, fmt="ogg", codec="opus")


def voice_bitrate(seconds: float) -> str:
    """Opus bitrate that keeps a clip under Telegram's voice-message size, within bounds."""
    low, high = VOICE_BITRATE_RANGE
    fitting = int(TELEGRAM_VOICE_BYTES * 8 * 0.9 / max(seconds, 1.0) / 1000)
    return f"{max(low, min(high, fitting))}k"


def encode_to(store: MediaStore, segment: AudioSegment, target: Path, output: Output) -> None:
    """Encode into a private scratch file, then move it over `target` atomically."""
    bitrate = output.bitrate or voice_bitrate(segment.duration_seconds)
    with store.scratch(output.suffix.rsplit(".", 1)[-1]) as part:
        ffmpeg.encode(segment, part, fmt=output.format, codec=output.codec, bitrate=bitrate,
                      options=output.options)
        store.make_dirs(target.parent)
        os.replace(part, target)


def review_sync(store: MediaStore, key: str, output: Output) -> None:
    """Blocking part of `review_copy`."""
    segment = prepare_for_review(load(store, key))
    target = store.path(key, output.suffix)
    encode_to(store, segment, target, output)
    if not store.path(key, "ogg").exists():  # erased meanwhile: leave nothing behind
        target.unlink(missing_ok=True)


def separator() -> AudioSegment:
    """Silence, a short soft beep, silence: what the reel puts between answers."""
    gap = AudioSegment.silent(duration=SEPARATOR_SILENCE_MS, frame_rate=SAMPLE_RATE)
    tone = (Sine(TONE_HZ, sample_rate=SAMPLE_RATE).to_audio_segment(TONE_MS, TONE_DBFS)
            .fade_in(20).fade_out(20))
    return gap + tone + gap


def reel_sync(store: MediaStore, keys: list[tuple[str, str]], key: str) -> Reel:
    """Blocking part of `reel`."""
    gap = separator()
    pieces: list[bytes] = []
    chapters: list[Chapter] = []
    frames = 0
    for index, (title, clip) in enumerate(keys):
        if index:
            pieces.append(gap.raw_data)
            frames += int(gap.frame_count())
        chapters.append(Chapter(title=title, start=frames / SAMPLE_RATE))
        part = prepare_for_review(load(store, clip))
        pieces.append(part.raw_data)
        frames += int(part.frame_count())
    audio = AudioSegment(data=b"".join(pieces), sample_width=2, frame_rate=SAMPLE_RATE,
                         channels=1)
    encode_to(store, audio, store.path(key, REEL.suffix), REEL)
    for output in REVIEW_OUTPUTS.values():
        store.path(key, output.suffix).unlink(missing_ok=True)
    return Reel(key=key, duration=frames / SAMPLE_RATE, chapters=tuple(chapters))
