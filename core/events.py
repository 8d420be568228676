"""Typed domain events: what happened, raised by handlers, done once their transaction commits.

Each event becomes one or more outbox steps (see core/bus.py for the table that maps an event
type to its steps, and core/outbox.py for the steps themselves).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InterviewCompleted:
    """The candidate finished: post the interview's cards (and reel) for the reviewers."""

    interview_id: str


@dataclass(frozen=True)
class CandidateAsked:
    """The candidate asked the team a question: show it to every review destination."""

    interview_id: str
    question_id: str


@dataclass(frozen=True)
class FollowUpAnswered:
    """The candidate answered a reviewer's follow-up: show the reply to the reviewers."""

    interview_id: str
    follow_up_id: str


@dataclass(frozen=True)
class ReviewChanged:
    """A rating or decision changed an answer's card (`answer_id`, None: the summary card)."""

    interview_id: str
    answer_id: str | None


@dataclass(frozen=True)
class TakeStored:
    """A voice take was stored: transcribe it in the background, if a transcriber is set."""

    interview_id: str
    take_id: str


@dataclass(frozen=True)
class InterviewErased:
    """The interview was erased: remove everything posted about it from the chats."""

    interview_id: str


Event = (InterviewCompleted | CandidateAsked | FollowUpAnswered | ReviewChanged | TakeStored
         | InterviewErased)
