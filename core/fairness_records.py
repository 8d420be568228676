"""Records kept apart from the interview: self-identification, consent to a notice, adjustments.

They live in their own tables, keyed by interview, read by nothing that builds what reviewers,
`results` or webhooks see (except the consent record, which `results` carries on purpose).
`FairnessRecords` is the port; storage/fairness.py implements it on SQL.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ConsentRecord:
    """Which notice text (its SHA-256) and consent the candidate accepted, and when."""

    interview_id: str
    notice_sha256: str
    accepted_at: datetime


class RequestStatus(enum.Enum):
    DRAFT = "draft"  # adjustments chosen, waiting for the candidate's optional note
    PENDING = "pending"  # with the deciders
    APPROVED = "approved"
    DECLINED = "declined"


@dataclass
class AccommodationRequest:
    """A candidate's request for adjustments, and the decision on it."""

    id: str
    interview_id: str
    adjustments: tuple[str, ...]
    note: str
    requested_at: datetime
    status: RequestStatus = RequestStatus.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None


class FairnessRecords(Protocol):
    """Self-identification answers, consent records and accommodation requests."""

    def self_id(self, interview_id: str) -> dict[str, str]:
        """An interview's survey answers, category → answer."""
        ...

    def put_self_id(self, interview_id: str, category: str, answer: str, at: datetime) -> None:
        ...

    def self_id_for_script(self, script_id: str) -> dict[str, dict[str, str]]:
        """Every survey answer of a script's interviews: interview id → category → answer."""
        ...

    def put_consent(self, record: ConsentRecord) -> None: ...

    def consent(self, interview_id: str) -> ConsentRecord | None: ...

    def requests(self, interview_id: str) -> list[AccommodationRequest]: ...

    def put_request(self, request: AccommodationRequest) -> None:
        """Insert or update (by id) an accommodation request."""
        ...

    def requests_for_script(self, script_id: str) -> list[AccommodationRequest]: ...

    def erase(self, interview_id: str) -> None:
        """Delete an interview's survey answers and the notes of its requests."""
        ...
