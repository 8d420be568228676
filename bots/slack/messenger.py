"""`SlackMessenger`: the core's `Messenger` port on slack_sdk's `AsyncWebClient`."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiolimiter import AsyncLimiter
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack import render
from core.messages import OutMessage
from core.observe import NullObserver, Observer
from core.ports import DeliveryFailed, MediaTooLarge
from core.refs import ChatRef, MediaRef, MessageRef, UserRef
from core.texts import clock

log = logging.getLogger("interviewbot.slack")
UNREACHABLE_USER = frozenset({"user_not_found", "user_not_in_channel"})

PLATFORM = "slack"
SLACK_FILE_HOSTS = ("slack.com", "slack-edge.com", "slack-files.com")
DOWNLOAD_TIMEOUT = aiohttp.ClientTimeout(total=120, sock_connect=10)


class DownloadFailed(Exception):
    """A file could not be fetched (HTTP error, login page instead of the file, foreign host)."""


class CountedRetries(AsyncRetryHandler):
    """A slack_sdk retry handler that reports each retry it makes to the observer.

    The decision and the wait stay `inner`'s (`Retry-After` for 429s, backoff for the rest).
    """

    def __init__(self, inner: AsyncRetryHandler, observer: Observer) -> None:
        super().__init__(inner.max_retry_count, inner.interval_calculator)
        self.inner = inner
        self.observer = observer

    async def can_retry_async(self, *, state: RetryState, request: HttpRequest,
                              response: HttpResponse | None = None,
                              error: Exception | None = None) -> bool:
        return await self.inner.can_retry_async(state=state, request=request,
                                                response=response, error=error)

    async def prepare_for_next_attempt_async(self, *, state: RetryState, request: HttpRequest,
                                             response: HttpResponse | None = None,
                                             error: Exception | None = None) -> None:
        self.observer.delivery_retried(PLATFORM)
        await self.inner.prepare_for_next_attempt_async(state=state, request=request,
                                                        response=response, error=error)


def make_client(token: str, api_url: str, observer: Observer | None = None) -> AsyncWebClient:
    """A Web API client that retries 429s (after `Retry-After`), 5xx and dropped connections,
    counting every retry as `observer.delivery_retried("slack")`."""
    base_url = api_url if api_url.endswith("/") else api_url + "/"
    counted = observer or NullObserver()
    return AsyncWebClient(token=token, base_url=base_url, timeout=30, retry_handlers=[
        CountedRetries(AsyncConnectionErrorRetryHandler(max_retry_count=3), counted),
        CountedRetries(AsyncRateLimitErrorRetryHandler(max_retry_count=5), counted),
        CountedRetries(AsyncServerErrorRetryHandler(max_retry_count=3), counted),
    ])


class SlackMessenger:
    """Sends, edits and uploads in Slack; downloads files people shared with the bot token.

    `chat.postMessage` (and file shares) are paced per channel: a burst of `burst`, then
    `rate` per second, as Slack asks ("about one message per second per channel").
    """

    platform = PLATFORM

    def __init__(self, client: AsyncWebClient, *, rate: float = 1.0, burst: int = 3) -> None:
        self.client = client
        self.rate = rate
        self.burst = burst
        self._limiters: dict[str, AsyncLimiter] = {}
        self._dms: dict[str, str] = {}
        self._dm_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._own_session: aiohttp.ClientSession | None = None

    # -- lifecycle -------------------------------------------------------------------------
    async def open(self) -> None:
        """Share one HTTP session across calls (call from inside the running loop)."""
        if self.client.session is None:
            self._own_session = aiohttp.ClientSession(timeout=DOWNLOAD_TIMEOUT)
            self.client.session = self._own_session

    async def close(self) -> None:
        if self._own_session is not None:
            self.client.session = None
            await self._own_session.close()
            self._own_session = None

    # -- helpers ---------------------------------------------------------------------------
    def _limiter(self, channel: str) -> AsyncLimiter:
        limiter = self._limiters.get(channel)
        if limiter is None:
            limiter = AsyncLimiter(self.burst, self.burst / self.rate)
            self._limiters[channel] = limiter
        return limiter

    async def open_dm(self, user_id: str) -> str:
        """The DM channel id (D…) between the app and a person (`conversations.open`)."""
        if user_id in self._dms:
            return self._dms[user_id]
        async with self._dm_locks[user_id]:
            if user_id not in self._dms:
                response = await self.client.conversations_open(users=user_id)
                self._dms[user_id] = str(response["channel"]["id"])
        return self._dms[user_id]

    async def user_tz(self, user_id: str) -> str | None:
        """A person's IANA time zone from their Slack profile (`users.info`)."""
        response = await self.client.users_info(user=user_id)
        tz = (response.get("user") or {}).get("tz")
        return str(tz) if tz else None

    async def _channel(self, chat: ChatRef) -> str:
        """Messages to a user id go to the app's DM with them, so edits find the same channel."""
        if chat.id[:1] in ("U", "W"):
            return await self.open_dm(chat.id)
        return chat.id

    async def _post(self, channel: str, message: OutMessage, **extra: Any) -> str:
        async with self._limiter(channel):
            response = await self.client.chat_postMessage(
                channel=channel, text=render.fallback(message), blocks=render.blocks(message),
                unfurl_links=False, unfurl_media=False, **extra)
        return str(response["ts"])

    # -- Messenger -------------------------------------------------------------------------
    async def send(self, chat: ChatRef, message: OutMessage) -> MessageRef:
        """Post a message; an audio clip is uploaded first (`files_upload_v2`), the card with
        its buttons right after, and the card is the message later edits change."""
        channel = await self._channel(chat)
        files: tuple[str, ...] = ()
        if message.audio is not None:
            files = await self._upload(channel, message)
        ts = await self._post(channel, message)
        return MessageRef(ChatRef(PLATFORM, channel), ts, tuple(f"file:{f}" for f in files))

    async def _upload(self, channel: str, message: OutMessage) -> tuple[str, ...]:
        """Upload the audio; return the ids of the files Slack made of it."""
        audio = message.audio
        assert audio is not None
        headline = message.text.split("\n", 1)[0]
        comment = f"{render.slack_text(headline)} · {audio.title} ({clock(audio.duration)})"
        if audio.title in headline:
            comment = f"{render.slack_text(headline)} ({clock(audio.duration)})"
        path = Path(audio.path)
        async with self._limiter(channel):
            response = await self.client.files_upload_v2(
                channel=channel, file=str(path), filename=_filename(audio.title, path, audio.mime),
                title=audio.title, initial_comment=comment)
        found = response.get("files") or ([response["file"]] if response.get("file") else [])
        return tuple(str(f["id"]) for f in found if isinstance(f, dict) and f.get("id"))

    async def edit(self, ref: MessageRef, message: OutMessage) -> None:
        """`chat.update` text and buttons (audio stays as first sent)."""
        channel = await self._channel(ref.chat)
        await self.client.chat_update(channel=channel, ts=ref.id, text=render.fallback(message),
                                      blocks=render.blocks(message))

    async def delete(self, ref: MessageRef) -> list[MessageRef]:
        """`files.delete` for its uploads (which removes their file shares), then
        `chat.delete` for the message. A bot may delete its own messages and files at any
        age; one already gone is fine. Returns what Slack refused (kept: edit it)."""
        channel = await self._channel(ref.chat)
        refused: list[MessageRef] = []
        for part in ref.parts:
            kind, _, ident = part.partition(":")
            if kind != "file":
                continue
            try:
                await self.client.files_delete(file=ident)
            except SlackApiError as exc:
                error = str(exc.response.get("error", ""))
                if error in ("file_not_found", "file_deleted"):
                    continue
                if error in ("cant_delete_file", "not_allowed"):
                    log.warning("Slack refused to delete an uploaded file: %s", error)
                    continue
                raise DeliveryFailed(f"files.delete: {error}") from exc
            except Exception as exc:
                raise DeliveryFailed(f"files.delete: {type(exc).__name__}") from exc
        try:
            await self.client.chat_delete(channel=channel, ts=ref.id)
        except SlackApiError as exc:
            error = str(exc.response.get("error", ""))
            if error == "message_not_found":
                return refused
            if error in ("cant_delete_message", "not_allowed"):
                return [MessageRef(ref.chat, ref.id)]
            raise DeliveryFailed(f"chat.delete: {error}") from exc
        except Exception as exc:
            raise DeliveryFailed(f"chat.delete: {type(exc).__name__}") from exc
        return refused

    async def notify(self, chat: ChatRef, user: UserRef, text: str) -> None:
        """An ephemeral message only `user` sees in `chat` (`chat.postEphemeral`)."""
        channel = await self._channel(chat)
        message = OutMessage(text)
        try:
            await self.client.chat_postEphemeral(channel=channel, user=user.id,
                                                 text=render.fallback(message),
                                                 blocks=render.blocks(message))
        except SlackApiError as exc:
            if exc.response.get("error") not in UNREACHABLE_USER:
                raise
            # e.g. a press from someone Slack does not know, or who is not in the channel:
            # nobody to tell, and nothing went wrong on our side
            log.warning("ephemeral note not delivered", extra={"reason": exc.response["error"]})

    async def file_info(self, file_id: str) -> dict[str, Any]:
        """The full file object (`files.info`), for stubs and clips still processing."""
        response = await self.client.files_info(file=file_id)
        return dict(response["file"])

    async def download(self, media: MediaRef, max_bytes: int) -> bytes:
        """Fetch `url_private_download` with the bot token; refuse login pages and big files."""
        url = media.url
        if not url:
            url = str((await self.file_info(media.file_id)).get("url_private_download") or "")
        if not self._trusted(url):
            raise DownloadFailed(f"refusing to send the bot token to {urlsplit(url).netloc!r}")
        if media.size is not None and media.size > max_bytes:
            raise MediaTooLarge(f"{media.size} bytes")
        await self.open()
        session = self.client.session
        assert session is not None
        headers = {"Authorization": f"Bearer {self.client.token}"}
        async with session.get(url, headers=headers, timeout=DOWNLOAD_TIMEOUT) as response:
            if response.status != 200:
                raise DownloadFailed(f"HTTP {response.status}")
            if response.content_type in ("text/html", "application/xhtml+xml"):
                raise DownloadFailed("Slack sent a login page, not the file (token or scope?)")
            if response.content_length is not None and response.content_length > max_bytes:
                raise MediaTooLarge(f"{response.content_length} bytes")
            data = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                data.extend(chunk)
                if len(data) > max_bytes:
                    raise MediaTooLarge(f"over {max_bytes} bytes")
        return bytes(data)

    def _trusted(self, url: str) -> bool:
        """Only Slack's own hosts (or the configured API host, e.g. a local fake) get the token."""
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            return False
        api = urlsplit(self.client.base_url)
        if parts.scheme == api.scheme and parts.netloc == api.netloc:
            return True
        host = parts.hostname.lower()
        return parts.scheme == "https" and any(
            host == h or host.endswith("." + h) for h in SLACK_FILE_HOSTS)


def _filename(title: str, path: Path, mime: str) -> str:
    """A readable name reviewers see ("question-1-of-3.m4a"); ids and names stay out of it."""
    suffix = {"audio/mp4": ".m4a", "audio/ogg": ".ogg", "audio/mpeg": ".mp3"}.get(mime, "")
    stem = "-".join("".join(c if c.isalnum() else " " for c in title.lower()).split())
    return (stem or "answer") + (suffix or path.suffix)


__all__ = ["CountedRetries", "DeliveryFailed", "DownloadFailed", "SlackMessenger", "make_client"]
