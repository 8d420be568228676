"""Questions the Slack adapter asks Slack: user groups and channel members, public review
channels. (What it asks the engine, App Home and modal checks, is core's: `Engine.views`.)"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.refs import ChatRef, UserRef
from core.review_settings import is_user_group
from core.script import Script

log = logging.getLogger("interviewbot.slack")


class Directory:
    """Slack user groups (`usergroups.users.list`) and channel members
    (`conversations.members`), cached for `ttl` seconds.

    `members(group)` answers from the cache only (the engine asks inside a transaction);
    `warm(...)` refreshes what is stale before a press is handled. A lookup that fails keeps
    the previous answer (none at first): an unresolvable group lets nobody in.
    """

    def __init__(self, client: AsyncWebClient, ttl: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}

    def members(self, ref: str) -> frozenset[str]:
        """Members of "slack:S…" (or of a channel "slack:C…") as "slack:U…" strings."""
        found = self._cache.get(ref)
        return found[1] if found else frozenset()

    async def warm(self, refs: Iterable[str]) -> None:
        for ref in dict.fromkeys(refs):
            found = self._cache.get(ref)
            if found is not None and self.clock() - found[0] < self.ttl:
                continue
            ident = ref.partition(":")[2]
            try:
                if is_user_group(ref):
                    answer = await self.client.usergroups_users_list(usergroup=ident)
                    users = answer.get("users") or []
                else:
                    answer = await self.client.conversations_members(channel=ident, limit=1000)
                    users = answer.get("members") or []
            except SlackApiError as exc:
                log.warning("could not resolve the members of a review group: %s",
                            exc.response.get("error"))
                continue
            self._cache[ref] = (self.clock(), frozenset(f"slack:{u}" for u in users))

    async def my_channels(self, user: UserRef, scripts: Iterable[Script],
                          destinations: Callable[[Script], Iterable[ChatRef]]) -> frozenset[str]:
        """The listed Slack review channels this person is a member of."""
        channels = {str(d) for s in scripts for d in destinations(s)
                    if d.platform == "slack" and d.id[:1] in ("C", "G")}
        await self.warm(channels)
        return frozenset(c for c in channels if str(user) in self.members(c))


async def public_channels(client: AsyncWebClient, scripts: Iterable[Script]
                          ) -> list[tuple[str, str]]:
    """(script id, channel) for every public Slack channel listed as a review destination in a
    script that does not say `allow_public_channel: true` (`conversations.info`)."""
    refused: list[tuple[str, str]] = []
    for script in scripts:
        if script.review.allow_public_channel:
            continue
        for ref in script.review.destinations:
            platform, _, ident = ref.partition(":")
            if platform != "slack" or ident[:1] not in ("C", "G"):
                continue
            try:
                info = await client.conversations_info(channel=ident)
            except SlackApiError as exc:
                raise PublicChannelCheckFailed(
                    f"script {script.id}: cannot check review channel {ref} "
                    f"({exc.response.get('error')})") from exc
            channel = info.get("channel") or {}
            if not channel.get("is_private"):
                refused.append((script.id, ref))
    return refused


class ReviewChannelRefused(Exception):
    """A script names a public Slack channel (or one that cannot be checked) for reviews."""


class PublicChannelCheckFailed(ReviewChannelRefused):
    """`conversations.info` did not answer for a review channel."""


async def check_review_channels(token: str | None, api_url: str, scripts: Iterable[Script]
                                ) -> tuple[list[str], list[str]]:
    """For `interviewbot check`: (errors, warnings) about public review channels."""
    listed = [s for s in scripts if not s.review.allow_public_channel and any(
        r.startswith(("slack:C", "slack:G")) for r in s.review.destinations)]
    if not listed:
        return [], []
    if not token:
        return [], [f"script {s.id}: Slack review channels are checked to be private when the "
                    "bot starts (SLACK_BOT_TOKEN is not set here)" for s in listed]
    client = AsyncWebClient(token=token, base_url=api_url)
    try:
        refused = await public_channels(client, listed)
    except PublicChannelCheckFailed as exc:
        return [str(exc)], []
    return ([public_channel_message(refused)] if refused else []), []


def public_channel_message(refused: list[tuple[str, str]]) -> str:
    """Why `check`/`run` refuse: which script lists which public channel, and the fix."""
    lines = [f"script {sid}: review channel {ref} is public: anyone in the workspace (internal "
             "candidates too) could hear answers and rate them. Use a private channel, or set "
             "`review: {allow_public_channel: true}`." for sid, ref in refused]
    return "\n".join(lines)
