"""Outbound messages: text and buttons, rendered by each adapter in its own format."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Button:
    """A message button. `payload` is an opaque string of at most 64 bytes."""

    label: str
    payload: str
    style: str | None = None  # "primary" or "danger", where the platform has styles

    def __post_init__(self) -> None:
        if len(self.payload.encode()) > 64:
            raise ValueError(f"button payload over 64 bytes: {self.payload!r}")


@dataclass(frozen=True)
class Audio:
    """An audio file to attach, already in the platform's inline format."""

    path: str
    mime: str
    title: str
    duration: float


@dataclass(frozen=True)
class OutMessage:
    """A message to send: a title line, body text, rows of buttons, an optional audio file.

    `ask_reply` asks the client to open a reply box (a force-reply, a modal) whose
    text comes back as `ReviewerText` with this target id.
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    audio: Audio | None = None
    title: str | None = None
    ask_reply: str | None = None
    fields: tuple[tuple[str, str], ...] = field(default=())

    def all_buttons(self) -> list[Button]:
        return [b for row in self.buttons for b in row]
