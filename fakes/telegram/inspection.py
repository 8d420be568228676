"""What the bot did, as tests see it; waiting on conditions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from .api import JSON, T
from .objects import ApiCall, BotMessage, FakeUser
from .state import TelegramState, _Signal


class Inspection(TelegramState):
    """What the bot did, for assertions: messages, calls, updates; waits on conditions."""

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
