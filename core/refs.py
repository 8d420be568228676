"""Platform-neutral references to people, chats, messages and media."""

from __future__ import annotations

from dataclasses import dataclass

# MediaRef.transcript of a clip the platform has not finished processing: ask for it again
TRANSCRIPT_PENDING = "processing"


@dataclass(frozen=True)
class UserRef:
    """A person on a platform (a registered channel), e.g. UserRef("chat", "12345")."""

    platform: str
    id: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> UserRef:
        """Parse "platform:id"."""
        platform, _, ident = text.partition(":")
        if not platform or not ident:
            raise ValueError(f"expected platform:id, got {text!r}")
        return cls(platform, ident)


@dataclass(frozen=True)
class ChatRef:
    """A conversation on a platform: a DM, group or channel."""

    platform: str
    id: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> ChatRef:
        """Parse "platform:id"."""
        user = UserRef.parse(text)
        return cls(user.platform, user.id)


@dataclass(frozen=True)
class MessageRef:
    """A message the bot sent, so it can be edited later.

    `parts` are the platform's ids of what else was posted with it and goes with it on
    deletion: earlier pieces of a text split in several messages, uploaded files
    ("file:<id>")."""

    chat: ChatRef
    id: str
    parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class MediaRef:
    """An inbound file as the platform describes it; downloaded through the messenger."""

    platform: str
    file_id: str
    kind: str  # "voice", "audio", "video_note", "file"
    mime: str
    size: int | None = None
    duration: float | None = None
    name: str | None = None
    transcript: str | None = None  # a platform-provided transcript, or TRANSCRIPT_PENDING
    url: str | None = None
