"""Records the fake Telegram keeps and answers with: people, chats, calls, files, messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .api import JSON


@dataclass(frozen=True)
class FakeUser:
    """A simulated Telegram user."""

    id: int
    first_name: str = "Test"
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"

    def to_dict(self) -> JSON:
        """The `User` object as Telegram sends it."""
        data: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        return data

    def chat_dict(self) -> JSON:
        """The private `Chat` between this user and the bot."""
        data: JSON = {"id": self.id, "type": "private", "first_name": self.first_name}
        for key in ("last_name", "username"):
            if (value := getattr(self, key)) is not None:
                data[key] = value
        return data


@dataclass(frozen=True)
class FakeGroup:
    """A simulated group chat the bot is a member of (ids below -10**12 are supergroups)."""

    id: int
    title: str

    @property
    def type(self) -> str:
        """`group` or `supergroup`, derived from the id like Telegram's numbering."""
        return "supergroup" if self.id <= -(10**12) else "group"

    def chat_dict(self) -> JSON:
        """The `Chat` object."""
        return {"id": self.id, "type": self.type, "title": self.title}


@dataclass
class Upload:
    """A file part of a multipart request."""

    data: bytes
    filename: str | None
    content_type: str | None


@dataclass
class ApiCall:
    """One request to a bot method, with its parsed parameters and the answer given."""

    method: str
    params: JSON
    files: dict[str, Upload]
    at: float
    status: int = 0
    result: Any = None
    description: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the call succeeded."""
        return self.status == 200


@dataclass
class CallbackAnswer:
    """A successful answerCallbackQuery."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None
    user_id: int
    data: str | None


@dataclass
class StoredFile:
    """A file known to the fake: sent by a simulated user or uploaded by the bot."""

    file_id: str
    file_unique_id: str
    kind: str
    data: bytes | None
    file_size: int
    file_path: str
    mime_type: str | None = None
    file_name: str | None = None
    downloadable: bool = False

    def to_file(self) -> JSON:
        """The `File` object answered by getFile."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_path": self.file_path,
        }


@dataclass
class WebhookDelivery:
    """One attempt to push an update to the webhook."""

    update_id: int
    attempt: int
    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the receiver answered 2xx."""
        return self.status is not None and 200 <= self.status < 300


@dataclass
class BotMessage:
    """A message the bot sent, kept up to date with edits and deletion."""

    chat_id: int
    message_id: int
    method: str
    payload: JSON
    seq: int
    at: float
    media: bytes | None = None
    media_kind: str | None = None
    file_id: str | None = None
    history: list[JSON] = field(default_factory=list)
    updated_seq: int = 0
    deleted: bool = False

    @property
    def text(self) -> str | None:
        """The text (or caption) as shown to the user, markup removed."""
        value = self.payload.get("text", self.payload.get("caption"))
        return value if isinstance(value, str) else None

    @property
    def reply_markup(self) -> JSON | None:
        """The current inline keyboard, if any."""
        markup = self.payload.get("reply_markup")
        return markup if isinstance(markup, dict) else None

    @property
    def edited(self) -> bool:
        """Whether the message was edited at least once."""
        return bool(self.history)

    @property
    def buttons(self) -> list[JSON]:
        """The inline keyboard buttons, row by row, flattened."""
        return inline_buttons(self.reply_markup)

    @property
    def button_labels(self) -> list[str]:
        """The labels of the inline keyboard buttons."""
        return [str(button.get("text", "")) for button in self.buttons]

    def button(self, label: str) -> str:
        """The callback_data of the first button whose label contains `label`."""
        return find_button(self.reply_markup, label)


def inline_buttons(markup: JSON | None) -> list[JSON]:
    """All buttons of an inline keyboard markup, flattened."""
    if not markup:
        return []
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def find_button(markup: JSON | None, label: str) -> str:
    """The callback_data of the first inline button whose label contains `label`."""
    for button in inline_buttons(markup):
        if label in str(button.get("text", "")) and "callback_data" in button:
            return str(button["callback_data"])
    labels = [button.get("text") for button in inline_buttons(markup)]
    raise LookupError(f"no button labelled {label!r} among {labels}")
