"""The outbox: a command's outbound work as JSON, committed in the same transaction as its
change, so that a crash between the commit and the sends loses no message (they are sent
again by the next sweep)."""

from __future__ import annotations

import json
from typing import Any

from core.effects import Effects
from core.messages import Audio, Button, OutMessage
from core.refs import ChatRef, MessageRef, UserRef


def has_work(fx: Effects) -> bool:
    """Whether `fx` holds anything to do once committed (besides re-planning timers)."""
    return bool(fx.sends or fx.edits or fx.notes or fx.completed or fx.broadcasts
                or fx.refresh_reviews or fx.transcribe)


def _message(m: OutMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"text": m.text}
    if m.buttons:
        out["buttons"] = [[[b.label, b.payload, b.style] for b in row] for row in m.buttons]
    if m.audio:
        out["audio"] = [m.audio.path, m.audio.mime, m.audio.title, m.audio.duration]
    if m.title is not None:
        out["title"] = m.title
    if m.ask_reply is not None:
        out["ask_reply"] = m.ask_reply
    if m.fields:
        out["fields"] = [list(f) for f in m.fields]
    return out


def _unmessage(d: dict[str, Any]) -> OutMessage:
    audio = d.get("audio")
    return OutMessage(
        d["text"],
        tuple(tuple(Button(*b) for b in row) for row in d.get("buttons", ())),
        Audio(*audio) if audio else None,
        d.get("title"),
        d.get("ask_reply"),
        tuple((k, v) for k, v in d.get("fields", ())),
    )


def encode(fx: Effects) -> str:
    """The outbound work of `fx` as a JSON document."""
    return json.dumps({
        "edits": [[str(r.chat), r.id, _message(m)] for r, m in fx.edits],
        "sends": [[str(c), _message(m)] for c, m in fx.sends],
        "notes": [[str(c), str(u), t] for c, u, t in fx.notes],
        "completed": fx.completed,
        "broadcasts": [[i, _message(m)] for i, m in fx.broadcasts],
        "refresh_reviews": fx.refresh_reviews,
        "transcribe": fx.transcribe,
    }, separators=(",", ":"), ensure_ascii=False)


def decode(body: str) -> Effects:
    """The `Effects` that `encode` wrote."""
    d = json.loads(body)
    return Effects(
        edits=[(MessageRef(ChatRef.parse(c), i), _unmessage(m)) for c, i, m in d["edits"]],
        sends=[(ChatRef.parse(c), _unmessage(m)) for c, m in d["sends"]],
        notes=[(ChatRef.parse(c), UserRef.parse(u), t) for c, u, t in d["notes"]],
        completed=list(d["completed"]),
        broadcasts=[(i, _unmessage(m)) for i, m in d["broadcasts"]],
        refresh_reviews=[(i, a) for i, a in d["refresh_reviews"]],
        transcribe=[(i, t) for i, t in d["transcribe"]],
    )
