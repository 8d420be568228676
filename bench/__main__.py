"""`make bench`: run every benchmark in turn (each prints its own table), then a summary table.

Run: .venv/bin/python -m bench [--quick] [NAME ...]   (NAME: audio, voice, engine, engine-postgres,
scheduler, pacing, realistic, scale-out; default all). `--quick` trims every benchmark to a
few minutes in all.

Exit status: 0 when every target was met; 1 when one was missed or a benchmark failed (the
missed ones are listed after the summary); 2 for a usage error.
"""

from __future__ import annotations

import argparse
import os
import platform
import runpy
import sys
import time
import traceback

from bench.common import MISSED, Row, summary

# (name, module, arguments)
BENCHES = [
    ("audio", "bench.audio", []),
    ("voice", "bench.voice", []),
    ("engine", "bench.engine", []),
    ("engine-postgres", "bench.engine", ["--db", "postgres"]),
    ("scheduler", "bench.scheduler", []),
    ("pacing", "bench.pacing", []),
    ("realistic", "bench.realistic", []),
    ("scale-out", "bench.scale_out", []),
]


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the benchmarks, then print a summary.")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller runs, a few minutes in all")
    args = parser.parse_args()
    unknown = set(args.names) - {name for name, _, _ in BENCHES}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    for name, module, extra in BENCHES:
        if args.names and name not in args.names:
            continue
        argv = [*extra, *(["--quick"] if args.quick else [])]
        print(f"\n=== {name}: python -m {module} {' '.join(argv)}".rstrip(), flush=True)
        sys.argv = [module, *argv]
        began = time.perf_counter()
        sys.modules.pop(module, None)  # imported by an earlier run: start afresh
        try:
            runpy.run_module(module, run_name="__main__", alter_sys=False)
        except (Exception, SystemExit) as exc:
            if isinstance(exc, SystemExit) and exc.code in (None, 0, MISSED):
                continue  # a missed target is in the summary already
            traceback.print_exc()
            summary.add(name, "FAILED", f"{type(exc).__name__}: {exc}"[:80], met=False)
        print(f"({name}: {time.perf_counter() - began:.0f} s)", flush=True)
    command = "python -m bench" + (" --quick" if args.quick else "")
    print(f"\n=== summary ({command}, {time.perf_counter() - started:.0f} s)")
    print(f"machine: {machine()}")
    print(summary.render())
    missed = missed_targets(summary.rows)
    if missed:
        print(f"\n{len(missed)} target(s) missed:")
        for row in missed:
            print(f"  {row.bench}: {row.metric}: {row.value} (target {row.target or '-'})")
        sys.exit(1)
    print("\nevery target met")


def missed_targets(rows: list[Row]) -> list[Row]:
    """The summary rows whose target was missed, failed benchmarks included."""
    return [row for row in rows if row.verdict == "MISSED"]


if __name__ == "__main__":
    main()
