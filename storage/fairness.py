"""Tables and the SQL repository of core/fairness_records.py: self-identification, consent
records and accommodation requests, each keyed by interview and kept out of the aggregate."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, UniqueConstraint, column, delete, table, update
from sqlmodel import Field, Session, SQLModel, col, select

from core.fairness_records import AccommodationRequest, ConsentRecord, RequestStatus
from storage.types import UTCDateTime

INTERVIEW = table("interview", column("id"), column("script_id"))  # for joins only


def _when(nullable: bool = True) -> datetime | None:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class SelfIdRow(SQLModel, table=True):
    """One voluntary self-identification answer; never joined into anything reviewers see."""

    __tablename__ = "self_identification"

    id: int | None = Field(default=None, primary_key=True)
    interview_id: str = Field(foreign_key="interview.id", index=True, ondelete="CASCADE")
    category: str = Field(max_length=32)
    answer: str = Field(max_length=64)
    answered_at: datetime = _when(nullable=False)  # type: ignore[assignment]

    __table_args__ = (UniqueConstraint("interview_id", "category", name="uq_self_id_once"),)


class ConsentRow(SQLModel, table=True):
    """Which notice (SHA-256 of the text shown) a candidate accepted, and when."""

    __tablename__ = "consent_record"

    interview_id: str = Field(primary_key=True, foreign_key="interview.id", ondelete="CASCADE")
    notice_sha256: str = Field(max_length=64)
    accepted_at: datetime = _when(nullable=False)  # type: ignore[assignment]


class AccommodationRow(SQLModel, table=True):
    __tablename__ = "accommodation_request"

    id: str = Field(primary_key=True, max_length=32)
    interview_id: str = Field(foreign_key="interview.id", index=True, ondelete="CASCADE")
    adjustments: str = Field(max_length=200)  # comma-separated
    note: str = ""
    status: str = Field(max_length=16)
    requested_at: datetime = _when(nullable=False)  # type: ignore[assignment]
    decided_by: str | None = Field(default=None, max_length=100)
    decided_at: datetime | None = _when()


def _request(r: AccommodationRow) -> AccommodationRequest:
    return AccommodationRequest(
        id=r.id, interview_id=r.interview_id,
        adjustments=tuple(a for a in r.adjustments.split(",") if a), note=r.note,
        requested_at=r.requested_at, status=RequestStatus(r.status), decided_by=r.decided_by,
        decided_at=r.decided_at)


class SqlFairness:
    """`FairnessRecords` on SQL, in the unit of work's session (committed with it)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def self_id(self, interview_id: str) -> dict[str, str]:
        rows = self.session.exec(select(SelfIdRow).where(
            col(SelfIdRow.interview_id) == interview_id).order_by(col(SelfIdRow.id))).all()
        return {r.category: r.answer for r in rows}

    def put_self_id(self, interview_id: str, category: str, answer: str, at: datetime) -> None:
        row = self.session.exec(select(SelfIdRow).where(
            col(SelfIdRow.interview_id) == interview_id,
            col(SelfIdRow.category) == category)).first()
        row = row or SelfIdRow(interview_id=interview_id, category=category, answer=answer,
                               answered_at=at)
        row.answer, row.answered_at = answer, at
        self.session.add(row)
        self.session.flush()

    def self_id_for_script(self, script_id: str) -> dict[str, dict[str, str]]:
        rows = self.session.exec(
            select(SelfIdRow).join(INTERVIEW, INTERVIEW.c.id == col(SelfIdRow.interview_id))
            .where(INTERVIEW.c.script_id == script_id).order_by(col(SelfIdRow.id))).all()
        out: dict[str, dict[str, str]] = {}
        for r in rows:
            out.setdefault(r.interview_id, {})[r.category] = r.answer
        return out

    def put_consent(self, record: ConsentRecord) -> None:
        row = self.session.get(ConsentRow, record.interview_id)
        row = row or ConsentRow(interview_id=record.interview_id, notice_sha256="",
                                accepted_at=record.accepted_at)
        row.notice_sha256, row.accepted_at = record.notice_sha256, record.accepted_at
        self.session.add(row)
        self.session.flush()

    def consent(self, interview_id: str) -> ConsentRecord | None:
        row = self.session.get(ConsentRow, interview_id)
        return ConsentRecord(row.interview_id, row.notice_sha256, row.accepted_at) if row else None

    def requests(self, interview_id: str) -> list[AccommodationRequest]:
        rows = self.session.exec(select(AccommodationRow).where(
            col(AccommodationRow.interview_id) == interview_id
        ).order_by(col(AccommodationRow.requested_at))).all()
        return [_request(r) for r in rows]

    def put_request(self, request: AccommodationRequest) -> None:
        row = self.session.get(AccommodationRow, request.id) or AccommodationRow(
            id=request.id, interview_id=request.interview_id, adjustments="", status="",
            requested_at=request.requested_at)
        row.adjustments = ",".join(request.adjustments)
        row.note, row.status = request.note, request.status.value
        row.decided_by, row.decided_at = request.decided_by, request.decided_at
        self.session.add(row)
        self.session.flush()

    def requests_for_script(self, script_id: str) -> list[AccommodationRequest]:
        rows = self.session.exec(
            select(AccommodationRow)
            .join(INTERVIEW, INTERVIEW.c.id == col(AccommodationRow.interview_id))
            .where(INTERVIEW.c.script_id == script_id)).all()
        return [_request(r) for r in rows]

    def erase(self, interview_id: str) -> None:
        self.session.execute(delete(SelfIdRow).where(col(SelfIdRow.interview_id) == interview_id))
        self.session.execute(update(AccommodationRow).where(
            col(AccommodationRow.interview_id) == interview_id).values(note=""))
