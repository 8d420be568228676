"""The query side: read models for adapters (lists, dashboards, metrics, timer planning),
served by a repository of their own (`InterviewQueries`), never by loading aggregates.

An adapter that shows interviews reads an `InterviewSummary`; the scheduler reads
`TimerFacts`, which carries exactly what `core.reminders.plan` looks at. Both are complete
read models, not partly filled `Interview`s: a field an aggregate has and a read model lacks
cannot be read by mistake. storage/queries.py implements the port.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.refs import ChatRef
from core.states import OPEN_STATES, State


@dataclass(frozen=True)
class InterviewSummary:
    """One interview as lists show it: no answers, takes or personal data beyond the name."""

    id: str
    script_id: str
    number: int
    candidate_name: str  # "" once erased
    state: State
    platform: str  # where the candidate was invited
    tz: str
    invited_at: datetime
    deadline: datetime
    accepted_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    ended_at: datetime | None
    external_ref: str | None
    language: str | None  # the candidate's language, when the script offers several
    reachable: bool  # the candidate's chat is known (the invitation was taken up)
    answers: int  # questions answered (a kept take, or a practice question skipped)


@dataclass(frozen=True)
class SummaryPage:
    """One page of summaries and how many match in all."""

    items: list[InterviewSummary]
    total: int


@dataclass(frozen=True)
class TimerFacts:
    """What timer planning reads of an interview (see `core.reminders.plan`)."""

    id: str
    script_id: str
    script_revision: str | None
    state: State
    tz: str
    chat: ChatRef | None
    invited_at: datetime
    deadline: datetime
    consented_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    last_activity_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class InterviewQueries(Protocol):
    """Read models of interviews, each answered with a constant number of queries."""

    def summary(self, interview_id: str) -> InterviewSummary | None: ...

    def page(self, *, script_id: str | None = None, state: State | None = None,
             limit: int = 50, offset: int = 0) -> SummaryPage:
        """Summaries in invitation order (oldest first), one bounded page, and the total."""
        ...

    def listed(self, script_ids: Collection[str], states: Collection[State]
               ) -> list[InterviewSummary]:
        """Every interview of these scripts in these states, by script and number."""
        ...

    def state_counts(self) -> dict[tuple[str, State], int]:
        """How many interviews each script has in each state (absent: none)."""
        ...

    def timer_facts(self, states: Collection[State]) -> list[TimerFacts]:
        """What planning needs of every interview in `states` (the scheduler's reconcile)."""
        ...
