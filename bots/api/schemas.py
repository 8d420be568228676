"""Request and response bodies of the HTTP API (pydantic); the OpenAPI document is made
from these models (bots/api/openapi.py)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.texts import zone

STATES = Literal["invited", "consented", "in_progress", "completed", "expired", "withdrawn",
                 "erased", "screened_out"]
LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class InvitationIn(Strict):
    """Invite one candidate."""

    script_id: str = Field(min_length=1, max_length=64, examples=["backend-engineer"])
    name: str = Field(min_length=1, max_length=200, examples=["Ada Lovelace"])
    channel: Literal["telegram", "slack"] = Field(
        description="telegram: the answer carries a deep link to hand to the candidate; "
                    "slack: the bot DMs `slack_user`.")
    slack_user: str | None = Field(None, pattern=r"^[UW][A-Z0-9]{2,20}$",
                                   description="Slack user id, required for channel slack.")
    tz: str | None = Field(None, max_length=64, examples=["Europe/Berlin"],
                           description="IANA time zone for the deadline and reminders.")
    lang: str | None = Field(None, max_length=10, examples=["de"],
                             description="Language of the interview (a language the script "
                                         "offers).")
    external_ref: str | None = Field(None, min_length=1, max_length=128,
                                     examples=["greenhouse:application:4412"],
                                     description="Your own id; returned in every webhook.")

    @field_validator("tz")
    @classmethod
    def known_zone(cls, value: str | None) -> str | None:
        if value is not None and zone(value).key != value:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as "
                             "Europe/Berlin)")
        return value

    @field_validator("lang")
    @classmethod
    def language_tag(cls, value: str | None) -> str | None:
        if value is not None and not LANG.match(value):
            raise ValueError(f"{value!r} is not a language code such as en or de")
        return value

    @model_validator(mode="after")
    def one_channel(self) -> InvitationIn:
        if self.channel == "slack" and not self.slack_user:
            raise ValueError("channel slack needs slack_user (the Slack user id to DM)")
        if self.channel == "telegram" and self.slack_user:
            raise ValueError("slack_user is only for channel slack")
        return self


class Delivery(BaseModel):
    """How the invitation reaches the candidate."""

    status: Literal["link", "sent", "failed"]
    link: str | None = Field(None, description="Telegram deep link, single use.")
    detail: str | None = None


class InvitationOut(BaseModel):
    interview_id: str
    number: int = Field(description="The candidate's number in this script (blind review).")
    script_id: str
    state: STATES
    deadline: datetime
    external_ref: str | None
    delivery: Delivery


class InterviewOut(BaseModel):
    id: str
    script_id: str
    number: int
    state: STATES
    channel: str
    name: str | None = Field(description="The candidate's name; null once erased.")
    external_ref: str | None
    tz: str
    language: str | None = Field(None, description="The candidate's language: chosen by the "
                                 "invitation, the chat app or the candidate; null: not chosen "
                                 "yet, the script's default is spoken.")
    invited_at: datetime
    deadline: datetime
    accepted_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    ended_at: datetime | None
    answers: int = Field(description="Questions answered so far.")


class InterviewPage(BaseModel):
    items: list[InterviewOut]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class ResultRow(BaseModel):
    interview_id: str
    number: int
    candidate: str = Field(description="The name, or 'Candidate #N' in blind scripts.")
    state: STATES
    external_ref: str | None
    completed_at: datetime | None
    overall: float | None
    decision: str
    reviewers: int
    scores: dict[str, float | None] = Field(
        description="Mean per `question.criterion`; null before any rating.")


class Results(BaseModel):
    script_id: str
    items: list[ResultRow]


class ExtendIn(Strict):
    """Give the candidate more time (at most 30 days per call)."""

    hours: int = Field(ge=1, le=24 * 30, examples=[72])


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    code: str = Field(examples=["invalid_body"])
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class Error(BaseModel):
    error: ErrorBody


def error(code: str, message: str, details: list[ErrorDetail] | None = None) -> dict[str, Any]:
    return Error(error=ErrorBody(code=code, message=message,
                                 details=details or [])).model_dump(mode="json")
