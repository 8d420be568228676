"""Slack's limits and constants, ids and timestamps, and the Web API error."""

from __future__ import annotations

import secrets
import string
import threading
import time
from typing import Any, TypeVar

JSON = dict[str, Any]
T = TypeVar("T")
# Web API rate tiers (https://api.slack.com/apis/rate-limits): requests per minute
TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}

METHOD_TIERS = {
    "auth.test": 4, "chat.postEphemeral": 4, "chat.update": 3, "chat.delete": 3,
    "chat.getPermalink": 4, "conversations.open": 3, "conversations.info": 3,
    "conversations.members": 4, "conversations.history": 3, "users.info": 4,
    "users.lookupByEmail": 3, "views.open": 4, "views.update": 4, "views.push": 4,
    "views.publish": 4, "files.getUploadURLExternal": 4, "files.completeUploadExternal": 4,
    "files.info": 4, "files.delete": 3, "files.upload": 2, "reactions.add": 3,
    "reactions.remove": 3, "team.info": 3,
    # chat.postMessage has its own limit: about one message a second per channel (pacing)
    "chat.postMessage": 4,
}

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000

_LOGIN_PAGE = """<!DOCTYPE html>
<html lang="en-US"><head><meta charset="utf-8"><title>Slack</title></head>
<body><div id="page"><h1>Sign in to Slack</h1>
<form id="signin_form" method="post" action="/"><input type="email" name="email">
<input type="password" name="password"><button type="submit">Sign in</button></form>
</div></body></html>
"""

_TZ_LABELS = {
    "CET": "Central European Time",
    "CEST": "Central European Summer Time",
    "EET": "Eastern European Time",
    "EEST": "Eastern European Summer Time",
    "GMT": "Greenwich Mean Time",
    "BST": "British Summer Time",
    "UTC": "Coordinated Universal Time",
    "EST": "Eastern Standard Time",
    "EDT": "Eastern Daylight Time",
    "CST": "Central Standard Time",
    "CDT": "Central Daylight Time",
    "MST": "Mountain Standard Time",
    "MDT": "Mountain Daylight Time",
    "PST": "Pacific Standard Time",
    "PDT": "Pacific Daylight Time",
    "IST": "India Standard Time",
    "JST": "Japan Standard Time",
    "AEST": "Australian Eastern Standard Time",
    "AEDT": "Australian Eastern Daylight Time",
}

_FILETYPES = {
    "m4a": ("m4a", "MPEG 4 Audio"),
    "mp4": ("mp4", "MPEG 4 Video"),
    "webm": ("webm", "WebM"),
    "ogg": ("ogg", "Ogg Vorbis"),
    "oga": ("ogg", "Ogg Vorbis"),
    "opus": ("ogg", "Ogg Vorbis"),
    "mp3": ("mp3", "MP3"),
    "wav": ("wav", "WAV"),
    "png": ("png", "PNG"),
    "jpg": ("jpg", "JPEG"),
    "jpeg": ("jpg", "JPEG"),
    "gif": ("gif", "GIF"),
    "pdf": ("pdf", "PDF"),
    "txt": ("text", "Plain Text"),
    "csv": ("csv", "CSV"),
}


class _TsSource:
    """Strictly increasing Slack-style ``"seconds.micros"`` timestamps based on wall time."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            micros = max(int(time.time() * 1_000_000), self._last + 1)
            self._last = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


_TS = _TsSource()


def next_ts() -> str:
    """A fresh message timestamp, unique across the fake server and the event builders."""
    return _TS.next()


def _rand_id(prefix: str, length: int = 10) -> str:
    alphabet = string.ascii_uppercase + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


def _short_id(length: int = 5) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _str_or_none(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


class _SlackError(Exception):
    def __init__(self, error: str, status: int = 200, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.extra = extra
