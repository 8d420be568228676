"""Read-only questions the Slack adapter asks: App Home, modals, user groups, public channels."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.render import HomeItem
from core import payloads as pl
from core import texts
from core.candidate import status_text
from core.engine import Engine
from core.errors import ScriptError
from core.i18n import N_, t
from core.refs import ChatRef, UserRef
from core.review import candidate_label, complete_reviewers, scored_answers
from core.review_settings import is_user_group
from core.reviewers import reviewer_refusal
from core.script import Script
from core.states import State

HOME_LIMIT = 10
log = logging.getLogger("interviewbot.slack")


@dataclass(frozen=True)
class ReplyPrompt:
    """Whether a reviewer may write a follow-up / reply, and the modal's prompt if so."""

    allowed: bool
    text: str  # the prompt, or why not


def reply_prompt(engine: Engine, user: UserRef, chat: ChatRef, target: str) -> ReplyPrompt:
    """Check an "Ask a follow-up" / "Reply" press before opening its modal.

    The engine checks again when the text arrives; this only spares a reviewer from typing
    into a modal that would be refused.
    """
    payload = pl.parse(target)
    if payload is not None and payload.action == pl.OUTCOME_FEEDBACK:
        from bots.slack.outcome_prompt import feedback_prompt  # outcome "Edit feedback"

        return feedback_prompt(engine, user, chat, payload)
    if payload is None or payload.action not in (pl.FOLLOW_UP, pl.REPLY):
        return ReplyPrompt(False, texts.STALE_BUTTON)
    with engine.s.uow() as uow:
        interview = uow.interviews.get(payload.interview_id)
        if interview is None:
            return ReplyPrompt(False, texts.STALE_BUTTON)
        try:
            script = engine.s.script(interview)
        except ScriptError:
            return ReplyPrompt(False, texts.STALE_BUTTON)
        refusal = reviewer_refusal(engine.s, uow, script, user, chat)
        if refusal is not None:
            return ReplyPrompt(False, refusal)
        team = texts.review_lang(script)
        if interview.state is not State.COMPLETED or interview.chat is None:
            return ReplyPrompt(False, t(team, N_("That can no longer reach the candidate.")))
        who = candidate_label(script, interview)
        if payload.action == pl.FOLLOW_UP:
            answer = interview.answer_by_id(payload.arg(0))
            if answer is None:
                return ReplyPrompt(False, t(team, texts.STALE_BUTTON))
            label = texts.question_label(script, script.question(answer.question_id), team)
            return ReplyPrompt(True, t(team, N_(
                "Follow-up for {label} on {question}. The candidate gets your question in their "
                "chat; the answer appears here."), label=who, question=label))
        found = next((q for q in interview.candidate_questions if q.id == payload.arg(0)), None)
        if found is None:
            return ReplyPrompt(False, t(team, texts.STALE_BUTTON))
        return ReplyPrompt(True, t(team, N_("Reply to {label}'s question: \"{question}\""),
                                   label=who, question=found.text))


@dataclass(frozen=True)
class HomePage:
    """One page of a person's App Home."""

    own: list[HomeItem]
    waiting: list[HomeItem]
    page: int
    more: bool  # an older page exists


def visible_scripts(engine: Engine, user: UserRef, channels: frozenset[str]) -> list[Script]:
    """The scripts whose interviews this person may see as a reviewer: listed themselves or
    through a user group, or a member of one of its review channels (narrowed by `members`)."""
    person = str(user)
    found: list[Script] = []
    for script in engine.s.scripts.all():
        review = script.review
        def named(refs: Iterable[str]) -> bool:
            return any(r == person or (is_user_group(r) and person in engine.s.group_members(r))
                       for r in refs)
        in_chat = any(str(d) in channels for d in engine.s.destinations(script))
        if named(review.reviewers) or (in_chat and (review.members is None
                                                    or named(review.members))):
            found.append(script)
    return found


def home_page(engine: Engine, user: UserRef, channels: frozenset[str], page: int = 0
              ) -> HomePage:
    """The person's own interview, and one page of completed interviews of the scripts they
    review: one bounded query (`HOME_LIMIT` + 1 rows), nothing of other scripts."""
    own: list[HomeItem] = []
    waiting: list[HomeItem] = []
    now = engine.s.clock.now()
    page = max(0, page)
    scripts = {s.id: s for s in visible_scripts(engine, user, channels)}
    with engine.s.uow() as uow:
        mine = uow.interviews.current_for(user)
        if mine is not None:
            found = engine.s.scripts.get(mine.script_id)
            if found is not None:
                own.append(HomeItem(found.title, status_text(found, mine, now)))
        scripts = {sid: s for sid, s in scripts.items()
                   if not uow.interviews.is_candidate(sid, user)}
        rows = uow.interviews.completed_page(scripts, page * HOME_LIMIT, HOME_LIMIT + 1)
        for interview in rows[:HOME_LIMIT]:
            script = scripts[interview.script_id]
            ratings = uow.reviews.ratings(interview.id)
            answers = scored_answers(script, interview)
            done = sum(1 for a in answers if user in complete_reviewers(script, a, ratings))
            when = interview.completed_at or interview.invited_at
            team = texts.review_lang(script)
            state = (t(team, N_("You have rated {done} of {total} answers."), done=done,
                       total=len(answers)) if done < len(answers)
                     else t(team, N_("You have rated every answer.")))
            waiting.append(HomeItem(f"{candidate_label(script, interview)} · "
                                    f"{script.text_in('title', team)}",
                                    t(team, N_("Completed {when}."),
                                      when=f"{when:%Y-%m-%d}") + f" {state}"))
    return HomePage(own, waiting, page, len(rows) > HOME_LIMIT)


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
