"""What a handler wants done once its transaction has committed."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.events import Event
from core.messages import OutMessage
from core.model import Interview
from core.outbox import Work
from core.refs import ChatRef, MessageRef, UserRef


@dataclass
class Effects:
    """Outbound work collected by a handler; performed only after the commit succeeds."""

    sends: list[tuple[ChatRef, OutMessage]] = field(default_factory=list)
    edits: list[tuple[MessageRef, OutMessage]] = field(default_factory=list)
    # edited messages that carry what must reach the person (the next question): sent anew
    # if the edit cannot be made
    carrying: list[MessageRef] = field(default_factory=list)
    notes: list[tuple[ChatRef, UserRef, str]] = field(default_factory=list)
    reply: str | None = None  # private answer to a button press
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
