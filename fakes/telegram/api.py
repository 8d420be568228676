"""The Bot API's constants, errors and limits."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeVar

JSON = dict[str, Any]
T = TypeVar("T")
DEFAULT_TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijkl"
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024
MAX_UPLOAD_SIZE = 50 * 1024 * 1024

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)

QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
CANT_INITIATE = "Forbidden: bot can't initiate conversation with a user"
BLOCKED = "Forbidden: bot was blocked by the user"
CALLBACK_QUERY_TTL = 15.0  # seconds Telegram waits for answerCallbackQuery before refusing it
CHAT_NOT_FOUND = "Bad Request: chat not found"

WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)

POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)

_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "commands",
        "scope",
        "link_preview_options",
        "reply_parameters",
        "media",
    }
)

_INT_PARAMS = frozenset(
    {
        "message_id",
        "from_chat_id",
        "offset",
        "limit",
        "duration",
        "cache_time",
        "max_connections",
        "reply_to_message_id",
        "message_thread_id",
        "width",
        "height",
        "length",
    }
)

_FLOAT_PARAMS = frozenset({"timeout"})

_BOOL_PARAMS = frozenset(
    {
        "show_alert",
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "allow_sending_without_reply",
        "disable_web_page_preview",
        "disable_content_type_detection",
    }
)

_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

_BUTTON_ACTIONS = frozenset(
    {
        "callback_data",
        "url",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "callback_game",
        "pay",
        "web_app",
        "copy_text",
    }
)

_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")

# kind -> (file_path folder, default extension, default mime type, file_id prefix)
_FILE_KINDS: dict[str, tuple[str, str, str, str]] = {
    "voice": ("voice", "oga", "audio/ogg", "AwACAgIAAxkBAA"),
    "audio": ("music", "mp3", "audio/mpeg", "CQACAgIAAxkBAA"),
    "document": ("documents", "bin", "application/octet-stream", "BQACAgIAAxkBAA"),
    "photo": ("photos", "jpg", "image/jpeg", "AgACAgIAAxkBAA"),
    "video_note": ("video_notes", "mp4", "video/mp4", "DQACAgIAAxkBAA"),
    "video": ("videos", "mp4", "video/mp4", "BAACAgIAAxkBAA"),
    "sticker": ("stickers", "webp", "image/webp", "CAACAgIAAxkBAA"),
}


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, description and optional parameters."""

    def __init__(self, status: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _utf16_slice(text: str, offset: int, length: int) -> str:
    """The part of `text` an entity's UTF-16 `offset` and `length` name."""
    data = text.encode("utf-16-le")
    return data[2 * offset:2 * (offset + length)].decode("utf-16-le", errors="replace")


@dataclass(frozen=True)
class RateLimits:
    """Token-bucket flood limits; bursts default to one period's worth (at least one message),
    except a private chat's, which tolerates a short burst of 3 as Telegram does."""

    overall_per_second: float = 30.0
    private_chat_per_second: float = 1.0
    group_per_minute: float = 20.0
    overall_burst: float | None = None
    # Telegram lets a private chat have a short burst, then holds it to about 1 message/s
    private_chat_burst: float | None = 3.0
    group_burst: float | None = None


STRICT_LIMITS = RateLimits()  # Telegram's flood limits: on in every FakeTelegram by default
