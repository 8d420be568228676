"""Events API envelopes, built as Slack sends them (JSON bodies)."""

from __future__ import annotations

import copy
import itertools
import secrets
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from .api import JSON, next_ts

DEFAULT_TEAM = "T0TEST"
DEFAULT_APP = "A0FAKEAPP"
DEFAULT_BOT_USER = "UBOT"
VERIFICATION_TOKEN = "fake-verification-token"
_event_seq = itertools.count(1)


class _HasSlackForm(Protocol):
    def as_slack(self) -> JSON: ...


MessageLike = Mapping[str, Any] | _HasSlackForm


def _as_dict(message: MessageLike) -> JSON:
    if isinstance(message, Mapping):
        return copy.deepcopy(dict(message))
    return message.as_slack()


def new_event_id() -> str:
    """A unique ``Ev…`` id."""
    return f"Ev{next(_event_seq):04d}{secrets.token_hex(4).upper()}"


def new_trigger_id() -> str:
    """A trigger_id that a fake server has not issued (``views.open`` will reject it)."""
    return f"{secrets.randbelow(10**10)}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"


def _user_obj(user: str, team_id: str, name: str | None) -> JSON:
    uname = name or user.lower()
    return {"id": user, "username": uname, "name": uname, "team_id": team_id}


def _team_obj(team_id: str) -> JSON:
    return {"id": team_id, "domain": "fake-team"}


def event_callback(
    event: Mapping[str, Any],
    *,
    team_id: str = DEFAULT_TEAM,
    api_app_id: str = DEFAULT_APP,
    bot_user_id: str = DEFAULT_BOT_USER,
    event_id: str | None = None,
    event_time: int | None = None,
) -> JSON:
    """Wrap an inner event in an ``event_callback`` envelope with a fresh event_id/event_time."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": api_app_id,
        "event": dict(event),
        "type": "event_callback",
        "event_id": event_id or new_event_id(),
        "event_time": event_time if event_time is not None else int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{secrets.token_urlsafe(24)}",
    }


def _rich_text(text: str) -> list[JSON]:
    return [
        {
            "type": "rich_text",
            "block_id": secrets.token_urlsafe(4)[:5],
            "elements": [
                {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
            ],
        }
    ]


def message(
    user: str,
    text: str,
    *,
    channel: str,
    channel_type: str = "im",
    ts: str | None = None,
    thread_ts: str | None = None,
    team_id: str = DEFAULT_TEAM,
    event_id: str | None = None,
) -> JSON:
    """A person's plain-text ``message`` event (a DM by default)."""
    ts = ts or next_ts()
    event: JSON = {
        "client_msg_id": str(uuid.uuid4()),
        "type": "message",
        "text": text,
        "user": user,
        "ts": ts,
        "blocks": _rich_text(text) if text else [],
        "team": team_id,
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event_callback(event, team_id=team_id, event_id=event_id)


def file_share(
    user: str,
    files: Sequence[Mapping[str, Any]],
    *,
    channel: str,
    text: str = "",
    channel_type: str = "im",
    ts: str | None = None,
    thread_ts: str | None = None,
    team_id: str = DEFAULT_TEAM,
    event_id: str | None = None,
) -> JSON:
    """A ``message`` event with ``subtype: file_share`` (audio clips usually have empty text)."""
    ts = ts or next_ts()
    event: JSON = {
        "type": "message",
        "subtype": "file_share",
        "text": text,
        "files": [copy.deepcopy(dict(f)) for f in files],
        "upload": False,
        "user": user,
        "display_as_bot": False,
        "ts": ts,
        "blocks": _rich_text(text) if text else [],
        "client_msg_id": str(uuid.uuid4()),
        "team": team_id,
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event_callback(event, team_id=team_id, event_id=event_id)


def message_changed(
    user: str,
    *,
    channel: str,
    ts: str,
    new_text: str,
    old_text: str = "",
    channel_type: str = "im",
    team_id: str = DEFAULT_TEAM,
    event_id: str | None = None,
) -> JSON:
    """A ``message_changed`` event: ``user`` edited their message ``ts``."""
    event_ts = next_ts()
    event: JSON = {
        "type": "message",
        "subtype": "message_changed",
        "message": {
            "client_msg_id": str(uuid.uuid4()),
            "type": "message",
            "text": new_text,
            "user": user,
            "team": team_id,
            "edited": {"user": user, "ts": event_ts},
            "blocks": _rich_text(new_text),
            "ts": ts,
            "source_team": team_id,
            "user_team": team_id,
        },
        "previous_message": {
            "type": "message",
            "text": old_text,
            "user": user,
            "ts": ts,
            "team": team_id,
        },
        "channel": channel,
        "hidden": True,
        "ts": event_ts,
        "event_ts": event_ts,
        "channel_type": channel_type,
    }
    return event_callback(event, team_id=team_id, event_id=event_id)


def message_deleted(
    user: str,
    *,
    channel: str,
    ts: str,
    old_text: str = "",
    channel_type: str = "im",
    team_id: str = DEFAULT_TEAM,
    event_id: str | None = None,
) -> JSON:
    """A ``message_deleted`` event for message ``ts`` of ``user``."""
    event_ts = next_ts()
    event: JSON = {
        "type": "message",
        "subtype": "message_deleted",
        "previous_message": {
            "type": "message",
            "text": old_text,
            "user": user,
            "ts": ts,
            "team": team_id,
        },
        "channel": channel,
        "hidden": True,
        "deleted_ts": ts,
        "event_ts": event_ts,
        "ts": event_ts,
        "channel_type": channel_type,
    }
    return event_callback(event, team_id=team_id, event_id=event_id)


def app_home_opened(
    user: str,
    *,
    channel: str,
    tab: str = "home",
    view: Mapping[str, Any] | None = None,
    team_id: str = DEFAULT_TEAM,
    event_id: str | None = None,
) -> JSON:
    """An ``app_home_opened`` event (``view`` is present once a home view was published)."""
    event: JSON = {
        "type": "app_home_opened",
        "user": user,
        "channel": channel,
        "tab": tab,
        "event_ts": next_ts(),
    }
    if view is not None:
        event["view"] = copy.deepcopy(dict(view))
    return event_callback(event, team_id=team_id, event_id=event_id)


def url_verification(challenge: str | None = None) -> JSON:
    """The one-off endpoint check Slack sends when the Request URL is saved."""
    return {
        "token": VERIFICATION_TOKEN,
        "challenge": challenge or secrets.token_urlsafe(32),
        "type": "url_verification",
    }
