"""Benchmark: voice notes arriving at once, ours vs raw ffmpeg making the same files.

Run: .venv/bin/python -m bench.voice [--notes 200] [--workers N] [--quick]

--notes copies of a Telegram voice note (the 5.9 s speech fixture, OGG/Opus) arrive at once.

* ours: `PydubAudioProcessor.ingest` for each, all awaited together on one event loop, with
  the process pool `interviewbot run` uses (one worker per core): the upload is checked
  (format, completeness), decoded, measured (length, speech, loudness), and one ffmpeg run
  writes the canonical OGG/Opus file and the Telegram (OGG/Opus) and Slack (M4A/AAC) review
  copies, trimmed and loudness-normalised; the canonical file's length is checked.
* raw ffmpeg: one ffmpeg run per note writing the same three files with the same encoders
  and settings, trim and gain given on the command line (ffmpeg alone cannot know them
  without a measuring pass, so this is a bound, not an equal), --workers runs at a time.

Measured, in --rounds rounds taking ours and raw ffmpeg in turn (the median round of each is
shown): notes per second (wall clock, first submitted to last stored), per core (divided by
--workers), CPU per note (the bot process, its workers and their ffmpeg children), and the
longest the event loop went without running (a 5 ms ticker). Targets: ours at least
RATIO_TARGET of raw ffmpeg's notes per second and of its CPU efficiency, and the loop never
still for LOOP_TARGET_MS. Exit status 3 (bench.common.MISSED) when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import MISSED, proc_cpu, summary, table
from bots.audio import PydubAudioProcessor, ffmpeg
from bots.audio.convert import CANONICAL, command, review_cut
from bots.audio.decode import OGG_OPUS
from bots.audio.levels import window_levels
from bots.audio.review import M4A_REVIEW, OGG_REVIEW
from core.capabilities import AudioFormat

NOTE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "audio" / "voice.ogg"
RATIO_TARGET = 0.75  # ours / raw ffmpeg, notes per second
LOOP_TARGET_MS = 100.0
FORMATS = (AudioFormat.OGG_OPUS, AudioFormat.M4A_AAC)  # the review copies of both chat apps


@dataclass
class Run:
    name: str
    notes: int
    seconds: float
    cpu: float  # CPU seconds in all
    loop_stall_ms: float | None = None

    @property
    def rate(self) -> float:
        return self.notes / self.seconds

    @property
    def cpu_ms(self) -> float:
        return self.cpu / self.notes * 1000


class Ticker:
    """The longest gap between two runs of a 5 ms timer on the event loop."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            self.longest = max(self.longest, now - last)
            last = now

    def __enter__(self) -> Ticker:
        self._task = asyncio.get_running_loop().create_task(self._tick())
        return self

    def __exit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()


def pool_cpu(audio: PydubAudioProcessor) -> float:
    """CPU seconds of the bot process plus each worker's, with its waited-for ffmpeg runs."""
    total = proc_cpu(os.getpid()).own
    pool = audio._pool  # the benchmark looks inside
    for pid in (pool._processes if pool else {}):
        cpu = proc_cpu(pid)
        total += cpu.own + cpu.children
    return total


async def bench_ours(root: Path, data: bytes, notes: int, workers: int) -> Run:
    audio = PydubAudioProcessor(root, processes=workers, review_formats=FORMATS)
    try:
        # a warm pool, as in a running bot: every worker started and has imported the pipeline
        await asyncio.gather(*(audio.ingest(data, "audio/ogg", key=f"warm/{n}", max_seconds=60,
                                            max_bytes=len(data)) for n in range(workers * 2)))
        before = pool_cpu(audio)
        with Ticker() as ticker:
            began = time.perf_counter()
            await asyncio.gather(*(audio.ingest(data, "audio/ogg", key=f"note/{n}",
                                                max_seconds=60, max_bytes=len(data))
                                   for n in range(notes)))
            took = time.perf_counter() - began
        cpu = pool_cpu(audio) - before
        return Run("ours", notes, took, cpu, ticker.longest * 1000)
    finally:
        audio.close()


def raw_command(source: Path, out: Path) -> list[str]:
    """ffmpeg reading the note itself and writing the three files ours writes: our encoding
    run's filter graph and outputs, with the note's trim and gain worked out beforehand."""
    segment = ffmpeg.decode(source, fmt="ogg", codec="opus")
    outputs = {CANONICAL: out / "canonical.ogg", OGG_REVIEW: out / "review.ogg",
               M4A_REVIEW: out / "review.m4a"}
    args = command(segment, review_cut(segment, window_levels(segment)), outputs)
    graph = args.index("-filter_complex")
    return [ffmpeg.configure(), "-hide_banner", "-nostdin", "-loglevel", "error",
            "-f", OGG_OPUS.format, "-c:a", "opus", "-i", str(source), "-filter_complex",
            args[graph + 1].replace("[0:a]", "[0:a]aformat=sample_fmts=s16:"
                                    "channel_layouts=mono,", 1), *args[graph + 2:]]


async def bench_raw(root: Path, source: Path, notes: int, workers: int) -> Run:
    gate = asyncio.Semaphore(workers)
    root.mkdir(parents=True)
    template = raw_command(source, root / "{n}")
    for n in range(notes):
        (root / str(n)).mkdir()

    async def one(n: int) -> None:
        args = [a.replace("{n}", str(n)) for a in template]
        async with gate:
            proc = await asyncio.create_subprocess_exec(*args)
            if await proc.wait() != 0:
                raise RuntimeError(f"raw ffmpeg failed on note {n}")

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(notes)))
    took = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run("raw ffmpeg, one run each", notes, took, cpu)


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def median_run(runs: list[Run]) -> Run:
    """The run with the median rate (an odd count; the lower middle for an even one)."""
    ordered = sorted(runs, key=lambda r: r.rate)
    return ordered[(len(ordered) - 1) // 2]


async def amain(args: argparse.Namespace) -> tuple[Run, Run]:
    ffmpeg.configure()
    data = NOTE.read_bytes()
    tmp = Path(tempfile.mkdtemp(prefix="ib-bench-voice-"))
    ours: list[Run] = []
    raw: list[Run] = []
    try:
        print(f"  {args.notes} notes of {NOTE.name} at once, {args.workers} workers, "
              f"{args.rounds} rounds, ours and raw ffmpeg in turn ({load()})", flush=True)
        for n in range(args.rounds):  # in turn, so that changes in the machine's load hit both
            ours.append(await bench_ours(tmp / f"ours{n}", data, args.notes, args.workers))
            raw.append(await bench_raw(tmp / f"raw{n}", NOTE, args.notes, args.workers))
            print(f"  round {n + 1}: ours {ours[-1].rate:.1f}/s, raw {raw[-1].rate:.1f}/s "
                  f"({load()})", flush=True)
        return median_run(ours), median_run(raw)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=None, help="default 200; 40 with --quick")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)),
                        help="worker processes (ours) and ffmpeg runs at a time (raw); "
                             "default one per core")
    parser.add_argument("--rounds", type=int, default=None, help="default 3; 1 with --quick")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    args.notes = args.notes or (40 if args.quick else 200)
    args.rounds = args.rounds or (1 if args.quick else 3)
    ours, raw = asyncio.run(amain(args))
    ratio = ours.rate / raw.rate
    cpu_ratio = raw.cpu_ms / ours.cpu_ms
    print(table(["", "notes/s", "per core", "CPU ms per note", "loop stall ms"],
                [(r.name, f"{r.rate:.1f}", f"{r.rate / args.workers:.1f}", f"{r.cpu_ms:.0f}",
                  "" if r.loop_stall_ms is None else f"{r.loop_stall_ms:.0f}")
                 for r in (ours, raw)]))
    ratio_met = ratio >= RATIO_TARGET
    cpu_met = cpu_ratio >= RATIO_TARGET
    stall_met = ours.loop_stall_ms is not None and ours.loop_stall_ms < LOOP_TARGET_MS
    print(f"  notes/s ours / raw ffmpeg's (median rounds): {ratio:.2f}, CPU per note raw "
          f"ffmpeg's / ours: {cpu_ratio:.2f} (targets >= {RATIO_TARGET}) "
          f"{'✓' if ratio_met else '✗'} {'✓' if cpu_met else '✗'}; longest event-loop "
          f"stall {ours.loop_stall_ms:.0f} ms "
          f"(target < {LOOP_TARGET_MS:.0f}) {'✓' if stall_met else '✗'}")
    per_core = f"{ours.rate / args.workers:.1f} vs {raw.rate / args.workers:.1f}"
    summary.add("voice", f"{args.notes} notes at once: notes/s per core, ours vs raw ffmpeg",
                per_core)
    summary.add("voice", "ratio ours / raw ffmpeg (notes per second)", f"{ratio:.2f}",
                f">= {RATIO_TARGET}", ratio_met)
    summary.add("voice", "CPU ms per note, ours vs raw ffmpeg (ratio raw / ours)",
                f"{ours.cpu_ms:.0f} vs {raw.cpu_ms:.0f} ({cpu_ratio:.2f})",
                f">= {RATIO_TARGET}", cpu_met)
    summary.add("voice", "longest event-loop stall", f"{ours.loop_stall_ms:.0f} ms",
                f"< {LOOP_TARGET_MS:.0f} ms", stall_met)
    if not (ratio_met and cpu_met and stall_met):
        sys.exit(MISSED)


if __name__ == "__main__":
    main()
