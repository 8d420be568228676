"""Reviews on SQL through SQLAlchemy's ORM unit of work: ratings, decisions, the messages posted
to reviewers, force-reply prompts and the audit log are rows, added and changed as objects and
flushed with the transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, col, select

from core.model import AuditEntry, Decision, Rating, ReviewerDecision, ReviewPost
from core.refs import ChatRef, UserRef
from core.report import reminder_key_prefixes
from core.states import State
from storage.interviews import INTERVIEW
from storage.tables import (
    AuditRow,
    DecisionRow,
    DeliveryRow,
    RatingRow,
    ReplyPromptRow,
    ReviewPostRow,
)


class SqlReviews:
    """`ReviewRepository` on SQLModel."""

    def __init__(self, session: Callable[[], Session]) -> None:
        self._session = session  # made when first needed (most commands need no review rows)
        self.rated: list[Rating] = []  # new ratings and decisions of this transaction
        self.decided: list[ReviewerDecision] = []

    @property
    def session(self) -> Session:
        return self._session()

    def ratings(self, interview_id: str) -> list[Rating]:
        rows = self.session.exec(
            select(RatingRow)
            .where(col(RatingRow.interview_id) == interview_id)
            .order_by(col(RatingRow.id))
        ).all()
        return [_rating(r) for r in rows]

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
            before = _rating(row)
            row.score, row.rated_at = rating.score, rating.rated_at
        self.session.add(row)
        self.session.flush()
        if before is None:
            self.rated.append(rating)
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
        self.decided.append(decision)

    def posts(self, interview_id: str) -> list[ReviewPost]:
        rows = self.session.exec(
            select(ReviewPostRow)
            .where(col(ReviewPostRow.interview_id) == interview_id)
            .order_by(col(ReviewPostRow.id))
        ).all()
        return [
            ReviewPost(r.interview_id, ChatRef.parse(r.destination), r.message_id, r.answer_id,
                       r.kind, tuple(r.parts.split()))
            for r in rows
        ]

    def add_post(self, post: ReviewPost) -> None:
        self.session.add(
            ReviewPostRow(
                interview_id=post.interview_id,
                destination=str(post.destination),
                message_id=post.message_id,
                answer_id=post.answer_id,
                kind=post.kind,
                parts=" ".join(post.parts),
            )
        )
        self.session.flush()

    def add_post_unless_erased(self, post: ReviewPost) -> bool:
        # a write to the interview row: PostgreSQL locks it until this commits, SQLite
        # serialises writers, so an erasure commits either before (seen here) or after
        # this post (and then its step reads it)
        locked = self.session.connection().execute(INTERVIEW.update().where(
            INTERVIEW.c.id == post.interview_id, INTERVIEW.c.state != State.ERASED.value
        ).values(version=INTERVIEW.c.version))
        if locked.rowcount != 1:
            return False
        self.add_post(post)
        return True

    def remove_post(self, post: ReviewPost) -> None:
        self.session.execute(delete(ReviewPostRow).where(
            col(ReviewPostRow.interview_id) == post.interview_id,
            col(ReviewPostRow.destination) == str(post.destination),
            col(ReviewPostRow.message_id) == post.message_id))

    def add_reply_prompt(self, chat: ChatRef, message_id: str, target: str, at: datetime
                         ) -> None:
        """Record a force-reply prompt the bot sent (a reply to it is routed to `target`)."""
        self.session.merge(ReplyPromptRow(chat=str(chat), message_id=message_id, target=target,
                                          sent_at=at))

    def reply_target(self, chat: ChatRef, message_id: str) -> str | None:
        """What a reply to this bot message is for, if the bot recorded it as a prompt."""
        row = self.session.get(ReplyPromptRow, (str(chat), message_id))
        return row.target if row is not None else None

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
        # written feedback about the candidate (core/outcome.py) goes too; the entry stays
        self.session.execute(update(AuditRow).where(
            col(AuditRow.interview_id) == interview_id,
            col(AuditRow.action) == "outcome feedback").values(detail="(erased)"))

    def reminders_sent(self, interview_id: str) -> int:
        keys = col(DeliveryRow.key)
        query = select(func.count()).select_from(DeliveryRow).where(or_(*(
            keys.startswith(prefix, autoescape=True)
            for prefix in reminder_key_prefixes(interview_id))))
        return self.session.exec(query).one()

    def forget(self) -> None:
        self.rated.clear()
        self.decided.clear()


def _rating(row: RatingRow) -> Rating:
    return Rating(row.interview_id, row.answer_id, row.question_id, UserRef.parse(row.reviewer),
                  row.criterion, row.score, row.rated_at)
