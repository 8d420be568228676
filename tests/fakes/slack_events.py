"""Slack request payloads, built as Slack sends them, and a signed sender for Bolt in HTTP mode.

Events API envelopes are JSON; interactions are form-encoded ``payload=<json>``; slash commands
are plain form fields. ``SlackSender`` signs each body with ``v0=HMAC-SHA256(secret,
"v0:{ts}:{body}")`` and POSTs it to ``/slack/events``.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import itertools
import json
import secrets
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import urlencode

import aiohttp

from .slack_api import find_button, next_ts

JSON = dict[str, Any]

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


# ---------------------------------------------------------------------------------------------
# Events API


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


# ---------------------------------------------------------------------------------------------
# interactivity


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


# ---------------------------------------------------------------------------------------------
# signing and sending


def sign(signing_secret: str, timestamp: int | str, body: str | bytes) -> str:
    """The ``X-Slack-Signature`` value for ``body`` sent at ``timestamp``."""
    raw = body.decode("utf-8") if isinstance(body, bytes) else body
    base = f"v0:{timestamp}:{raw}".encode()
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class SlackReply:
    """The app's HTTP answer to one delivery."""

    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    elapsed: float = 0.0

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


ACK_DEADLINE = 3.0  # seconds Slack waits for the app's HTTP answer
MAX_RETRIES = 3  # Slack redelivers a failed event three times


class SlackSender:
    """POSTs signed Slack requests to a Bolt app's ``/slack/events`` endpoint, as Slack does.

    Slack waits ``ack_deadline`` (3 s) for an answer. An Events API delivery that gets none, or a
    non-2xx answer, is sent again up to three times with ``X-Slack-Retry-Num`` and
    ``X-Slack-Retry-Reason`` (``http_timeout``, ``http_error``); Slack spaces them out (at
    once, after a minute, after five), the fake sends them after ``retry_delays`` (no wait by
    default). An answer carrying ``X-Slack-No-Retry: 1`` is not retried; nor are requests a
    test forges (bad or missing signature, a given timestamp or retry number). An interaction
    or slash command not answered in time is not retried: Slack shows the person an error; the
    fake gives up on it (status 0) and lists it in ``timeouts``. ``redeliveries`` lists every
    automatic retry as ``(retry number, reason)``.
    """

    def __init__(
        self,
        base_url: str,
        signing_secret: str,
        *,
        path: str = "/slack/events",
        clock: Callable[[], float] = time.time,
        ack_deadline: float = ACK_DEADLINE,
        retry_delays: Sequence[float] = (0.0,) * MAX_RETRIES,
    ) -> None:
        self.url = base_url.rstrip("/") + path
        self.signing_secret = signing_secret
        self.clock = clock
        self.ack_deadline = ack_deadline
        self.retry_delays = tuple(retry_delays)
        self.sent: list[tuple[bytes, dict[str, str]]] = []
        self.redeliveries: list[tuple[int, str]] = []
        self.timeouts: list[bytes] = []
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SlackSender:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def event(self, envelope: Mapping[str, Any], **options: Any) -> SlackReply:
        """Send an Events API envelope (JSON body), redelivered as Slack does when the app
        does not answer 2xx in time. See ``post`` for options."""
        body = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)
        forged = any(options.get(k) for k in ("bad_signature", "signature", "unsigned", "age")) \
            or options.get("timestamp") is not None or options.get("retry_num") is not None
        reply = await self.post(body, "application/json", **options)
        if forged:
            return reply
        for number, delay in enumerate(self.retry_delays, 1):
            if 200 <= reply.status < 300 or reply.headers.get("X-Slack-No-Retry") == "1":
                break
            reason = "http_timeout" if reply.status == 0 else "http_error"
            self.redeliveries.append((number, reason))
            if delay:
                await asyncio.sleep(delay)
            reply = await self.post(body, "application/json", retry_num=number,
                                    retry_reason=reason, **options)
        return reply

    async def interaction(self, payload: Mapping[str, Any], **options: Any) -> SlackReply:
        """Send an interaction payload form-encoded as ``payload=<json>``."""
        body = urlencode({"payload": json.dumps(payload, separators=(",", ":"))})
        return await self.post(body, "application/x-www-form-urlencoded", **options)

    async def command(self, fields: Mapping[str, str], **options: Any) -> SlackReply:
        """Send slash command fields form-encoded."""
        return await self.post(
            urlencode(dict(fields)), "application/x-www-form-urlencoded", **options
        )

    async def post(
        self,
        body: str | bytes,
        content_type: str,
        *,
        bad_signature: bool = False,
        signature: str | None = None,
        age: float = 0.0,
        timestamp: int | None = None,
        unsigned: bool = False,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        headers: Mapping[str, str] | None = None,
    ) -> SlackReply:
        """POST a raw body with Slack's headers.

        ``bad_signature`` signs with a different secret, ``signature`` sends that value verbatim,
        ``age`` dates the request that many seconds back (Bolt rejects more than 300),
        ``unsigned`` omits the signature headers, ``retry_num`` adds ``X-Slack-Retry-Num`` and
        ``X-Slack-Retry-Reason`` as Slack does when it redelivers.
        """
        raw = body.encode("utf-8") if isinstance(body, str) else body
        ts = timestamp if timestamp is not None else int(self.clock() - age)
        hdrs: dict[str, str] = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "Accept": "*/*",
        }
        if not unsigned:
            secret = self.signing_secret + "-wrong" if bad_signature else self.signing_secret
            hdrs["X-Slack-Request-Timestamp"] = str(ts)
            hdrs["X-Slack-Signature"] = signature or sign(secret, ts, raw)
        if retry_num is not None:
            hdrs["X-Slack-Retry-Num"] = str(retry_num)
            hdrs["X-Slack-Retry-Reason"] = retry_reason
        if headers:
            hdrs.update(headers)
        self.sent.append((raw, hdrs))
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        started = time.monotonic()
        try:
            async with asyncio.timeout(self.ack_deadline):
                async with self._session.post(self.url, data=raw, headers=hdrs) as resp:
                    text = await resp.text()
                    return SlackReply(resp.status, text, dict(resp.headers),
                                      time.monotonic() - started)
        except TimeoutError:
            # Slack stops waiting; the app may still be working on it
            self.timeouts.append(raw)
            return SlackReply(0, "", {}, time.monotonic() - started)
