"""Splitting long message text into parts a platform accepts."""

from __future__ import annotations


def split_text(text: str, limit: int) -> list[str]:
    """Split at line breaks (hard, inside a line longer than `limit`); never an empty list."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    return parts
