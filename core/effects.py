"""What a handler wants done once its transaction has committed."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.messages import OutMessage
from core.model import Interview
from core.refs import ChatRef, MessageRef, UserRef


@dataclass
class Effects:
    """Outbound work collected by a handler; performed only after the commit succeeds."""

    sends: list[tuple[ChatRef, OutMessage]] = field(default_factory=list)
    edits: list[tuple[MessageRef, OutMessage]] = field(default_factory=list)
    notes: list[tuple[ChatRef, UserRef, str]] = field(default_factory=list)
    reply: str | None = None  # private answer to a button press
    completed: list[str] = field(default_factory=list)  # interviews to send to reviewers
    # review cards to re-render: (interview id, answer id), None for the summary card
    refresh_reviews: list[tuple[str, str | None]] = field(default_factory=list)
    broadcasts: list[tuple[str, OutMessage]] = field(default_factory=list)  # to every reviewer
    changed: list[str] = field(default_factory=list)  # interviews whose timers need re-planning
    # the changed interviews as committed, when the handler had them loaded (saves a re-read)
    committed: dict[str, Interview] = field(default_factory=dict)
    transcribe: list[tuple[str, str]] = field(default_factory=list)  # (interview id, take id)
    duplicate: bool = False
    outbox_id: int | None = None  # where this work was committed, until it is done

    def send(self, chat: ChatRef, message: OutMessage | str) -> None:
        self.sends.append((chat, OutMessage(message) if isinstance(message, str) else message))
