"""When an interview needs attention again: reminders, the deadline, reviewer nudges.

`plan` is pure: from a script, an interview and the time, it lists the timers that should exist.
The scheduler adapter only keeps those timers; when one fires, the engine re-reads the interview
and acts only if the reason still holds.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from core.refs import ChatRef
from core.script import QuietHours, Script
from core.states import State
from core.texts import zone

REVIEW_NUDGES = 3  # reviewer digests at most, at 1x, 2x and 3x the script's delay


def possible_ids(script: Script, interview_id: str) -> list[str]:
    """Every timer id an interview of this script can ever have (to cancel the unplanned)."""
    counts = {TimerKind.NOT_STARTED: len(script.reminders.not_started),
              TimerKind.REVIEW: REVIEW_NUDGES}
    return [f"{interview_id}:{kind.value}:{i}"
            for kind in TimerKind for i in range(counts.get(kind, 1))]


class TimerKind(enum.Enum):
    NOT_STARTED = "not_started"  # invited, no consent yet (the invitation not taken up)
    IDLE = "idle"  # started (consented), no activity for a while
    BEFORE_DEADLINE = "before_deadline"  # the deadline is near
    EXPIRE = "expire"  # the deadline itself
    REVIEW = "review"  # completed, waiting for reviewers


@dataclass(frozen=True)
class Timer:
    """One planned look at an interview."""

    interview_id: str
    kind: TimerKind
    at: datetime
    index: int = 0

    @property
    def id(self) -> str:
        """Stable per reason: re-planning replaces the timer instead of adding one."""
        return f"{self.interview_id}:{self.kind.value}:{self.index}"

    @property
    def key(self) -> str:
        """Unique per firing, for exactly-once delivery."""
        return f"{timer_key_prefix(self.interview_id, self.kind)}{self.index}:{self.at.isoformat()}"


def timer_key_prefix(interview_id: str, kind: TimerKind) -> str:
    """The start of the delivery keys of one interview's timers of one kind: the one
    definition of a timer's delivery key (`Timer.key`), which reports count by."""
    return f"timer:{interview_id}:{kind.value}:"


class Plannable(Protocol):
    """What planning reads of an interview: the aggregate (`core.model.Interview`) or the
    read model the scheduler reconciles from (`core.queries.TimerFacts`)."""

    @property
    def id(self) -> str: ...
    @property
    def state(self) -> State: ...
    @property
    def tz(self) -> str: ...
    @property
    def chat(self) -> ChatRef | None: ...
    @property
    def invited_at(self) -> datetime: ...
    @property
    def deadline(self) -> datetime: ...
    @property
    def consented_at(self) -> datetime | None: ...
    @property
    def started_at(self) -> datetime | None: ...
    @property
    def completed_at(self) -> datetime | None: ...
    @property
    def last_activity_at(self) -> datetime | None: ...
    @property
    def is_open(self) -> bool: ...


def started(interview: Plannable) -> bool:
    """The one definition of "started", for reminders and the report alike: consent given."""
    return interview.consented_at is not None


def outside_quiet_hours(at: datetime, quiet: QuietHours | None, tz: str) -> datetime:
    """Move a moment inside quiet hours (in the person's zone) to the end of those hours."""
    if quiet is None:
        return at
    local = at.astimezone(zone(tz))
    if not quiet.contains(local.time()):
        return at
    end = datetime.combine(local.date(), quiet.end, tzinfo=zone(tz))
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), quiet.end, tzinfo=zone(tz))
    return end


def plan(script: Script, interview: Plannable) -> list[Timer]:
    """Every timer the interview needs in its current state (past ones included: due now)."""
    rules = script.reminders
    quiet, tz = rules.quiet_hours, interview.tz
    timers: list[Timer] = []

    def add(kind: TimerKind, at: datetime, index: int = 0, quiet_ok: bool = False) -> None:
        when = at if quiet_ok else outside_quiet_hours(at, quiet, tz)
        timers.append(Timer(interview.id, kind, when, index))

    if interview.is_open:
        reachable = interview.chat is not None
        if not started(interview) and reachable:
            for i, delay in enumerate(rules.not_started):
                add(TimerKind.NOT_STARTED, interview.invited_at + delay, i)
        if started(interview) and rules.idle and reachable:
            since = (interview.last_activity_at or interview.consented_at
                     or interview.started_at or interview.invited_at)
            add(TimerKind.IDLE, since + rules.idle)
        if rules.before_deadline and reachable:
            at = interview.deadline - rules.before_deadline
            if at > interview.invited_at:
                # never after the deadline, even when quiet hours would push it past
                when = outside_quiet_hours(at, quiet, tz)
                timers.append(Timer(interview.id, TimerKind.BEFORE_DEADLINE,
                                    min(when, interview.deadline - timedelta(minutes=30))))
        add(TimerKind.EXPIRE, interview.deadline, quiet_ok=True)
    elif interview.state is State.COMPLETED and rules.reviewer_after and interview.completed_at:
        for i in range(REVIEW_NUDGES):
            add(TimerKind.REVIEW, interview.completed_at + rules.reviewer_after * (i + 1), i,
                quiet_ok=True)
    return timers
