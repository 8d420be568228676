"""`InterviewQueries` on SQL: read models in one statement each (a page: two), with no
aggregate loaded and no per-row query (see core/queries.py)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Engine, func, select

from core.queries import InterviewSummary, SummaryPage, TimerFacts
from core.refs import ChatRef
from core.states import State
from storage.tables import AnswerRow, InterviewRow

INTERVIEW = InterviewRow.__table__  # type: ignore[attr-defined]
ANSWER = AnswerRow.__table__  # type: ignore[attr-defined]

# questions answered per interview, joined into the same statement as the interviews
_ANSWERED = (select(ANSWER.c.interview_id, func.count().label("answered"))
             .where(ANSWER.c.kept_at.is_not(None)).group_by(ANSWER.c.interview_id)
             .subquery("answered"))
_SUMMARY = select(
    INTERVIEW.c.id, INTERVIEW.c.script_id, INTERVIEW.c.number, INTERVIEW.c.candidate_name,
    INTERVIEW.c.state, INTERVIEW.c.platform, INTERVIEW.c.tz, INTERVIEW.c.invited_at,
    INTERVIEW.c.deadline, INTERVIEW.c.accepted_at, INTERVIEW.c.started_at,
    INTERVIEW.c.completed_at, INTERVIEW.c.ended_at, INTERVIEW.c.external_ref,
    INTERVIEW.c.language, INTERVIEW.c.chat_id,
    func.coalesce(_ANSWERED.c.answered, 0).label("answered"),
).select_from(INTERVIEW.outerjoin(_ANSWERED, _ANSWERED.c.interview_id == INTERVIEW.c.id))


def _summary(r: Any) -> InterviewSummary:
    return InterviewSummary(
        id=r.id, script_id=r.script_id, number=r.number, candidate_name=r.candidate_name,
        state=State(r.state), platform=r.platform, tz=r.tz, invited_at=r.invited_at,
        deadline=r.deadline, accepted_at=r.accepted_at, started_at=r.started_at,
        completed_at=r.completed_at, ended_at=r.ended_at, external_ref=r.external_ref,
        language=r.language, reachable=r.chat_id is not None, answers=int(r.answered))


class SqlInterviewQueries:
    """`core.queries.InterviewQueries` on the application's database engine."""

    def __init__(self, db: Engine) -> None:
        self.db = db

    def summary(self, interview_id: str) -> InterviewSummary | None:
        with self.db.connect() as conn:
            row = conn.execute(_SUMMARY.where(INTERVIEW.c.id == interview_id)).first()
        return _summary(row) if row is not None else None

    def page(self, *, script_id: str | None = None, state: State | None = None,
             limit: int = 50, offset: int = 0) -> SummaryPage:
        where = [c for c in (INTERVIEW.c.script_id == script_id if script_id else None,
                             INTERVIEW.c.state == state.value if state else None)
                 if c is not None]
        with self.db.connect() as conn:
            total = conn.execute(select(func.count()).select_from(INTERVIEW).where(*where)
                                 ).scalar()
            rows = conn.execute(_SUMMARY.where(*where)
                                .order_by(INTERVIEW.c.invited_at, INTERVIEW.c.id)
                                .limit(limit).offset(offset)).all()
        return SummaryPage([_summary(r) for r in rows], int(total or 0))

    def listed(self, script_ids: Collection[str], states: Collection[State]
               ) -> list[InterviewSummary]:
        if not script_ids or not states:
            return []
        with self.db.connect() as conn:
            rows = conn.execute(_SUMMARY.where(
                INTERVIEW.c.script_id.in_(list(script_ids)),
                INTERVIEW.c.state.in_([s.value for s in states]),
            ).order_by(INTERVIEW.c.script_id, INTERVIEW.c.number)).all()
        return [_summary(r) for r in rows]

    def state_counts(self) -> dict[tuple[str, State], int]:
        script_id, state = INTERVIEW.c.script_id, INTERVIEW.c.state
        with self.db.connect() as conn:
            rows = conn.execute(select(script_id, state, func.count())
                                .group_by(script_id, state)).all()
        return {(sid, State(value)): int(n) for sid, value, n in rows}

    def timer_facts(self, states: Collection[State]) -> list[TimerFacts]:
        t = INTERVIEW.c
        query = select(
            t.id, t.script_id, t.script_revision, t.state, t.tz, t.chat_platform, t.chat_id,
            t.invited_at, t.deadline, t.consented_at, t.started_at, t.completed_at,
            t.last_activity_at,
        ).where(t.state.in_([s.value for s in states]))
        with self.db.connect() as conn:
            rows = conn.execute(query).all()
        return [TimerFacts(
            id=r.id, script_id=r.script_id, script_revision=r.script_revision,
            state=State(r.state), tz=r.tz,
            chat=ChatRef(r.chat_platform, r.chat_id) if r.chat_platform and r.chat_id else None,
            invited_at=r.invited_at, deadline=r.deadline, consented_at=r.consented_at,
            started_at=r.started_at, completed_at=r.completed_at,
            last_activity_at=r.last_activity_at) for r in rows]
