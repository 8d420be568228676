"""Media in an S3-compatible bucket (AWS S3, MinIO, ...), mirroring a `MediaStore`'s files.

The media folder stays the working copy that ffmpeg reads and writes; the bucket holds the
durable copy of each canonical file (`<key>.ogg`, reels included, and kept originals), stored as
the private object `<prefix>/<key>.<suffix>`. Another process fetches a file into its own folder
when it needs one it does not have.

Every method blocks (boto3): call them from an executor, never on the event loop. An `S3Bucket`
pickles without its client (a new one is made on first use in each process), so it can be
passed to a process pool.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bots.audio.store import MediaStore, key_of, sha256

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

URL_PATTERN = re.compile(r"s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])"
                         r"(?:/(?P<prefix>[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*))?/?")
CHECKSUM_META = "sha256"  # user metadata: hex SHA-256 of the object, checked on download
CHUNK = 1 << 16


class ObjectStoreError(RuntimeError):
    """The bucket could not be reached, refused a request, or returned a damaged file."""


@dataclass(frozen=True)
class S3Location:
    """Where media objects live: `s3://bucket/prefix`, at AWS or at `endpoint_url`."""

    bucket: str
    prefix: str = ""  # no leading or trailing slash; "" puts keys at the top of the bucket
    endpoint_url: str | None = None  # None: AWS S3 (region from AWS_REGION / the profile)

    @classmethod
    def parse(cls, url: str, endpoint_url: str | None = None) -> S3Location:
        """`s3://bucket` or `s3://bucket/some/prefix`; ValueError with the expected shape."""
        found = URL_PATTERN.fullmatch(url.strip())
        prefix = (found.group("prefix") or "") if found else ""
        if found is None or any(part.strip(".") == "" for part in prefix.split("/") if prefix):
            raise ValueError(f"media bucket URL {url!r} should look like s3://bucket or "
                             "s3://bucket/prefix (bucket: 3-63 of a-z 0-9 . -)")
        if endpoint_url is not None and not re.fullmatch(r"https?://[^\s/]+(/\S*)?",
                                                         endpoint_url.strip()):
            raise ValueError(f"media S3 endpoint {endpoint_url!r} should be an http(s):// URL")
        return cls(found.group("bucket"), prefix,
                   endpoint_url.strip().rstrip("/") if endpoint_url else None)

    def __str__(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"s3://{self.bucket}/{self.prefix}{'/' if self.prefix else ''}{where}"


class S3Bucket:
    """Private objects `<prefix>/<key>.<suffix>` in one bucket; keys are checked like files."""

    def __init__(self, location: S3Location, *, client: Any = None) -> None:
        self.location = location
        self._client = client
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"location": self.location}  # a boto3 client does not pickle

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.location = state["location"]
        self._client = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"S3Bucket({self.location})"

    @property
    def client(self) -> S3Client:
        """The boto3 client, made on first use (credentials from the usual boto3 chain)."""
        with self._lock:
            if self._client is None:
                import boto3
                from botocore.config import Config

                config = Config(
                    connect_timeout=5, read_timeout=60,
                    retries={"max_attempts": 3, "mode": "standard"},
                    # Only the checksums an operation requires: S3-compatible stores differ in
                    # which of the newer checksum headers they accept. Uploads carry Content-MD5
                    # instead, which all check, and downloads are checked against the SHA-256.
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                    s3={"addressing_style": "path"} if self.location.endpoint_url else None,
                )
                self._client = boto3.session.Session().client(
                    "s3", endpoint_url=self.location.endpoint_url, config=config)
            return self._client

    # -- names -------------------------------------------------------------------------
    def name(self, key: str, suffix: str) -> str:
        """The object name of the `suffix` file of `key` (the key is checked)."""
        return f"{self._base}{MediaStore.check_key(key)}.{suffix}"

    @property
    def _base(self) -> str:
        return f"{self.location.prefix}/" if self.location.prefix else ""

    def key_of(self, name: str) -> str | None:
        """The media key an object name belongs to, or None for an object that is not ours."""
        if not name.startswith(self._base):
            return None
        return key_of(name[len(self._base):])

    # -- operations --------------------------------------------------------------------
    def upload(self, path: Path, key: str, suffix: str, checksum: str | None = None) -> None:
        """Store the file at `path` as the `suffix` object of `key` (private, checked by the
        server against its MD5; `checksum` is its hex SHA-256, computed when not given)."""
        name = self.name(key, suffix)
        md5 = hashlib.md5(usedforsecurity=False)
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(CHUNK), b""):
                md5.update(chunk)
        try:
            with open(path, "rb") as f:
                self.client.put_object(
                    Bucket=self.location.bucket, Key=name, Body=f,
                    ContentMD5=base64.b64encode(md5.digest()).decode(),
                    ContentType="audio/ogg" if suffix.endswith("ogg") else
                    "application/octet-stream",
                    Metadata={CHECKSUM_META: checksum or sha256(path)})
        except Exception as exc:
            raise self._error(exc, "upload", name) from exc

    def fetch(self, store: MediaStore, key: str, suffix: str = "ogg") -> bool:
        """Make sure `store` has the `suffix` file of `key`, downloading it if missing.
        False when neither the folder nor the bucket has it."""
        target = store.path(key, suffix)
        if target.is_file():
            return True
        name = self.name(key, suffix)
        with store.scratch(suffix.rsplit(".", 1)[-1]) as part:
            try:
                response = self.client.get_object(Bucket=self.location.bucket, Key=name)
            except Exception as exc:
                if _code(exc) in ("NoSuchKey", "404"):
                    return False
                raise self._error(exc, "download", name) from exc
            try:
                with open(part, "wb") as f:
                    for chunk in response["Body"].iter_chunks(CHUNK):
                        f.write(chunk)
            except Exception as exc:
                raise self._error(exc, "download", name) from exc
            expected = response.get("Metadata", {}).get(CHECKSUM_META)
            if expected and sha256(part) != expected:
                raise ObjectStoreError(f"download {self._where(name)}: the file does not match "
                                       "its SHA-256; it was not used")
            store.make_dirs(target.parent)
            os.replace(part, target)
        return True

    def delete(self, key: str) -> int:
        """Remove every object of `key` (canonical, original, anything derived); how many."""
        removed = 0
        for name, _ in self._list(f"{self._base}{MediaStore.check_key(key)}."):
            try:
                self.client.delete_object(Bucket=self.location.bucket, Key=name)
            except Exception as exc:
                raise self._error(exc, "delete", name) from exc
            removed += 1
        return removed

    def stored_keys(self) -> dict[str, float]:
        """Every media key with objects under the prefix, with its newest object's time."""
        found: dict[str, float] = {}
        for name, modified in self._list(self._base):
            key = self.key_of(name)
            if key is not None:
                found[key] = max(found.get(key, modified), modified)
        return found

    def check(self) -> None:
        """Raise `ObjectStoreError` saying why, unless the bucket can be reached and read."""
        try:
            self.client.list_objects_v2(Bucket=self.location.bucket, Prefix=self._base,
                                        MaxKeys=1)
        except Exception as exc:
            raise self._error(exc, "list", self._base) from exc

    def _list(self, prefix: str) -> Iterator[tuple[str, float]]:
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.location.bucket, Prefix=prefix)
            for page in pages:
                for item in page.get("Contents", []):
                    yield item["Key"], item["LastModified"].timestamp()
        except Exception as exc:
            raise self._error(exc, "list", prefix) from exc

    # -- errors ------------------------------------------------------------------------
    def _where(self, name: str) -> str:
        at = f" at {self.location.endpoint_url}" if self.location.endpoint_url else ""
        return f"s3://{self.location.bucket}/{name}{at}"

    def _error(self, exc: Exception, action: str, name: str) -> ObjectStoreError:
        """One clear sentence for what went wrong (never credentials)."""
        from botocore.exceptions import (
            ClientError,
            ConnectTimeoutError,
            EndpointConnectionError,
            NoCredentialsError,
            PartialCredentialsError,
        )

        if isinstance(exc, ObjectStoreError):
            return exc
        bucket = self.location.bucket
        endpoint = self.location.endpoint_url or "AWS S3"
        code = _code(exc)
        if code == "NoSuchBucket" or (code == "404" and action == "list"):
            why = f"the bucket {bucket!r} does not exist at {endpoint}"
        elif code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch",
                      "AllAccessDisabled"):
            why = (f"access to the bucket {bucket!r} was refused ({code}): check the AWS "
                   "credentials and the bucket policy")
        elif isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            why = f"{code or 'error'}: {error.get('Message', '') or exc}"
        elif isinstance(exc, (EndpointConnectionError, ConnectTimeoutError)):
            why = f"cannot reach the object store at {endpoint}"
        elif isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
            why = ("no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the "
                   "environment (or use a profile or an instance role)")
        else:  # BotoCoreError, OSError, ...
            why = f"{type(exc).__name__}: {exc}"
        return ObjectStoreError(f"{action} {self._where(name)}: {why}")


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""
