"""Converting once: the canonical file and its review copies in one ffmpeg run, from the
PCM the upload was decoded to for validation.

The levels measured for validation also give the review copies' trim and gain, so nothing is
decoded or measured twice: one ffmpeg run reads the PCM on its standard input, splits it, and
writes the canonical OGG/Opus file (the whole clip) and each review copy (trimmed, gain
applied by ffmpeg's `volume` filter) into scratch files under the media root.
"""

from __future__ import annotations

import audioop
import contextlib
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bots.audio import ffmpeg
from bots.audio.ffmpeg import AudioSegment
from bots.audio.levels import (
    TRIM_BELOW_SPEECH_DB,
    normalisation_gain,
    speech_level,
    trim_bounds,
)
from bots.audio.review import CANONICAL_BITRATE, CANONICAL_OPUS, Output, voice_bitrate
from bots.audio.store import MediaStore

OPUS_RATE = 48_000  # Ogg Opus granule positions count 48 kHz samples, whatever the input rate


@dataclass(frozen=True)
class ReviewCut:
    """What reviewers hear of a clip: samples [start, end) with `gain` dB applied."""

    start: int
    end: int
    gain: float


def review_cut(segment: AudioSegment, levels: list[float]) -> ReviewCut:
    """The trim and gain of `prepare_for_review`, from levels already measured."""
    frames = int(segment.frame_count())
    level = speech_level(levels)
    if level is None:
        return ReviewCut(0, frames, 0.0)
    start_ms, end_ms = trim_bounds(levels, level - TRIM_BELOW_SPEECH_DB)
    per_ms = segment.frame_rate // 1000
    start, end = start_ms * per_ms, min(frames, end_ms * per_ms)
    width = segment.sample_width
    peak = audioop.max(memoryview(segment.raw_data)[start * width:end * width], width)
    peak_db = 20 * math.log10(peak / segment.max_possible_amplitude) if peak else -math.inf
    return ReviewCut(start, end, normalisation_gain(level, peak_db))


def _encoding(output: Output, bitrate: str) -> list[str]:
    return ["-map_metadata", "-1", "-c:a", output.codec, "-b:a", bitrate, *output.options,
            "-f", output.format]


CANONICAL = Output("ogg", "ogg", "libopus", "audio/ogg", CANONICAL_BITRATE, CANONICAL_OPUS)


def command(segment: AudioSegment, cut: ReviewCut, outputs: dict[Output, Path]) -> list[str]:
    """The ffmpeg arguments that write every file of `outputs` (CANONICAL among them) from
    `segment`'s PCM on standard input."""
    reviews = [o for o in outputs if o != CANONICAL]
    graph = [f"[0:a]asplit={1 + bool(reviews)}[c]{'[r]' if reviews else ''}"]
    if reviews:
        graph.append(f"[r]atrim=start_sample={cut.start}:end_sample={cut.end},"
                     f"asetpts=PTS-STARTPTS,volume={cut.gain:.3f}dB,"
                     f"asplit={len(reviews)}" + "".join(f"[r{i}]" for i in range(len(reviews))))
    args = ["-f", "s16le", "-ar", str(segment.frame_rate), "-ac", str(segment.channels),
            "-i", "pipe:0", "-filter_complex", ";".join(graph),
            "-map", "[c]", *_encoding(CANONICAL, CANONICAL_BITRATE), "-y",
            str(outputs[CANONICAL])]
    seconds = (cut.end - cut.start) / segment.frame_rate
    for index, output in enumerate(reviews):
        bitrate = output.bitrate or voice_bitrate(seconds)
        args += ["-map", f"[r{index}]", *_encoding(output, bitrate), "-y", str(outputs[output])]
    return args


@contextlib.contextmanager
def convert(store: MediaStore, segment: AudioSegment, levels: list[float],
            reviews: tuple[Output, ...]) -> Iterator[dict[Output, Path]]:
    """Encode `segment` into scratch files, CANONICAL and each of `reviews`, in one ffmpeg
    run; they are removed on exit unless moved away. Raises `FfmpegError`."""
    with contextlib.ExitStack() as stack:
        outputs = {output: stack.enter_context(store.scratch(output.suffix.rsplit(".", 1)[-1]))
                   for output in (CANONICAL, *reviews)}
        ffmpeg.run(command(segment, review_cut(segment, levels), outputs), segment.raw_data)
        yield outputs


def ogg_opus_seconds(path: Path) -> float:
    """The playing time of an Ogg Opus file from its pages, without decoding it: the last
    page's granule position less the pre-skip, at 48 kHz. ValueError unless it is a whole
    Ogg Opus file."""
    data = path.read_bytes()
    first = 27 + (data[26] if len(data) > 26 else 0)
    if not data.startswith(b"OggS") or data[first:first + 8] != b"OpusHead":
        raise ValueError(f"{path.name} is not an Ogg Opus file")
    pre_skip = struct.unpack_from("<H", data, first + 10)[0]
    at = granule = 0
    while at < len(data):
        if data[at:at + 4] != b"OggS" or len(data) - at < 27:
            raise ValueError(f"{path.name} has a damaged or cut Ogg page")
        granule = struct.unpack_from("<q", data, at + 6)[0]
        segments = data[at + 26]
        at += 27 + segments + sum(data[at + 27:at + 27 + segments])
    if at != len(data):
        raise ValueError(f"{path.name} ends in a cut Ogg page")
    return max(0, granule - pre_skip) / OPUS_RATE
