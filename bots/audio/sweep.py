"""The orphan sweep: media that no database row refers to any more, left by a crash between
storing a recording and committing its take, or by a deletion from the bucket that failed.

Erasing an interview deletes the media its rows name on the process that erases it; a file
written just before a crash has no row, and copies cached by other processes (review copies,
canonical files fetched from the bucket) are not seen by that process: only a sweep finds
them. `interviewbot run` sweeps every `MEDIA_SWEEP_INTERVAL` seconds; the media of an erased
interview goes at once, whatever its age. A key is removed, from the media folder and the bucket
alike, when the database does not keep it (see `storage.media_refs`) and none of its files or
objects changed within the grace period, so that a recording being stored (its take not yet
committed) is never touched.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bots.audio.bucket import S3Bucket
from bots.audio.store import MediaStore

log = logging.getLogger(__name__)

ORPHAN_GRACE = 3600.0  # seconds: far longer than storing one recording and committing it takes


class MediaReferences(Protocol):
    """What the database still needs (`storage.media_refs.MediaRefs`)."""

    def keeps(self, key: str) -> bool:
        """False only for the key of a known interview that nothing refers to."""
        ...

    def gone(self, key: str) -> bool:
        """True for a key of an erased interview: removed whatever its age."""
        ...


@dataclass(frozen=True)
class SweepReport:
    """What a sweep removed."""

    keys: tuple[str, ...]  # orphaned media keys removed
    files: int  # files removed from the media folder
    objects: int  # objects removed from the bucket


def sweep_orphans(store: MediaStore, bucket: S3Bucket | None,
                  references: Callable[[], MediaReferences], *, grace: float = ORPHAN_GRACE,
                  now: float | None = None) -> SweepReport:
    """Remove every orphaned `<interview>/<id>` key older than `grace` seconds. Blocking.

    What is stored is listed before the database is asked, so a take committed meanwhile is
    seen as referenced; a key whose newest file or object is younger than `grace` is kept.
    """
    store.sweep_scratch()
    local = store.stored_keys()
    remote = bucket.stored_keys() if bucket is not None else {}
    refs = references()
    cutoff = (time.time() if now is None else now) - grace
    removed: list[str] = []
    files = objects = 0
    for key in sorted(local.keys() | remote.keys()):
        if key.count("/") != 1 or refs.keeps(key):
            continue
        newest = max(t for t in (local.get(key), remote.get(key)) if t is not None)
        if newest >= cutoff and not refs.gone(key):
            continue
        if key in local:
            files += store.delete(key)
        if bucket is not None and key in remote:
            objects += bucket.delete(key)
        removed.append(key)
        log.info("removed orphaned media", extra={"key": key})
    return SweepReport(tuple(removed), files, objects)
