"""What a handler wants done once its transaction has committed."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.events import Event
from core.messages import OutMessage
from core.model import Interview
from core.outbox import Work
from core.refs import ChatRef, MessageRef, UserRef
from core.replies import Reply, say


@dataclass
class Effects:
    """Outbound work collected by a handler; performed only after the commit succeeds."""

    sends: list[tuple[ChatRef, OutMessage]] = field(default_factory=list)
    edits: list[tuple[MessageRef, OutMessage]] = field(default_factory=list)
    # edited messages that carry what must reach the person (the next question): sent anew
    # if the edit cannot be made
    carrying: list[MessageRef] = field(default_factory=list)
    notes: list[tuple[ChatRef, UserRef, str]] = field(default_factory=list)
    # private answer to a button press: written in the presser's language by the engine
    reply: Reply | None = None
    reply_language: str | None = None  # the presser's language, chosen by the engine
    events: list[Event] = field(default_factory=list)  # typed domain events (core/events.py)
    changed: list[str] = field(default_factory=list)  # interviews whose timers need re-planning
    # the changed interviews as committed, when the handler had them loaded (saves a re-read)
    committed: dict[str, Interview] = field(default_factory=dict)
    # the interview a reviewer's command or a timer was about: its sends to any chat but the
    # candidate's are recorded as posts about it (so that erasure can delete them)
    about: str | None = None
    duplicate: bool = False
    outbox_id: int | None = None  # where this work was committed, until it is done
    work: Work | None = None  # its steps, as committed

    def send(self, chat: ChatRef, message: OutMessage | str) -> None:
        self.sends.append((chat, OutMessage(message) if isinstance(message, str) else message))

    def say(self, message: str, **values: object) -> None:
        """Answer the press with `message` (a catalog msgid), its placeholders from `values`."""
        self.reply = say(message, **values)

    def say_also(self, message: str, **values: object) -> None:
        """Add a sentence to the answer (or start it)."""
        self.reply = say(message, **values) if self.reply is None else self.reply.then(
            message, **values)

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def clear_outbound(self) -> None:
        """Forget what a conflicting attempt collected, before the command runs again."""
        self.sends.clear()
        self.edits.clear()
        self.carrying.clear()
        self.notes.clear()
        self.events.clear()
        self.changed.clear()
