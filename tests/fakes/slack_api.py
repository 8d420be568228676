"""In-process fake of the Slack Web API, file hosting and response URLs for end-to-end tests.

Point a real ``AsyncWebClient(token=..., base_url=fake.api_url)`` at it. State is kept in memory
and can be inspected (``calls``, ``messages``, ``ephemerals``, ``views``, ``uploads``) or awaited
(``wait_for``, ``wait_for_message``). Faults are injected with ``fail_next``.

Strict by default, as Slack is: ``chat.postMessage`` is held to one message a second per channel
(``enforce_pacing``) and every method to its rate tier (``enforce_tiers``), both answered with
429 ``ratelimited`` and ``Retry-After``. A test that turns one off says why.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import math
import mimetypes
import secrets
import string
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from aiohttp import web

from tests.fakes.slack_socket import SocketModeServer

JSON = dict[str, Any]
T = TypeVar("T")

MAX_MESSAGE_BLOCKS = 50
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

_INTERACTIVE_ELEMENTS = {
    "button",
    "checkboxes",
    "datepicker",
    "datetimepicker",
    "timepicker",
    "email_text_input",
    "number_input",
    "url_text_input",
    "plain_text_input",
    "rich_text_input",
    "file_input",
    "overflow",
    "radio_buttons",
    "static_select",
    "external_select",
    "users_select",
    "conversations_select",
    "channels_select",
    "multi_static_select",
    "multi_external_select",
    "multi_users_select",
    "multi_conversations_select",
    "multi_channels_select",
    "workflow_button",
}
_BLOCK_TYPES = {
    "actions",
    "context",
    "divider",
    "file",
    "header",
    "image",
    "input",
    "rich_text",
    "section",
    "video",
    "markdown",
    "context_actions",
    "table",
}


# ---------------------------------------------------------------------------------------------
# timestamps


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


# ---------------------------------------------------------------------------------------------
# block helpers


class ButtonRef(NamedTuple):
    """What a ``block_actions`` payload needs to press a button."""

    action_id: str
    value: str | None
    block_id: str


def _blocks_of(source: Any) -> list[JSON]:
    if hasattr(source, "blocks") and not isinstance(source, Mapping):
        return list(source.blocks or [])
    if isinstance(source, Mapping):
        if "blocks" in source:
            return list(source.get("blocks") or [])
        return [dict(source)]
    return list(source or [])


def iter_buttons(source: Any) -> Iterator[tuple[str, ButtonRef, JSON]]:
    """Yield ``(label, ref, element)`` for every button in blocks, a message or a view."""
    for block in _blocks_of(source):
        elements: list[JSON] = []
        if block.get("type") == "actions":
            elements = list(block.get("elements") or [])
        elif block.get("type") == "section" and isinstance(block.get("accessory"), Mapping):
            elements = [block["accessory"]]
        for element in elements:
            if element.get("type") != "button":
                continue
            label = str((element.get("text") or {}).get("text", ""))
            action_id = str(element.get("action_id", ""))
            ref = ButtonRef(action_id, element.get("value"), str(block.get("block_id", "")))
            yield label, ref, element


def find_button(source: Any, label: str) -> ButtonRef:
    """Find a button by label (exact match first, else a unique case-insensitive substring)."""
    found = list(iter_buttons(source))
    for text, ref, _ in found:
        if text == label:
            return ref
    needle = label.casefold()
    hits = [(text, ref) for text, ref, _ in found if needle in text.casefold()]
    if len(hits) == 1:
        return hits[0][1]
    labels = [text for text, _, _ in found]
    if not hits:
        raise LookupError(f"no button labelled {label!r}; buttons: {labels}")
    raise LookupError(f"ambiguous button label {label!r}; matches: {[h[0] for h in hits]}")


def block_text(blocks: Sequence[Mapping[str, Any]] | None) -> str:
    """All human-readable text inside blocks, newline separated."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            text = node.get("text")
            if isinstance(text, str):
                parts.append(text)
            for key, value in node.items():
                if key != "text" or not isinstance(value, str):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(list(blocks or []))
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------
# recorded state


@dataclass
class Call:
    """One request to a Web API method, as received, with the outcome."""

    method: str
    params: JSON
    status: int = 200
    ok: bool = True
    error: str | None = None


@dataclass
class PostedMessage:
    """A message in a channel with updates applied (``versions`` keeps earlier contents)."""

    channel: str
    ts: str
    text: str
    blocks: list[JSON]
    user: str
    bot_id: str | None = None
    thread_ts: str | None = None
    files: list[JSON] = field(default_factory=list)
    attachments: list[JSON] = field(default_factory=list)
    metadata: JSON | None = None
    edited: bool = False
    edited_ts: str | None = None
    deleted: bool = False
    reactions: dict[str, list[str]] = field(default_factory=dict)
    versions: list[JSON] = field(default_factory=list)
    params: JSON = field(default_factory=dict)

    @property
    def all_text(self) -> str:
        """Top-level text plus every text inside the blocks."""
        return "\n".join(p for p in (self.text, block_text(self.blocks)) if p)

    def button(self, label: str) -> ButtonRef:
        return find_button(self.blocks, label)

    def as_slack(self) -> JSON:
        """The message object as Slack returns it (e.g. inside ``block_actions`` payloads)."""
        msg: JSON = {"type": "message", "user": self.user, "text": self.text, "ts": self.ts}
        if self.bot_id:
            msg["bot_id"] = self.bot_id
            msg["app_id"] = "A0FAKEAPP"
        if self.blocks:
            msg["blocks"] = copy.deepcopy(self.blocks)
        if self.thread_ts:
            msg["thread_ts"] = self.thread_ts
        if self.files:
            msg["files"] = copy.deepcopy(self.files)
            msg["upload"] = True
        if self.attachments:
            msg["attachments"] = copy.deepcopy(self.attachments)
        if self.metadata:
            msg["metadata"] = copy.deepcopy(self.metadata)
        if self.edited:
            msg["edited"] = {"user": self.user, "ts": self.edited_ts or self.ts}
        if self.reactions:
            msg["reactions"] = [
                {"name": n, "users": list(u), "count": len(u)} for n, u in self.reactions.items()
            ]
        return msg


@dataclass
class Ephemeral:
    """A message visible only to ``user`` in ``channel``."""

    channel: str
    user: str
    ts: str
    text: str
    blocks: list[JSON]
    thread_ts: str | None = None
    params: JSON = field(default_factory=dict)

    @property
    def all_text(self) -> str:
        return "\n".join(p for p in (self.text, block_text(self.blocks)) if p)


@dataclass
class View:
    """A modal or App Home view; ``view`` is the latest definition, ``history`` earlier ones."""

    id: str
    user: str
    type: str
    view: JSON
    hash: str
    trigger_id: str | None = None
    external_id: str | None = None
    root_view_id: str | None = None
    previous_view_id: str | None = None
    history: list[JSON] = field(default_factory=list)

    @property
    def blocks(self) -> list[JSON]:
        return list(self.view.get("blocks") or [])

    @property
    def all_text(self) -> str:
        return block_text(self.blocks)

    def as_slack(self, team_id: str = "T0TEST") -> JSON:
        """The view object as Slack returns it from views.* and sends it in payloads."""
        v = copy.deepcopy(self.view)
        v.update(
            {
                "id": self.id,
                "team_id": team_id,
                "app_id": "A0FAKEAPP",
                "bot_id": "B0FAKEBOT",
                "hash": self.hash,
                "root_view_id": self.root_view_id or self.id,
                "previous_view_id": self.previous_view_id,
                "external_id": self.external_id or "",
                "private_metadata": v.get("private_metadata", ""),
                "callback_id": v.get("callback_id", ""),
                "state": {"values": {}},
                "app_installed_team_id": team_id,
            }
        )
        return v


@dataclass
class Upload:
    """A file uploaded through files.getUploadURLExternal / completeUploadExternal."""

    file_id: str
    filename: str
    length: int
    data: bytes | None = None
    title: str | None = None
    alt_txt: str | None = None
    channels: list[str] = field(default_factory=list)
    initial_comment: str | None = None
    thread_ts: str | None = None
    message_ts: str | None = None
    completed: bool = False
    deleted: bool = False  # by files.delete: its bytes are gone too


@dataclass
class Download:
    """A request for a private file URL."""

    file_id: str
    authorized: bool
    path: str


@dataclass
class ResponsePost:
    """A POST to a ``response_url`` handed out in an interaction payload."""

    response_id: str
    channel: str
    user: str
    body: JSON


@dataclass(frozen=True)
class PacingViolation:
    """A chat.postMessage beyond a channel's pace: its burst spent, faster than ``limit`` a
    second (``posts_in_window``: the posts to it in the last second, this one included)."""

    channel: str
    at: float
    posts_in_window: int
    limit: int


@dataclass
class _Fault:
    error: str
    status: int
    retry_after: int | None
    remaining: int


class _SlackError(Exception):
    def __init__(self, error: str, status: int = 200, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.extra = extra


# ---------------------------------------------------------------------------------------------
# Block Kit validation


class _BlockChecker:
    def __init__(self, surface: str) -> None:
        self.surface = surface
        self.errors: list[str] = []
        self.action_ids: set[str] = set()
        self.block_ids: set[str] = set()

    def err(self, message: str, pointer: str) -> None:
        self.errors.append(f"{message} [json-pointer:{pointer}]")

    def text_obj(self, obj: Any, ptr: str, *, max_len: int, plain_only: bool = False) -> None:
        if not isinstance(obj, Mapping):
            self.err("must provide an object", ptr)
            return
        kind = obj.get("type")
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if kind not in allowed:
            self.err(f"must be one of {list(allowed)}", f"{ptr}/type")
        text = obj.get("text")
        if not isinstance(text, str):
            self.err("must provide a string", f"{ptr}/text")
        elif not text:
            self.err("must be more than 0 characters", f"{ptr}/text")
        elif len(text) > max_len:
            self.err(f"must be less than {max_len + 1} characters", f"{ptr}/text")

    def element(self, el: Any, ptr: str) -> None:
        if not isinstance(el, Mapping):
            self.err("must provide an object", ptr)
            return
        kind = el.get("type")
        if kind == "image":
            if not (el.get("image_url") or el.get("slack_file")):
                self.err("must provide image_url or slack_file", ptr)
            if not el.get("alt_text"):
                self.err("must provide alt_text", f"{ptr}/alt_text")
            return
        if kind in ("plain_text", "mrkdwn"):
            self.text_obj(el, ptr, max_len=3000)
            return
        if kind not in _INTERACTIVE_ELEMENTS:
            self.err(f"unsupported element type {kind!r}", f"{ptr}/type")
            return
        action_id = el.get("action_id")
        if action_id is not None:
            if not isinstance(action_id, str) or not action_id or len(action_id) > 255:
                self.err("must be 1 to 255 characters", f"{ptr}/action_id")
            elif action_id in self.action_ids:
                self.err(f"duplicate action_id {action_id!r}", f"{ptr}/action_id")
            else:
                self.action_ids.add(action_id)
        if kind == "button":
            self.text_obj(el.get("text"), f"{ptr}/text", max_len=75, plain_only=True)
            value = el.get("value")
            if value is not None and (not isinstance(value, str) or len(value) > 2000):
                self.err("must be a string of at most 2000 characters", f"{ptr}/value")
            url = el.get("url")
            if url is not None and (not isinstance(url, str) or len(url) > 3000):
                self.err("must be at most 3000 characters", f"{ptr}/url")
            style = el.get("style")
            if style is not None and style not in ("primary", "danger"):
                self.err("must be one of [primary, danger]", f"{ptr}/style")
        elif kind in (
            "static_select",
            "multi_static_select",
            "overflow",
            "radio_buttons",
            "checkboxes",
        ):
            options = el.get("options")
            groups = el.get("option_groups")
            if options is None and groups is None:
                self.err("must provide options", f"{ptr}/options")
            limit = {"overflow": 5, "radio_buttons": 10, "checkboxes": 10}.get(kind, 100)
            for i, opt in enumerate(options or []):
                if i >= limit:
                    self.err(f"must provide at most {limit} items", f"{ptr}/options")
                    break
                self.text_obj((opt or {}).get("text"), f"{ptr}/options/{i}/text", max_len=75)
                value = (opt or {}).get("value")
                if not isinstance(value, str) or len(value) > 150:
                    self.err(
                        "must be a string of at most 150 characters", f"{ptr}/options/{i}/value"
                    )

    def block(self, block: Any, ptr: str) -> None:
        if not isinstance(block, Mapping):
            self.err("must provide an object", ptr)
            return
        kind = block.get("type")
        if kind not in _BLOCK_TYPES:
            self.err(f"unsupported type {kind!r}", f"{ptr}/type")
            return
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or not block_id or len(block_id) > 255:
                self.err("must be 1 to 255 characters", f"{ptr}/block_id")
            elif block_id in self.block_ids:
                self.err(f"duplicate block_id {block_id!r}", f"{ptr}/block_id")
            else:
                self.block_ids.add(block_id)
        if kind == "section":
            if block.get("text") is None and not block.get("fields"):
                self.err("must provide text or fields", ptr)
            if block.get("text") is not None:
                self.text_obj(block["text"], f"{ptr}/text", max_len=3000)
            fields = block.get("fields") or []
            if len(fields) > 10:
                self.err("must provide at most 10 items", f"{ptr}/fields")
            for i, f in enumerate(fields):
                self.text_obj(f, f"{ptr}/fields/{i}", max_len=2000)
            if block.get("accessory") is not None:
                self.element(block["accessory"], f"{ptr}/accessory")
        elif kind == "header":
            self.text_obj(block.get("text"), f"{ptr}/text", max_len=150, plain_only=True)
        elif kind in ("actions", "context"):
            elements = block.get("elements")
            limit = 25 if kind == "actions" else 10
            if not isinstance(elements, list) or not elements:
                self.err("must provide at least 1 item", f"{ptr}/elements")
                return
            if len(elements) > limit:
                self.err(f"must provide at most {limit} items", f"{ptr}/elements")
            for i, el in enumerate(elements):
                if kind == "context" and (el or {}).get("type") not in (
                    "image",
                    "plain_text",
                    "mrkdwn",
                ):
                    self.err("must be an image or text object", f"{ptr}/elements/{i}")
                    continue
                self.element(el, f"{ptr}/elements/{i}")
        elif kind == "input":
            if self.surface == "message":
                self.err("input blocks are only allowed in modals and home tabs", f"{ptr}/type")
            self.text_obj(block.get("label"), f"{ptr}/label", max_len=2000, plain_only=True)
            if block.get("element") is None:
                self.err("must provide an element", f"{ptr}/element")
            else:
                self.element(block["element"], f"{ptr}/element")
        elif kind == "image":
            if not (block.get("image_url") or block.get("slack_file")):
                self.err("must provide image_url or slack_file", ptr)
            if not block.get("alt_text"):
                self.err("must provide alt_text", f"{ptr}/alt_text")
        elif kind == "rich_text" and not isinstance(block.get("elements"), list):
            self.err("must provide elements", f"{ptr}/elements")

    def blocks(self, blocks: Any, limit: int) -> None:
        if not isinstance(blocks, list):
            self.err("must provide an array", "/blocks")
            return
        if len(blocks) > limit:
            self.err(f"must provide at most {limit} items", "/blocks")
        for i, block in enumerate(blocks):
            self.block(block, f"/blocks/{i}")


def validate_blocks(blocks: Any, surface: str = "message") -> list[str]:
    """Slack-style error strings for ``blocks`` on a surface (``message``, ``modal``, ``home``)."""
    checker = _BlockChecker(surface)
    checker.blocks(blocks, MAX_MESSAGE_BLOCKS if surface == "message" else MAX_VIEW_BLOCKS)
    return checker.errors


def _fill_ids(blocks: list[JSON]) -> list[JSON]:
    """Assign ``block_id``/``action_id`` where missing, as Slack does when storing a message."""
    out = copy.deepcopy(blocks)
    for block in out:
        block.setdefault("block_id", _short_id())
        elements: list[JSON] = []
        if isinstance(block.get("elements"), list) and block.get("type") == "actions":
            elements = block["elements"]
        if isinstance(block.get("accessory"), dict):
            elements = [block["accessory"]]
        if isinstance(block.get("element"), dict):
            elements = [block["element"]]
        for el in elements:
            if isinstance(el, dict) and el.get("type") in _INTERACTIVE_ELEMENTS:
                el.setdefault("action_id", _short_id())
    return out


# ---------------------------------------------------------------------------------------------
# the server


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _str_or_none(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


class FakeSlack:
    """A fake Slack workspace: Web API, private file hosting, upload URLs and response URLs."""

    def __init__(
        self,
        bot_token: str = "xoxb-test",
        team_id: str = "T0TEST",
        bot_user_id: str = "UBOT",
        *,
        bot_id: str = "B0FAKEBOT",
        team_domain: str = "fake-team",
        scopes: Sequence[str] = (
            "chat:write",
            "im:write",
            "im:history",
            "users:read",
            "files:read",
            "files:write",
            "commands",
            "reactions:write",
            "channels:read",
        ),
        pace_limit: int = 1,
        pace_burst: int = 4,
        enforce_pacing: bool = True,
        trigger_ttl: float = 3.0,
        pacing_clock: Callable[[], float] = time.monotonic,
        app_token: str | None = None,
        enforce_tiers: bool = True,
    ) -> None:
        self.bot_token = bot_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.team_domain = team_domain
        self.scopes = list(scopes)
        self.pace_limit = pace_limit
        self.enforce_pacing = enforce_pacing
        self.pace_burst = pace_burst
        self._pace_buckets: dict[str, list[float]] = {}  # channel -> [tokens, last refill]
        self.enforce_tiers = enforce_tiers
        self._tier_buckets: dict[str, list[float]] = {}  # method -> [tokens, last refill]
        self.tier_limited: list[str] = []  # methods answered 429 by their tier's limit
        self.trigger_ttl = trigger_ttl
        self.pacing_clock = pacing_clock

        self.calls: list[Call] = []
        self.uploads: list[Upload] = []
        self.downloads: list[Download] = []
        self.response_posts: list[ResponsePost] = []
        self.pacing_violations: list[PacingViolation] = []

        self._users: dict[str, JSON] = {}
        self._locales: dict[str, str] = {}  # users.info gives a locale with include_locale
        self._channels: dict[str, JSON] = {}
        self._dm_by_user: dict[str, str] = {}
        self._messages: dict[str, list[PostedMessage]] = {}
        self._ephemerals: list[Ephemeral] = []
        self._views: dict[str, View] = {}
        self._files: dict[str, JSON] = {}
        self._file_bytes: dict[str, bytes] = {}
        self._uploads_by_id: dict[str, Upload] = {}
        self._upload_url_ids: dict[str, str] = {}
        self._triggers: dict[str, tuple[str, float]] = {}
        self._responses: dict[str, tuple[str, str, str | None]] = {}
        self._faults: dict[str, deque[_Fault]] = {}
        self._post_times: dict[str, deque[float]] = {}
        self._time_offset = 0.0
        self._ids = itertools.count(1)
        self._changed: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._methods: dict[str, Callable[[JSON], JSON]] = {
            "api.test": self._api_test,
            "auth.test": self._auth_test,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "users.info": self._users_info,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.info": self._files_info,
            "files.delete": self._files_delete,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "files.upload": self._files_upload_retired,
            "reactions.add": self._reactions_add,
            "usergroups.users.list": self._usergroups_users_list,
            "conversations.members": self._conversations_members,
        }
        self._usergroups: dict[str, list[str]] = {}
        # Socket Mode (tests/fakes/slack_socket.py) when an app-level token is given
        self.socket = SocketModeServer(app_token, lambda: self.url, self._notify) \
            if app_token else None
        if self.socket is not None:
            self._methods["apps.connections.open"] = lambda _params: \
                self.socket.connections_open(None) if self.socket else {}
        self.user(bot_user_id, "interviewbot", "UTC", is_bot=True)

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> FakeSlack:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{upload_id}", self._handle_upload)
        app.router.add_get("/files-pri/{team_file}/download/{name}", self._handle_private_file)
        app.router.add_get("/files-pri/{team_file}/{name}", self._handle_private_file)
        app.router.add_post("/response/{response_id}", self._handle_response_url)
        if self.socket is not None:
            self.socket.install(app)
        self._changed = asyncio.Event()
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """Server root, e.g. ``http://127.0.0.1:PORT`` (no trailing slash)."""
        if self._port is None:
            raise RuntimeError("FakeSlack is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        """Web API base for ``AsyncWebClient(base_url=...)`` and ``SLACK_API_URL``."""
        return self.url + "/api/"

    # -- clock ----------------------------------------------------------------------------------

    def now(self) -> float:
        """Fake time used for trigger expiry: frozen except for ``advance``."""
        return self._time_offset

    def advance(self, seconds: float) -> None:
        """Move the fake clock forward (expires trigger_ids older than ``trigger_ttl``)."""
        self._time_offset += seconds

    # -- workspace setup ------------------------------------------------------------------------

    def user(
        self,
        id: str,
        name: str,
        tz: str = "Europe/Berlin",
        *,
        real_name: str | None = None,
        display_name: str | None = None,
        tz_label: str | None = None,
        email: str | None = None,
        is_bot: bool = False,
        deleted: bool = False,
        locale: str = "en-US",
    ) -> JSON:
        """Add (or replace) a workspace member; returns the Slack user object."""
        zone = ZoneInfo(tz)
        now = datetime.now(zone)
        offset = now.utcoffset()
        abbrev = now.tzname() or tz
        real = real_name or name
        obj: JSON = {
            "id": id,
            "team_id": self.team_id,
            "name": name.lower().replace(" ", "."),
            "deleted": deleted,
            "real_name": real,
            "tz": tz,
            "tz_label": tz_label or _TZ_LABELS.get(abbrev, abbrev),
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
            "is_bot": is_bot,
            "is_app_user": False,
            "is_admin": False,
            "is_restricted": False,
            "updated": int(time.time()),
            "profile": {
                "real_name": real,
                "real_name_normalized": real,
                "display_name": display_name if display_name is not None else name,
                "display_name_normalized": display_name if display_name is not None else name,
                "email": email or f"{name.lower().replace(' ', '.')}@example.com",
                "image_48": f"https://avatars.example.com/{id}_48.png",
                "team": self.team_id,
            },
        }
        if is_bot:
            obj["profile"]["bot_id"] = self.bot_id
        self._locales[id] = locale
        self._users[id] = obj
        return copy.deepcopy(obj)

    def channel(
        self,
        id: str,
        name: str | None = None,
        *,
        members: Sequence[str] | None = None,
        is_private: bool = False,
        is_member: bool = True,
    ) -> JSON:
        """Add a channel; ``members=None`` means everyone is a member."""
        obj: JSON = {
            "id": id,
            "name": name or id.lower(),
            "is_channel": not is_private,
            "is_group": is_private,
            "is_im": False,
            "is_mpim": False,
            "is_private": is_private,
            "is_archived": False,
            "is_member": is_member,
            "created": int(time.time()),
            "creator": self.bot_user_id,
            "_members": list(members) if members is not None else None,
        }
        self._channels[id] = obj
        return self._public_channel(obj)

    def dm_channel(self, user_id: str) -> str:
        """The stable DM channel id between the bot and ``user_id`` (created on first use)."""
        if user_id not in self._users:
            raise KeyError(f"unknown user {user_id!r}")
        existing = self._dm_by_user.get(user_id)
        if existing:
            return existing
        cid = "D" + user_id[1:] if len(user_id) > 1 else "D" + user_id
        if cid in self._channels:
            cid = _rand_id("D")
        self._channels[cid] = {
            "id": cid,
            "created": int(time.time()),
            "is_im": True,
            "is_org_shared": False,
            "user": user_id,
            "is_user_deleted": False,
            "priority": 0,
            "_members": [user_id, self.bot_user_id],
        }
        self._dm_by_user[user_id] = cid
        return cid

    def add_file(
        self,
        user: str | Mapping[str, Any],
        data: bytes,
        name: str,
        mimetype: str | None = None,
        *,
        subtype: str | None = None,
        duration_ms: int | None = None,
        transcription: Mapping[str, Any] | None = None,
        title: str | None = None,
    ) -> JSON:
        """Store a file a user shared; returns the file object for a ``file_share`` event."""
        user_id = user if isinstance(user, str) else str(user["id"])
        file_id = _rand_id("F")
        mimetype = mimetype or mimetypes.guess_type(name)[0] or "application/octet-stream"
        obj = self._file_object(file_id, user_id, name, mimetype, len(data), title=title)
        if subtype is not None:
            obj["subtype"] = subtype
        if subtype == "slack_audio":
            obj["media_display_type"] = "audio"
            obj["audio_wave_samples"] = [0] * 20
            obj["aac"] = obj["url_private"]
        if duration_ms is not None:
            obj["duration_ms"] = duration_ms
        if transcription is not None:
            obj["transcription"] = {"locale": "en-US", **copy.deepcopy(dict(transcription))}
        self._files[file_id] = obj
        self._file_bytes[file_id] = bytes(data)
        self._notify()
        return copy.deepcopy(obj)

    def set_transcription(self, file_id: str, transcription: Mapping[str, Any] | None) -> None:
        """Change a file's ``transcription`` (e.g. from ``processing`` to ``complete``)."""
        if transcription is None:
            self._files[file_id].pop("transcription", None)
        else:
            self._files[file_id]["transcription"] = {"locale": "en-US", **dict(transcription)}
        self._notify()

    def file(self, file_id: str) -> JSON:
        return copy.deepcopy(self._files[file_id])

    def file_bytes(self, file_id: str) -> bytes:
        return self._file_bytes[file_id]

    def issue_trigger(self, user_id: str) -> str:
        """A fresh trigger_id for ``user_id``, valid once for ``trigger_ttl`` fake seconds."""
        trigger = f"{next(self._ids)}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
        self._triggers[trigger] = (user_id, self.now())
        return trigger

    def response_url(self, channel: str, user: str, message_ts: str | None = None) -> str:
        """A response_url for an interaction by ``user`` on ``message_ts`` in ``channel``."""
        rid = secrets.token_hex(8)
        self._responses[rid] = (channel, user, message_ts)
        return f"{self.url}/response/{rid}"

    # -- fault injection ------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        error: str = "ratelimited",
        *,
        status: int | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Fail the next ``times`` calls of ``method``.

        ``method`` is a Web API method name, ``"upload"`` (the upload URL) or ``"files-pri"``
        (private downloads). ``status`` defaults to 429 for ``ratelimited`` (with a ``Retry-After``
        of ``retry_after`` or 1 second) and 200 otherwise.
        """
        if status is None:
            status = 429 if error == "ratelimited" else 200
        if retry_after is None and status == 429:
            retry_after = 1
        self._faults.setdefault(method, deque()).append(_Fault(error, status, retry_after, times))

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.popleft()
        return fault

    # -- inspection -----------------------------------------------------------------------------

    def calls_to(self, method: str, *, ok: bool | None = None) -> list[JSON]:
        """Params of every call to ``method`` in order (``ok`` filters by outcome)."""
        return [c.params for c in self.calls if c.method == method and (ok is None or c.ok is ok)]

    def outbound(self) -> list[tuple[str, JSON]]:
        """Everything the app sent that could show content: API call params, response_url posts
        (as ``"response_url"``) and uploaded file names/titles (as ``"upload"``), in order."""
        out: list[tuple[str, JSON]] = [(c.method, c.params) for c in self.calls]
        out += [("response_url", p.body) for p in self.response_posts]
        out += [("upload", {"filename": u.filename, "title": u.title}) for u in self.uploads]
        return out

    def messages(
        self, channel: str | None = None, *, include_deleted: bool = False
    ) -> list[PostedMessage]:
        """Messages in ``channel`` (or all channels), oldest first, with updates applied."""
        chans = [channel] if channel is not None else list(self._messages)
        out: list[PostedMessage] = []
        for ch in chans:
            out.extend(m for m in self._messages.get(ch, []) if include_deleted or not m.deleted)
        return sorted(out, key=lambda m: m.ts) if channel is None else out

    def message(self, channel: str, ts: str) -> PostedMessage:
        for m in self._messages.get(channel, []):
            if m.ts == ts:
                return m
        raise KeyError(f"no message {ts} in {channel}")

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[Ephemeral]:
        return [
            e
            for e in self._ephemerals
            if (channel is None or e.channel == channel) and (user is None or e.user == user)
        ]

    @property
    def views(self) -> list[View]:
        """Every modal and home view, in the order they were opened or first published."""
        return list(self._views.values())

    def modals(self, user: str | None = None) -> list[View]:
        return [v for v in self._views.values() if v.type == "modal" and user in (None, v.user)]

    def home(self, user: str) -> View | None:
        """The App Home view last published for ``user``."""
        homes = [v for v in self._views.values() if v.type == "home" and v.user == user]
        return homes[-1] if homes else None

    def uploads_in(self, channel: str) -> list[Upload]:
        return [u for u in self.uploads if channel in u.channels]

    def post_times(self, channel: str) -> list[float]:
        """``pacing_clock`` times of recent chat.postMessage calls to ``channel`` (last second)."""
        return list(self._post_times.get(channel, ()))

    def find_button(self, channel: str, label: str, ts: str | None = None) -> ButtonRef:
        """A button by label in message ``ts`` (default: the newest message that has one)."""
        if ts is not None:
            return find_button(self.message(channel, ts).blocks, label)
        for msg in reversed(self.messages(channel)):
            try:
                return find_button(msg.blocks, label)
            except LookupError:
                continue
        raise LookupError(f"no button labelled {label!r} in {channel}")

    async def wait_for(
        self, predicate: Callable[[], T | None], timeout: float = 10.0, *, poll: float = 0.05
    ) -> T:
        """Wait until ``predicate()`` is truthy and return it.

        Re-checked on every change to the fake and every ``poll`` seconds (for outside state).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout}s; calls: {self._recent()}")
            if self._changed is None:
                self._changed = asyncio.Event()
            event = self._changed
            try:
                await asyncio.wait_for(event.wait(), min(remaining, poll))
            except TimeoutError:
                continue

    async def wait_for_message(
        self,
        channel: str,
        contains: str | None = None,
        *,
        predicate: Callable[[PostedMessage], bool] | None = None,
        after: str | None = None,
        timeout: float = 10.0,
    ) -> PostedMessage:
        """Wait for a message in ``channel`` newer than ``after`` whose text has ``contains``.

        Text includes block texts; a later ``chat.update`` can make an earlier message match.
        """

        def match() -> PostedMessage | None:
            for msg in self.messages(channel):
                if after is not None and float(msg.ts) <= float(after):
                    continue
                if contains is not None and contains not in msg.all_text:
                    continue
                if predicate is not None and not predicate(msg):
                    continue
                return msg
            return None

        try:
            return await self.wait_for(match, timeout)
        except TimeoutError:
            texts = [m.all_text[:120] for m in self.messages(channel)]
            raise TimeoutError(
                f"no message in {channel} containing {contains!r} within {timeout}s; "
                f"messages: {texts}"
            ) from None

    async def wait_for_call(
        self, method: str, count: int = 1, *, timeout: float = 10.0
    ) -> list[JSON]:
        """Wait until ``method`` has been called at least ``count`` times; return the params."""

        def enough() -> list[JSON] | None:
            found = self.calls_to(method)
            return found if len(found) >= count else None

        return await self.wait_for(enough, timeout)

    def _recent(self) -> list[str]:
        return [f"{c.method}:{c.error or 'ok'}" for c in self.calls[-10:]]

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = asyncio.Event()

    # -- HTTP handlers --------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params, body_token = await self._read_params(request)
        except _SlackError as exc:
            self.calls.append(Call(method, {}, exc.status, False, exc.error))
            self._notify()
            return self._error_response(exc)
        call = Call(method, params)
        self.calls.append(call)
        try:
            fault = self._take_fault(method)
            if fault is not None:
                headers = {}
                if fault.retry_after is not None:
                    headers["Retry-After"] = str(fault.retry_after)
                raise _SlackError(fault.error, fault.status, _headers=headers)
            handler = self._methods.get(method)
            if handler is None:
                raise _SlackError("unknown_method", req_method=method)
            self._authenticate(request, body_token)
            self._check_tier(method)
            result = handler(params)
            headers = {}
            if method == "auth.test":
                headers["x-oauth-scopes"] = ",".join(self.scopes)
            return web.json_response({"ok": True, **result}, headers=headers)
        except _SlackError as exc:
            call.ok, call.error, call.status = False, exc.error, exc.status
            return self._error_response(exc)
        finally:
            self._notify()

    @staticmethod
    def _error_response(exc: _SlackError) -> web.Response:
        extra = dict(exc.extra)
        headers = extra.pop("_headers", None) or {}
        body: JSON = {"ok": False, "error": exc.error, **extra}
        return web.json_response(body, status=exc.status, headers=headers)

    async def _read_params(self, request: web.Request) -> tuple[JSON, str | None]:
        params: JSON = dict(request.query)
        body_token: str | None = None
        if request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                try:
                    body = json.loads(await request.text() or "{}")
                except json.JSONDecodeError:
                    raise _SlackError("invalid_json") from None
                if not isinstance(body, dict):
                    raise _SlackError("invalid_json")
                body.pop("token", None)
                params.update(body)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                params.update(form.items())
                token = params.pop("token", None)
                body_token = token if isinstance(token, str) else None
        params.pop("token", None)
        for key in ("blocks", "attachments", "view", "files", "metadata"):
            if isinstance(params.get(key), str) and params[key]:
                try:
                    params[key] = json.loads(params[key])
                except json.JSONDecodeError:
                    err = "invalid_blocks_format" if key == "blocks" else "invalid_arguments"
                    raise _SlackError(err) from None
        return params, body_token

    def _authenticate(self, request: web.Request, body_token: str | None) -> None:
        header = request.headers.get("Authorization", "")
        token: str | None = None
        if header.startswith("Bearer "):
            token = header[len("Bearer ") :].strip()
        elif body_token:
            token = body_token
        if not token:
            raise _SlackError("not_authed")
        if request.match_info.get("method") == "apps.connections.open":
            if self.socket is None or token != self.socket.app_token:
                raise _SlackError("invalid_auth")  # Slack wants the app-level xapp- token
            return
        if token != self.bot_token:
            raise _SlackError("invalid_auth")

    async def _handle_upload(self, request: web.Request) -> web.Response:
        upload_id = request.match_info["upload_id"]
        fault = self._take_fault("upload")
        if fault is not None:
            self._notify()
            return web.Response(
                status=fault.status if fault.status != 200 else 500,
                text=fault.error,
                content_type="text/plain",
            )
        file_id = self._upload_url_ids.get(upload_id)
        if file_id is None:
            return web.Response(status=404, text="upload_not_found", content_type="text/plain")
        data: bytes
        if request.content_type == "multipart/form-data":
            data = b""
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if getattr(part, "filename", None) or getattr(part, "name", None) in (
                    "file",
                    "filename",
                ):
                    data = bytes(await part.read())  # type: ignore[union-attr]
                    break
        else:
            data = await request.read()
        upload = self._uploads_by_id[file_id]
        upload.data = data
        self._file_bytes[file_id] = data
        self._files[file_id]["size"] = len(data)
        self._notify()
        return web.Response(text=f"OK - {len(data)}", content_type="text/plain")

    async def _handle_private_file(self, request: web.Request) -> web.StreamResponse:
        team_file = request.match_info["team_file"]
        file_id = team_file.split("-", 1)[1] if "-" in team_file else team_file
        header = request.headers.get("Authorization", "")
        authorized = header == f"Bearer {self.bot_token}"
        self.downloads.append(Download(file_id, authorized, request.path))
        self._notify()
        fault = self._take_fault("files-pri")
        if fault is not None:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
            return web.Response(status=fault.status, text=fault.error, headers=headers)
        if not authorized:
            return web.Response(text=_LOGIN_PAGE, content_type="text/html", charset="utf-8")
        if file_id not in self._file_bytes:
            return web.Response(
                status=404, text="<html><body>Not found</body></html>", content_type="text/html"
            )
        obj = self._files[file_id]
        return web.Response(
            body=self._file_bytes[file_id],
            content_type=obj.get("mimetype") or "application/octet-stream",
            headers={"Content-Disposition": f'attachment; filename="{obj.get("name")}"'},
        )

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        rid = request.match_info["response_id"]
        info = self._responses.get(rid)
        if info is None:
            return web.Response(status=404, text="no_active_hooks", content_type="text/plain")
        try:
            body = json.loads(await request.text() or "{}")
        except json.JSONDecodeError:
            return web.Response(status=400, text="invalid_payload", content_type="text/plain")
        channel, user, message_ts = info
        self.response_posts.append(ResponsePost(rid, channel, user, body))
        blocks = list(body.get("blocks") or [])
        text = str(body.get("text") or "")
        try:
            if _flag(body.get("delete_original")):
                if message_ts is not None:
                    self._find(channel, message_ts).deleted = True
            elif _flag(body.get("replace_original")) and message_ts is not None:
                self._replace(self._find(channel, message_ts), text, blocks, body)
            elif body.get("response_type") == "in_channel":
                self._store_message(channel, text, blocks, body, thread_ts=body.get("thread_ts"))
            else:
                self._ephemerals.append(
                    Ephemeral(channel, user, next_ts(), text, _fill_ids(blocks), None, body)
                )
        except _SlackError as exc:
            return web.Response(status=404, text=exc.error, content_type="text/plain")
        finally:
            self._notify()
        return web.Response(text="ok", content_type="text/plain")

    # -- helpers for methods --------------------------------------------------------------------

    def _public_channel(self, obj: Mapping[str, Any]) -> JSON:
        return {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith("_")}

    def _resolve_channel(self, channel: Any) -> str:
        if not channel or not isinstance(channel, str):
            raise _SlackError("channel_not_found")
        if channel in self._channels:
            return channel
        if channel[0] in "UW" and channel in self._users:
            return self.dm_channel(channel)
        raise _SlackError("channel_not_found")

    def _can_post(self, channel_id: str) -> None:
        obj = self._channels[channel_id]
        if obj.get("is_im"):
            user = self._users.get(str(obj.get("user")))
            if user is not None and user.get("deleted"):
                raise _SlackError("user_disabled")
            return
        if obj.get("is_archived"):
            raise _SlackError("is_archived")
        if not obj.get("is_member"):
            raise _SlackError("not_in_channel")

    def _is_member(self, channel_id: str, user_id: str) -> bool:
        members = self._channels[channel_id].get("_members")
        return members is None or user_id in members

    def _check_blocks(self, params: Mapping[str, Any], surface: str = "message") -> list[JSON]:
        blocks = params.get("blocks")
        if blocks is None:
            return []
        errors = validate_blocks(blocks, surface)
        if errors:
            raise _SlackError(
                "invalid_blocks",
                errors=errors,
                response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
            )
        return list(blocks)

    def _message_content(self, params: Mapping[str, Any]) -> tuple[str, list[JSON]]:
        blocks = self._check_blocks(params)
        text = params.get("text")
        text = "" if text is None else str(text)
        if not text and not blocks and not params.get("attachments"):
            raise _SlackError("no_text")
        if len(text) > MAX_MESSAGE_TEXT:
            raise _SlackError("msg_too_long")
        return text, blocks

    def _store_message(
        self,
        channel: str,
        text: str,
        blocks: list[JSON],
        params: Mapping[str, Any],
        *,
        thread_ts: Any = None,
        files: list[JSON] | None = None,
    ) -> PostedMessage:
        msg = PostedMessage(
            channel=channel,
            ts=next_ts(),
            text=text,
            blocks=_fill_ids(blocks),
            user=self.bot_user_id,
            bot_id=self.bot_id,
            thread_ts=_str_or_none(thread_ts),
            files=files or [],
            attachments=list(params.get("attachments") or []),
            metadata=params.get("metadata") if isinstance(params.get("metadata"), dict) else None,
            params=dict(params),
        )
        self._messages.setdefault(channel, []).append(msg)
        return msg

    def _find(self, channel: str, ts: Any) -> PostedMessage:
        for msg in self._messages.get(channel, []):
            if msg.ts == ts and not msg.deleted:
                return msg
        raise _SlackError("message_not_found")

    def _replace(
        self, msg: PostedMessage, text: str, blocks: list[JSON], params: Mapping[str, Any]
    ) -> None:
        msg.versions.append({"text": msg.text, "blocks": copy.deepcopy(msg.blocks)})
        if "text" in params and params["text"] is not None:
            msg.text = text
        if params.get("blocks") is not None:
            msg.blocks = _fill_ids(blocks)
        if params.get("attachments") is not None:
            msg.attachments = list(params["attachments"])
        msg.edited = True
        msg.edited_ts = next_ts()

    def _check_tier(self, method: str) -> None:
        """Slack's per-method rate tiers (requests per minute per workspace, bursts of up to a
        minute's worth): 429 ``ratelimited`` with ``Retry-After`` beyond them."""
        if not self.enforce_tiers:
            return
        per_minute = TIER_PER_MINUTE[METHOD_TIERS.get(method, 3)]
        now = self.pacing_clock()
        bucket = self._tier_buckets.setdefault(method, [float(per_minute), now])
        bucket[0] = min(float(per_minute), bucket[0] + (now - bucket[1]) * per_minute / 60)
        bucket[1] = now
        if bucket[0] < 1:
            self.tier_limited.append(method)
            wait = math.ceil((1 - bucket[0]) * 60 / per_minute)
            raise _SlackError("ratelimited", 429, _headers={"Retry-After": str(wait)})
        bucket[0] -= 1

    def _track_pacing(self, channel: str) -> None:
        """About ``pace_limit`` posts a second per channel after a burst of ``pace_burst``
        (Slack grants "generous bursts"); beyond it 429 when enforced, else a violation."""
        now = self.pacing_clock()
        window = self._post_times.setdefault(channel, deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        bucket = self._pace_buckets.setdefault(channel, [float(self.pace_burst), now])
        bucket[0] = min(float(self.pace_burst), bucket[0] + (now - bucket[1]) * self.pace_limit)
        bucket[1] = now
        if bucket[0] < 1 and self.enforce_pacing:
            raise _SlackError("ratelimited", 429, _headers={"Retry-After": "1"})
        window.append(now)
        if bucket[0] < 1:
            self.pacing_violations.append(
                PacingViolation(channel, now, len(window), self.pace_limit)
            )
        bucket[0] = max(0.0, bucket[0] - 1)

    def _file_object(
        self,
        file_id: str,
        user_id: str,
        name: str,
        mimetype: str,
        size: int,
        *,
        title: str | None = None,
    ) -> JSON:
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        filetype, pretty = _FILETYPES.get(ext, (ext or "binary", ext.upper() or "Binary"))
        base = f"{self.url}/files-pri/{self.team_id}-{file_id}"
        created = int(time.time())
        return {
            "id": file_id,
            "created": created,
            "timestamp": created,
            "name": name,
            "title": title or name,
            "mimetype": mimetype,
            "filetype": filetype,
            "pretty_type": pretty,
            "user": user_id,
            "user_team": self.team_id,
            "editable": False,
            "size": size,
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": False,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{base}/{name}",
            "url_private_download": f"{base}/download/{name}",
            "permalink": f"https://{self.team_domain}.slack.com/files/{user_id}/{file_id}/{name}",
            "has_rich_preview": False,
            "file_access": "visible",
        }

    def _user_obj(self, user_id: Any) -> JSON:
        obj = self._users.get(str(user_id)) if user_id else None
        if obj is None:
            raise _SlackError("user_not_found")
        return obj

    def _make_view(
        self,
        params: Mapping[str, Any],
        user: str,
        expected: str,
        *,
        trigger_id: str | None = None,
        view_id: str | None = None,
    ) -> View:
        view = params.get("view")
        if not isinstance(view, dict):
            raise _SlackError("invalid_arguments", response_metadata={"messages": ["view"]})
        kind = view.get("type")
        if kind != expected:
            raise _SlackError(
                "invalid_arguments",
                response_metadata={
                    "messages": [f"[ERROR] must be {expected} [json-pointer:/view/type]"]
                },
            )
        errors = validate_blocks(view.get("blocks", []), kind)
        if kind == "modal":
            checker = _BlockChecker(kind)
            for key in ("title", "submit", "close"):
                if view.get(key) is not None or key == "title":
                    checker.text_obj(view.get(key), f"/view/{key}", max_len=24, plain_only=True)
            if any((b or {}).get("type") == "input" for b in view.get("blocks") or []) and not (
                view.get("submit")
            ):
                checker.err("must provide submit when using input blocks", "/view/submit")
            errors += checker.errors
        if len(str(view.get("private_metadata", ""))) > 3000:
            errors.append("must be at most 3000 characters [json-pointer:/view/private_metadata]")
        if len(str(view.get("callback_id", ""))) > 255:
            errors.append("must be at most 255 characters [json-pointer:/view/callback_id]")
        if errors:
            raise _SlackError(
                "invalid_arguments",
                response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
            )
        stored = copy.deepcopy(view)
        stored["blocks"] = _fill_ids(list(view.get("blocks") or []))
        return View(
            id=view_id or _rand_id("V"),
            user=user,
            type=kind,
            view=stored,
            hash=f"{int(time.time())}.{secrets.token_hex(4)}",
            trigger_id=trigger_id,
            external_id=_str_or_none(params.get("external_id") or view.get("external_id")),
        )

    def _use_trigger(self, params: Mapping[str, Any]) -> tuple[str, str]:
        trigger_id = params.get("trigger_id")
        if not trigger_id and params.get("interactivity_pointer"):
            trigger_id = params["interactivity_pointer"]
        if not trigger_id:
            raise _SlackError(
                "invalid_arguments", response_metadata={"messages": ["[ERROR] missing trigger_id"]}
            )
        entry = self._triggers.get(str(trigger_id))
        if entry is None:
            raise _SlackError("invalid_trigger_id")
        user, issued = entry
        if self.now() - issued > self.trigger_ttl:
            raise _SlackError("expired_trigger_id")
        return str(trigger_id), user

    # -- Web API methods ------------------------------------------------------------------------

    def _api_test(self, params: JSON) -> JSON:
        return {"args": {k: v for k, v in params.items() if isinstance(v, str)}}

    def _auth_test(self, params: JSON) -> JSON:
        return {
            "url": f"https://{self.team_domain}.slack.com/",
            "team": "Fake Team",
            "user": self._users[self.bot_user_id]["name"],
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _conversations_open(self, params: JSON) -> JSON:
        if params.get("channel"):
            cid = self._resolve_channel(params["channel"])
        else:
            users = [u.strip() for u in str(params.get("users") or "").split(",") if u.strip()]
            if not users:
                raise _SlackError("users_list_not_supplied")
            for u in users:
                self._user_obj(u)
            if len(users) == 1:
                cid = self.dm_channel(users[0])
            else:
                key = "mpim:" + ",".join(sorted(users))
                cid = self._dm_by_user.get(key) or _rand_id("G")
                if key not in self._dm_by_user:
                    self._dm_by_user[key] = cid
                    self._channels[cid] = {
                        "id": cid,
                        "is_mpim": True,
                        "is_im": False,
                        "is_member": True,
                        "created": int(time.time()),
                        "_members": [*users, self.bot_user_id],
                    }
        obj = self._channels[cid]
        if _flag(params.get("return_im")):
            return {"channel": self._public_channel(obj), "already_open": False}
        return {"channel": {"id": cid}, "no_op": False, "already_open": False}

    def usergroup(self, id: str, members: Sequence[str]) -> None:
        """Add (or replace) a user group ("S…") and its members."""
        self._usergroups[id] = list(members)

    def _usergroups_users_list(self, params: JSON) -> JSON:
        group = str(params.get("usergroup") or "")
        if group not in self._usergroups:
            raise _SlackError("no_such_subteam")
        return {"users": list(self._usergroups[group])}

    def _conversations_members(self, params: JSON) -> JSON:
        cid = str(params.get("channel") or "")
        if cid not in self._channels:
            raise _SlackError("channel_not_found")
        members = self._channels[cid].get("_members")
        if members is None:
            members = [u for u, obj in self._users.items() if not obj.get("is_bot")]
        return {"members": list(members), "response_metadata": {"next_cursor": ""}}

    def _conversations_info(self, params: JSON) -> JSON:
        cid = params.get("channel")
        if not cid or cid not in self._channels:
            raise _SlackError("channel_not_found")
        return {"channel": self._public_channel(self._channels[str(cid)])}

    def _users_info(self, params: JSON) -> JSON:
        user = copy.deepcopy(self._user_obj(params.get("user")))
        if str(params.get("include_locale", "")).lower() in ("1", "true"):
            user["locale"] = self._locales.get(str(user["id"]), "en-US")  # only when asked
        return {"user": user}

    def _chat_post_message(self, params: JSON) -> JSON:
        channel = self._resolve_channel(params.get("channel"))
        self._can_post(channel)
        text, blocks = self._message_content(params)
        self._track_pacing(channel)
        msg = self._store_message(channel, text, blocks, params, thread_ts=params.get("thread_ts"))
        return {"channel": channel, "ts": msg.ts, "message": msg.as_slack()}

    def _chat_update(self, params: JSON) -> JSON:
        channel = self._resolve_channel(params.get("channel"))
        if not params.get("ts"):
            raise _SlackError("message_not_found")
        msg = self._find(channel, params["ts"])
        if msg.user != self.bot_user_id:
            raise _SlackError("cant_update_message")
        blocks = self._check_blocks(params)
        text = "" if params.get("text") is None else str(params["text"])
        if len(text) > MAX_MESSAGE_TEXT:
            raise _SlackError("msg_too_long")
        if (
            params.get("text") is None
            and params.get("blocks") is None
            and not params.get("attachments")
        ):
            raise _SlackError("no_text")
        self._replace(msg, text, blocks, params)
        return {"channel": channel, "ts": msg.ts, "text": msg.text, "message": msg.as_slack()}

    def _chat_post_ephemeral(self, params: JSON) -> JSON:
        channel = self._resolve_channel(params.get("channel"))
        self._can_post(channel)
        user = str(params.get("user") or "")
        self._user_obj(user)
        if not self._is_member(channel, user):
            raise _SlackError("user_not_in_channel")
        text, blocks = self._message_content(params)
        eph = Ephemeral(
            channel,
            user,
            next_ts(),
            text,
            _fill_ids(blocks),
            _str_or_none(params.get("thread_ts")),
            dict(params),
        )
        self._ephemerals.append(eph)
        return {"message_ts": eph.ts}

    def _chat_delete(self, params: JSON) -> JSON:
        channel = self._resolve_channel(params.get("channel"))
        msg = self._find(channel, params.get("ts"))
        if msg.user != self.bot_user_id:
            raise _SlackError("cant_delete_message")
        msg.deleted = True
        return {"channel": channel, "ts": msg.ts}

    def _chat_get_permalink(self, params: JSON) -> JSON:
        channel = self._resolve_channel(params.get("channel"))
        msg = self._find(channel, params.get("message_ts"))
        return {
            "channel": channel,
            "permalink": f"https://{self.team_domain}.slack.com/archives/{channel}/"
            f"p{msg.ts.replace('.', '')}",
        }

    def _views_open(self, params: JSON) -> JSON:
        trigger_id, user = self._use_trigger(params)
        view = self._make_view(params, user, "modal", trigger_id=trigger_id)
        del self._triggers[trigger_id]
        self._views[view.id] = view
        return {"view": view.as_slack(self.team_id)}

    def _views_push(self, params: JSON) -> JSON:
        trigger_id, user = self._use_trigger(params)
        view = self._make_view(params, user, "modal", trigger_id=trigger_id)
        del self._triggers[trigger_id]
        parents = [v for v in self._views.values() if v.user == user and v.type == "modal"]
        if parents:
            view.previous_view_id = parents[-1].id
            view.root_view_id = parents[-1].root_view_id or parents[-1].id
        self._views[view.id] = view
        return {"view": view.as_slack(self.team_id)}

    def _views_update(self, params: JSON) -> JSON:
        view_id = params.get("view_id")
        external_id = params.get("external_id")
        existing: View | None = None
        if view_id:
            existing = self._views.get(str(view_id))
        elif external_id:
            existing = next((v for v in self._views.values() if v.external_id == external_id), None)
        else:
            raise _SlackError("invalid_arguments")
        if existing is None:
            raise _SlackError("not_found")
        if params.get("hash") and params["hash"] != existing.hash:
            raise _SlackError("hash_conflict")
        new = self._make_view(params, existing.user, existing.type, view_id=existing.id)
        existing.history.append(existing.view)
        existing.view = new.view
        existing.hash = new.hash
        return {"view": existing.as_slack(self.team_id)}

    def _views_publish(self, params: JSON) -> JSON:
        user = str(params.get("user_id") or "")
        self._user_obj(user)
        current = self.home(user)
        if current is not None and params.get("hash") and params["hash"] != current.hash:
            raise _SlackError("hash_conflict")
        new = self._make_view(params, user, "home", view_id=current.id if current else None)
        if current is None:
            self._views[new.id] = new
            return {"view": new.as_slack(self.team_id)}
        current.history.append(current.view)
        current.view = new.view
        current.hash = new.hash
        return {"view": current.as_slack(self.team_id)}

    def _files_info(self, params: JSON) -> JSON:
        file_id = params.get("file")
        if not file_id or file_id not in self._files:
            raise _SlackError("file_not_found")
        return {
            "file": copy.deepcopy(self._files[str(file_id)]),
            "comments": [],
            "response_metadata": {"next_cursor": ""},
        }

    def _files_delete(self, params: JSON) -> JSON:
        """Delete a file: its bytes, its object, and the messages that share it (a file share
        with the file gone shows nothing). Only the bot's own files (no admin token here)."""
        file_id = str(params.get("file") or "")
        found = self._files.get(file_id)
        if found is None:
            raise _SlackError("file_not_found")
        if found.get("user") != self.bot_user_id:
            raise _SlackError("cant_delete_file")
        del self._files[file_id]
        self._file_bytes.pop(file_id, None)
        upload = self._uploads_by_id.get(file_id)
        if upload is not None:
            upload.deleted, upload.data = True, None
        for messages in self._messages.values():
            for msg in messages:
                if any(f.get("id") == file_id for f in msg.files):
                    msg.files = [f for f in msg.files if f.get("id") != file_id]
                    if not msg.files:
                        msg.deleted = True
        return {}

    def _files_get_upload_url(self, params: JSON) -> JSON:
        filename = params.get("filename")
        length = params.get("length")
        if not filename or length is None:
            raise _SlackError("invalid_arguments")
        try:
            size = int(length)
        except (TypeError, ValueError):
            raise _SlackError("invalid_arguments") from None
        file_id = _rand_id("F")
        upload_id = secrets.token_hex(12)
        mimetype = mimetypes.guess_type(str(filename))[0] or "application/octet-stream"
        self._files[file_id] = self._file_object(
            file_id, self.bot_user_id, str(filename), mimetype, size
        )
        upload = Upload(file_id, str(filename), size, alt_txt=_str_or_none(params.get("alt_txt")))
        self._uploads_by_id[file_id] = upload
        self._upload_url_ids[upload_id] = file_id
        self.uploads.append(upload)
        return {"upload_url": f"{self.url}/upload/v1/{upload_id}", "file_id": file_id}

    def _files_complete_upload(self, params: JSON) -> JSON:
        files = params.get("files")
        if isinstance(files, str):
            try:
                files = json.loads(files)
            except json.JSONDecodeError:
                raise _SlackError("invalid_arguments") from None
        if not isinstance(files, list) or not files:
            raise _SlackError("invalid_arguments")
        channels: list[str] = []
        if params.get("channel_id"):
            channels.append(self._resolve_channel(params["channel_id"]))
        for cid in str(params.get("channels") or "").split(","):
            if cid.strip():
                channels.append(self._resolve_channel(cid.strip()))
        for cid in channels:
            self._can_post(cid)
        uploads: list[Upload] = []
        for item in files:
            upload = self._uploads_by_id.get(str((item or {}).get("id")))
            if upload is None or upload.completed:
                raise _SlackError("file_not_found")
            if upload.data is None:
                raise _SlackError("file_upload_not_found")
            uploads.append(upload)
        comment = _str_or_none(params.get("initial_comment"))
        thread_ts = _str_or_none(params.get("thread_ts"))
        out: list[JSON] = []
        for upload, item in zip(uploads, files, strict=True):
            upload.completed = True
            upload.title = _str_or_none(item.get("title")) or upload.filename
            upload.channels = channels
            upload.initial_comment = comment
            upload.thread_ts = thread_ts
            obj = self._files[upload.file_id]
            obj["title"] = upload.title
            obj["channels"] = [c for c in channels if not self._channels[c].get("is_im")]
            obj["ims"] = [c for c in channels if self._channels[c].get("is_im")]
            out.append({"id": upload.file_id, "title": upload.title})
        for cid in channels:
            msg = self._store_message(
                cid,
                comment or "",
                [],
                params,
                thread_ts=thread_ts,
                files=[copy.deepcopy(self._files[u.file_id]) for u in uploads],
            )
            for upload in uploads:
                upload.message_ts = upload.message_ts or msg.ts
        return {"files": out}

    def _files_upload_retired(self, params: JSON) -> JSON:
        raise _SlackError("method_deprecated")

    def _reactions_add(self, params: JSON) -> JSON:
        channel = self._resolve_channel(params.get("channel"))
        name = str(params.get("name") or "")
        if not name:
            raise _SlackError("invalid_name")
        msg = self._find(channel, params.get("timestamp"))
        users = msg.reactions.setdefault(name, [])
        if self.bot_user_id in users:
            raise _SlackError("already_reacted")
        users.append(self.bot_user_id)
        return {}
