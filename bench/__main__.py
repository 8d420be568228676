"""`make bench`: run every benchmark script in turn (each prints its own table)."""

from __future__ import annotations

import runpy
import sys

BENCHES = ["bench.audio"]


def main() -> None:
    for name in BENCHES:
        print(f"\n=== {name} ===", flush=True)
        sys.argv = [name]
        runpy.run_module(name, run_name="__main__")


if __name__ == "__main__":
    main()
