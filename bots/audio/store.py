"""Media files on disk: keys made from ids, private permissions, atomic replacement."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*")
MAX_KEY_LENGTH = 200
FILE_MODE = 0o600
DIR_MODE = 0o700
STAGING = ".staging"  # keys cannot start with a dot, so this never collides with one


class MediaStore:
    """Files under `root`, named `<key>.<suffix>`; directories 0700, files 0600."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()

    @staticmethod
    def check_key(key: str) -> str:
        """Return `key` if it is a safe relative storage key, else raise ValueError."""
        if len(key) > MAX_KEY_LENGTH or not KEY_PATTERN.fullmatch(key):
            raise ValueError(f"invalid media key {key!r}: use ids joined by '/'")
        return key

    def path(self, key: str, suffix: str) -> Path:
        """Where the `suffix` file of `key` lives (the key is checked)."""
        return self.root / f"{self.check_key(key)}.{suffix}"

    def make_dirs(self, directory: Path) -> None:
        """Create `directory` and missing parents below (and including) the root, mode 0700."""
        missing = []
        while not directory.exists():
            missing.append(directory)
            if directory == self.root:
                break
            directory = directory.parent
        for d in reversed(missing):
            with contextlib.suppress(FileExistsError):
                d.mkdir(mode=DIR_MODE)
            os.chmod(d, DIR_MODE)

    def new_file(self, path: Path) -> Path:
        """Create (or empty) `path` with mode 0600, creating its directories."""
        for attempt in (1, 2):  # a concurrent delete may remove an emptied directory meanwhile
            self.make_dirs(path.parent)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
                break
            except FileNotFoundError:
                if attempt == 2:
                    raise
        try:
            os.fchmod(fd, FILE_MODE)
        finally:
            os.close(fd)
        return path

    @contextlib.contextmanager
    def scratch(self, extension: str) -> Iterator[Path]:
        """A private scratch file under the root (same filesystem, so renames are atomic),
        removed on exit together with the scratch directory once that is empty."""
        path = self.new_file(self.root / STAGING / f"{uuid.uuid4().hex}.{extension}")
        try:
            yield path
        finally:
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                path.parent.rmdir()

    def sweep_scratch(self, older_than: float = 3600.0) -> None:
        """Remove scratch files left behind by a crashed process."""
        cutoff = time.time() - older_than
        for path in (self.root / STAGING).glob("*"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()

    def write(self, path: Path, data: bytes) -> Path:
        """Write `data` to `path` with mode 0600."""
        self.new_file(path)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def derived(self, key: str) -> list[Path]:
        """Every file stored for `key`."""
        base = self.path(key, "x")
        if not base.parent.is_dir():
            return []
        return sorted(base.parent.glob(f"{base.name[:-2]}.*"))

    def delete(self, key: str) -> int:
        """Remove every file of `key` and any directories left empty below the root; return
        how many files were removed."""
        base = self.path(key, "x")
        removed = 0
        for path in self.derived(key):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed += 1
        directory = base.parent
        while directory != self.root and directory.is_relative_to(self.root):
            try:
                directory.rmdir()
            except OSError:  # not empty (other keys), or already gone
                break
            directory = directory.parent
        return removed

    def stored_keys(self) -> dict[str, float]:
        """Every key with files under the root (scratch files aside), with the modification
        time of its newest file."""
        found: dict[str, float] = {}
        for directory, subdirectories, files in os.walk(self.root):
            relative = Path(directory).relative_to(self.root).as_posix()
            if relative == ".":
                subdirectories[:] = [d for d in subdirectories if d != STAGING]
            for filename in files:
                key = key_of(filename if relative == "." else f"{relative}/{filename}")
                if key is None:
                    continue
                try:
                    modified = os.lstat(os.path.join(directory, filename)).st_mtime
                except FileNotFoundError:  # deleted meanwhile
                    continue
                found[key] = max(found.get(key, modified), modified)
        return found


def key_of(relative: str) -> str | None:
    """The key a stored name such as `<interview>/<take>.review.ogg` belongs to, or None when
    the name is not one this store makes."""
    directory, _, filename = relative.rpartition("/")
    stem, dot, _ = filename.partition(".")
    key = f"{directory}/{stem}" if directory else stem
    if not dot or len(key) > MAX_KEY_LENGTH or not KEY_PATTERN.fullmatch(key):
        return None
    return key


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
