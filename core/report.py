"""The hiring funnel of one script: stages, drop-off, timings, reviews and agreement.

`funnel_report` is pure: it takes interviews, their ratings, decisions and reminder counts.
`read_report` gathers those through a unit of work.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from statistics import mean, median

from core.agreement import interval_alpha
from core.model import Interview, Rating, ReviewerDecision
from core.ports import UnitOfWork
from core.prompts import current_question
from core.reminders import TimerKind, started, timer_key_prefix
from core.review import complete_reviewers, scored_answers
from core.script import Script
from core.states import OPEN_STATES, State
from core.texts import lang_for

CANDIDATE_REMINDERS = (TimerKind.NOT_STARTED, TimerKind.IDLE, TimerKind.BEFORE_DEADLINE)
"""Timers that message the candidate; the deadline itself and reviewer digests are not counted."""

ENDED_STATES = frozenset({State.EXPIRED, State.WITHDRAWN})
STOPPED_STATES = OPEN_STATES | ENDED_STATES
"""Where an interview can stand when its candidate stopped before completing it."""


def reminder_key_prefixes(interview_id: str) -> tuple[str, ...]:
    """Delivery-key prefixes of the candidate reminders sent for one interview."""
    return tuple(timer_key_prefix(interview_id, kind) for kind in CANDIDATE_REMINDERS)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0..1) with linear interpolation between closest ranks; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _percent(count: int, of: int) -> float:
    return round(100 * count / of, 1) if of else 0.0


@dataclass(frozen=True)
class Stage:
    """One step of the funnel, with its share of everyone invited."""

    name: str
    count: int
    percent: float


@dataclass(frozen=True)
class DropOff:
    """Interviews that stopped at one step (still open, expired or withdrawn there)."""

    step: str  # "invitation", "consent", or a question id
    label: str  # "Not opened", "Consent", "Practice", "Q1", ...
    question: str = ""  # the question's text, for question steps
    open: int = 0
    expired: int = 0
    withdrawn: int = 0

    @property
    def total(self) -> int:
        return self.open + self.expired + self.withdrawn


@dataclass(frozen=True)
class Timing:
    """Median and 90th percentile of a duration, in seconds, over `count` interviews."""

    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class Experience:
    """The candidates' 1-5 rating of the interview."""

    count: int
    mean: float | None
    distribution: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Agreement:
    """Krippendorff's alpha (interval) over (answer, criterion) units with >= 2 ratings."""

    alpha: float | None
    units: int
    ratings: int


@dataclass(frozen=True)
class FunnelReport:
    """What `interviewbot report` shows for one script."""

    script_id: str
    title: str
    stages: tuple[Stage, ...]
    drop_off: tuple[DropOff, ...]
    erased: int
    time_to_complete: Timing
    reminders_sent: int
    reminders_per_completion: float | None
    reviewer_turnaround: Timing
    experience: Experience
    agreement: Agreement
    # from completion to the outcome message (core/outcome.py), over interviews told
    time_to_outcome: Timing = field(default_factory=lambda: Timing(0, None, None))
    # interviews by language (the candidate's, else the script's default), most first
    languages: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready data (durations in seconds)."""

        def timing(t: Timing) -> dict[str, object]:
            return {"count": t.count, "median_seconds": t.median, "p90_seconds": t.p90}

        return {
            "script_id": self.script_id,
            "title": self.title,
            "funnel": [{"stage": s.name, "count": s.count, "percent": s.percent}
                       for s in self.stages],
            "drop_off": [{"step": d.step, "label": d.label, "question": d.question,
                          "stopped": d.total, "open": d.open, "expired": d.expired,
                          "withdrawn": d.withdrawn} for d in self.drop_off],
            "erased": self.erased,
            "languages": dict(self.languages),
            "time_to_complete": timing(self.time_to_complete),
            "reminders": {
                "sent": self.reminders_sent,
                "per_completion": None if self.reminders_per_completion is None
                else round(self.reminders_per_completion, 2),
            },
            "reviewer_turnaround": timing(self.reviewer_turnaround),
            "time_to_outcome": timing(self.time_to_outcome),
            "experience": {
                "count": self.experience.count,
                "mean": None if self.experience.mean is None else round(self.experience.mean, 2),
                "distribution": {str(k): v for k, v in self.experience.distribution.items()},
            },
            "agreement": {
                "krippendorff_alpha_interval": None if self.agreement.alpha is None
                else round(self.agreement.alpha, 4),
                "units": self.agreement.units,
                "ratings": self.agreement.ratings,
            },
        }


def _started(i: Interview) -> bool:
    return started(i) or i.completed_at is not None


def _reviewed(script: Script, i: Interview, ratings: list[Rating]) -> bool:
    """Completed, and every scored answer fully rated by at least one reviewer."""
    if i.completed_at is None or i.state is State.ERASED:
        return False
    answers = scored_answers(script, i)
    return bool(answers) and all(complete_reviewers(script, a, ratings) for a in answers)


def _drop_off(script: Script, interviews: Sequence[Interview]) -> tuple[DropOff, ...]:
    steps = [("invitation", "Not opened", ""), ("consent", "Consent", "")]
    number = 0
    for q in script.questions:
        if q.practice:
            steps.append((q.id, "Practice", q.text))
        else:
            number += 1
            steps.append((q.id, f"Q{number}", q.text))
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for i in interviews:
        if i.state not in STOPPED_STATES or i.completed_at is not None:
            continue
        if i.accepted_at is None:
            step = "invitation"
        elif i.consented_at is None:
            step = "consent"
        else:
            question = current_question(script, i)
            if question is None:
                continue
            step = question.id
        counts[step][i.state.value if i.state in ENDED_STATES else "open"] += 1
    return tuple(DropOff(step, label, text, counts[step]["open"],
                         counts[step][State.EXPIRED.value], counts[step][State.WITHDRAWN.value])
                 for step, label, text in steps)


def _seconds(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()


def funnel_report(script: Script, interviews: Sequence[Interview],
                  ratings: Mapping[str, list[Rating]],
                  decisions: Mapping[str, list[ReviewerDecision]],
                  reminders: Mapping[str, int]) -> FunnelReport:
    """The funnel of one script; the mappings are keyed by interview id (missing: none)."""
    mine = [i for i in interviews if i.script_id == script.id]
    invited = len(mine)
    begun = [i for i in mine if _started(i)]
    screened = [i for i in mine if i.state is State.SCREENED_OUT]
    completed = [i for i in mine if i.completed_at is not None]
    reviewed = [i for i in completed if _reviewed(script, i, ratings.get(i.id, []))]
    decided = [i for i in reviewed if decisions.get(i.id)]
    stages = tuple(Stage(name, len(group), _percent(len(group), invited)) for name, group in (
        ("invited", mine), ("started", begun), ("screened out", screened),
        ("completed", completed),
        ("reviewed", reviewed), ("decided", decided)))

    durations = [_seconds(i.accepted_at or i.invited_at, i.completed_at)
                 for i in completed if i.completed_at is not None]
    turnarounds = [_seconds(i.completed_at, max(r.rated_at for r in ratings[i.id]))
                   for i in reviewed if i.completed_at is not None]
    sent = sum(reminders.get(i.id, 0) for i in mine)

    scores = [i.experience_rating for i in mine if i.experience_rating is not None]
    tally = Counter(scores)

    units: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i in mine:
        for r in ratings.get(i.id, []):
            units[(r.answer_id, r.criterion)].append(r.score)
    pairable = [u for u in units.values() if len(u) >= 2]

    return FunnelReport(
        script_id=script.id,
        title=script.title,
        stages=stages,
        drop_off=_drop_off(script, mine),
        erased=sum(1 for i in mine if i.state is State.ERASED),
        languages=dict(Counter(lang_for(script, i.language) for i in mine).most_common()),
        time_to_complete=Timing(len(durations), median(durations) if durations else None,
                                percentile(durations, 0.9)),
        reminders_sent=sent,
        reminders_per_completion=sent / len(completed) if completed else None,
        reviewer_turnaround=Timing(len(turnarounds),
                                   median(turnarounds) if turnarounds else None,
                                   percentile(turnarounds, 0.9)),
        experience=Experience(len(scores), mean(scores) if scores else None,
                              {k: tally.get(k, 0) for k in range(1, 6)}),
        agreement=Agreement(interval_alpha(pairable), len(pairable),
                            sum(len(u) for u in pairable)),
    )


def read_report(script: Script, uow: UnitOfWork) -> FunnelReport:
    """Gather one script's interviews, ratings, decisions and reminder counts, and report."""
    from dataclasses import replace

    from core.outcome import outcome_timing

    interviews = uow.interviews.for_script(script.id)
    report = funnel_report(
        script, interviews,
        ratings={i.id: uow.reviews.ratings(i.id) for i in interviews},
        decisions={i.id: uow.reviews.decisions(i.id) for i in interviews},
        reminders={i.id: uow.reviews.reminders_sent(i.id) for i in interviews},
    )
    return replace(report, time_to_outcome=outcome_timing(interviews, uow))
