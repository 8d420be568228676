"""Commands: what adapters and the CLI ask the engine to do, in platform-neutral terms."""

from __future__ import annotations

from dataclasses import dataclass

from core.refs import ChatRef, MediaRef, MessageRef, UserRef
from core.vocabulary import Verb


@dataclass(frozen=True)
class CreateInvitation:
    """Invite a candidate to a script (CLI `invite`)."""

    script_id: str
    name: str
    platform: str  # the channel the candidate is invited on (a registered platform)
    tz: str | None = None
    external_ref: str | None = None  # the inviting system's own reference (an ATS id)
    language: str | None = None  # the candidate's language; one the script offers


@dataclass(frozen=True)
class InviteAccepted:
    """A person opened an invitation (a deep link with its token, a DM the bot opened)."""

    user: UserRef
    chat: ChatRef
    token: str | None
    tz: str | None = None
    delivery: str | None = None
    locale: str | None = None  # the platform's language hint ("de", "es-ES"), if any


@dataclass(frozen=True)
class TextReceived:
    """A text message from a person."""

    user: UserRef
    chat: ChatRef
    text: str
    delivery: str | None = None  # platform delivery id, for de-duplication


@dataclass(frozen=True)
class MediaReceived:
    """A file (voice note, audio, video note, document) from a person."""

    user: UserRef
    chat: ChatRef
    media: MediaRef
    delivery: str | None = None


@dataclass(frozen=True)
class UnsupportedReceived:
    """Something the bot cannot take as an answer (sticker, photo, location...)."""

    user: UserRef
    chat: ChatRef
    what: str  # e.g. "sticker", "photo"


@dataclass(frozen=True)
class ButtonPressed:
    """A message button was pressed; `payload` is opaque and checked server-side."""

    user: UserRef
    chat: ChatRef
    payload: str
    message: MessageRef | None = None
    delivery: str | None = None


@dataclass(frozen=True)
class UserCommand:
    """A command from a person (the vocabulary of `core.vocabulary.Verb`)."""

    user: UserRef
    chat: ChatRef
    name: Verb
    delivery: str | None = None
    argument: str | None = None  # what followed the command ("/language de" -> "de")


@dataclass(frozen=True)
class ReviewerText:
    """Text a reviewer wrote for a follow-up question or a reply to a candidate's question."""

    user: UserRef
    chat: ChatRef
    target: str  # opaque id of what the text is for, from the button that asked for it
    text: str
    delivery: str | None = None


Command = (
    InviteAccepted | TextReceived | MediaReceived | UnsupportedReceived | ButtonPressed
    | UserCommand | ReviewerText
)
