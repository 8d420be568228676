"""Reading a script's plain data: field paths, the problems found, and the collector that reads
each kind of field (text, possibly translated; durations; numbers; flags) and keeps every problem
with its path, so a loader can point at file and line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core.durations import parse_duration
from core.script_translations import parse_translated

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One validation error: the field path (e.g. ("questions", 2, "answer", "kinds")) and why."""

    path: Path
    message: str

    @property
    def field(self) -> str:
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out or "(script)"


class ScriptInvalid(ValueError):
    """Raised with every problem found in a script."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


class Collector:
    """Accumulates problems while reading nested plain data."""

    def __init__(self, languages: tuple[str, ...] = ("en",)) -> None:
        self.problems: list[Problem] = []
        self.languages = languages  # the script's; a text may be a map by these

    def add(self, path: Path, message: str) -> None:
        self.problems.append(Problem(path, message))

    def text(self, data: Mapping[str, Any], key: str, path: Path, *, required: bool = True,
             default: str = "") -> str:
        value = data.get(key)
        if value is None:
            if required:
                self.add((*path, key), "is required")
            return default
        if isinstance(value, Mapping):
            return parse_translated(self, value, (*path, key), default)
        if not isinstance(value, str) or not value.strip():
            self.add((*path, key), "must be non-empty text")
            return default
        return value.strip()

    def mapping(self, data: Mapping[str, Any], key: str, path: Path) -> Mapping[str, Any]:
        value = data.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.add((*path, key), "must be a mapping")
            return {}
        return value

    def duration(self, value: Any, path: Path) -> timedelta | None:
        try:
            delta = parse_duration(value)
        except (ValueError, TypeError):
            self.add(path, f"{value!r} is not a duration like 7d, 24h or 30m")
            return None
        if delta <= timedelta(0):
            self.add(path, "must be longer than zero")
            return None
        return delta

    def integer(self, value: Any, path: Path, *, low: int, high: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(path, f"{value!r} is not a whole number")
            return None
        if not low <= value <= high:
            self.add(path, f"{value} is not between {low} and {high}")
            return None
        return value

    def flag(self, value: Any, path: Path, default: bool) -> bool:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.add(path, f"{value!r} is not true or false")
            return default
        return value
