"""The fake workspace: its state, people, channels and clock."""

from __future__ import annotations

import asyncio
import copy
import itertools
import secrets
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from .api import _TZ_LABELS, JSON, _rand_id, _SlackError
from .objects import (
    Call,
    Download,
    Ephemeral,
    PacingViolation,
    PostedMessage,
    ResponsePost,
    Upload,
    View,
    _Fault,
)
from .socket_mode import SocketModeServer


class Workspace:
    """The fake workspace's state: people, channels, DMs, user groups, the clock; and the
    notification that wakes waiters."""

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
        self._methods: dict[str, Callable[[JSON], JSON]] = self._handlers()
        self._usergroups: dict[str, list[str]] = {}
        # Socket Mode (socket_mode.py) when an app-level token is given
        self.socket = SocketModeServer(app_token, lambda: self.url, self._notify) \
            if app_token else None
        if self.socket is not None:
            self._methods["apps.connections.open"] = lambda _params: \
                self.socket.connections_open(None) if self.socket else {}
        self.user(bot_user_id, "interviewbot", "UTC", is_bot=True)

    def _handlers(self) -> dict[str, Callable[[JSON], JSON]]:
        """The Web API methods served, by name (the server class lists them)."""
        raise NotImplementedError

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

    def now(self) -> float:
        """Fake time used for trigger expiry: frozen except for ``advance``."""
        return self._time_offset

    def advance(self, seconds: float) -> None:
        """Move the fake clock forward (expires trigger_ids older than ``trigger_ttl``)."""
        self._time_offset += seconds

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

    def usergroup(self, id: str, members: Sequence[str]) -> None:
        """Add (or replace) a user group ("S…") and its members."""
        self._usergroups[id] = list(members)

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

    def _public_channel(self, obj: Mapping[str, Any]) -> JSON:
        return {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith("_")}

    def _user_obj(self, user_id: Any) -> JSON:
        obj = self._users.get(str(user_id)) if user_id else None
        if obj is None:
            raise _SlackError("user_not_found")
        return obj

    def _recent(self) -> list[str]:
        return [f"{c.method}:{c.error or 'ok'}" for c in self.calls[-10:]]

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = asyncio.Event()
