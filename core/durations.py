"""Parse and print human durations such as "90d", "24h", "30m", "1h30m"."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)\s*([wdhms])")
_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str | int) -> timedelta:
    """Parse "7d", "24h", "1h30m" or a number of seconds; raise ValueError otherwise."""
    if isinstance(text, int) and not isinstance(text, bool):
        return timedelta(seconds=text)
    compact = str(text).strip().lower().replace(" ", "")
    if not compact or _PART.sub("", compact):
        raise ValueError(f"{text!r} is not a duration like 90d, 24h, 30m or 1h30m")
    return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in _PART.findall(compact)))


def format_duration(delta: timedelta) -> str:
    """Print a duration compactly: 3d, 2h30m, 45s."""
    seconds = int(delta.total_seconds())
    if seconds <= 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts[:2])
