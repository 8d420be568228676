"""`TelegramMessenger`: core's `Messenger` port on a python-telegram-bot `Bot`.

Pacing and 429 retries happen in the bot's rate limiter (see pacing.py); this module retries
5xx answers, timeouts and dropped connections with backoff, and turns what is left into
`DeliveryFailed`. Both count their retries as `Observer.delivery_retried("telegram")`.
Logs name methods and Telegram's error text, never chat ids or content.

Edits: the engine re-renders every review card when anything changes; most re-renders are
identical. The messenger remembers what it last showed per message (a bounded LRU) and skips
identical edits, which keeps a review group inside its 20 messages/minute. Several processes
editing the same card could make that memory stale (content changed elsewhere, then back):
set `Pacing(edit_cache=0)` there, and Telegram's "message is not modified" is used instead.
A send retried after a timeout may reach the chat twice (Telegram has no idempotency key).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from telegram import Bot, InlineKeyboardMarkup, InputFile, Message
from telegram.error import BadRequest, ChatMigrated, NetworkError, RetryAfter, TelegramError

from bots.telegram.pacing import Pacing
from bots.telegram.render import (
    CALLBACK_ANSWER_LIMIT,
    CAPTION_LIMIT,
    TEXT_LIMIT,
    Markup,
    chunks,
    clip,
    is_voice,
    render,
)
from core.messages import Audio, OutMessage
from core.observe import NullObserver, Observer
from core.ports import DeliveryFailed, MediaTooLarge
from core.refs import ChatRef, MediaRef, MessageRef, UserRef

log = logging.getLogger("interviewbot.telegram")
T = TypeVar("T")
DOWNLOAD_LIMIT = 20 * 1024 * 1024  # the Bot API serves bots files up to 20 MB


def chat_id(chat: ChatRef) -> int | str:
    """Telegram's chat id: an integer, or an "@channel" name."""
    try:
        return int(chat.id)
    except ValueError:
        return chat.id


def _says(exc: TelegramError, *fragments: str) -> bool:
    text = exc.message.lower()
    return any(f in text for f in fragments)


class TelegramMessenger:
    """Sends, edits and downloads through the Bot API, with retries and pacing."""

    platform = "telegram"

    def __init__(self, bot: Bot, pacing: Pacing | None = None,
                 observer: Observer | None = None) -> None:
        self.bot = bot
        self.pacing = pacing or Pacing()
        self.observer: Observer = observer or NullObserver()
        # records a force-reply prompt's message id and what a reply to it is for
        self.prompts: Callable[[MessageRef, str], None] | None = None
        # per message: fingerprint of what this process last showed, and whether it is a caption
        self._shown: OrderedDict[tuple[int | str, int], tuple[str, bool]] = OrderedDict()

    # -- the port ----------------------------------------------------------------------
    async def send(self, chat: ChatRef, message: OutMessage) -> MessageRef:
        """Send text (split beyond 4096 characters) or an audio card; return the keyboard's
        message."""
        try:
            return await self._send(chat, message)
        except ChatMigrated as exc:
            log.warning("a group became a supergroup; update review destinations to "
                        "telegram:%s", exc.new_chat_id)
            return await self._send(ChatRef(chat.platform, str(exc.new_chat_id)), message)

    async def edit(self, ref: MessageRef, message: OutMessage) -> None:
        """Edit text or caption and keyboard; "message is not modified" counts as success."""
        target = chat_id(ref.chat)
        message_id = int(ref.id)
        rendered = render(message)
        keyboard = rendered.markup if isinstance(rendered.markup, InlineKeyboardMarkup) else None
        fingerprint = _fingerprint(rendered.text, keyboard)
        shown, captioned = self._shown.get((target, message_id), ("", False))
        if shown == fingerprint:
            return  # this process already showed exactly this; skip a no-op API call
        text = clip(rendered.text, TEXT_LIMIT)

        async def caption() -> None:
            await self._retrying("editMessageCaption", lambda: self.bot.edit_message_caption(
                chat_id=target, message_id=message_id, caption=clip(text, CAPTION_LIMIT),
                reply_markup=keyboard))

        try:
            if captioned:
                await caption()
            else:
                try:
                    await self._retrying("editMessageText", lambda: self.bot.edit_message_text(
                        text, chat_id=target, message_id=message_id, reply_markup=keyboard))
                except BadRequest as exc:
                    if not _says(exc, "no text in the message"):
                        raise
                    captioned = True  # a voice or audio card
                    await caption()
        except BadRequest as exc:
            if not _says(exc, "message is not modified"):
                raise DeliveryFailed(f"editMessage: {exc.message}") from exc
        except TelegramError as exc:
            raise DeliveryFailed(f"editMessage: {exc.message}") from exc
        self._remember(target, message_id, fingerprint, captioned)

    async def notify(self, chat: ChatRef, user: UserRef, text: str) -> None:
        """A private note: in Telegram only a DM can be private (a group has no ephemerals).

        The DM fails when the person never wrote to the bot; then the note is dropped.
        """
        dm = ChatRef(chat.platform, user.id)
        try:
            await self._send(dm, OutMessage(text))
        except DeliveryFailed as exc:
            log.info("private note dropped (no chat with that person): %s", exc)

    async def delete(self, ref: MessageRef) -> list[MessageRef]:
        """`deleteMessage` for the message and each of its pieces. Telegram refuses messages
        older than 48 hours, unless the bot is an admin of the group with the right to delete
        messages: those are returned (to be edited instead). One already gone is fine."""
        target = chat_id(ref.chat)
        refused: list[MessageRef] = []
        for ident in (*ref.parts, ref.id):
            try:
                await self._retrying("deleteMessage", functools.partial(
                    self.bot.delete_message, target, int(ident)))
            except BadRequest as exc:
                if _says(exc, "message to delete not found"):
                    continue
                if _says(exc, "can't be deleted", "cant_delete", "not enough rights"):
                    refused.append(MessageRef(ref.chat, ident))
                    continue
                raise DeliveryFailed(f"deleteMessage: {exc.message}") from exc
            except TelegramError as exc:
                raise DeliveryFailed(f"deleteMessage: {exc.message}") from exc
            self._shown.pop((target, int(ident)), None)
        return refused

    async def can_delete(self, chat: ChatRef) -> bool:
        """Whether the bot may delete messages of any age in a group (an administrator with
        the right to delete messages); without it, erasure can delete only messages younger
        than 48 hours there. A private chat needs no right."""
        target = chat_id(chat)
        if isinstance(target, int) and target > 0:
            return True
        me = await self.bot.get_me()
        member = await self.bot.get_chat_member(target, me.id)
        return bool(getattr(member, "can_delete_messages", False)) or member.status == "creator"

    async def download(self, media: MediaRef, max_bytes: int) -> bytes:
        """Fetch a file (getFile + download); `MediaTooLarge` beyond the limits, checked first."""
        limit = min(max_bytes, DOWNLOAD_LIMIT)
        if media.size is not None and media.size > limit:
            raise MediaTooLarge(f"{media.size} bytes")
        try:
            file = await self._retrying("getFile", lambda: self.bot.get_file(media.file_id))
        except BadRequest as exc:
            if _says(exc, "file is too big"):
                raise MediaTooLarge(exc.message) from exc
            raise DeliveryFailed(f"getFile: {exc.message}") from exc
        except TelegramError as exc:
            raise DeliveryFailed(f"getFile: {exc.message}") from exc
        if file.file_size is not None and file.file_size > limit:
            raise MediaTooLarge(f"{file.file_size} bytes")
        try:
            data = await self._retrying("download", file.download_as_bytearray)
        except TelegramError as exc:
            raise DeliveryFailed(f"download: {exc.message}") from exc
        if len(data) > limit:
            raise MediaTooLarge(f"{len(data)} bytes")
        return bytes(data)

    # -- beyond the port ---------------------------------------------------------------
    async def answer_callback(self, query_id: str, text: str | None) -> None:
        """Answer a button press (stops the client's spinner); the text shows as a toast."""
        try:
            await self._retrying("answerCallbackQuery", lambda: self.bot.answer_callback_query(
                query_id, text=clip(text, CALLBACK_ANSWER_LIMIT) if text else None))
        except TelegramError as exc:
            log.warning("answerCallbackQuery failed: %s", exc.message)

    # -- internals ---------------------------------------------------------------------
    async def _send(self, chat: ChatRef, message: OutMessage) -> MessageRef:
        target = chat_id(chat)
        rendered = render(message)
        try:
            if message.audio is not None:
                pieces = await self._send_audio(target, message.audio, rendered.text,
                                                rendered.markup)
            else:
                pieces = await self._send_text(target, rendered.text, rendered.markup)
        except ChatMigrated:
            raise
        except RetryAfter as exc:
            raise DeliveryFailed(f"still rate limited after retries ({exc.retry_after})") from exc
        except TelegramError as exc:
            raise DeliveryFailed(f"send: {exc.message}") from exc
        sent = pieces[-1]
        keyboard = rendered.markup if isinstance(rendered.markup, InlineKeyboardMarkup) else None
        if sent.text is not None or sent.caption is not None:
            self._remember(target, sent.message_id, _fingerprint(rendered.text, keyboard),
                           sent.text is None)
        ref = MessageRef(chat, str(sent.message_id),
                         tuple(str(p.message_id) for p in pieces[:-1]))
        if message.ask_reply and self.prompts is not None:
            self.prompts(ref, message.ask_reply)
        return ref

    async def _send_text(self, target: int | str, text: str, markup: Markup | None
                         ) -> list[Message]:
        """Every piece of a text split at Telegram's limit; the keyboard on the last."""
        parts = chunks(text)
        sent: list[Message] = []
        for index, part in enumerate(parts):
            keys = markup if index == len(parts) - 1 else None
            sent.append(await self._retrying("sendMessage", functools.partial(
                self.bot.send_message, target, part, reply_markup=keys)))
        assert sent
        return sent

    async def _send_audio(self, target: int | str, audio: Audio, text: str,
                          markup: Markup | None) -> list[Message]:
        """Voice note (OGG/Opus ≤ 1 MB) or audio file with the card text as caption; a text
        over 1024 characters follows as its own message, which then carries the keyboard."""
        path = Path(audio.path)
        data = await asyncio.to_thread(path.read_bytes)
        fits = len(text) <= CAPTION_LIMIT
        caption = text if fits else clip(audio.title, CAPTION_LIMIT)
        keys = markup if fits else None
        duration = round(audio.duration)
        if is_voice(audio, len(data)):
            sent = await self._retrying("sendVoice", lambda: self.bot.send_voice(
                target, InputFile(data, filename=path.name), caption=caption,
                duration=duration, reply_markup=keys))
        else:
            sent = await self._retrying("sendAudio", lambda: self.bot.send_audio(
                target, InputFile(data, filename=path.name), caption=caption,
                duration=duration, title=audio.title, reply_markup=keys))
        if fits:
            return [sent]
        return [sent, *await self._send_text(target, text, markup)]

    async def _retrying(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """Run `call`, retrying 5xx answers, timeouts and network errors with backoff."""
        delay = self.pacing.backoff
        attempts = self.pacing.network_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return await call()
            except BadRequest:
                raise
            except NetworkError as exc:  # includes TimedOut and every 5xx
                if attempt == attempts:
                    log.error("%s failed after %d attempts: %s", what, attempts, exc.message)
                    raise
                log.warning("%s failed (%s); retry %d in %.1fs", what, exc.message, attempt,
                            delay)
                self.observer.delivery_retried(self.platform)
                await asyncio.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")

    def _remember(self, target: int | str, message_id: int, fingerprint: str,
                  captioned: bool) -> None:
        if self.pacing.edit_cache <= 0:
            return
        key = (target, message_id)
        self._shown[key] = (fingerprint, captioned)
        self._shown.move_to_end(key)
        while len(self._shown) > self.pacing.edit_cache:
            self._shown.popitem(last=False)


def _fingerprint(text: str, keyboard: InlineKeyboardMarkup | None) -> str:
    body = text + "\x00" + (keyboard.to_json() if keyboard is not None else "")
    return hashlib.blake2b(body.encode(), digest_size=16).hexdigest()
