"""The ffmpeg binary that imageio-ffmpeg ships, shared with pydub, and the two calls we make to it.

Nothing runs at import time: `configure()` locates the binary and points pydub at it.
"""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

with warnings.catch_warnings():
    # pydub looks for ffmpeg on PATH while its module loads; we point it elsewhere in configure().
    warnings.filterwarnings("ignore", "Couldn't find ffmpeg", RuntimeWarning)
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    from pydub import AudioSegment

__all__ = ["SAMPLE_RATE", "AudioSegment", "FfmpegError", "configure", "decode", "encode", "run"]

SAMPLE_RATE = 48_000  # Opus's native rate; every clip is decoded to mono s16 at this rate
_OUTPUT_SIDE = ("[out#", "[aost#", "[s16le @")  # log contexts of the output side, not the input

_exe: str | None = None


class FfmpegError(RuntimeError):
    """ffmpeg failed or reported errors while reading the input."""


def configure() -> str:
    """Point pydub at imageio-ffmpeg's binary and return its path. Idempotent."""
    global _exe
    if _exe is None:
        import imageio_ffmpeg

        _exe = imageio_ffmpeg.get_ffmpeg_exe()
        AudioSegment.converter = _exe
    return _exe


def _run(args: list[str], stdin: bytes | None = None) -> tuple[bytes, list[str]]:
    cmd = [configure(), "-hide_banner", "-nostdin", "-loglevel", "error", *args]
    proc = subprocess.run(cmd, input=stdin, capture_output=True, check=False)
    errors = [line for line in proc.stderr.decode(errors="replace").splitlines() if line.strip()]
    if proc.returncode != 0:
        raise FfmpegError(f"ffmpeg exited with {proc.returncode}: {' | '.join(errors[-3:])}")
    return proc.stdout, errors


def run(args: list[str], stdin: bytes | None = None) -> None:
    """Run ffmpeg with `args` (after the common options); raise `FfmpegError` if it fails."""
    _run(args, stdin)


def decode(path: Path, *, fmt: str, codec: str | None, limit: float | None = None,
           rate: int = SAMPLE_RATE) -> AudioSegment:
    """Decode the first audio stream of `path` to mono 16-bit PCM at `rate` Hz.

    `fmt`/`codec` force the demuxer and decoder (ffmpeg names, as pydub's `from_file` takes them).
    `limit` stops after that many seconds. Raises `FfmpegError` when ffmpeg fails or logs an
    input-side error (a damaged or cut file decodes partially with exit status 0).
    """
    args = ["-protocol_whitelist", "file", "-f", fmt, *(["-c:a", codec] if codec else []),
            "-i", str(path), "-map", "0:a:0", "-vn", "-sn", "-dn"]
    if limit is not None:
        args += ["-t", f"{limit:.3f}"]
    args += ["-ac", "1", "-ar", str(rate), "-f", "s16le", "-c:a", "pcm_s16le", "pipe:1"]
    pcm, errors = _run(args)
    input_errors = [e for e in errors if not e.startswith(_OUTPUT_SIDE)]
    if input_errors:
        raise FfmpegError(" | ".join(input_errors[:3]))
    return AudioSegment(data=pcm, sample_width=2, frame_rate=rate, channels=1)


def encode(segment: AudioSegment, out: Path, *, fmt: str, codec: str, bitrate: str,
           options: tuple[str, ...] = ()) -> None:
    """Encode mono 16-bit `segment` into the existing file `out` (its mode is kept)."""
    args = ["-f", "s16le", "-ar", str(segment.frame_rate), "-ac", str(segment.channels),
            "-i", "pipe:0", "-map_metadata", "-1", "-c:a", codec, "-b:a", bitrate, *options,
            "-f", fmt, "-y", str(out)]
    _run(args, stdin=segment.raw_data)
