"""Interaction payloads (form-encoded `payload=<json>`) and slash commands (form fields)."""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Mapping
from typing import Any

from .api import JSON, next_ts
from .blocks import find_button
from .events import (
    DEFAULT_APP,
    DEFAULT_TEAM,
    VERIFICATION_TOKEN,
    MessageLike,
    _as_dict,
    _team_obj,
    _user_obj,
    new_trigger_id,
)


def block_actions(
    user: str,
    *,
    action_id: str,
    value: str | None = None,
    block_id: str = "",
    channel: str | None = None,
    message: MessageLike | None = None,
    view: Mapping[str, Any] | None = None,
    label: str | None = None,
    action_type: str = "button",
    trigger_id: str | None = None,
    response_url: str | None = None,
    is_ephemeral: bool = False,
    message_ts: str | None = None,
    user_name: str | None = None,
    team_id: str = DEFAULT_TEAM,
    api_app_id: str = DEFAULT_APP,
) -> JSON:
    """A ``block_actions`` payload for one button press on a message (or a view).

    Pass ``message`` for a message in ``channel`` (its ts and blocks are copied), ``is_ephemeral``
    with ``message_ts`` for an ephemeral message (Slack omits the message then), or ``view`` for
    a modal or the App Home.
    """
    action_ts = next_ts()
    action: JSON = {
        "action_id": action_id,
        "block_id": block_id,
        "type": action_type,
        "action_ts": action_ts,
    }
    if action_type == "button":
        action["text"] = {"type": "plain_text", "text": label or value or action_id, "emoji": True}
        if value is not None:
            action["value"] = value
    elif action_type in ("static_select", "overflow", "radio_buttons"):
        action["selected_option"] = {
            "text": {"type": "plain_text", "text": label or value or "", "emoji": True},
            "value": value,
        }
    elif value is not None:
        action["value"] = value
    payload: JSON = {
        "type": "block_actions",
        "user": _user_obj(user, team_id, user_name),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "team": _team_obj(team_id),
        "enterprise": None,
        "is_enterprise_install": False,
        "state": {"values": {}},
        "actions": [action],
    }
    if view is not None:
        v = copy.deepcopy(dict(view))
        payload["container"] = {"type": "view", "view_id": v.get("id", "")}
        payload["view"] = v
    else:
        msg = _as_dict(message) if message is not None else None
        ts = message_ts or (msg or {}).get("ts") or ""
        payload["container"] = {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel,
            "is_ephemeral": is_ephemeral,
        }
        payload["channel"] = {"id": channel, "name": "directmessage"}
        if msg is not None and not is_ephemeral:
            payload["message"] = msg
    if response_url or view is None:
        payload["response_url"] = response_url or (
            f"https://hooks.slack.com/actions/{team_id}/{secrets.randbelow(10**12)}/"
            f"{secrets.token_hex(12)}"
        )
    return payload


def press(
    message: MessageLike,
    label: str,
    user: str,
    *,
    channel: str | None = None,
    trigger_id: str | None = None,
    response_url: str | None = None,
    team_id: str = DEFAULT_TEAM,
) -> JSON:
    """A ``block_actions`` payload pressing the button labelled ``label`` on ``message``."""
    msg = _as_dict(message)
    ref = find_button(msg.get("blocks") or [], label)
    label_text = label
    for block in msg.get("blocks") or []:
        for el in [*(block.get("elements") or []), block.get("accessory") or {}]:
            if isinstance(el, Mapping) and el.get("action_id") == ref.action_id:
                label_text = str((el.get("text") or {}).get("text", label))
    chan = channel or getattr(message, "channel", None) or msg.get("channel")
    return block_actions(
        user,
        action_id=ref.action_id,
        value=ref.value,
        block_id=ref.block_id,
        channel=str(chan) if chan else None,
        message=msg,
        label=label_text,
        trigger_id=trigger_id,
        response_url=response_url,
        team_id=team_id,
    )


def view_state(view: Mapping[str, Any], inputs: Mapping[str, str]) -> JSON:
    """``state.values`` for a modal's input blocks; ``inputs``: action_id (or block_id) → text."""
    values: JSON = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input":
            continue
        element = block.get("element") or {}
        action_id = element.get("action_id", "")
        block_id = block.get("block_id", "")
        key = action_id if action_id in inputs else block_id if block_id in inputs else None
        kind = element.get("type", "plain_text_input")
        state: JSON = {"type": kind}
        if key is not None:
            if kind in ("static_select", "radio_buttons"):
                state["selected_option"] = {
                    "text": {"type": "plain_text", "text": inputs[key]},
                    "value": inputs[key],
                }
            else:
                state["value"] = inputs[key]
        else:
            state["value"] = None
        values.setdefault(block_id, {})[action_id] = state
    return values


def view_submission(
    user: str,
    view: Mapping[str, Any],
    inputs: Mapping[str, str] | None = None,
    *,
    values: Mapping[str, Any] | None = None,
    trigger_id: str | None = None,
    user_name: str | None = None,
    team_id: str = DEFAULT_TEAM,
    api_app_id: str = DEFAULT_APP,
) -> JSON:
    """A ``view_submission`` payload for a modal (as returned by views.open / ``View.as_slack``).

    Give ``inputs`` (action_id or block_id → text) or raw ``values`` for ``view.state.values``.
    """
    v = copy.deepcopy(dict(view))
    v.setdefault("id", "V" + secrets.token_hex(5).upper())
    v.setdefault("team_id", team_id)
    v.setdefault("private_metadata", "")
    v.setdefault("callback_id", "")
    v.setdefault("hash", f"{int(time.time())}.{secrets.token_hex(4)}")
    v["state"] = {
        "values": copy.deepcopy(dict(values)) if values is not None else view_state(v, inputs or {})
    }
    return {
        "type": "view_submission",
        "team": _team_obj(team_id),
        "user": _user_obj(user, team_id, user_name),
        "api_app_id": api_app_id,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": v,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def slash_command(
    user: str,
    text: str = "",
    *,
    command: str = "/interview",
    channel: str = "D0CMD",
    channel_name: str = "directmessage",
    trigger_id: str | None = None,
    response_url: str | None = None,
    user_name: str | None = None,
    team_id: str = DEFAULT_TEAM,
    api_app_id: str = DEFAULT_APP,
) -> dict[str, str]:
    """The form fields of a slash command invocation (send with ``SlackSender.command``)."""
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": "fake-team",
        "channel_id": channel,
        "channel_name": channel_name,
        "user_id": user,
        "user_name": user_name or user.lower(),
        "command": command,
        "text": text,
        "api_app_id": api_app_id,
        "is_enterprise_install": "false",
        "response_url": response_url
        or f"https://hooks.slack.com/commands/{team_id}/{secrets.randbelow(10**12)}/"
        f"{secrets.token_hex(12)}",
        "trigger_id": trigger_id or new_trigger_id(),
    }
