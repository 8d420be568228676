"""Updates to the bot: getUpdates and webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re

import aiohttp

from .api import (
    _DEFAULT_EXCLUDED_UPDATES,
    _SECRET_RE,
    JSON,
    POLL_CONFLICT,
    WEBHOOK_CONFLICT,
    ApiError,
    _bad,
)
from .files import Files
from .objects import Upload, WebhookDelivery
from .state import _Pending


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


class Updates(Files):
    """Updates to the bot: long polling (`getUpdates`) and webhook delivery."""

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
