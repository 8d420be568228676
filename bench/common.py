"""Shared helpers for the benchmarks: percentiles, process CPU, tables and the summary rows.

Every benchmark module adds its headline figures with `summary.add(...)`; `python -m bench`
prints them all as one table at the end.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

_TICK = os.sysconf("SC_CLK_TCK")
MISSED = 3  # exit status of a benchmark (and of `python -m bench`) that missed a target


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass(frozen=True)
class ProcCpu:
    """CPU seconds of a process: its own (all threads) and its waited-for children's."""

    own: float
    children: float

    def __sub__(self, other: ProcCpu) -> ProcCpu:
        return ProcCpu(self.own - other.own, self.children - other.children)


def proc_cpu(pid: int) -> ProcCpu:
    """Read utime+stime and cutime+cstime of `pid` from /proc (Linux; 1/CLK_TCK resolution)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    return ProcCpu((utime + stime) / _TICK, (cutime + cstime) / _TICK)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], indent: str = "  ") -> str:
    """A plain left/right-aligned text table (numbers right-aligned)."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    numeric = [all(_is_number(row[i]) for row in rows) and bool(rows)
               for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        parts = [c.rjust(w) if numeric[i] and n else c.ljust(w)
                 for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append(indent + "  ".join(parts).rstrip())
        if n == 0:
            lines.append((indent + "  ".join("-" * w for w in widths)).rstrip())
    return "\n".join(lines)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        if abs(value) >= 100:
            return f"{value:.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    return str(value)


# --------------------------------------------------------------------------- summary


@dataclass(frozen=True)
class Row:
    bench: str
    metric: str
    value: str
    target: str = ""
    verdict: str = ""


class Summary:
    """Headline figures collected across benchmark modules run in one process."""

    def __init__(self) -> None:
        self.rows: list[Row] = []

    def add(self, bench: str, metric: str, value: str, target: str = "",
            met: bool | None = None) -> None:
        verdict = "" if met is None else ("ok" if met else "MISSED")
        self.rows.append(Row(bench, metric, value, target, verdict))

    def missed(self) -> bool:
        return any(r.verdict == "MISSED" for r in self.rows)

    def render(self) -> str:
        return table(["bench", "metric", "value", "target", ""],
                     [(r.bench, r.metric, r.value, r.target, r.verdict) for r in self.rows],
                     indent="")


summary = Summary()
