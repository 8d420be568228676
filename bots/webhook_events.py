"""Outgoing webhook events: which committed change becomes which event, and its JSON body.

`WebhookRecorder` runs inside every unit of work just before it commits (see
`storage.unit_of_work.SqlUnitOfWork`): each state change, new complete review and decision of
the transaction becomes one `webhook_delivery` row per receiver, in the same transaction, so
an event exists exactly when its change does. bots/webhooks.py sends the rows.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import mean
from typing import TYPE_CHECKING, Any

from core.model import Interview, Rating, ReviewerDecision
from core.ports import ScriptCatalog
from core.refs import UserRef
from core.review import complete_reviewers, scored_answers
from core.reviewers import decides
from core.script import Script
from core.states import State
from storage.webhook_rows import add_event
from storage.webhook_rows import scrub_pending as scrub_rows

if TYPE_CHECKING:
    from storage.unit_of_work import SqlUnitOfWork

DEFAULT_SECRET_ENV = "INTERVIEWBOT_WEBHOOK_SECRET"
EVENT_TYPES = (
    "interview.invited", "interview.started", "interview.completed", "interview.screened_out",
    "interview.expired", "interview.withdrawn", "interview.erased", "review.completed",
    "decision.made",
)
# a state an interview moves into -> the event (reopening an expired interview is no event)
STATE_EVENTS = {
    State.IN_PROGRESS.value: "interview.started",
    State.COMPLETED.value: "interview.completed",
    "screened_out": "interview.screened_out",
    State.EXPIRED.value: "interview.expired",
    State.WITHDRAWN.value: "interview.withdrawn",
    State.ERASED.value: "interview.erased",
}


@dataclass(frozen=True)
class Receiver:
    """Where events go: a URL and the environment variable holding its `whsec_` secret."""

    url: str
    secret_env: str


def new_webhook_id() -> str:
    """The `webhook-id`: unique per event, the same on every attempt to deliver it."""
    return "msg_" + secrets.token_hex(12)


def iso(when: datetime | None) -> str | None:
    return when.isoformat().replace("+00:00", "Z") if when is not None else None


def event_body(event_type: str, data: dict[str, Any], at: datetime) -> str:
    """The JSON body of one event, per the Standard Webhooks shape."""
    return json.dumps({"type": event_type, "timestamp": iso(at), "data": data},
                      separators=(",", ":"), sort_keys=True)


def interview_data(script: Script | None, interview: Interview) -> dict[str, Any]:
    """What every interview event carries: ids, number, state, reference, timestamps.
    The candidate's name only when the script's review is not blind (never any audio)."""
    data: dict[str, Any] = {
        "interview_id": interview.id, "script_id": interview.script_id,
        "candidate_number": interview.number, "state": interview.state.value,
        "external_ref": interview.external_ref, "channel": interview.platform,
        "invited_at": iso(interview.invited_at), "deadline": iso(interview.deadline),
        "started_at": iso(interview.started_at), "completed_at": iso(interview.completed_at),
        "ended_at": iso(interview.ended_at),
    }
    if script is not None and not script.review.blind and interview.candidate_name:
        data["candidate_name"] = interview.candidate_name
    return data


def scorecard_data(script: Script, interview: Interview, ratings: list[Rating],
                   decisions: list[ReviewerDecision]) -> dict[str, Any]:
    """Means per question and criterion, per criterion, overall, and the decisions so far."""
    questions: dict[str, dict[str, float | None]] = {}
    by_criterion: dict[str, list[int]] = {}
    for question in script.scored_questions:
        row: dict[str, float | None] = {}
        for criterion in script.criteria_for(question):
            scores = [r.score for r in ratings
                      if r.question_id == question.id and r.criterion == criterion]
            row[criterion] = round(mean(scores), 2) if scores else None
            by_criterion.setdefault(criterion, []).extend(scores)
        questions[question.id] = row
    everything = [r.score for r in ratings]
    return {
        "questions": questions,
        "criteria": {k: round(mean(v), 2) if v else None for k, v in by_criterion.items()},
        "overall": round(mean(everything), 2) if everything else None,
        "reviewers": len({str(r.reviewer) for r in ratings}),
        "decisions": [{"reviewer": str(d.reviewer), "decision": d.decision.value,
                       "decided_at": iso(d.decided_at)} for d in decisions],
        "answers": len(scored_answers(script, interview)),
    }


def is_decider(script: Script, who: str,
               members: Callable[[str], frozenset[str]] = lambda _group: frozenset()) -> bool:
    """Whose decision is the final call: core's rule (`core.reviewers.decides`), a listed
    decider (themselves or through a Slack user group), or any reviewer if none are."""
    return decides(script, UserRef.parse(who), members)


class WebhookRecorder:
    """Turns a transaction's changes into `webhook_delivery` rows (see the module text)."""

    def __init__(self, catalog: ScriptCatalog, url: str | None,
                 secret_env: str = DEFAULT_SECRET_ENV, *,
                 members: Callable[[str], frozenset[str]] = lambda _group: frozenset()) -> None:
        self.catalog = catalog
        self.default = Receiver(url, secret_env) if url else None
        self.members = members  # user group -> members, as the engine resolved them
        # called once a transaction that wrote events has committed (the sender's `wake`)
        self.on_commit: Callable[[], None] | None = None

    def receivers(self, script: Script | None) -> list[Receiver]:
        found = [self.default] if self.default is not None else []
        if script is not None and script.webhooks is not None:
            found.append(Receiver(script.webhooks.url, script.webhooks.secret_env))
        return found

    def __call__(self, uow: SqlUnitOfWork) -> None:
        transitions = list(uow.interviews.transitions)
        rated, decided = list(uow.reviews.rated), list(uow.reviews.decided)
        if not (transitions or rated or decided):
            return
        if self.default is None and not any(s.webhooks for s in self.catalog.all()):
            return
        now = datetime.now(UTC)
        for interview, before in transitions:
            script = self.catalog.get(interview.script_id)
            event = ("interview.invited" if before is None
                     else None if before == State.EXPIRED.value
                     else STATE_EVENTS.get(interview.state.value))
            if event is None:
                continue
            if event == "interview.erased":
                scrub_pending(uow, interview.id)
            data = interview_data(script, interview)
            if event == "interview.completed" and script is not None:
                data["scorecard"] = scorecard_data(script, interview, [], [])
            self._add(uow, script, interview.id, event, data, now)
        for reviewer, interview_id in dict.fromkeys((str(r.reviewer), r.interview_id)
                                                    for r in rated):
            self._review_completed(uow, interview_id, reviewer, now)
        for decision in decided:
            self._decision(uow, decision, now)

    def _review_completed(self, uow: SqlUnitOfWork, interview_id: str, reviewer: str,
                          now: datetime) -> None:
        """A reviewer's new rating completed their review of every answer."""
        interview = uow.interviews.get(interview_id)
        script = self.catalog.get(interview.script_id) if interview else None
        if interview is None or script is None:
            return
        ratings = uow.reviews.ratings(interview_id)
        answers = scored_answers(script, interview)
        if not answers or not all(reviewer in {str(u) for u in complete_reviewers(
                script, a, ratings)} for a in answers):
            return
        data = interview_data(script, interview)
        data["reviewer"] = reviewer
        data["scorecard"] = scorecard_data(script, interview, ratings,
                                           uow.reviews.decisions(interview_id))
        self._add(uow, script, interview_id, "review.completed", data, now)

    def _decision(self, uow: SqlUnitOfWork, decision: ReviewerDecision, now: datetime) -> None:
        interview = uow.interviews.get(decision.interview_id)
        script = self.catalog.get(interview.script_id) if interview else None
        if interview is None or script is None or not is_decider(script, str(decision.reviewer),
                                                                self.members):
            return
        data = interview_data(script, interview)
        data.update(decision=decision.decision.value, decided_by=str(decision.reviewer),
                    decided_at=iso(decision.decided_at))
        data["scorecard"] = scorecard_data(script, interview,
                                           uow.reviews.ratings(decision.interview_id),
                                           uow.reviews.decisions(decision.interview_id))
        self._add(uow, script, decision.interview_id, "decision.made", data, now)

    def _add(self, uow: SqlUnitOfWork, script: Script | None, interview_id: str, event: str,
             data: dict[str, Any], now: datetime) -> None:
        body = event_body(event, data, now)
        receivers = self.receivers(script)
        for receiver in receivers:
            add_event(uow.session, msg_id=new_webhook_id(), event_type=event,
                      interview_id=interview_id, url=receiver.url,
                      secret_env=receiver.secret_env, body=body, now=now)
        if receivers and self.on_commit is not None:
            uow.after_commit(self.on_commit)


def scrub_pending(uow: SqlUnitOfWork, interview_id: str) -> None:
    """An erasure also removes the name from events of the interview not yet delivered."""
    scrub_rows(uow.session, interview_id)


def secret_for(env: str | None, default: str | None) -> str | None:
    """The secret of a receiver: the default one, or the variable a script names."""
    if env is None or env == DEFAULT_SECRET_ENV:
        return default or os.environ.get(DEFAULT_SECRET_ENV)
    return os.environ.get(env)


def backoff(attempts: int, first: float, cap: float = 3600.0) -> timedelta:
    """Wait before attempt `attempts + 1`: doubling from `first`, at most an hour."""
    return timedelta(seconds=min(cap, first * 2 ** max(0, attempts - 1)))
