"""Benchmark: loudness-normalising a 60 s voice note, ours vs raw ffmpeg on the same file.

Run: .venv/bin/python -m bench.audio [--seconds 60] [--repeat 9] [--quick]

"Ours" is `PydubAudioProcessor.review_copy` on a stored answer: decode, measure speech level,
trim leading/trailing silence, apply the gain, encode OGG/Opus. The raw ffmpeg equivalent does
the same with two command lines: a measuring pass (silencedetect + volumedetect) and a pass that
trims, applies the gain and encodes with the same encoder settings. Also shown: the second
pass alone (a lower bound: it needs the gain known in advance) and ffmpeg's one-pass `loudnorm`
filter (dynamic, so not the same output, but the usual one-liner).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import summary
from bots.audio import PydubAudioProcessor, ffmpeg
from bots.audio.levels import TRIM_BELOW_SPEECH_DB, speech_level, window_levels
from bots.audio.review import REVIEW_OPUS, voice_bitrate
from core.capabilities import AudioFormat

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "audio"
KEY = "bench/answer"
OURS = "ours (review_copy)"
RAW = "raw ffmpeg, measure + apply"


def make_voice_note(seconds: float, out: Path) -> bytes:
    """A Telegram-like voice note: the speech fixture repeated, OGG/Opus 32 kbit/s."""
    speech = ffmpeg.decode(FIXTURES / "voice.ogg", fmt="ogg", codec="opus")
    note = speech * (int(seconds / speech.duration_seconds) + 1)
    ffmpeg.encode(note[: int(seconds * 1000)], out, fmt="ogg", codec="libopus", bitrate="32k")
    return out.read_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=None, help="default 9; 3 with --quick")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    args.repeat = args.repeat or (3 if args.quick else 9)
    exe = ffmpeg.configure()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = make_voice_note(args.seconds, work / "note.ogg")
        audio = PydubAudioProcessor(work / "media")
        stored = asyncio.run(audio.ingest(data, "audio/ogg", key=KEY, max_seconds=3600,
                                          max_bytes=len(data)))
        source = audio.path(KEY)
        review = audio.store.path(KEY, "review.ogg")
        level = speech_level(window_levels(ffmpeg.decode(source, fmt="ogg", codec="opus")))
        assert level is not None
        bitrate = voice_bitrate(stored.duration)
        encode = ["-c:a", "libopus", "-b:a", bitrate, *REVIEW_OPUS]

        def ours() -> None:
            review.unlink(missing_ok=True)
            asyncio.run(audio.review_copy(KEY, fmt=AudioFormat.OGG_OPUS))

        def raw(*commands: list[str]) -> Callable[[], None]:
            def run() -> None:
                for command in commands:
                    subprocess.run([exe, "-hide_banner", "-nostdin", "-y", *command],
                                   check=True, capture_output=True)
            return run

        measure = ["-i", str(source), "-af",
                   f"silencedetect=noise={level - TRIM_BELOW_SPEECH_DB:.1f}dB:d=0.2,volumedetect",
                   "-f", "null", "-"]
        apply = ["-ss", "0.4", "-to", f"{stored.duration - 0.4:.3f}", "-i", str(source),
                 "-af", "volume=1.5dB", *encode, str(work / "raw.ogg")]

        loudnorm = ["-i", str(source), "-af", "loudnorm=I=-18:TP=-1", "-ar", "48000", *encode,
                    str(work / "loudnorm.ogg")]
        candidates = {
            OURS: ours,
            RAW: raw(measure, apply),
            "raw ffmpeg, apply only (bound)": raw(apply),
            "raw ffmpeg, one-pass loudnorm": raw(loudnorm),
        }
        ours()  # warm the page cache and the executor
        runs: dict[str, list[float]] = {name: [] for name in candidates}
        for _ in range(args.repeat):  # interleaved, so drift in machine load hits all alike
            for name, fn in candidates.items():
                start = time.perf_counter()
                fn()
                runs[name].append(time.perf_counter() - start)
        results = {name: statistics.median(times) for name, times in runs.items()}

    duration = stored.duration
    print(f"{duration:.1f} s voice note, OGG/Opus {bitrate}bit/s, median of {args.repeat} runs")
    for name, seconds in results.items():
        print(f"  {name:32s} {seconds * 1000:7.0f} ms  {duration / seconds:6.1f}x real time")
    for name, seconds in results.items():
        if name != OURS:
            print(f"  speed ratio ours / {name}: {seconds / results[OURS]:.2f}")
    summary.add("audio", f"{duration:.0f} s note: review copy, x real time",
                f"{duration / results[OURS]:.0f}x")
    summary.add("audio", f"speed ours / {RAW}", f"{results[RAW] / results[OURS]:.2f}")


if __name__ == "__main__":
    main()
