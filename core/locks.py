"""Per-key asyncio locks that do not pile up: a lock lives only while someone holds or waits
for it (a weak-value table), so a long-running process keeps no lock per interview or chat."""

from __future__ import annotations

import asyncio
import weakref


class KeyedLocks:
    """`locks[key]` gives the same `asyncio.Lock` to everyone using that key at the same time.

    Holders keep the lock alive (`async with locks[key]:` holds a reference for the block);
    once nobody does, the entry disappears, so the table is bounded by the keys in use.
    """

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary())

    def __getitem__(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    def __len__(self) -> int:
        return len(self._locks)
