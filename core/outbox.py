"""The outbox: a command's outbound work as a list of steps, committed in the same transaction
as its change, each step done once.

A step is one outbound action (send, edit, note, delete, a review card, a reel, a broadcast,
a card refresh, the erasure of an interview's posts, a transcription request) with its own
state: `pending`, `done` or `given_up`, how many attempts failed, when it is due again, and
the platform message id once done. The runner (core/outbox_runner.py) does the pending steps
of an entry while holding its lease, saves their state after each one, and never repeats a
step that is done.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.messages import Audio, Button, OutMessage
from core.refs import ChatRef, MessageRef, UserRef

PENDING, DONE, GIVEN_UP = "pending", "done", "given_up"

# step kinds
SEND, EDIT, NOTE = "send", "edit", "note"
REVIEW = "review"  # an interview's cards for every destination: becomes CARD and REEL steps
CARD, REEL = "card", "reel"  # one review card, the reel, for one destination
BROADCAST = "broadcast"  # a candidate's question or follow-up reply: one SEND per destination
REFRESH = "refresh"  # re-render the posted cards of one answer (or the summary)
ERASE = "erase"  # delete (or, where refused, blank) everything posted about an interview
TRANSCRIBE = "transcribe"  # start an offline transcription of one take
KINDS = (SEND, EDIT, NOTE, REVIEW, CARD, REEL, BROADCAST, REFRESH, ERASE, TRANSCRIBE)


@dataclass
class Step:
    """One outbound action and its recorded state."""

    kind: str
    args: dict[str, Any]
    state: str = PENDING
    attempts: int = 0  # failed attempts so far
    due: datetime | None = None  # not before (after a failure)
    ref: str | None = None  # the platform message id, once done
    error: str | None = None  # the last failure, for the log

    @property
    def interview_id(self) -> str | None:
        """The interview this step is about (re-checked before it runs), if any."""
        found = self.args.get("interview") or self.args.get("about")
        return str(found) if found else None

    @property
    def platform(self) -> str:
        chat = self.args.get("chat") or self.args.get("dest")
        return ChatRef.parse(chat).platform if chat else "engine"

    def chat(self) -> ChatRef:
        return ChatRef.parse(self.args.get("chat") or self.args["dest"])

    def message(self) -> OutMessage:
        return unmessage(self.args["message"])


@dataclass
class Work:
    """The steps of one outbox entry."""

    steps: list[Step] = field(default_factory=list)

    def pending(self) -> list[Step]:
        return [s for s in self.steps if s.state == PENDING]

    def next_due(self, fallback: datetime) -> datetime:
        dues = [s.due or fallback for s in self.pending()]
        return min(dues, default=fallback)


def message(m: OutMessage) -> dict[str, Any]:
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


def unmessage(d: dict[str, Any]) -> OutMessage:
    audio = d.get("audio")
    return OutMessage(
        d["text"],
        tuple(tuple(Button(*b) for b in row) for row in d.get("buttons", ())),
        Audio(*audio) if audio else None,
        d.get("title"),
        d.get("ask_reply"),
        tuple((k, v) for k, v in d.get("fields", ())),
    )


def send(chat: ChatRef, m: OutMessage, about: str | None = None) -> Step:
    args: dict[str, Any] = {"chat": str(chat), "message": message(m)}
    if about is not None:
        args["about"] = about
    return Step(SEND, args)


def edit(ref: MessageRef, m: OutMessage, *, or_send: bool = False) -> Step:
    """Edit a message; with `or_send`, send it as a new message if the edit fails."""
    args: dict[str, Any] = {"chat": str(ref.chat), "id": ref.id, "message": message(m)}
    if or_send:
        args["or_send"] = True
    return Step(EDIT, args)


def note(chat: ChatRef, user: UserRef, text: str) -> Step:
    return Step(NOTE, {"chat": str(chat), "user": str(user), "text": text})


def stamp(work: Work, interview_id: str, chat: str, active_at: datetime) -> None:
    """Mark the sends and edits to an interview's own chat with the candidate's last action
    they answer. A process taking the entry over skips them if the candidate has acted since
    (see `stale`): the candidate has moved on, having seen them or a restatement."""
    for step in work.steps:
        if step.kind in (SEND, EDIT) and step.args.get("chat") == chat:
            step.args["since"] = [interview_id, active_at.isoformat()]


def stale(step: Step, last_activity: dict[str, datetime | None]) -> bool:
    """Whether a stamped step is behind the candidate: they acted after the action it
    answers (`last_activity`: the interviews' `last_activity_at`, read at takeover)."""
    since = step.args.get("since")
    if not since:
        return False
    now = last_activity.get(since[0])
    return now is not None and now > datetime.fromisoformat(since[1])


def about(kind: str, interview_id: str, **args: Any) -> Step:
    """A step about one interview (REVIEW, CARD, REEL, BROADCAST, REFRESH, ERASE, ...)."""
    return Step(kind, {"interview": interview_id, **args})


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def encode(work: Work) -> str:
    """The steps as a JSON document."""
    return json.dumps({"steps": [
        {k: v for k, v in (("kind", s.kind), ("args", s.args), ("state", s.state),
                           ("attempts", s.attempts), ("due", _when(s.due)), ("ref", s.ref),
                           ("error", s.error)) if v not in (None, 0) or k == "state"}
        for s in work.steps]}, separators=(",", ":"), ensure_ascii=False)


def decode(body: str) -> Work:
    """The `Work` that `encode` wrote (or an entry of the version before steps)."""
    d = json.loads(body)
    if "steps" not in d:
        return _before_steps(d)
    return Work([Step(s["kind"], s.get("args", {}), s.get("state", PENDING),
                      s.get("attempts", 0),
                      datetime.fromisoformat(s["due"]) if s.get("due") else None,
                      s.get("ref"), s.get("error")) for s in d["steps"]])


def _before_steps(d: dict[str, Any]) -> Work:
    """An entry written before steps existed: each of its parts as a pending step."""
    steps = [Step(EDIT, {"chat": c, "id": i, "message": m}) for c, i, m in d.get("edits", ())]
    steps += [Step(SEND, {"chat": c, "message": m}) for c, m in d.get("sends", ())]
    steps += [Step(NOTE, {"chat": c, "user": u, "text": t}) for c, u, t in d.get("notes", ())]
    steps += [about(REVIEW, i) for i in d.get("completed", ())]
    for interview_id, m in d.get("broadcasts", ()):
        what, _, ident = str(m["text"]).partition(":")
        steps.append(about(BROADCAST, interview_id,
                           **{"question" if what == "question" else "follow_up": ident}))
    steps += [about(REFRESH, i, answer=a) for i, a in d.get("refresh_reviews", ())]
    steps += [about(TRANSCRIBE, i, take=t) for i, t in d.get("transcribe", ())]
    return Work(steps)
