"""A local fake of the Telegram Bot API for end-to-end tests and benchmarks.

`FakeTelegram` serves the Bot API over HTTP on 127.0.0.1 closely enough that an unmodified
python-telegram-bot `Application` runs against it::

    async with FakeTelegram() as fake:
        app = (
            ApplicationBuilder().token(fake.token)
            .base_url(fake.api_url).base_file_url(fake.file_url)
            .job_queue(None).build()
        )
        ada = fake.user(1001, first_name="Ada")
        fake.send_command(ada, "/start", "invite-token")
        reply = await fake.wait_for_message(ada.id, contains="Hi Ada")
        fake.press_button(ada, reply, label="Yes")

The test side simulates people (`user`, `group`, `send_*`, `press_button`, ...), injects faults
(`fail_next`, `drop_next`, `delay_next`) and inspects what the bot did (`messages`, `calls`,
`callback_answers`, `wait_for*`).

Strict by default, as Telegram is: flood limits (`RateLimits`: 30 messages/s overall, about 1/s
per private chat after a short burst, 20/min per group; 429 with `retry_after`); callback
queries expire (`callback_query_ttl`, 15 s); privacy mode (`privacy_mode`, as `getMe` says) keeps
group messages from the bot except commands, replies to its messages and mentions
(`withheld` lists the rest); a user who blocked the bot gets every method acting in their chat
refused with 403 "Forbidden: bot was blocked by the user". A test that turns one off
(`rate_limits=None`, `callback_query_ttl=None`, `privacy_mode=False`) says why.

After `setWebhook`, updates are pushed to the URL (with the secret header) as Telegram does:
those of different chats concurrently, up to the webhook's `max_connections`; those of one chat
one at a time, the next only once the previous was answered. A non-2xx answer, a timeout
(`webhook_timeout`) or a refused connection is retried (`webhook_max_attempts`,
`webhook_retry_delay`); every attempt is in `webhook_deliveries`.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import copy
import hashlib
import html
import itertools
import json
import math
import mimetypes
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Self, TypeVar

import aiohttp
from aiohttp import web

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


# --------------------------------------------------------------------------- public records


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


# --------------------------------------------------------------------------- formatting


class _EntityParseError(Exception):
    pass


_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


class _HtmlText(HTMLParser):
    """Telegram's HTML subset: plain text plus entities, strict about tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.parts: list[str] = []
        self.length = 0
        self.stack: list[tuple[str, int, dict[str, str | None]]] = []
        self.entities: list[JSON] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_ENTITY_TYPES:
            raise _EntityParseError(f'Unsupported start tag "{tag}"')
        attributes = dict(attrs)
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            raise _EntityParseError('Tag "span" must have class "tg-spoiler"')
        if tag == "a" and not attributes.get("href"):
            raise _EntityParseError('Tag "a" must have attribute "href"')
        self.stack.append((tag, self.length, attributes))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            raise _EntityParseError(f'Unmatched end tag "{tag}"')
        name, start, attributes = self.stack.pop()
        css = attributes.get("class") or ""
        if name == "code" and self.stack and self.stack[-1][0] == "pre":
            if css.startswith("language-"):
                self.stack[-1][2]["language"] = css.removeprefix("language-")
            return
        if self.length == start:
            return
        entity: JSON = {
            "type": _HTML_ENTITY_TYPES[name],
            "offset": start,
            "length": self.length - start,
        }
        if name == "a":
            entity["url"] = attributes["href"]
        elif name == "pre" and attributes.get("language"):
            entity["language"] = attributes["language"]
        elif name == "tg-emoji":
            entity["custom_emoji_id"] = attributes.get("emoji-id") or ""
        self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        if "<" in data:
            raise _EntityParseError('Unexpected "<": escape it as "&lt;"')
        self._emit(data)

    def handle_entityref(self, name: str) -> None:
        self._emit(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self._emit(html.unescape(f"&#{name};"))

    def _emit(self, text: str) -> None:
        self.parts.append(text)
        self.length += _utf16_len(text)

    def result(self, text: str) -> tuple[str, list[JSON]]:
        self.feed(text)
        self.close()
        if self.stack:
            raise _EntityParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"'
            )
        self.entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return "".join(self.parts), self.entities


_MD_MARKERS = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}
_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")


def _parse_markdown(text: str, *, legacy: bool) -> tuple[str, list[JSON]]:
    """MarkdownV2 (or legacy Markdown): plain text and entities, strict like Telegram."""
    out: list[str] = []
    length = 0
    entities: list[JSON] = []
    stack: list[tuple[str, int]] = []
    link_start: int | None = None

    def emit(chunk: str) -> None:
        nonlocal length
        out.append(chunk)
        length += _utf16_len(chunk)

    def close(start: int, kind: str, **extra: str) -> None:
        if length > start:
            entities.append({"type": kind, "offset": start, "length": length - start, **extra})

    def find_closing(fence: str, start: int) -> int:
        j = start
        while j < len(text):
            if text[j] == "\\" and not legacy:
                j += 2
            elif text.startswith(fence, j):
                return j
            else:
                j += 1
        return -1

    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and (not legacy or text[i + 1] in "_*`["):
            emit(text[i + 1])
            i += 2
            continue
        if text.startswith("```", i) or char == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = find_closing(fence, i + len(fence))
            if end < 0:
                kind = "Pre" if fence == "```" else "Code"
                raise _EntityParseError(f"Can't find end of {kind} entity at byte offset {i}")
            body = text[i + len(fence) : end]
            language = {}
            if fence == "```" and "\n" in body:
                first, rest = body.split("\n", 1)
                if re.fullmatch(r"[\w+#-]*", first):
                    body = rest
                    language = {"language": first} if first else {}
            if not legacy:
                body = re.sub(r"\\([`\\])", r"\1", body)
            start = length
            emit(body)
            close(start, "pre" if fence == "```" else "code", **language)
            i = end + len(fence)
            continue
        marker = next((m for m in ("__", "||", "*", "_", "~") if text.startswith(m, i)), None)
        if legacy and marker in ("__", "||", "~"):
            marker = "_" if marker == "__" else None
        if marker is not None:
            if stack and stack[-1][0] == marker:
                close(stack.pop()[1], _MD_MARKERS[marker])
            elif any(entry[0] == marker for entry in stack):
                raise _EntityParseError(f"Can't find end of {_MD_MARKERS[marker].title()} entity")
            else:
                stack.append((marker, length))
            i += len(marker)
            continue
        if char == "[" and link_start is None:
            link_start = length
            i += 1
            continue
        if char == "]" and link_start is not None:
            if not text.startswith("(", i + 1) or (end := text.find(")", i + 2)) < 0:
                raise _EntityParseError("Can't find end of a URL for a text link")
            url = text[i + 2 : end]
            if length > link_start:
                entities.append(
                    {
                        "type": "text_link",
                        "offset": link_start,
                        "length": length - link_start,
                        "url": url,
                    }
                )
            link_start = None
            i = end + 1
            continue
        if not legacy and char == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1
            continue
        if not legacy and char in _MD2_RESERVED:
            raise _EntityParseError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        emit(char)
        i += 1
    if stack:
        raise _EntityParseError(f"Can't find end of {_MD_MARKERS[stack[-1][0]].title()} entity")
    if link_start is not None:
        raise _EntityParseError("Can't find end of a text link")
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return "".join(out), entities


def parse_formatted(
    text: str, parse_mode: str | None, entities: list[JSON] | None = None
) -> tuple[str, list[JSON]]:
    """Turn text in a parse mode into (plain text, entities) or raise a Telegram-style 400."""
    try:
        if not parse_mode:
            return text, list(entities or [])
        mode = parse_mode.lower()
        if mode == "html":
            return _HtmlText().result(text)
        if mode in ("markdownv2", "markdown"):
            return _parse_markdown(text, legacy=mode == "markdown")
    except _EntityParseError as exc:
        raise _bad(f"can't parse entities: {exc}") from None
    raise _bad("unsupported parse_mode")


# --------------------------------------------------------------------------- internals


def _update_chat(update: JSON, update_id: int) -> object:
    """What Telegram orders webhook deliveries by: the chat of the update (else the update)."""
    for kind, payload in update.items():
        if kind == "update_id" or not isinstance(payload, dict):
            continue
        message = payload.get("message") if kind == "callback_query" else payload
        chat = message.get("chat") if isinstance(message, dict) else None
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return ("chat", chat["id"])
    return ("update", update_id)


class _Signal:
    """Wakes every waiter once per `notify()`."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float | None) -> None:
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)


class _Bucket:
    """A token bucket on an injectable clock."""

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = now

    def wait_time(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


@dataclass
class _Fault:
    status: int | None
    description: str | None
    retry_after: int | None
    drop: bool
    delay: float
    remaining: int


@dataclass
class _Pending:
    update: JSON
    redelivery: bool = False

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])

    @property
    def kind(self) -> str:
        return next(key for key in self.update if key != "update_id")


@dataclass
class _Query:
    user_id: int
    data: str | None
    at: float
    answered: bool = False


Handler = Callable[[JSON, dict[str, Upload]], Any]
DELETE_WINDOW = 48 * 3600  # seconds in which a bot may delete its own messages (not admin)
_RATE_LIMITED = frozenset(
    {
        "sendmessage",
        "sendvoice",
        "sendaudio",
        "senddocument",
        "sendphoto",
        "copymessage",
        "forwardmessage",
        "editmessagetext",
        "editmessagecaption",
        "editmessagereplymarkup",
    }
)


# --------------------------------------------------------------------------- the server


class FakeTelegram:
    """An in-process Telegram Bot API server with simulated users and inspection helpers."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "interviewbot_test_bot",
        bot_first_name: str = "Interview Bot",
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: RateLimits | None = STRICT_LIMITS,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        webhook_max_attempts: int = 3,
        webhook_retry_delay: float = 0.05,
        webhook_timeout: float = 10.0,
        callback_query_ttl: float | None = CALLBACK_QUERY_TTL,
        privacy_mode: bool = True,
    ) -> None:
        self.token = token
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 123456789
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.host = host
        self.port = port
        self.clock = clock
        self.wall_clock = wall_clock
        self.webhook_max_attempts = webhook_max_attempts
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_timeout = webhook_timeout
        self.callback_query_ttl = callback_query_ttl
        self.privacy_mode = privacy_mode
        self.withheld: list[JSON] = []  # group messages privacy mode kept from the bot

        self.calls: list[ApiCall] = []
        self.callback_answers: list[CallbackAnswer] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.files: dict[str, StoredFile] = {}
        self.rate_limit_hits = 0
        self.faults_served = 0

        self._users: dict[int, FakeUser] = {}
        self._groups: dict[int, FakeGroup] = {}
        self._started: set[int] = set()
        self._blocked: set[int] = set()
        self._bot_messages: dict[tuple[int, int], BotMessage] = {}
        self._bot_log: list[BotMessage] = []
        self._chat_logs: dict[int, list[BotMessage]] = {}
        self._chat_signals: dict[int, _Signal] = {}
        self._user_messages: dict[tuple[int, int], JSON] = {}
        self._next_message_id: dict[int, int] = {}
        self._queue: list[_Pending] = []
        self._history: dict[int, JSON] = {}
        self.update_times: dict[int, float] = {}
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._file_numbers = itertools.count(1)
        self._queries: dict[str, _Query] = {}
        self._files_by_path: dict[str, StoredFile] = {}
        self._faults: dict[str, list[_Fault]] = {}
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._seq = 0
        self._last_action: dict[int, int] = {}
        self._changed = _Signal()
        self._updates_changed = _Signal()
        self._closing = False
        # groups where the bot is an admin with the right to delete messages (any age)
        self.delete_rights: set[int] = set()
        self._chat_faults: dict[int, list[_Fault]] = {}

        self._rate_limits = rate_limits
        self._overall_bucket: _Bucket | None = None
        self._chat_buckets: dict[int, _Bucket] = {}

        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self._webhook_info: JSON = {}
        self._webhook_task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None

        self._methods: dict[str, tuple[str, Handler]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "logOut": self._true,
                "close": self._true,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "sendMessage": self._send_message,
                "sendVoice": self._send_voice,
                "sendAudio": self._send_audio,
                "sendDocument": self._send_document,
                "sendPhoto": self._send_photo,
                "copyMessage": self._copy_message,
                "forwardMessage": self._forward_message,
                "editMessageText": self._edit_message_text,
                "editMessageCaption": self._edit_message_caption,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "answerCallbackQuery": self._answer_callback_query,
                "getFile": self._get_file,
                "sendChatAction": self._send_chat_action,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "getChat": self._get_chat,
                "getChatMember": self._get_chat_member,
            }.items()
        }

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> Self:
        """Start serving; `port=0` picks a free port (see `url`)."""
        app = web.Application(client_max_size=MAX_UPLOAD_SIZE + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_download)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._session = aiohttp.ClientSession()
        self._closing = False
        return self

    async def stop(self) -> None:
        """Release waiting long polls, stop webhook delivery and the server."""
        self._closing = True
        self._signal_updates()
        await self._stop_webhook_worker()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """Base URL of the server, e.g. `http://127.0.0.1:41234`."""
        if self._runner is None:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """Value for PTB's `base_url` / TELEGRAM_API_URL (token is appended)."""
        return f"{self.url}/bot"

    @property
    def file_url(self) -> str:
        """Value for PTB's `base_file_url` / TELEGRAM_FILE_URL (token is appended)."""
        return f"{self.url}/file/bot"

    @property
    def bot_user(self) -> JSON:
        """The bot's own `User` object."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # ----------------------------------------------------------------- configuration

    @property
    def rate_limits(self) -> RateLimits | None:
        """Flood limits enforced on sending methods; None (the default) disables them."""
        return self._rate_limits

    @rate_limits.setter
    def rate_limits(self, limits: RateLimits | None) -> None:
        self._rate_limits = limits
        self._overall_bucket = None
        self._chat_buckets.clear()

    def fail_next(
        self,
        method: str,
        status: int = 429,
        *,
        retry_after: int | None = None,
        times: int = 1,
        description: str | None = None,
    ) -> None:
        """Answer the next `times` calls of `method` (`"*"`: any, `"download"`: files) with an
        error; a 429 carries `retry_after` (default 1) and a Retry-After header."""
        if status == 429 and retry_after is None:
            retry_after = 1
        self._add_fault(method, _Fault(status, description, retry_after, False, 0.0, times))

    def drop_next(self, method: str, *, times: int = 1) -> None:
        """Close the connection without answering the next `times` calls of `method`."""
        self._add_fault(method, _Fault(None, None, None, True, 0.0, times))

    def delay_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Hold the next `times` calls of `method` for `seconds`, then process them normally."""
        self._add_fault(method, _Fault(None, None, None, False, seconds, times))

    def fail_chat(self, chat_id: int, status: int = 502, *, times: int = 1,
                  description: str | None = None) -> None:
        """Answer the next `times` calls of any method aimed at `chat_id` with an error (an
        unreachable review group, say), whatever the method."""
        if times < 1:
            raise ValueError("times must be at least 1")
        retry = 1 if status == 429 else None
        self._chat_faults.setdefault(chat_id, []).append(
            _Fault(status, description, retry, False, 0.0, times))

    def delay_chat(self, chat_id: int, seconds: float, *, times: int = 1) -> None:
        """Hold the next `times` calls aimed at `chat_id` for `seconds` each (a slow chat)."""
        if times < 1:
            raise ValueError("times must be at least 1")
        self._chat_faults.setdefault(chat_id, []).append(
            _Fault(None, None, None, False, seconds, times))

    def grant_delete_rights(self, chat_id: int) -> None:
        """Make the bot an admin of a group with the right to delete messages: it may then
        delete messages of any age there (otherwise only its own, within 48 hours)."""
        self.delete_rights.add(chat_id)

    def _take_chat_fault(self, params: JSON) -> _Fault | None:
        chat_id = params.get("chat_id")
        faults = self._chat_faults.get(chat_id) if isinstance(chat_id, int) else None
        if not faults:
            return None
        fault = faults[0]
        fault.remaining -= 1
        if fault.remaining == 0:
            faults.pop(0)
        self.faults_served += 1
        return fault

    def _add_fault(self, method: str, fault: _Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("times must be at least 1")
        self._faults.setdefault(method.lower(), []).append(fault)

    def _take_fault(self, method: str) -> _Fault | None:
        for key in (method.lower(), "*"):
            faults = self._faults.get(key)
            if faults:
                fault = faults[0]
                fault.remaining -= 1
                if fault.remaining == 0:
                    faults.pop(0)
                self.faults_served += 1
                return fault
        return None

    # ----------------------------------------------------------------- simulated people

    def user(
        self,
        id: int,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        started: bool = False,
    ) -> FakeUser:
        """Register a simulated user; `started=True` acts as if they had already written."""
        if id <= 0:
            raise ValueError("user ids are positive")
        user = FakeUser(id, first_name, last_name, username, language_code)
        self._users[id] = user
        if started:
            self._started.add(id)
        return user

    def group(self, id: int, title: str = "Reviewers") -> FakeGroup:
        """Register a group chat (negative id) that the bot is a member of."""
        if id >= 0:
            raise ValueError("group ids are negative")
        group = FakeGroup(id, title)
        self._groups[id] = group
        return group

    def block(self, user: FakeUser, *, notify: bool = True) -> JSON | None:
        """The user blocks the bot; with `notify`, a my_chat_member update is enqueued."""
        self._blocked.add(user.id)
        if not notify:
            return None
        return self._enqueue(
            "my_chat_member",
            {
                "chat": user.chat_dict(),
                "from": user.to_dict(),
                "date": int(self.wall_clock()),
                "old_chat_member": {"user": self.bot_user, "status": "member"},
                "new_chat_member": {"user": self.bot_user, "status": "kicked", "until_date": 0},
            },
            chat_id=user.id,
        )

    def send_text(
        self,
        user: FakeUser,
        text: str,
        *,
        chat: FakeGroup | None = None,
        reply_to: BotMessage | int | None = None,
        entities: list[JSON] | None = None,
    ) -> JSON:
        """The user sends a text message; returns the enqueued Update."""
        content: JSON = {"text": text}
        if entities:
            content["entities"] = entities
        return self._user_message(user, chat, content, reply_to)

    def send_command(
        self,
        user: FakeUser,
        command: str,
        payload: str | None = None,
        *,
        chat: FakeGroup | None = None,
        mention: bool = False,
    ) -> JSON:
        """The user sends `/command [payload]` (a deep link opens as `/start <payload>`)."""
        command = command if command.startswith("/") else f"/{command}"
        if mention:
            command = f"{command}@{self.bot_username}"
        text = f"{command} {payload}" if payload else command
        entities = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
        return self._user_message(user, chat, {"text": text, "entities": entities}, None)

    def send_voice(
        self,
        user: FakeUser,
        data: bytes,
        duration: int = 3,
        mime: str = "audio/ogg",
        *,
        file_size: int | None = None,
        caption: str | None = None,
        chat: FakeGroup | None = None,
        reply_to: BotMessage | int | None = None,
    ) -> JSON:
        """The user sends a voice note made of `data`."""
        stored = self._store_file("voice", data, mime, None, file_size)
        voice = self._media_object(stored) | {"duration": duration}
        return self._user_message(user, chat, self._captioned({"voice": voice}, caption), reply_to)

    def send_audio(
        self,
        user: FakeUser,
        data: bytes,
        duration: int = 3,
        mime: str = "audio/mpeg",
        file_name: str = "audio.mp3",
        *,
        performer: str | None = None,
        title: str | None = None,
        file_size: int | None = None,
        caption: str | None = None,
        chat: FakeGroup | None = None,
        reply_to: BotMessage | int | None = None,
    ) -> JSON:
        """The user sends an audio file (a music-player attachment, not a voice note)."""
        stored = self._store_file("audio", data, mime, file_name, file_size)
        audio = self._media_object(stored) | {"duration": duration}
        if performer is not None:
            audio["performer"] = performer
        if title is not None:
            audio["title"] = title
        return self._user_message(user, chat, self._captioned({"audio": audio}, caption), reply_to)

    def send_video_note(
        self,
        user: FakeUser,
        data: bytes,
        duration: int = 3,
        *,
        length: int = 240,
        file_size: int | None = None,
        chat: FakeGroup | None = None,
    ) -> JSON:
        """The user sends a round video note."""
        stored = self._store_file("video_note", data, "video/mp4", None, file_size)
        note = self._media_object(stored) | {"duration": duration, "length": length}
        note.pop("mime_type", None)
        return self._user_message(user, chat, {"video_note": note}, None)

    def send_document(
        self,
        user: FakeUser,
        data: bytes,
        file_name: str = "document.pdf",
        mime: str | None = None,
        *,
        file_size: int | None = None,
        caption: str | None = None,
        chat: FakeGroup | None = None,
    ) -> JSON:
        """The user sends a file as a document."""
        mime = mime or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        stored = self._store_file("document", data, mime, file_name, file_size)
        content = self._captioned({"document": self._media_object(stored)}, caption)
        return self._user_message(user, chat, content, None)

    def send_photo(
        self,
        user: FakeUser,
        data: bytes = b"\xff\xd8\xff\xe0fake-jpeg",
        *,
        width: int = 1280,
        height: int = 960,
        caption: str | None = None,
        chat: FakeGroup | None = None,
    ) -> JSON:
        """The user sends a photo (Telegram lists several sizes, largest last)."""
        sizes = []
        for scale in (16, 4, 1):
            stored = self._store_file("photo", data, "image/jpeg", None, None)
            size = self._media_object(stored)
            size.pop("mime_type", None)
            size.update(width=max(1, width // scale), height=max(1, height // scale))
            sizes.append(size)
        return self._user_message(user, chat, self._captioned({"photo": sizes}, caption), None)

    def send_sticker(
        self,
        user: FakeUser,
        emoji: str = "👍",
        *,
        data: bytes = b"RIFF\x00\x00\x00\x00WEBPfake",
        set_name: str | None = "FakeStickers",
        chat: FakeGroup | None = None,
    ) -> JSON:
        """The user sends a sticker."""
        stored = self._store_file("sticker", data, "image/webp", None, None)
        sticker = self._media_object(stored)
        sticker.pop("mime_type", None)
        sticker.update(
            type="regular", width=512, height=512, is_animated=False, is_video=False, emoji=emoji
        )
        if set_name:
            sticker["set_name"] = set_name
        return self._user_message(user, chat, {"sticker": sticker}, None)

    def send_message(self, user: FakeUser, content: JSON, *, chat: FakeGroup | None = None) -> JSON:
        """The user sends a message with arbitrary content fields (location, contact, ...)."""
        return self._user_message(user, chat, dict(content), None)

    def edit_text(self, user: FakeUser, message: JSON | int, text: str) -> JSON:
        """The user edits one of their text messages (an `edited_message` update).

        `message` is the Update returned by `send_text`, its message, or a message_id in the
        user's private chat.
        """
        if isinstance(message, int):
            key = (user.id, message)
        else:
            inner = message.get("message", message)
            key = (int(inner["chat"]["id"]), int(inner["message_id"]))
        original = self._user_messages.get(key)
        if original is None:
            raise LookupError(f"no message {key[1]} from the user in chat {key[0]}")
        if original["from"]["id"] != user.id:
            raise ValueError("people can only edit their own messages")
        original.pop("entities", None)
        original.update(text=text, edit_date=int(self.wall_clock()))
        self._last_action[key[0]] = self._seq
        return self._enqueue("edited_message", copy.deepcopy(original), chat_id=key[0])

    def press_button(
        self,
        user: FakeUser,
        message: BotMessage,
        callback_data: str | None = None,
        *,
        label: str | None = None,
    ) -> JSON:
        """The user taps an inline button of a bot message (by data, or by label substring).

        Data is not checked against the current keyboard, so stale buttons can be pressed.
        """
        if callback_data is None:
            if label is None:
                raise ValueError("give callback_data or label")
            callback_data = message.button(label)
        query_id = f"{self.bot_id}{next(self._query_ids):010d}"
        self._queries[query_id] = _Query(user.id, callback_data, self.clock())
        digest = hashlib.sha1(f"{self.bot_id}:{message.chat_id}".encode()).hexdigest()
        query: JSON = {
            "id": query_id,
            "from": user.to_dict(),
            "message": copy.deepcopy(message.payload),
            "chat_instance": str(int(digest[:15], 16)),
            "data": callback_data,
        }
        self._last_action[message.chat_id] = self._seq
        return self._enqueue("callback_query", query, chat_id=message.chat_id)

    def inject(self, kind: str, payload: JSON) -> JSON:
        """Enqueue a raw update of any kind (`{"update_id": n, kind: payload}`)."""
        return self._enqueue(kind, payload)

    def redeliver(self, update_id: int) -> JSON:
        """Deliver an already injected update once more, identical, even if confirmed."""
        update = self._history[update_id]
        entry = _Pending(copy.deepcopy(update), redelivery=True)
        keys = [pending.update_id for pending in self._queue]
        self._queue.insert(bisect.bisect_right(keys, update_id), entry)
        self._signal_updates()
        return update

    # ----------------------------------------------------------------- inspection

    def messages(
        self, chat_id: int | None = None, *, include_deleted: bool = False
    ) -> list[BotMessage]:
        """Messages the bot sent, oldest first, edits applied; all chats if chat_id is None."""
        log = self._bot_log if chat_id is None else self._chat_logs.get(chat_id, [])
        return [message for message in log if include_deleted or not message.deleted]

    def last_message(self, chat_id: int) -> BotMessage:
        """The latest message the bot sent to a chat."""
        found = self.messages(chat_id)
        if not found:
            raise LookupError(f"the bot sent nothing to chat {chat_id}")
        return found[-1]

    def message(self, chat_id: int, message_id: int) -> BotMessage:
        """A bot message by id."""
        return self._bot_messages[(chat_id, message_id)]

    def calls_to(self, method: str) -> list[ApiCall]:
        """Calls of one method, in order."""
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def update(self, update_id: int) -> JSON:
        """An injected update by id."""
        return self._history[update_id]

    @property
    def pending_updates(self) -> int:
        """Updates not yet confirmed by getUpdates (or not yet pushed to the webhook)."""
        return len(self._queue)

    def is_started(self, user: FakeUser | int) -> bool:
        """Whether the user has written to the bot (so the bot may message them)."""
        return (user.id if isinstance(user, FakeUser) else user) in self._started

    def mark(self) -> int:
        """A position in the bot's message log, for `wait_for_message(since=...)`."""
        return self._seq

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float = 10.0) -> T:
        """Wait until `predicate()` is truthy and return its value.

        The predicate is re-evaluated whenever the fake's state changes; the timeout only
        bounds a failing wait.
        """
        return await self._wait_until(predicate, timeout, self._changed, self._bot_log)

    async def _wait_until(
        self,
        predicate: Callable[[], T | None],
        timeout: float,
        signal: _Signal,
        log: list[BotMessage],
    ) -> T:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = [(m.chat_id, m.text) for m in log[-5:]]
                raise TimeoutError(f"condition not met in {timeout}s; last bot messages: {recent}")
            await signal.wait(remaining)

    async def wait_for_message(
        self,
        chat_id: int,
        contains: str | None = None,
        *,
        since: int | None = None,
        include_edits: bool = False,
        predicate: Callable[[BotMessage], bool] | None = None,
        timeout: float = 10.0,
    ) -> BotMessage:
        """Wait for a bot message in `chat_id` whose text contains `contains`.

        Only messages sent after the latest simulated action in that chat count, unless `since`
        (a `mark()`, or 0 for all) says otherwise; with `include_edits`, a message edited after
        that point counts too.
        """
        start = self._last_action.get(chat_id, 0) if since is None else since
        log = self._chat_logs.setdefault(chat_id, [])

        def match() -> BotMessage | None:
            for message in log:
                if message.deleted:
                    continue
                fresh = message.seq > start or (include_edits and message.updated_seq > start)
                if not fresh:
                    continue
                if contains is not None and contains not in (message.text or ""):
                    continue
                if predicate is not None and not predicate(message):
                    continue
                return message
            return None

        signal = self._chat_signals.setdefault(chat_id, _Signal())
        return await self._wait_until(match, timeout, signal, log)

    async def wait_for_call(
        self,
        method: str,
        predicate: Callable[[ApiCall], bool] | None = None,
        *,
        after: int = 0,
        timeout: float = 10.0,
    ) -> ApiCall:
        """Wait for a call of `method` (index in `calls` >= `after`) that satisfies `predicate`."""

        def match() -> ApiCall | None:
            for call in self.calls[after:]:
                if (
                    call.status
                    and call.method.lower() == method.lower()
                    and (predicate is None or predicate(call))
                ):
                    return call
            return None

        return await self.wait_for(match, timeout)

    # ----------------------------------------------------------------- plumbing

    def _signal(self) -> None:
        self._changed.notify()

    def _signal_updates(self) -> None:
        self._updates_changed.notify()
        self._changed.notify()

    def _signal_chat(self, chat_id: int) -> None:
        signal = self._chat_signals.get(chat_id)
        if signal is not None:
            signal.notify()
        self._changed.notify()

    def _enqueue(self, kind: str, payload: JSON, *, chat_id: int | None = None) -> JSON:
        update_id = next(self._update_ids)
        update = {"update_id": update_id, kind: payload}
        self._history[update_id] = update
        self.update_times[update_id] = self.clock()
        self._queue.append(_Pending(copy.deepcopy(update)))
        if chat_id is not None:
            self._last_action[chat_id] = self._seq
        self._signal_updates()
        return update

    def _new_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _user_message(
        self,
        user: FakeUser,
        chat: FakeGroup | None,
        content: JSON,
        reply_to: BotMessage | int | None,
    ) -> JSON:
        self._users.setdefault(user.id, user)
        if chat is None:
            chat_id, chat_obj = user.id, user.chat_dict()
            self._started.add(user.id)
            self._blocked.discard(user.id)
        else:
            self._groups.setdefault(chat.id, chat)
            chat_id, chat_obj = chat.id, chat.chat_dict()
        message: JSON = {
            "message_id": self._new_message_id(chat_id),
            "from": user.to_dict(),
            "chat": chat_obj,
            "date": int(self.wall_clock()),
            **content,
        }
        if reply_to is not None:
            reply_id = reply_to.message_id if isinstance(reply_to, BotMessage) else reply_to
            original = self._find_message(chat_id, reply_id)
            if original is None:
                raise LookupError(f"no message {reply_id} in chat {chat_id}")
            message["reply_to_message"] = {
                k: v for k, v in original.items() if k != "reply_to_message"
            }
        self._user_messages[(chat_id, message["message_id"])] = message
        if chat is not None and self.privacy_mode and not self._meant_for_bot(message):
            # privacy mode: the bot never receives this group message
            withheld = {"update_id": None, "message": copy.deepcopy(message)}
            self.withheld.append(withheld)
            return withheld
        return self._enqueue("message", copy.deepcopy(message), chat_id=chat_id)

    def _meant_for_bot(self, message: JSON) -> bool:
        """What a bot in privacy mode receives from a group: commands (a bare `/cmd` or
        `/cmd@thisbot`, not `/cmd@otherbot`), replies to its own messages, and messages that
        mention it."""
        text = str(message.get("text") or message.get("caption") or "")
        entities = message.get("entities") or message.get("caption_entities") or []
        me = f"@{self.bot_username}".lower()
        for entity in entities:
            part = _utf16_slice(text, int(entity["offset"]), int(entity["length"]))
            if entity.get("type") == "bot_command" and entity.get("offset") == 0:
                _, _, target = part.partition("@")
                if not target or f"@{target}".lower() == me:
                    return True
            if entity.get("type") == "mention" and part.lower() == me:
                return True
        reply = message.get("reply_to_message")
        if isinstance(reply, dict):
            author = reply.get("from")
            if isinstance(author, dict) and author.get("id") == self.bot_id:
                return True
        return False

    @staticmethod
    def _captioned(content: JSON, caption: str | None) -> JSON:
        if caption is not None:
            content["caption"] = caption
        return content

    def _store_file(
        self,
        kind: str,
        data: bytes | None,
        mime: str | None,
        file_name: str | None,
        file_size: int | None,
    ) -> StoredFile:
        folder, default_ext, default_mime, prefix = _FILE_KINDS[kind]
        number = next(self._file_numbers)
        digest = hashlib.sha256(data or str(number).encode()).hexdigest()
        ext = default_ext
        if file_name and "." in file_name:
            ext = file_name.rsplit(".", 1)[1]
        elif kind in ("audio", "document") and mime:
            guessed = mimetypes.guess_extension(mime)
            ext = guessed.lstrip(".") if guessed else ext
        stored = StoredFile(
            file_id=f"{prefix}{number:06d}{digest[:24]}",
            file_unique_id=f"AgAD{digest[:12]}",
            kind=kind,
            data=data,
            file_size=len(data or b"") if file_size is None else file_size,
            file_path=f"{folder}/file_{number}.{ext}",
            mime_type=mime or default_mime,
            file_name=file_name,
        )
        self.files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    @staticmethod
    def _media_object(stored: StoredFile) -> JSON:
        media: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.file_size,
        }
        if stored.mime_type:
            media["mime_type"] = stored.mime_type
        if stored.file_name:
            media["file_name"] = stored.file_name
        return media

    def _find_message(self, chat_id: int, message_id: int) -> JSON | None:
        bot_message = self._bot_messages.get((chat_id, message_id))
        if bot_message is not None and not bot_message.deleted:
            return bot_message.payload
        return self._user_messages.get((chat_id, message_id))

    # ----------------------------------------------------------------- HTTP

    @staticmethod
    def _json_response(
        body: JSON, status: int = 200, headers: dict[str, str] | None = None
    ) -> web.Response:
        return web.Response(
            body=json.dumps(body, ensure_ascii=False).encode(),
            status=status,
            content_type="application/json",
            headers=headers,
        )

    def _error_response(self, error: ApiError) -> web.Response:
        headers = None
        if error.parameters and "retry_after" in error.parameters:
            headers = {"Retry-After": str(error.parameters["retry_after"])}
        return self._json_response(error.body(), error.status, headers)

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._error_response(ApiError(401, "Unauthorized"))
        name = request.match_info["method"]
        known = self._methods.get(name.lower())
        try:
            params, uploads = await self._read_params(request)
        except ApiError as exc:
            return self._error_response(exc)
        except ConnectionResetError:
            return web.Response()
        call = ApiCall(known[0] if known else name, params, uploads, self.clock())
        self.calls.append(call)
        response = await self._dispatch(request, call, known)
        if response is None:
            return web.Response()
        call.status = response.status
        self._signal()
        return response

    async def _dispatch(
        self, request: web.Request, call: ApiCall, known: tuple[str, Handler] | None
    ) -> web.Response | None:
        if known is None:
            call.description = "Not Found"
            return self._error_response(ApiError(404, "Not Found"))
        fault = self._take_fault(call.method) or self._take_chat_fault(call.params)
        try:
            if fault is not None:
                await self._apply_fault(request, fault)
                if fault.drop:
                    return None
            self._check_blocked(call)
            if call.method.lower() in _RATE_LIMITED:
                self._check_rate(call.params)
            call.result = await known[1](call.params, call.files)
        except ApiError as exc:
            call.description = exc.description
            return self._error_response(exc)
        return self._json_response({"ok": True, "result": call.result})

    async def _apply_fault(self, request: web.Request, fault: _Fault) -> None:
        if fault.delay:
            await asyncio.sleep(fault.delay)
        if fault.drop:
            if request.transport is not None:
                request.transport.abort()
            return
        if fault.status is None:
            return
        if fault.status == 429:
            seconds = fault.retry_after or 1
            raise ApiError(
                429,
                fault.description or f"Too Many Requests: retry after {seconds}",
                {"retry_after": seconds},
            )
        default = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
        raise ApiError(fault.status, fault.description or default.get(fault.status, "Error"))

    async def _read_params(self, request: web.Request) -> tuple[JSON, dict[str, Upload]]:
        raw: JSON = dict(request.query)
        uploads: dict[str, Upload] = {}
        if request.body_exists:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise _bad("can't parse JSON object") from None
                if not isinstance(body, dict):
                    raise _bad("can't parse JSON object")
                raw.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        uploads[key] = Upload(value.file.read(), value.filename, value.content_type)
                    else:
                        raw[key] = value
        return {key: self._coerce(key, value) for key, value in raw.items()}, uploads

    @staticmethod
    def _coerce(key: str, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if key in _JSON_PARAMS:
            try:
                return json.loads(value)
            except ValueError:
                raise _bad(f"can't parse {key} JSON object") from None
        if key in _INT_PARAMS or key in _FLOAT_PARAMS:
            try:
                return int(value) if key in _INT_PARAMS else float(value)
            except ValueError:
                raise _bad(f'field "{key}" must be a Number') from None
        if key in _BOOL_PARAMS:
            return value.lower() in ("true", "1")
        if key == "chat_id" and re.fullmatch(r"-?\d+", value):
            return int(value)
        return value

    async def _handle_download(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._error_response(ApiError(401, "Unauthorized"))
        path = request.match_info["path"]
        call = ApiCall("download", {"file_path": path}, {}, self.clock())
        self.calls.append(call)
        fault = self._take_fault("download")
        try:
            if fault is not None:
                await self._apply_fault(request, fault)
                if fault.drop:
                    return web.Response()
            stored = self._files_by_path.get(path)
            if stored is None or not stored.downloadable or stored.data is None:
                raise ApiError(404, "Not Found")
        except ApiError as exc:
            call.status, call.description = exc.status, exc.description
            self._signal()
            return self._error_response(exc)
        call.status = 200
        self._signal()
        return web.Response(body=stored.data, content_type="application/octet-stream")

    # ----------------------------------------------------------------- blocked users

    def _check_blocked(self, call: ApiCall) -> None:
        """A user who blocked the bot: every method that acts in their chat (send, edit,
        delete, chat actions, answering their callback queries) is refused with 403."""
        method = call.method.lower()
        if method.startswith("get") or method in {"setwebhook", "deletewebhook"}:
            return
        chat_id = call.params.get("chat_id")
        if method == "answercallbackquery":
            query = self._queries.get(str(call.params.get("callback_query_id") or ""))
            chat_id = query.user_id if query is not None else None
        if isinstance(chat_id, int) and chat_id in self._blocked:
            raise ApiError(403, BLOCKED)

    # ----------------------------------------------------------------- rate limiting

    def _check_rate(self, params: JSON) -> None:
        limits = self._rate_limits
        chat_id = params.get("chat_id")
        if limits is None or not isinstance(chat_id, int):
            return
        now = self.clock()
        if self._overall_bucket is None:
            rate = limits.overall_per_second
            self._overall_bucket = _Bucket(rate, limits.overall_burst or max(1.0, rate), now)
        bucket = self._chat_buckets.get(chat_id)
        if bucket is None:
            if chat_id > 0:
                rate = limits.private_chat_per_second
                capacity = limits.private_chat_burst or max(1.0, rate)
            else:
                rate = limits.group_per_minute / 60
                capacity = limits.group_burst or max(1.0, limits.group_per_minute)
            bucket = self._chat_buckets[chat_id] = _Bucket(rate, capacity, now)
        wait = max(self._overall_bucket.wait_time(now), bucket.wait_time(now))
        if wait > 0:
            self.rate_limit_hits += 1
            seconds = max(1, math.ceil(wait))
            raise ApiError(
                429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds}
            )
        self._overall_bucket.tokens -= 1
        bucket.tokens -= 1

    # ----------------------------------------------------------------- validation helpers

    def _chat_for_sending(self, params: JSON) -> JSON:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        if not isinstance(chat_id, int):
            raise ApiError(400, CHAT_NOT_FOUND)
        if chat_id in self._groups:
            return self._groups[chat_id].chat_dict()
        user = self._users.get(chat_id)
        if user is None:
            raise ApiError(400, CHAT_NOT_FOUND)
        if chat_id in self._blocked:
            raise ApiError(403, BLOCKED)
        if chat_id not in self._started:
            raise ApiError(403, CANT_INITIATE)
        return user.chat_dict()

    @staticmethod
    def _check_markup(markup: Any) -> JSON | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return None
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad(
                'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
            )
        for button in (button for row in rows for button in row):
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise _bad("can't parse inline keyboard button: Text buttons are unallowed")
            if not _BUTTON_ACTIONS & button.keys():
                raise _bad(
                    "can't parse inline keyboard button: Text buttons are unallowed in "
                    "the inline keyboard"
                )
            if "callback_data" in button:
                size = len(str(button["callback_data"]).encode())
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise _bad("BUTTON_DATA_INVALID")
            if "url" in button and not re.match(r"(https?|tg)://", str(button["url"])):
                raise _bad("BUTTON_URL_INVALID")
        return {"inline_keyboard": [[dict(button) for button in row] for row in rows]}

    def _reply_to(self, chat_id: int, params: JSON) -> JSON | None:
        reply = params.get("reply_parameters")
        message_id = params.get("reply_to_message_id")
        allow = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow = allow or bool(reply.get("allow_sending_without_reply"))
        if message_id is None:
            return None
        original = self._find_message(chat_id, int(message_id))
        if original is None:
            if allow:
                return None
            raise _bad("message to be replied not found")
        return {k: v for k, v in original.items() if k != "reply_to_message"}

    def _record_bot_message(
        self,
        method: str,
        chat: JSON,
        params: JSON,
        content: JSON,
        stored: StoredFile | None = None,
        extra: JSON | None = None,
    ) -> BotMessage:
        chat_id = int(chat["id"])
        markup = self._check_markup(params.get("reply_markup"))
        reply = self._reply_to(chat_id, params)
        payload: JSON = {
            "message_id": self._new_message_id(chat_id),
            "from": self.bot_user,
            "chat": chat,
            "date": int(self.wall_clock()),
            **(extra or {}),
            **content,
        }
        if markup is not None:
            payload["reply_markup"] = markup
        if reply is not None:
            payload["reply_to_message"] = reply
        self._seq += 1
        message = BotMessage(
            chat_id=chat_id,
            message_id=payload["message_id"],
            method=method,
            payload=payload,
            seq=self._seq,
            at=self.clock(),
            media=stored.data if stored else None,
            media_kind=stored.kind if stored else None,
            file_id=stored.file_id if stored else None,
            updated_seq=self._seq,
        )
        self._bot_messages[(chat_id, message.message_id)] = message
        self._bot_log.append(message)
        self._chat_logs.setdefault(chat_id, []).append(message)
        self._signal_chat(chat_id)
        return message

    @staticmethod
    def _formatted(
        params: JSON, text_key: str, entities_key: str, limit: int, too_long: str
    ) -> JSON:
        text = params.get(text_key)
        if text is None:
            return {}
        plain, entities = parse_formatted(
            str(text), params.get("parse_mode"), params.get(entities_key)
        )
        if len(plain) > limit:
            raise _bad(too_long)
        content: JSON = {text_key: plain}
        if entities:
            content[entities_key] = entities
        return content

    def _text_content(self, params: JSON) -> JSON:
        content = self._formatted(
            params, "text", "entities", MAX_TEXT_LENGTH, "message is too long"
        )
        if not content.get("text", "").strip():
            raise _bad("message text is empty")
        return content

    def _message_for_edit(self, params: JSON) -> BotMessage:
        if "inline_message_id" in params:
            raise _bad("MESSAGE_ID_INVALID")
        chat_id, message_id = params.get("chat_id"), params.get("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        if not isinstance(chat_id, int) or (
            chat_id not in self._groups and chat_id not in self._users
        ):
            raise _bad("chat not found")
        message = self._bot_messages.get((chat_id, int(message_id)))
        if message is None or message.deleted:
            if (chat_id, int(message_id)) in self._user_messages:
                raise _bad("message can't be edited")
            raise _bad("message to edit not found")
        return message

    def _apply_edit(self, message: BotMessage, changes: JSON, markup: JSON | None) -> JSON:
        current = {key: message.payload.get(key) for key in changes}
        if current == changes and message.reply_markup == markup:
            raise ApiError(400, NOT_MODIFIED)
        message.history.append(copy.deepcopy(message.payload))
        for key, value in changes.items():
            if value is None:
                message.payload.pop(key, None)
            else:
                message.payload[key] = value
        if markup is None:
            message.payload.pop("reply_markup", None)
        else:
            message.payload["reply_markup"] = markup
        message.payload["edit_date"] = int(self.wall_clock())
        self._seq += 1
        message.updated_seq = self._seq
        self._signal_chat(message.chat_id)
        return message.payload

    # ----------------------------------------------------------------- bot methods

    async def _true(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        return True

    async def _get_me(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        return self.bot_user | {
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_chat(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int) and chat_id in self._groups:
            return self._groups[chat_id].chat_dict() | {
                "accent_color_id": 0,
                "max_reaction_count": 11,
            }
        if isinstance(chat_id, int) and chat_id in self._users and chat_id in self._started:
            return self._users[chat_id].chat_dict() | {
                "accent_color_id": 0,
                "max_reaction_count": 11,
            }
        raise _bad("chat not found")

    async def _get_updates(self, params: JSON, uploads: dict[str, Upload]) -> list[JSON]:
        if self.webhook_url:
            raise ApiError(409, WEBHOOK_CONFLICT)
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else None
        self._confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        self._signal_updates()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self.webhook_url:
                raise ApiError(409, WEBHOOK_CONFLICT)
            if generation != self._poll_generation:
                raise ApiError(409, POLL_CONFLICT)
            batch = self._take(limit)
            remaining = deadline - loop.time()
            if batch or self._closing or remaining <= 0:
                return batch
            await self._updates_changed.wait(remaining)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._queue = [
                entry for entry in self._queue if entry.update_id >= offset or entry.redelivery
            ]
        elif offset < 0:
            self._queue = self._queue[offset:]

    def _is_allowed(self, entry: _Pending) -> bool:
        if self._allowed_updates is None:
            return entry.kind not in _DEFAULT_EXCLUDED_UPDATES
        return entry.kind in self._allowed_updates

    def _take(self, limit: int) -> list[JSON]:
        self._queue = [entry for entry in self._queue if self._is_allowed(entry)]
        batch = self._queue[:limit]
        for entry in batch:
            entry.redelivery = False
        return [entry.update for entry in batch]

    async def _set_webhook(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        url = str(params.get("url") or "")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(str(secret)):
            raise _bad("secret token contains unallowed characters")
        if url and not re.match(r"https?://", url):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates"):
            self._queue.clear()
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = frozenset(allowed) if allowed else None
        await self._stop_webhook_worker()
        self.webhook_url = url or None
        self.webhook_secret = str(secret) if secret is not None and url else None
        self._webhook_info = {"max_connections": int(params.get("max_connections") or 40)}
        if self.webhook_url:
            self._webhook_task = asyncio.create_task(self._webhook_loop())
        self._poll_generation += 1
        self._signal_updates()
        return True

    async def _delete_webhook(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        await self._stop_webhook_worker()
        self.webhook_url = None
        self.webhook_secret = None
        self._webhook_info = {}
        if params.get("drop_pending_updates"):
            self._queue.clear()
        self._signal_updates()
        return True

    async def _get_webhook_info(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        info: JSON = {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        if self.webhook_url:
            info.update(self._webhook_info)
            if self._allowed_updates is not None:
                info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    async def _stop_webhook_worker(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _webhook_loop(self) -> None:
        """Push pending updates like Telegram: updates of different chats concurrently (at most
        `max_connections` requests at once), those of one chat one after another, each only
        once the previous one was answered (or given up on)."""
        pushing: dict[int, tuple[object, asyncio.Task[None]]] = {}  # id(entry) -> chat, task
        try:
            while self.webhook_url and not self._closing:
                limit = max(1, int(self._webhook_info.get("max_connections") or 40))
                self._take(0)  # drops updates of kinds the bot did not ask for
                busy = {chat for chat, _ in pushing.values()}
                for entry in list(self._queue):
                    if len(pushing) >= limit:
                        break
                    if id(entry) in pushing:
                        continue
                    chat = _update_chat(entry.update, entry.update_id)
                    if chat in busy:
                        continue  # behind an earlier update of the same chat
                    busy.add(chat)
                    entry.redelivery = False
                    task = asyncio.create_task(self._push_entry(entry))
                    pushing[id(entry)] = (chat, task)

                    def finished(_task: asyncio.Task[None], key: int = id(entry)) -> None:
                        pushing.pop(key, None)
                        self._signal_updates()  # the chat's next update may go now

                    task.add_done_callback(finished)
                await self._updates_changed.wait(None)
        finally:
            for _chat, task in list(pushing.values()):
                task.cancel()
            if pushing:
                await asyncio.gather(*(t for _c, t in pushing.values()), return_exceptions=True)

    async def _push_entry(self, entry: _Pending) -> None:
        await self._push(entry.update)
        self._queue = [pending for pending in self._queue if pending is not entry]

    async def _push(self, update: JSON) -> bool:
        headers = {"Content-Type": "application/json"}
        if self.webhook_secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
        body = json.dumps(update, ensure_ascii=False).encode()
        for attempt in range(1, self.webhook_max_attempts + 1):
            status: int | None = None
            error: str | None = None
            try:
                assert self._session is not None and self.webhook_url is not None
                async with self._session.post(
                    self.webhook_url,
                    data=body,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
                ) as response:
                    status = response.status
                    if not 200 <= status < 300:
                        error = f"Wrong response from the webhook: {status} {response.reason}"
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = f"Connection failed: {exc!r}"
            self.webhook_deliveries.append(
                WebhookDelivery(int(update["update_id"]), attempt, status, error)
            )
            self._signal()
            if error is None:
                return True
            self._webhook_info["last_error_date"] = int(self.wall_clock())
            self._webhook_info["last_error_message"] = error
            if attempt < self.webhook_max_attempts:
                await asyncio.sleep(self.webhook_retry_delay)
        return False

    async def _send_message(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        chat = self._chat_for_sending(params)
        content = self._text_content(params)
        return self._record_bot_message("sendMessage", chat, params, content).payload

    def _resolve_media(
        self, kind: str, field_name: str, params: JSON, uploads: dict[str, Upload]
    ) -> StoredFile:
        value = params.get(field_name)
        upload = uploads.get(field_name)
        if isinstance(value, str) and value.startswith("attach://"):
            upload = uploads.get(value.removeprefix("attach://"))
            if upload is None:
                raise _bad("wrong file identifier/HTTP URL specified")
        if upload is not None:
            if len(upload.data) > MAX_UPLOAD_SIZE:
                raise ApiError(413, "Request Entity Too Large")
            mime = upload.content_type
            if kind == "voice":
                mime = "audio/ogg"
            elif not mime or mime == "application/octet-stream":
                mime = mimetypes.guess_type(upload.filename or "")[0] or mime
            name = upload.filename if kind in ("audio", "document") else None
            return self._store_file(kind, upload.data, mime, name, None)
        if isinstance(value, str) and value:
            if value in self.files:
                return self.files[value]
            if re.match(r"https?://", value):
                return self._store_file(kind, None, None, value.rsplit("/", 1)[-1], 0)
            raise _bad("wrong file identifier/HTTP URL specified")
        raise _bad(f"there is no {field_name} in the request")

    async def _send_media(
        self, kind: str, method: str, params: JSON, uploads: dict[str, Upload]
    ) -> JSON:
        chat = self._chat_for_sending(params)
        stored = self._resolve_media(kind, kind, params, uploads)
        content = self._formatted(
            params, "caption", "caption_entities", MAX_CAPTION_LENGTH, "message caption is too long"
        )
        media = self._media_object(stored)
        if kind in ("voice", "audio"):
            media["duration"] = int(params.get("duration") or 0)
        if kind == "audio":
            for key in ("performer", "title"):
                if params.get(key):
                    media[key] = params[key]
        if kind == "photo":
            media.pop("mime_type", None)
            media.update(
                width=int(params.get("width") or 1280), height=int(params.get("height") or 960)
            )
            content["photo"] = [media]
        else:
            content[kind] = media
        return self._record_bot_message(method, chat, params, content, stored).payload

    async def _send_voice(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        return await self._send_media("voice", "sendVoice", params, uploads)

    async def _send_audio(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        return await self._send_media("audio", "sendAudio", params, uploads)

    async def _send_document(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        return await self._send_media("document", "sendDocument", params, uploads)

    async def _send_photo(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        return await self._send_media("photo", "sendPhoto", params, uploads)

    def _source_message(self, params: JSON) -> tuple[JSON, BotMessage | None]:
        from_chat = params.get("from_chat_id")
        message_id = params.get("message_id")
        if not isinstance(from_chat, int) or message_id is None:
            raise _bad("message to copy not found")
        original = self._find_message(from_chat, int(message_id))
        if original is None:
            raise _bad("message to copy not found")
        return original, self._bot_messages.get((from_chat, int(message_id)))

    def _copy_content(self, original: JSON) -> tuple[JSON, StoredFile | None]:
        keys = (
            "text",
            "entities",
            "caption",
            "caption_entities",
            "voice",
            "audio",
            "document",
            "photo",
            "video_note",
            "sticker",
            "video",
            "location",
            "contact",
        )
        content = {key: copy.deepcopy(original[key]) for key in keys if key in original}
        stored = None
        for key in ("voice", "audio", "document", "video_note", "sticker", "video"):
            if key in content:
                stored = self.files.get(content[key]["file_id"])
        if "photo" in content:
            stored = self.files.get(content["photo"][-1]["file_id"])
        return content, stored

    async def _copy_message(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        chat = self._chat_for_sending(params)
        original, _ = self._source_message(params)
        content, stored = self._copy_content(original)
        if "caption" in params:
            content.pop("caption_entities", None)
            content.update(
                self._formatted(
                    params,
                    "caption",
                    "caption_entities",
                    MAX_CAPTION_LENGTH,
                    "message caption is too long",
                )
            )
        message = self._record_bot_message("copyMessage", chat, params, content, stored)
        return {"message_id": message.message_id}

    async def _forward_message(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        chat = self._chat_for_sending(params)
        original, _ = self._source_message(params)
        content, stored = self._copy_content(original)
        sender = original.get("from", self.bot_user)
        origin = {"type": "user", "sender_user": sender, "date": original["date"]}
        message = self._record_bot_message(
            "forwardMessage", chat, params, content, stored, {"forward_origin": origin}
        )
        return message.payload

    async def _edit_message_text(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        message = self._message_for_edit(params)
        if "text" not in message.payload:
            raise _bad("there is no text in the message to edit")
        content = self._text_content(params)
        changes = {"text": content["text"], "entities": content.get("entities")}
        markup = self._check_markup(params.get("reply_markup"))
        return self._apply_edit(message, changes, markup)

    async def _edit_message_caption(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        message = self._message_for_edit(params)
        if "text" in message.payload:
            raise _bad("there is no caption in the message to edit")
        content = self._formatted(
            params, "caption", "caption_entities", MAX_CAPTION_LENGTH, "message caption is too long"
        )
        changes = {
            "caption": content.get("caption"),
            "caption_entities": content.get("caption_entities"),
        }
        markup = self._check_markup(params.get("reply_markup"))
        return self._apply_edit(message, changes, markup)

    async def _edit_message_reply_markup(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        message = self._message_for_edit(params)
        markup = self._check_markup(params.get("reply_markup"))
        return self._apply_edit(message, {}, markup)

    async def _delete_message(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        chat_id, message_id = params.get("chat_id"), params.get("message_id")
        if not isinstance(chat_id, int) or message_id is None:
            raise _bad("message to delete not found")
        key = (chat_id, int(message_id))
        bot_message = self._bot_messages.get(key)
        if bot_message is not None and not bot_message.deleted:
            age = self.wall_clock() - float(bot_message.payload.get("date", 0))
            if age > DELETE_WINDOW and chat_id not in self.delete_rights:
                raise _bad("message can't be deleted for everyone")
            bot_message.deleted = True
            self._seq += 1
            bot_message.updated_seq = self._seq
            self._signal_chat(chat_id)
            return True
        if self._user_messages.pop(key, None) is not None:
            return True
        raise _bad("message to delete not found")

    async def _get_chat_member(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        """The bot's own membership of a group: an administrator with only the right to
        delete messages where `grant_delete_rights` was called, else a plain member."""
        chat_id, user_id = params.get("chat_id"), params.get("user_id")
        if not isinstance(chat_id, int) or chat_id not in self._groups:
            raise ApiError(400, CHAT_NOT_FOUND)
        if str(user_id) != str(self.bot_id):
            raise _bad("PARTICIPANT_ID_INVALID")
        if chat_id not in self.delete_rights:
            return {"status": "member", "user": self.bot_user}
        rights = dict.fromkeys((
            "can_be_edited", "is_anonymous", "can_manage_chat", "can_manage_video_chats",
            "can_restrict_members", "can_promote_members", "can_change_info",
            "can_invite_users", "can_post_stories", "can_edit_stories", "can_delete_stories"),
            False)
        return {"status": "administrator", "user": self.bot_user, **rights,
                "can_delete_messages": True}

    async def _answer_callback_query(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        query = self._queries.get(query_id)
        expired = (
            query is not None
            and self.callback_query_ttl is not None
            and self.clock() - query.at > self.callback_query_ttl
        )
        if query is None or query.answered or expired:
            raise ApiError(400, QUERY_INVALID)
        text = params.get("text")
        if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad("MESSAGE_TOO_LONG")
        query.answered = True
        self.callback_answers.append(
            CallbackAnswer(
                callback_query_id=query_id,
                text=None if text is None else str(text),
                show_alert=bool(params.get("show_alert")),
                url=params.get("url"),
                cache_time=params.get("cache_time"),
                user_id=query.user_id,
                data=query.data,
            )
        )
        return True

    async def _get_file(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        file_id = str(params.get("file_id") or "")
        if not file_id:
            raise _bad("file_id is empty")
        stored = self.files.get(file_id)
        if stored is None:
            raise _bad("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD_SIZE:
            raise _bad("file is too big")
        stored.downloadable = True
        return stored.to_file()

    async def _send_chat_action(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        self._chat_for_sending(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    @staticmethod
    def _commands_key(params: JSON) -> tuple[str, str]:
        scope = params.get("scope")
        scope_type = scope.get("type", "default") if isinstance(scope, dict) else "default"
        return str(scope_type), str(params.get("language_code") or "")

    async def _set_my_commands(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("commands must be an array of at most 100 BotCommand")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(
                str(command.get("command", ""))
            ):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad("command description is empty or too long")
        self.commands[self._commands_key(params)] = [dict(command) for command in commands]
        return True

    async def _get_my_commands(self, params: JSON, uploads: dict[str, Upload]) -> list[JSON]:
        return self.commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True
