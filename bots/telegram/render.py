"""Core `OutMessage` → what the Bot API takes: plain text, inline keyboards, force-reply prompts.

Messages are sent as plain text (no parse mode), so nothing a candidate or a script writes can
break Telegram's entity parser.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import MessageLimit

from bots.text_parts import split_text
from core.messages import Audio, Button, OutMessage

TEXT_LIMIT = int(MessageLimit.MAX_TEXT_LENGTH)  # 4096
CAPTION_LIMIT = int(MessageLimit.CAPTION_LENGTH)  # 1024
CALLBACK_ANSWER_LIMIT = 200  # answerCallbackQuery text
VOICE_MAX_BYTES = 1_000_000  # larger OGG/Opus files are shown as audio files, not voice notes
STYLES = {"primary": "primary", "danger": "danger"}

Markup = InlineKeyboardMarkup | ForceReply


@dataclass(frozen=True)
class Rendered:
    """A message ready for sendMessage / sendVoice / editMessageText."""

    text: str
    markup: Markup | None


def render(message: OutMessage) -> Rendered:
    """Text (title, body, fields) and its keyboard or force-reply."""
    return Rendered(message_text(message), markup(message))


def message_text(message: OutMessage) -> str:
    """The full text. A force-reply prompt's target is not in it: the messenger records the
    prompt's message id, and a reply is routed by the id it replies to."""
    lines: list[str] = []
    if message.title and message.title not in message.text:
        lines.append(message.title)
    lines.append(message.text)
    lines.extend(f"{name}: {value}" for name, value in message.fields)
    return "\n".join(line for line in lines if line) or "…"


def markup(message: OutMessage) -> Markup | None:
    """Inline keyboard (`callback_data` = payload), or ForceReply for `ask_reply`."""
    if message.ask_reply:
        return ForceReply(selective=True, input_field_placeholder="Type your text…")
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [[button(b) for b in row] for row in message.buttons if row]
    )


def button(b: Button) -> InlineKeyboardButton:
    return InlineKeyboardButton(b.label, callback_data=b.payload,
                                style=STYLES.get(b.style or ""))


def chunks(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split long text so each part fits the platform's limit."""
    return split_text(text, limit)


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def is_voice(audio: Audio, size: int) -> bool:
    """OGG/Opus up to 1 MB plays as a voice note; anything else goes as an audio file."""
    mime = audio.mime.lower()
    return mime in ("audio/ogg", "audio/opus", "audio/ogg; codecs=opus") and (
        size <= VOICE_MAX_BYTES)
