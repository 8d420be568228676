"""Records the fake Slack keeps: calls, messages, views, uploads, downloads."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from .api import JSON
from .blocks import ButtonRef, block_text, find_button


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
