"""What the app did, as tests see it; waiting on conditions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from .api import JSON, T
from .blocks import ButtonRef, find_button
from .objects import Ephemeral, PostedMessage, Upload, View
from .workspace import Workspace


class Inspection(Workspace):
    """What the app did, for assertions; waits on conditions."""

    def calls_to(self, method: str, *, ok: bool | None = None) -> list[JSON]:
        """Params of every call to ``method`` in order (``ok`` filters by outcome)."""
        return [c.params for c in self.calls if c.method == method and (ok is None or c.ok is ok)]

    def outbound(self) -> list[tuple[str, JSON]]:
        """Everything the app sent that could show content: API call params, response_url posts
        (as ``"response_url"``) and uploaded file names/titles (as ``"upload"``), in order."""
        out: list[tuple[str, JSON]] = [(c.method, c.params) for c in self.calls]
        out += [("response_url", p.body) for p in self.response_posts]
        out += [("upload", {"filename": u.filename, "title": u.title}) for u in self.uploads]
        return out

    def messages(
        self, channel: str | None = None, *, include_deleted: bool = False
    ) -> list[PostedMessage]:
        """Messages in ``channel`` (or all channels), oldest first, with updates applied."""
        chans = [channel] if channel is not None else list(self._messages)
        out: list[PostedMessage] = []
        for ch in chans:
            out.extend(m for m in self._messages.get(ch, []) if include_deleted or not m.deleted)
        return sorted(out, key=lambda m: m.ts) if channel is None else out

    def message(self, channel: str, ts: str) -> PostedMessage:
        for m in self._messages.get(channel, []):
            if m.ts == ts:
                return m
        raise KeyError(f"no message {ts} in {channel}")

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[Ephemeral]:
        return [
            e
            for e in self._ephemerals
            if (channel is None or e.channel == channel) and (user is None or e.user == user)
        ]

    @property
    def views(self) -> list[View]:
        """Every modal and home view, in the order they were opened or first published."""
        return list(self._views.values())

    def modals(self, user: str | None = None) -> list[View]:
        return [v for v in self._views.values() if v.type == "modal" and user in (None, v.user)]

    def home(self, user: str) -> View | None:
        """The App Home view last published for ``user``."""
        homes = [v for v in self._views.values() if v.type == "home" and v.user == user]
        return homes[-1] if homes else None

    def uploads_in(self, channel: str) -> list[Upload]:
        return [u for u in self.uploads if channel in u.channels]

    def post_times(self, channel: str) -> list[float]:
        """``pacing_clock`` times of recent chat.postMessage calls to ``channel`` (last second)."""
        return list(self._post_times.get(channel, ()))

    def find_button(self, channel: str, label: str, ts: str | None = None) -> ButtonRef:
        """A button by label in message ``ts`` (default: the newest message that has one)."""
        if ts is not None:
            return find_button(self.message(channel, ts).blocks, label)
        for msg in reversed(self.messages(channel)):
            try:
                return find_button(msg.blocks, label)
            except LookupError:
                continue
        raise LookupError(f"no button labelled {label!r} in {channel}")

    async def wait_for(
        self, predicate: Callable[[], T | None], timeout: float = 10.0, *, poll: float = 0.05
    ) -> T:
        """Wait until ``predicate()`` is truthy and return it.

        Re-checked on every change to the fake and every ``poll`` seconds (for outside state).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout}s; calls: {self._recent()}")
            if self._changed is None:
                self._changed = asyncio.Event()
            event = self._changed
            try:
                await asyncio.wait_for(event.wait(), min(remaining, poll))
            except TimeoutError:
                continue

    async def wait_for_message(
        self,
        channel: str,
        contains: str | None = None,
        *,
        predicate: Callable[[PostedMessage], bool] | None = None,
        after: str | None = None,
        timeout: float = 10.0,
    ) -> PostedMessage:
        """Wait for a message in ``channel`` newer than ``after`` whose text has ``contains``.

        Text includes block texts; a later ``chat.update`` can make an earlier message match.
        """

        def match() -> PostedMessage | None:
            for msg in self.messages(channel):
                if after is not None and float(msg.ts) <= float(after):
                    continue
                if contains is not None and contains not in msg.all_text:
                    continue
                if predicate is not None and not predicate(msg):
                    continue
                return msg
            return None

        try:
            return await self.wait_for(match, timeout)
        except TimeoutError:
            texts = [m.all_text[:120] for m in self.messages(channel)]
            raise TimeoutError(
                f"no message in {channel} containing {contains!r} within {timeout}s; "
                f"messages: {texts}"
            ) from None

    async def wait_for_call(
        self, method: str, count: int = 1, *, timeout: float = 10.0
    ) -> list[JSON]:
        """Wait until ``method`` has been called at least ``count`` times; return the params."""

        def enough() -> list[JSON] | None:
            found = self.calls_to(method)
            return found if len(found) >= count else None

        return await self.wait_for(enough, timeout)
