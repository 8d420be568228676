"""The columns `interviewbot results` adds from the records kept apart from the interview:
the consent record always; approved adjustments only when asked (`--include-adjustments`).
Self-identification is never among them."""

from __future__ import annotations

from core.fairness_records import RequestStatus
from core.ports import UnitOfWork


def result_columns(uow: UnitOfWork, interview_id: str, include_adjustments: bool
                   ) -> dict[str, object]:
    record = uow.fairness.consent(interview_id)
    columns: dict[str, object] = {
        "notice_sha256": record.notice_sha256 if record else "",
        "consented_at": record.accepted_at.isoformat() if record else "",
    }
    if include_adjustments:
        granted = [a for r in uow.fairness.requests(interview_id)
                   if r.status is RequestStatus.APPROVED for a in r.adjustments]
        columns["adjustments"] = "+".join(dict.fromkeys(granted))
    return columns
