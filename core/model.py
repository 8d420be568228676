"""Domain entities: the interview aggregate (answers and takes), ratings, decisions, follow-ups."""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from core.errors import DomainError
from core.refs import ChatRef, UserRef
from core.states import OPEN_STATES, State, check_transition

TOKEN_BYTES = 18  # 144 bits of randomness, URL-safe, 24 characters


def new_id() -> str:
    """A short random identifier (64 bits, hex) for rows and button payloads."""
    return secrets.token_hex(8)


def new_token() -> str:
    """A fresh invitation token (>= 128 bits from `secrets`, safe in a deep link)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """Tokens are stored only as their SHA-256, so a database leak reveals no usable link."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented token with a stored hash."""
    return hmac.compare_digest(hash_token(token), stored_hash)


class WrapUp(enum.Enum):
    """What follows the last answer: the candidate's questions, then a rating of the experience."""

    QUESTIONS = "questions"
    FEEDBACK = "feedback"
    DONE = "done"


@dataclass
class Take:
    """One recording (or text, or choice) given as an answer; a question may have several takes.

    A take is a draft until the candidate submits (keeps) it: further messages or voice clips
    are appended to it (`pieces` counts them; clips are joined into one recording).
    """

    id: str
    number: int
    kind: str  # "text", "voice" or "choice" (text: the chosen options, one a line)
    received_at: datetime
    text: str | None = None
    media_key: str | None = None
    duration: float | None = None
    checksum: str | None = None
    transcript: str | None = None
    pieces: int = 1
    language: str | None = None  # asked in (the interview's), or heard in (a transcriber's)

    @property
    def words(self) -> int:
        return len((self.text or "").split())

    @property
    def choices(self) -> tuple[str, ...]:
        """The chosen options of a choice take, in the order of the question's options."""
        return tuple(line for line in (self.text or "").split("\n") if line)


@dataclass
class Answer:
    """The answer to one question: its takes and the one the candidate kept."""

    id: str
    question_id: str
    takes: list[Take] = field(default_factory=list)
    kept_take_id: str | None = None
    kept_at: datetime | None = None

    @property
    def done(self) -> bool:
        """Kept (or, for a practice question, skipped)."""
        return self.kept_at is not None

    @property
    def kept(self) -> Take | None:
        return next((t for t in self.takes if t.id == self.kept_take_id), None)

    @property
    def latest(self) -> Take | None:
        return self.takes[-1] if self.takes else None

    def draft(self, awaiting_redo: bool) -> Take | None:
        """The take being put together and not yet submitted (None: nothing to submit)."""
        if self.done or awaiting_redo:
            return None
        return self.latest


@dataclass
class FollowUp:
    """A reviewer's follow-up question on an answer, and the candidate's reply."""

    id: str
    answer_id: str
    asked_by: UserRef
    text: str
    asked_at: datetime
    reply: Take | None = None


@dataclass
class CandidateQuestion:
    """A question the candidate sent to the team at the end, and the team's reply."""

    id: str
    text: str
    asked_at: datetime
    reply: str | None = None
    replied_by: UserRef | None = None


@dataclass
class Interview:
    """The aggregate root: one candidate's run through one script."""

    id: str
    script_id: str
    number: int  # public sequence per script: "Candidate #12" in blind review
    candidate_name: str
    token_hash: str
    invited_at: datetime
    deadline: datetime
    platform: str  # the channel the candidate is invited on (core/capabilities.py)
    tz: str = "UTC"
    tz_confirmed: bool = False  # set by the invitation, the platform, or the candidate
    state: State = State.INVITED
    candidate: UserRef | None = None
    chat: ChatRef | None = None
    accepted_at: datetime | None = None
    consented_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    ended_at: datetime | None = None
    last_activity_at: datetime | None = None
    awaiting_redo: bool = False
    wrap_up: WrapUp | None = None
    experience_rating: int | None = None
    state_before_expiry: State | None = None
    external_ref: str | None = None  # the inviting system's own reference (an ATS id)
    script_revision: str | None = None  # the pinned script (ScriptRevision.hash); None: legacy
    language: str | None = None  # the candidate's language; None: the script's default
    answers: list[Answer] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)
    candidate_questions: list[CandidateQuestion] = field(default_factory=list)

    # -- state ---------------------------------------------------------------------------
    def move_to(self, target: State, now: datetime) -> None:
        """Apply a transition from the table, or raise `IllegalTransition`."""
        check_transition(self.state, target)
        if target is State.EXPIRED:
            self.state_before_expiry = self.state
        if target in (State.EXPIRED, State.WITHDRAWN, State.ERASED, State.COMPLETED,
                      State.SCREENED_OUT):
            self.ended_at = now
        self.state = target

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    # -- answers -------------------------------------------------------------------------
    def answer_for(self, question_id: str) -> Answer | None:
        return next((a for a in self.answers if a.question_id == question_id), None)

    def answer_by_id(self, answer_id: str) -> Answer | None:
        return next((a for a in self.answers if a.id == answer_id), None)

    def take_by_id(self, take_id: str) -> tuple[Answer, Take] | None:
        for answer in self.answers:
            for take in answer.takes:
                if take.id == take_id:
                    return answer, take
        return None

    def done_ids(self) -> set[str]:
        return {a.question_id for a in self.answers if a.done}

    def add_take(self, question_id: str, take: Take) -> Answer:
        """Record a take for a question not yet kept."""
        answer = self.answer_for(question_id)
        if answer is None:
            answer = Answer(id=new_id(), question_id=question_id)
            self.answers.append(answer)
        if answer.done:
            raise DomainError(f"question {question_id} is already answered")
        if take.language is None:
            take.language = self.language
        answer.takes.append(take)
        self.awaiting_redo = False
        return answer

    def keep(self, answer: Answer, take: Take | None, now: datetime) -> None:
        """Keep a take (None skips a practice question)."""
        if answer.done:
            raise DomainError(f"question {answer.question_id} is already answered")
        answer.kept_take_id = take.id if take else None
        answer.kept_at = now

    def follow_up(self, follow_up_id: str) -> FollowUp | None:
        return next((f for f in self.follow_ups if f.id == follow_up_id), None)

    def open_follow_up(self) -> FollowUp | None:
        """The oldest follow-up question still waiting for the candidate's reply."""
        return next((f for f in self.follow_ups if f.reply is None), None)


class Decision(enum.Enum):
    """A reviewer's recommendation on a completed interview."""

    ADVANCE = "advance"
    REJECT = "reject"
    HOLD = "hold"


@dataclass
class Rating:
    """One reviewer's score of one answer on one rubric criterion."""

    interview_id: str
    answer_id: str
    question_id: str
    reviewer: UserRef
    criterion: str
    score: int
    rated_at: datetime


@dataclass
class ReviewerDecision:
    """One reviewer's decision on one interview."""

    interview_id: str
    reviewer: UserRef
    decision: Decision
    decided_at: datetime


@dataclass
class ReviewPost:
    """A message the bot posted about an interview, kept so it can be updated (counts,
    replies) and deleted when the interview is erased."""

    interview_id: str
    destination: ChatRef
    message_id: str
    answer_id: str | None  # None for the interview's summary card
    kind: str = "card"  # "card", "reel", or "post" (a broadcast, a prompt, a notice)
    parts: tuple[str, ...] = ()  # what else went with the message (see `MessageRef.parts`)


@dataclass
class AuditEntry:
    """Who did what to an interview, for the record (rating changes, erasure, decisions)."""

    interview_id: str
    actor: str
    action: str
    detail: str
    at: datetime
