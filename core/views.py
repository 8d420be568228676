"""`Views`: everything an adapter may read from the engine, and the little it records outside
a command (force-reply prompts, review posts it printed itself).

Adapters (bots/) reach the engine through `Engine.handle`, its named operations (invite,
extend, withdraw, erase...) and `Engine.views`; never through its `Services`. Lists and
counts come from the query side (`core.queries.InterviewQueries`), dashboards and modal
checks from core/dashboards.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from core import dashboards
from core.dashboards import HomePage, ModalPrompt, Waiting
from core.errors import ScriptError
from core.messages import OutMessage
from core.model import ReviewPost
from core.observe import Observer
from core.outcome import OutcomeFlow
from core.queries import InterviewQueries, InterviewSummary
from core.refs import ChatRef, UserRef
from core.review import ReviewFlow
from core.script import Script
from core.services import Pinned, Services


class Views:
    """The engine's read side for adapters (see the module text)."""

    def __init__(self, services: Services, reviews: ReviewFlow, outcomes: OutcomeFlow) -> None:
        self._s = services
        self._reviews = reviews
        self._outcomes = outcomes

    # -- scripts -----------------------------------------------------------------------
    def scripts(self) -> list[Script]:
        """The served scripts."""
        return list(self._s.scripts.all())

    def served(self, script_id: str) -> Script | None:
        return self._s.scripts.get(script_id)

    def script_of(self, of: Pinned) -> Script | None:
        """The script an interview is pinned to; None if it cannot be read."""
        try:
            return self._s.script(of)
        except ScriptError:
            return None

    def destinations(self, script: Script) -> tuple[ChatRef, ...]:
        """Where reviewers see the script's interviews."""
        return self._s.destinations(script)

    def review_groups(self) -> list[str]:
        """Every user group a served script names (reviewers, members, deciders)."""
        return [g for s in self._s.scripts.all() for g in s.review.groups]

    def resolve_groups_with(self, members: Callable[[str], frozenset[str]]) -> None:
        """Where the engine looks up the members of a user group (the adapter's cache)."""
        self._s.group_members = members

    # -- time, counters, queries -------------------------------------------------------
    def now(self) -> datetime:
        return self._s.clock.now()

    @property
    def observer(self) -> Observer:
        """The observer installed now (the composition root may replace it after start)."""
        return self._s.observer

    @property
    def queries(self) -> InterviewQueries:
        return self._s.queries

    def summary(self, interview_id: str) -> InterviewSummary | None:
        return self._s.queries.summary(interview_id)

    def has_interview(self, user: UserRef) -> bool:
        """Whether the person has an interview open or wrapping up as a candidate."""
        with self._s.uow() as uow:
            return uow.interviews.current_for(user) is not None

    # -- dashboards (core/dashboards.py) -------------------------------------------------
    def visible_scripts(self, user: UserRef, channels: frozenset[str]) -> list[Script]:
        return dashboards.visible_scripts(self._s, user, channels)

    def home(self, user: UserRef, channels: frozenset[str], page: int = 0) -> HomePage:
        return dashboards.home_page(self._s, user, channels, page)

    def waiting_for(self, script_id: str, reviewer: UserRef) -> list[Waiting]:
        return dashboards.waiting_for(self._s, script_id, reviewer)

    def modal_prompt(self, user: UserRef, chat: ChatRef, target: str) -> ModalPrompt:
        return dashboards.modal_prompt(self._s, self._outcomes, user, chat, target)

    async def review_cards(self, interview_id: str, platform: str
                           ) -> list[tuple[str | None, OutMessage]]:
        """An interview's review cards for one platform (none if it is gone)."""
        with self._s.uow() as uow:
            interview = uow.interviews.get(interview_id)
            if interview is None:
                return []
            return await self._reviews.cards(uow, interview, platform)

    # -- what an adapter records itself --------------------------------------------------
    def record_post(self, post: ReviewPost) -> None:
        """A review card the adapter showed itself, so that ratings update it."""
        with self._s.uow() as uow:
            uow.reviews.add_post(post)
            uow.commit()

    def remember_prompt(self, chat: ChatRef, message_id: str, target: str) -> None:
        """A force-reply prompt the adapter sent: a reply to it goes to `target`."""
        with self._s.uow() as uow:
            uow.reviews.add_reply_prompt(chat, message_id, target, self._s.clock.now())
            uow.commit()

    def prompt_target(self, chat: ChatRef, message_id: str) -> str | None:
        """What a reply to this message is for, if it was remembered as a prompt."""
        with self._s.uow() as uow:
            return uow.reviews.reply_target(chat, message_id)
