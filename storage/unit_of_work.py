"""The SQL unit of work: repositories that map core's domain objects to SQLModel rows."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, delete, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from core.model import (
    Answer,
    AuditEntry,
    CandidateQuestion,
    Decision,
    FollowUp,
    Interview,
    Rating,
    ReviewerDecision,
    ReviewPost,
    Take,
    WrapUp,
)
from core.ports import AlreadyHandled
from core.refs import ChatRef, UserRef
from core.report import reminder_key_prefixes
from core.states import State
from storage.tables import (
    AnswerRow,
    AuditRow,
    CandidateQuestionRow,
    DecisionRow,
    DeliveryRow,
    FollowUpRow,
    InterviewRow,
    RatingRow,
    ReviewPostRow,
    TakeRow,
)


def _take(row: TakeRow) -> Take:
    return Take(
        id=row.id,
        number=row.number,
        kind=row.kind,
        received_at=row.received_at,
        text=row.text,
        media_key=row.media_key,
        duration=row.duration,
        checksum=row.checksum,
        transcript=row.transcript,
    )


def _take_row(take: Take, interview_id: str, answer_id: str | None) -> TakeRow:
    return TakeRow(
        id=take.id,
        answer_id=answer_id,
        interview_id=interview_id,
        number=take.number,
        kind=take.kind,
        received_at=take.received_at,
        text=take.text,
        media_key=take.media_key,
        duration=take.duration,
        checksum=take.checksum,
        transcript=take.transcript,
    )


def _user(platform: str | None, ident: str | None) -> UserRef | None:
    return UserRef(platform, ident) if platform and ident else None


def _chat(platform: str | None, ident: str | None) -> ChatRef | None:
    return ChatRef(platform, ident) if platform and ident else None


class SqlInterviews:
    """`InterviewRepository` on SQLModel; loaded aggregates are written back on commit."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.seen: dict[str, Interview] = {}

    def add(self, interview: Interview) -> None:
        self.seen[interview.id] = interview

    def get(self, interview_id: str) -> Interview | None:
        if interview_id in self.seen:
            return self.seen[interview_id]
        row = self.session.get(InterviewRow, interview_id)
        return self._load(row) if row else None

    def by_token_hash(self, token_hash: str) -> Interview | None:
        row = self.session.exec(
            select(InterviewRow).where(col(InterviewRow.token_hash) == token_hash)
        ).first()
        return self._load(row) if row else None

    def current_for(self, user: UserRef) -> Interview | None:
        row = self.session.exec(
            select(InterviewRow)
            .where(
                col(InterviewRow.candidate_platform) == user.platform,
                col(InterviewRow.candidate_id) == user.id,
                col(InterviewRow.state) != State.ERASED.value,
            )
            .order_by(col(InterviewRow.accepted_at).desc())
        ).first()
        return self._load(row) if row else None

    def for_script(self, script_id: str) -> list[Interview]:
        rows = self.session.exec(
            select(InterviewRow)
            .where(col(InterviewRow.script_id) == script_id)
            .order_by(col(InterviewRow.number))
        ).all()
        return [self._load(r) for r in rows]

    def live(self, states: Iterable[State]) -> list[Interview]:
        values = [s.value for s in states]
        rows = self.session.exec(
            select(InterviewRow).where(col(InterviewRow.state).in_(values))).all()
        return [self._load(r) for r in rows]

    def next_number(self, script_id: str) -> int:
        found = self.session.exec(
            select(func.max(col(InterviewRow.number))).where(
                col(InterviewRow.script_id) == script_id
            )
        ).one()
        pending = [i.number for i in self.seen.values() if i.script_id == script_id]
        return max([found or 0, *pending]) + 1

    # -- mapping -----------------------------------------------------------------------
    def _load(self, row: InterviewRow) -> Interview:
        if row.id in self.seen:
            return self.seen[row.id]
        s = self.session
        answers = s.exec(
            select(AnswerRow)
            .where(col(AnswerRow.interview_id) == row.id)
            .order_by(col(AnswerRow.position))
        ).all()
        takes = s.exec(
            select(TakeRow)
            .where(col(TakeRow.interview_id) == row.id)
            .order_by(col(TakeRow.received_at))
        ).all()
        takes_by_answer: dict[str | None, list[Take]] = {}
        take_by_id: dict[str, Take] = {}
        for t in takes:
            take = _take(t)
            take_by_id[t.id] = take
            takes_by_answer.setdefault(t.answer_id, []).append(take)
        for group in takes_by_answer.values():
            group.sort(key=lambda t: t.number)
        follow_ups = s.exec(
            select(FollowUpRow)
            .where(col(FollowUpRow.interview_id) == row.id)
            .order_by(col(FollowUpRow.asked_at))
        ).all()
        questions = s.exec(
            select(CandidateQuestionRow)
            .where(col(CandidateQuestionRow.interview_id) == row.id)
            .order_by(col(CandidateQuestionRow.asked_at))
        ).all()
        interview = Interview(
            id=row.id,
            script_id=row.script_id,
            number=row.number,
            candidate_name=row.candidate_name,
            token_hash=row.token_hash,
            invited_at=row.invited_at,
            deadline=row.deadline,
            platform=row.platform,
            tz=row.tz,
            tz_confirmed=row.tz_confirmed,
            state=State(row.state),
            candidate=_user(row.candidate_platform, row.candidate_id),
            chat=_chat(row.chat_platform, row.chat_id),
            accepted_at=row.accepted_at,
            consented_at=row.consented_at,
            started_at=row.started_at,
            completed_at=row.completed_at,
            ended_at=row.ended_at,
            last_activity_at=row.last_activity_at,
            awaiting_redo=row.awaiting_redo,
            wrap_up=WrapUp(row.wrap_up) if row.wrap_up else None,
            experience_rating=row.experience_rating,
            state_before_expiry=State(row.state_before_expiry) if row.state_before_expiry else None,
            answers=[
                Answer(
                    id=a.id,
                    question_id=a.question_id,
                    takes=takes_by_answer.get(a.id, []),
                    kept_take_id=a.kept_take_id,
                    kept_at=a.kept_at,
                )
                for a in answers
            ],
            follow_ups=[
                FollowUp(
                    id=f.id,
                    answer_id=f.answer_id,
                    asked_by=UserRef.parse(f.asked_by),
                    text=f.text,
                    asked_at=f.asked_at,
                    reply=take_by_id.get(f.reply_take_id or ""),
                )
                for f in follow_ups
            ],
            candidate_questions=[
                CandidateQuestion(
                    id=q.id,
                    text=q.text,
                    asked_at=q.asked_at,
                    reply=q.reply,
                    replied_by=UserRef.parse(q.replied_by) if q.replied_by else None,
                )
                for q in questions
            ],
        )
        self.seen[row.id] = interview
        return interview

    def flush(self) -> None:
        """Write every loaded or added aggregate back to its rows."""
        for interview in self.seen.values():
            self._save(interview)

    def _save(self, i: Interview) -> None:
        s = self.session
        values: dict[str, Any] = {
            "script_id": i.script_id,
            "number": i.number,
            "candidate_name": i.candidate_name,
            "token_hash": i.token_hash,
            "invited_at": i.invited_at,
            "deadline": i.deadline,
            "platform": i.platform,
            "tz": i.tz,
            "tz_confirmed": i.tz_confirmed,
            "state": i.state.value,
            "candidate_platform": i.candidate.platform if i.candidate else None,
            "candidate_id": i.candidate.id if i.candidate else None,
            "chat_platform": i.chat.platform if i.chat else None,
            "chat_id": i.chat.id if i.chat else None,
            "accepted_at": i.accepted_at,
            "consented_at": i.consented_at,
            "started_at": i.started_at,
            "completed_at": i.completed_at,
            "ended_at": i.ended_at,
            "last_activity_at": i.last_activity_at,
            "awaiting_redo": i.awaiting_redo,
            "wrap_up": i.wrap_up.value if i.wrap_up else None,
            "experience_rating": i.experience_rating,
            "state_before_expiry": i.state_before_expiry.value if i.state_before_expiry else None,
        }
        row = s.get(InterviewRow, i.id)
        if row is None:
            row = InterviewRow.model_validate({"id": i.id, **values})
        else:
            for key, value in values.items():
                setattr(row, key, value)
        s.add(row)
        s.flush()
        answer_ids, take_ids = set(), set()
        for position, a in enumerate(i.answers):
            answer_ids.add(a.id)
            s.merge(
                AnswerRow(
                    id=a.id,
                    interview_id=i.id,
                    question_id=a.question_id,
                    position=position,
                    kept_take_id=a.kept_take_id,
                    kept_at=a.kept_at,
                )
            )
            for t in a.takes:
                take_ids.add(t.id)
                s.merge(_take_row(t, i.id, a.id))
        for f in i.follow_ups:
            if f.reply is not None:
                take_ids.add(f.reply.id)
                s.merge(_take_row(f.reply, i.id, None))
            s.merge(
                FollowUpRow(
                    id=f.id,
                    interview_id=i.id,
                    answer_id=f.answer_id,
                    asked_by=str(f.asked_by),
                    text=f.text,
                    asked_at=f.asked_at,
                    reply_take_id=f.reply.id if f.reply else None,
                )
            )
        for q in i.candidate_questions:
            s.merge(
                CandidateQuestionRow(
                    id=q.id,
                    interview_id=i.id,
                    text=q.text,
                    asked_at=q.asked_at,
                    reply=q.reply,
                    replied_by=str(q.replied_by) if q.replied_by else None,
                )
            )
        s.flush()
        s.execute(
            delete(TakeRow).where(
                col(TakeRow.interview_id) == i.id, col(TakeRow.id).not_in(take_ids)
            )
        )
        s.execute(
            delete(AnswerRow).where(
                col(AnswerRow.interview_id) == i.id, col(AnswerRow.id).not_in(answer_ids)
            )
        )
        keep_f = {f.id for f in i.follow_ups}
        s.execute(
            delete(FollowUpRow).where(
                col(FollowUpRow.interview_id) == i.id, col(FollowUpRow.id).not_in(keep_f)
            )
        )
        keep_q = {q.id for q in i.candidate_questions}
        s.execute(
            delete(CandidateQuestionRow).where(
                col(CandidateQuestionRow.interview_id) == i.id,
                col(CandidateQuestionRow.id).not_in(keep_q),
            )
        )


class SqlReviews:
    """`ReviewRepository` on SQLModel."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def ratings(self, interview_id: str) -> list[Rating]:
        rows = self.session.exec(
            select(RatingRow)
            .where(col(RatingRow.interview_id) == interview_id)
            .order_by(col(RatingRow.id))
        ).all()
        return [
            Rating(
                r.interview_id,
                r.answer_id,
                r.question_id,
                UserRef.parse(r.reviewer),
                r.criterion,
                r.score,
                r.rated_at,
            )
            for r in rows
        ]

    def put_rating(self, rating: Rating) -> Rating | None:
        row = self.session.exec(
            select(RatingRow).where(
                col(RatingRow.answer_id) == rating.answer_id,
                col(RatingRow.reviewer) == str(rating.reviewer),
                col(RatingRow.criterion) == rating.criterion,
            )
        ).first()
        before = None
        if row is None:
            row = RatingRow(
                interview_id=rating.interview_id,
                answer_id=rating.answer_id,
                question_id=rating.question_id,
                reviewer=str(rating.reviewer),
                criterion=rating.criterion,
                score=rating.score,
                rated_at=rating.rated_at,
            )
        else:
            before = Rating(
                row.interview_id,
                row.answer_id,
                row.question_id,
                rating.reviewer,
                row.criterion,
                row.score,
                row.rated_at,
            )
            row.score, row.rated_at = rating.score, rating.rated_at
        self.session.add(row)
        self.session.flush()
        return before

    def decisions(self, interview_id: str) -> list[ReviewerDecision]:
        rows = self.session.exec(
            select(DecisionRow)
            .where(col(DecisionRow.interview_id) == interview_id)
            .order_by(col(DecisionRow.id))
        ).all()
        return [
            ReviewerDecision(
                r.interview_id, UserRef.parse(r.reviewer), Decision(r.decision), r.decided_at
            )
            for r in rows
        ]

    def put_decision(self, decision: ReviewerDecision) -> None:
        row = self.session.exec(
            select(DecisionRow).where(
                col(DecisionRow.interview_id) == decision.interview_id,
                col(DecisionRow.reviewer) == str(decision.reviewer),
            )
        ).first()
        row = row or DecisionRow(
            interview_id=decision.interview_id,
            reviewer=str(decision.reviewer),
            decision="",
            decided_at=decision.decided_at,
        )
        row.decision, row.decided_at = decision.decision.value, decision.decided_at
        self.session.add(row)
        self.session.flush()

    def posts(self, interview_id: str) -> list[ReviewPost]:
        rows = self.session.exec(
            select(ReviewPostRow)
            .where(col(ReviewPostRow.interview_id) == interview_id)
            .order_by(col(ReviewPostRow.id))
        ).all()
        return [
            ReviewPost(r.interview_id, ChatRef.parse(r.destination), r.message_id, r.answer_id)
            for r in rows
        ]

    def add_post(self, post: ReviewPost) -> None:
        self.session.add(
            ReviewPostRow(
                interview_id=post.interview_id,
                destination=str(post.destination),
                message_id=post.message_id,
                answer_id=post.answer_id,
            )
        )

    def audit(self, entry: AuditEntry) -> None:
        self.session.add(
            AuditRow(
                interview_id=entry.interview_id,
                actor=entry.actor,
                action=entry.action,
                detail=entry.detail,
                at=entry.at,
            )
        )

    def audit_log(self, interview_id: str) -> list[AuditEntry]:
        rows = self.session.exec(
            select(AuditRow)
            .where(col(AuditRow.interview_id) == interview_id)
            .order_by(col(AuditRow.id))
        ).all()
        return [AuditEntry(r.interview_id, r.actor, r.action, r.detail, r.at) for r in rows]

    def erase(self, interview_id: str) -> None:
        for table in (RatingRow, DecisionRow):
            self.session.execute(delete(table).where(col(table.interview_id) == interview_id))

    def reminders_sent(self, interview_id: str) -> int:
        keys = col(DeliveryRow.key)
        query = select(func.count()).select_from(DeliveryRow).where(or_(*(
            keys.startswith(prefix, autoescape=True)
            for prefix in reminder_key_prefixes(interview_id))))
        return self.session.exec(query).one()


class SqlUnitOfWork:
    """One database transaction implementing core's `UnitOfWork`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __enter__(self) -> SqlUnitOfWork:
        self.session = Session(self.engine, expire_on_commit=False, autoflush=False)
        self.interviews = SqlInterviews(self.session)
        self.reviews = SqlReviews(self.session)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.session.rollback()
        self.session.close()

    def first_delivery(self, key: str) -> bool:
        if self.session.get(DeliveryRow, key) is not None:
            return False
        self.session.add(DeliveryRow(key=key, seen_at=datetime.now(UTC)))
        return True

    def commit(self) -> None:
        self.interviews.flush()
        try:
            self.session.commit()
        except IntegrityError as exc:
            self.session.rollback()
            if "delivery" in str(exc.orig).lower():
                raise AlreadyHandled(str(exc.orig)) from exc
            raise
        self.interviews.seen.clear()

    def rollback(self) -> None:
        self.session.rollback()


class SqlUnitOfWorkFactory:
    """Makes a fresh `SqlUnitOfWork` per command."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)
