"""SQLModel tables. The domain objects in core/model.py are mapped to and from these rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime


def _when(nullable: bool = True, index: bool = False) -> datetime | None:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class InterviewRow(SQLModel, table=True):
    __tablename__ = "interview"

    id: str = Field(primary_key=True, max_length=32)
    script_id: str = Field(index=True, max_length=64)
    number: int
    candidate_name: str = Field(max_length=200)
    token_hash: str = Field(unique=True, max_length=64)
    invited_at: datetime = _when(nullable=False)  # type: ignore[assignment]
    deadline: datetime = _when(nullable=False)  # type: ignore[assignment]
    platform: str = Field(max_length=16)
    tz: str = Field(default="UTC", max_length=64)
    tz_confirmed: bool = False
    state: str = Field(index=True, max_length=16)
    candidate_platform: str | None = Field(default=None, max_length=16)
    candidate_id: str | None = Field(default=None, max_length=64)
    chat_platform: str | None = Field(default=None, max_length=16)
    chat_id: str | None = Field(default=None, max_length=64)
    accepted_at: datetime | None = _when()
    consented_at: datetime | None = _when()
    started_at: datetime | None = _when()
    completed_at: datetime | None = _when()
    ended_at: datetime | None = _when()
    last_activity_at: datetime | None = _when()
    awaiting_redo: bool = False
    wrap_up: str | None = Field(default=None, max_length=16)
    experience_rating: int | None = None
    state_before_expiry: str | None = Field(default=None, max_length=16)
    external_ref: str | None = Field(default=None, max_length=128)  # the ATS's own id
    # the script revision the interview was invited to (script_revision.hash); NULL: legacy
    script_revision: str | None = Field(default=None, max_length=64)
    language: str | None = Field(default=None, max_length=8)  # the candidate's language
    version: int = 0  # bumped by every write; a stale writer's update matches no row

    __table_args__ = (
        Index("ix_interview_candidate", "candidate_platform", "candidate_id"),
        UniqueConstraint("script_id", "number", name="uq_interview_number"),
    )


class AnswerRow(SQLModel, table=True):
    __tablename__ = "answer"

    id: str = Field(primary_key=True, max_length=32)
    interview_id: str = Field(foreign_key="interview.id", index=True, ondelete="CASCADE")
    question_id: str = Field(max_length=64)
    position: int
    kept_take_id: str | None = Field(default=None, max_length=32)
    kept_at: datetime | None = _when()

    __table_args__ = (UniqueConstraint("interview_id", "question_id", name="uq_answer_question"),)


class TakeRow(SQLModel, table=True):
    __tablename__ = "take"

    id: str = Field(primary_key=True, max_length=32)
    answer_id: str | None = Field(default=None, foreign_key="answer.id", index=True,
                                  ondelete="CASCADE")
    interview_id: str = Field(foreign_key="interview.id", index=True, ondelete="CASCADE")
    number: int
    kind: str = Field(max_length=8)
    received_at: datetime = _when(nullable=False)  # type: ignore[assignment]
    text: str | None = None
    media_key: str | None = Field(default=None, max_length=128)
    duration: float | None = None
    checksum: str | None = Field(default=None, max_length=64)
    transcript: str | None = None
    pieces: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    language: str | None = Field(default=None, max_length=8)  # the answer's language


class FollowUpRow(SQLModel, table=True):
    __tablename__ = "follow_up"

    id: str = Field(primary_key=True, max_length=32)
    interview_id: str = Field(foreign_key="interview.id", index=True, ondelete="CASCADE")
    answer_id: str = Field(max_length=32)
    asked_by: str = Field(max_length=100)
    text: str
    asked_at: datetime = _when(nullable=False)  # type: ignore[assignment]
    reply_take_id: str | None = Field(default=None, max_length=32)


class CandidateQuestionRow(SQLModel, table=True):
    __tablename__ = "candidate_question"

    id: str = Field(primary_key=True, max_length=32)
    interview_id: str = Field(foreign_key="interview.id", index=True, ondelete="CASCADE")
    text: str
    asked_at: datetime = _when(nullable=False)  # type: ignore[assignment]
    reply: str | None = None
    replied_by: str | None = Field(default=None, max_length=100)


class RatingRow(SQLModel, table=True):
    __tablename__ = "rating"

    id: int | None = Field(default=None, primary_key=True)
    interview_id: str = Field(foreign_key="interview.id", index=True, ondelete="CASCADE")
    answer_id: str = Field(max_length=32)
    question_id: str = Field(max_length=64)
    reviewer: str = Field(max_length=100)
    criterion: str = Field(max_length=64)
    score: int
    rated_at: datetime = _when(nullable=False)  # type: ignore[assignment]

    __table_args__ = (
        UniqueConstraint("answer_id", "reviewer", "criterion", name="uq_rating_once"),
    )


class DecisionRow(SQLModel, table=True):
    __tablename__ = "decision"

    id: int | None = Field(default=None, primary_key=True)
    interview_id: str = Field(foreign_key="interview.id", index=True, ondelete="CASCADE")
    reviewer: str = Field(max_length=100)
    decision: str = Field(max_length=16)
    decided_at: datetime = _when(nullable=False)  # type: ignore[assignment]

    __table_args__ = (UniqueConstraint("interview_id", "reviewer", name="uq_decision_once"),)


class ReviewPostRow(SQLModel, table=True):
    __tablename__ = "review_post"

    id: int | None = Field(default=None, primary_key=True)
    interview_id: str = Field(foreign_key="interview.id", index=True, ondelete="CASCADE")
    destination: str = Field(max_length=100)
    message_id: str = Field(max_length=64)
    answer_id: str | None = Field(default=None, max_length=32)
    kind: str = Field(default="card", max_length=8)  # card, reel, post
    parts: str = ""  # space-separated ids of what went with the message (pieces, files)


class AuditRow(SQLModel, table=True):
    __tablename__ = "audit"

    id: int | None = Field(default=None, primary_key=True)
    interview_id: str = Field(index=True, max_length=32)
    actor: str = Field(max_length=100)
    action: str = Field(max_length=32)
    detail: str
    at: datetime = _when(nullable=False)  # type: ignore[assignment]


class DeliveryRow(SQLModel, table=True):
    """Inbound delivery keys already handled (Telegram update ids, Slack event ids...)."""

    __tablename__ = "delivery"

    key: str = Field(primary_key=True, max_length=128)
    seen_at: datetime = _when(nullable=False)  # type: ignore[assignment]


class OutboxRow(SQLModel, table=True):
    """Outbound work committed with the change that caused it, until it has been performed."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    due_at: datetime = _when(nullable=False, index=True)  # type: ignore[assignment]
    attempts: int = 0  # claims: how often a sweep took the entry over
    body: str  # JSON: the steps of one command, each with its state (core/outbox.py)
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = _when()


class ApiKeyRow(SQLModel, table=True):
    """A bearer key of the HTTP API, stored only as its SHA-256 (see storage/api_keys.py)."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=64)
    key_hash: str = Field(unique=True, max_length=64)
    prefix: str = Field(max_length=16)  # the first characters, to recognise a key in a list
    created_at: datetime = _when(nullable=False)  # type: ignore[assignment]
    revoked_at: datetime | None = _when()
    last_used_at: datetime | None = _when()


class WebhookDeliveryRow(SQLModel, table=True):
    """One outgoing webhook event, committed with the change that caused it, kept until sent
    (or given up). Its id is the `webhook-id` header, the same on every attempt."""

    __tablename__ = "webhook_delivery"

    id: str = Field(primary_key=True, max_length=40)
    event_type: str = Field(max_length=40)
    interview_id: str | None = Field(default=None, index=True, max_length=32)
    url: str = Field(max_length=500)
    secret_env: str | None = Field(default=None, max_length=100)  # names the secret variable
    body: str  # the JSON sent, fixed when the event happened
    created_at: datetime = _when(nullable=False)  # type: ignore[assignment]
    due_at: datetime = _when(nullable=False, index=True)  # type: ignore[assignment]
    leased_until: datetime | None = _when()
    attempts: int = 0
    status: str = Field(default="pending", max_length=16)  # pending, delivered, failed
    delivered_at: datetime | None = _when()
    last_error: str | None = Field(default=None, max_length=300)


class ScriptRevisionRow(SQLModel, table=True):
    """A script as interviews were invited to it, keyed by the SHA-256 of its text. Never
    changed or removed: interviews keep their questions when the file changes or goes."""

    __tablename__ = "script_revision"

    hash: str = Field(primary_key=True, max_length=64)
    script_id: str = Field(index=True, max_length=64)
    source: str
    created_at: datetime = _when(nullable=False)  # type: ignore[assignment]


class ReplyPromptRow(SQLModel, table=True):
    """A force-reply prompt the bot sent: a reply to this message id is routed to `target`."""

    __tablename__ = "reply_prompt"

    chat: str = Field(primary_key=True, max_length=100)
    message_id: str = Field(primary_key=True, max_length=64)
    target: str = Field(max_length=64)
    sent_at: datetime = _when(nullable=False)  # type: ignore[assignment]



# registers the tables of records kept apart from the interview (core/fairness_records.py)
from storage.fairness import AccommodationRow, ConsentRow, SelfIdRow  # noqa: E402, F401
