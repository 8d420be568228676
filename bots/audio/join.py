"""Joining a draft's voice clips into one canonical recording (a voice answer sent in takes)."""

from __future__ import annotations

import functools

from bots.audio.bucket import ObjectStoreError, S3Bucket
from bots.audio.review import Output, load
from bots.audio.store import MediaStore
from core.audio import StoredAudio


def join_sync(store: MediaStore, bucket: S3Bucket | None, keys: list[str], key: str,
              keep_original: bool = False, reviews: tuple[Output, ...] = ()) -> StoredAudio:
    """Blocking part of `join`: the canonical clips of `keys`, end to end, stored canonically
    under `key` with its `reviews` copies (and uploaded to the bucket, if any, before it
    returns)."""
    from bots.audio.processor import AudioStoreError, store_canonical

    if bucket is not None:
        for clip in keys:
            bucket.fetch(store, clip)
    joined = functools.reduce(lambda a, b: a + b, (load(store, clip) for clip in keys))
    stored = store_canonical(store, key, joined, store.path(key, "orig.ogg"), keep_original,
                             reviews=reviews)
    if bucket is not None:
        try:
            bucket.upload(store.path(key, "ogg"), key, "ogg", stored.checksum)
        except ObjectStoreError as exc:
            store.delete(key)
            raise AudioStoreError(f"could not store {key!r} in the bucket: {exc}") from exc
    return stored
