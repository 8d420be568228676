"""Logging: one line per event, JSON off a terminal, readable text on one, secrets redacted.

Structured fields come from `extra`, e.g.
`log.info("answer stored", extra={"interview_id": i.id, "answer_id": a.id})`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import sys
import threading
import traceback
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, TextIO
from urllib.parse import quote

from bots.channels import declarations

REDACTED = "[redacted]"
QUIET_LOGGERS = ("httpx", "httpcore")  # one line per HTTP request (and a URL with the token)

_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName"}


SECRET_WORDS = ("token", "secret", "key", "password")  # settings / variables holding secrets


def token_pattern() -> re.Pattern[str]:
    """Every registered channel's credential shapes (`ChannelDeclaration.token_pattern`)."""
    shapes = [f"(?:{d.token_pattern})" for d in declarations() if d.token_pattern]
    return re.compile("|".join(shapes) or "(?!)")


def webhook_secret_for(token: str) -> str:
    """The Telegram webhook secret derived from the bot token when none is configured (used
    by `bots.telegram.channel.webhook_secret`, and redacted from every log line)."""
    return hmac.new(token.encode(), b"interviewbot-webhook", hashlib.sha256).hexdigest()


def secrets_in(values: Mapping[str, object]) -> tuple[str, ...]:
    """Every secret among settings or environment variables: any text value whose name says
    token, secret, key or password, the secrets a channel derives from one (a webhook
    secret from a bot token), and the URL-encoded form of each (a token in a request URL)."""
    found: list[str] = []
    for name, value in values.items():
        if not isinstance(value, str) or len(value) < 8:
            continue
        if not any(word in name.lower() for word in SECRET_WORDS):
            continue
        found.append(value)
        for channel in declarations():
            found.extend(channel.derived_secrets(name, value))
    found += [quote(v, safe="") for v in found if quote(v, safe="") != v]
    return tuple(sorted(set(found), key=len, reverse=True))


def install_excepthook(secrets: Iterable[str]) -> None:
    """Uncaught exceptions (main thread and others) print their traceback redacted."""
    kept = tuple(secrets)

    def hook(kind: type[BaseException], value: BaseException,
             tb: TracebackType | None) -> None:
        text = "".join(traceback.format_exception(kind, value, tb))
        sys.stderr.write(redact(text, kept))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            hook(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = hook
    threading.excepthook = thread_hook


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Replace bot tokens, and any of `secrets`, by a marker."""
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return token_pattern().sub(REDACTED, text)


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a call passed with `extra=`."""
    return {k: v for k, v in vars(record).items()
            if k not in _RECORD_FIELDS and not k.startswith("_")}


class RedactSecrets(logging.Filter):
    """Redacts tokens from the message, its arguments, extras and any traceback."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s and len(s) >= 8)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        record.msg, record.args = redact(message, self.secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.secrets)
        for key, value in extra_fields(record).items():
            if isinstance(value, str):
                setattr(record, key, redact(value, self.secrets))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, event, the extras, and exc if any."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        data.update(extra_fields(record))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            data["exc"] = record.exc_text
        if record.stack_info:
            data["stack"] = record.stack_info
        return json.dumps(data, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`HH:MM:SS LEVEL logger: event key=value ...` for people at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        extras = " ".join(f"{k}={v}" for k, v in extra_fields(record).items())
        return f"{line} {extras}" if extras else line


def configure_logging(level: str | int, *, stream: TextIO | None = None,
                      json_lines: bool | None = None,
                      secrets: Iterable[str | None] = ()) -> logging.Handler:
    """Send every log record to `stream` (stderr): JSON unless it is a terminal.

    Replaces the handler of an earlier call; `secrets` (e.g. signing secrets) are redacted
    like tokens. Returns the handler.
    """
    stream = stream or sys.stderr
    if json_lines is None:
        json_lines = not (hasattr(stream, "isatty") and stream.isatty())
    handler = logging.StreamHandler(stream)
    handler.set_name("interviewbot")
    handler.addFilter(RedactSecrets(secrets))
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "interviewbot"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    quiet = root.getEffectiveLevel() > logging.DEBUG
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING if quiet else logging.NOTSET)
    return handler
