"""The SQL unit of work: repositories that map core's domain objects to SQLModel rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, bindparam, delete, func, or_, update
from sqlalchemy import select as core_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, col, select

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
from core.ports import AlreadyHandled, ConcurrentUpdate
from core.refs import ChatRef, UserRef
from core.report import reminder_key_prefixes
from core.states import State
from storage.fairness import SqlFairness
from storage.outbox import SqlOutbox
from storage.scripts import SqlScriptRevisions
from storage.tables import (
    AuditRow,
    DecisionRow,
    DeliveryRow,
    RatingRow,
    ReplyPromptRow,
    ReviewPostRow,
)

Values = dict[str, Any]
INTERVIEW = SQLModel.metadata.tables["interview"]
ANSWER = SQLModel.metadata.tables["answer"]
TAKE = SQLModel.metadata.tables["take"]
FOLLOW_UP = SQLModel.metadata.tables["follow_up"]
QUESTION = SQLModel.metadata.tables["candidate_question"]
DELIVERY = SQLModel.metadata.tables["delivery"]
CHILDREN = (ANSWER, TAKE, FOLLOW_UP, QUESTION)  # parents before children (foreign keys)
# the hot queries, built once (statements with bound parameters are cached by SQLAlchemy)
BY_ID = core_select(INTERVIEW).where(INTERVIEW.c.id == bindparam("id"))
BY_TOKEN = core_select(INTERVIEW).where(INTERVIEW.c.token_hash == bindparam("token_hash"))
CURRENT_FOR = core_select(INTERVIEW).where(
    INTERVIEW.c.candidate_platform == bindparam("platform"),
    INTERVIEW.c.candidate_id == bindparam("user"),
    INTERVIEW.c.state != State.ERASED.value,
).order_by(INTERVIEW.c.accepted_at.desc()).limit(1)
CHILD_ROWS = {
    table.name: core_select(table).where(table.c.interview_id == bindparam("i")).order_by(order)
    for table, order in ((ANSWER, ANSWER.c.position), (TAKE, TAKE.c.number),
                         (FOLLOW_UP, FOLLOW_UP.c.asked_at), (QUESTION, QUESTION.c.asked_at))
}
DELIVERY_SEEN = core_select(DELIVERY.c.key).where(DELIVERY.c.key == bindparam("key"))


def _take(row: Any) -> Take:
    return Take(id=row.id, number=row.number, kind=row.kind, received_at=row.received_at,
                text=row.text, media_key=row.media_key, duration=row.duration,
                checksum=row.checksum, transcript=row.transcript, pieces=row.pieces,
                language=row.language)


def _take_values(take: Take, interview_id: str, answer_id: str | None) -> Values:
    return {"id": take.id, "answer_id": answer_id, "interview_id": interview_id,
            "number": take.number, "kind": take.kind, "received_at": take.received_at,
            "text": take.text, "media_key": take.media_key, "duration": take.duration,
            "checksum": take.checksum, "transcript": take.transcript, "pieces": take.pieces,
            "language": take.language}


def _user(platform: str | None, ident: str | None) -> UserRef | None:
    return UserRef(platform, ident) if platform and ident else None


def _chat(platform: str | None, ident: str | None) -> ChatRef | None:
    return ChatRef(platform, ident) if platform and ident else None


def _interview_values(i: Interview) -> Values:
    return {
        "id": i.id, "script_id": i.script_id, "number": i.number,
        "candidate_name": i.candidate_name, "token_hash": i.token_hash,
        "invited_at": i.invited_at, "deadline": i.deadline, "platform": i.platform,
        "tz": i.tz, "tz_confirmed": i.tz_confirmed, "state": i.state.value,
        "candidate_platform": i.candidate.platform if i.candidate else None,
        "candidate_id": i.candidate.id if i.candidate else None,
        "chat_platform": i.chat.platform if i.chat else None,
        "chat_id": i.chat.id if i.chat else None,
        "accepted_at": i.accepted_at, "consented_at": i.consented_at,
        "started_at": i.started_at, "completed_at": i.completed_at, "ended_at": i.ended_at,
        "last_activity_at": i.last_activity_at, "awaiting_redo": i.awaiting_redo,
        "wrap_up": i.wrap_up.value if i.wrap_up else None,
        "experience_rating": i.experience_rating,
        "state_before_expiry": i.state_before_expiry.value if i.state_before_expiry else None,
        "external_ref": i.external_ref,
        "script_revision": i.script_revision, "language": i.language,
    }


def _rows(i: Interview) -> dict[str, dict[str, Values]]:
    """The child rows of an aggregate by table name, then id."""
    answers: dict[str, Values] = {}
    takes: dict[str, Values] = {}
    for position, a in enumerate(i.answers):
        answers[a.id] = {"id": a.id, "interview_id": i.id, "question_id": a.question_id,
                         "position": position, "kept_take_id": a.kept_take_id,
                         "kept_at": a.kept_at}
        for t in a.takes:
            takes[t.id] = _take_values(t, i.id, a.id)
    follow_ups: dict[str, Values] = {}
    for f in i.follow_ups:
        if f.reply is not None:
            takes[f.reply.id] = _take_values(f.reply, i.id, None)
        follow_ups[f.id] = {"id": f.id, "interview_id": i.id, "answer_id": f.answer_id,
                            "asked_by": str(f.asked_by), "text": f.text, "asked_at": f.asked_at,
                            "reply_take_id": f.reply.id if f.reply else None}
    questions = {q.id: {"id": q.id, "interview_id": i.id, "text": q.text,
                        "asked_at": q.asked_at, "reply": q.reply,
                        "replied_by": str(q.replied_by) if q.replied_by else None}
                 for q in i.candidate_questions}
    return {ANSWER.name: answers, TAKE.name: takes, FOLLOW_UP.name: follow_ups,
            QUESTION.name: questions}


@dataclass
class Snapshot:
    """An aggregate's rows as read (or last written), to write back only what changed."""

    version: int
    interview: Values
    children: dict[str, dict[str, Values]]


class SqlInterviews:
    """`InterviewRepository` on SQL; loaded aggregates are written back on commit.

    Only changed rows are written. Every write bumps the interview's `version` and requires the
    version it read, so of two transactions that changed one interview (two processes, or two
    tasks in one), the second to commit fails with `ConcurrentUpdate` instead of overwriting.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.seen: dict[str, Interview] = {}
        self.snapshots: dict[str, Snapshot] = {}
        # state changes written by this transaction: (interview, state before or None if new)
        self.transitions: list[tuple[Interview, str | None]] = []

    def add(self, interview: Interview) -> None:
        self.seen[interview.id] = interview

    def _one(self, query: Any, **params: Any) -> Interview | None:
        row = self.session.execute(query, params).first()
        return self._load(row) if row else None

    def get(self, interview_id: str) -> Interview | None:
        if interview_id in self.seen:
            return self.seen[interview_id]
        return self._one(BY_ID, id=interview_id)

    def by_token_hash(self, token_hash: str) -> Interview | None:
        return self._one(BY_TOKEN, token_hash=token_hash)

    def current_for(self, user: UserRef) -> Interview | None:
        return self._one(CURRENT_FOR, platform=user.platform, user=user.id)

    def for_script(self, script_id: str) -> list[Interview]:
        rows = self.session.execute(core_select(INTERVIEW).where(INTERVIEW.c.script_id == script_id)
                                    .order_by(INTERVIEW.c.number)).all()
        return [self._load(r) for r in rows]

    def live(self, states: Iterable[State]) -> list[Interview]:
        values = [s.value for s in states]
        rows = self.session.execute(
            core_select(INTERVIEW).where(INTERVIEW.c.state.in_(values))).all()
        return [self._load(r) for r in rows]

    def is_candidate(self, script_id: str, user: UserRef) -> bool:
        """Whether the person was ever invited to this script as a candidate."""
        found = self.session.execute(
            core_select(INTERVIEW.c.id).where(
                INTERVIEW.c.script_id == script_id,
                INTERVIEW.c.candidate_platform == user.platform,
                INTERVIEW.c.candidate_id == user.id).limit(1)).first()
        return found is not None or any(
            i.script_id == script_id and i.candidate == user for i in self.seen.values())

    def completed_page(self, script_ids: Iterable[str], offset: int, limit: int
                       ) -> list[Interview]:
        """Completed interviews of some scripts, newest first, one page (a bounded query)."""
        ids = list(script_ids)
        if not ids:
            return []
        rows = self.session.execute(
            core_select(INTERVIEW).where(INTERVIEW.c.script_id.in_(ids),
                                         INTERVIEW.c.state == State.COMPLETED.value)
            .order_by(INTERVIEW.c.completed_at.desc(), INTERVIEW.c.id)
            .offset(offset).limit(limit)).all()
        return [self._load(r) for r in rows]

    def next_number(self, script_id: str) -> int:
        found = self.session.execute(
            core_select(func.max(INTERVIEW.c.number)).where(INTERVIEW.c.script_id == script_id)
        ).scalar()
        pending = [i.number for i in self.seen.values() if i.script_id == script_id]
        return max([found or 0, *pending]) + 1

    # -- mapping -----------------------------------------------------------------------
    def _children(self, table: Any, interview_id: str) -> list[Any]:
        return list(self.session.execute(CHILD_ROWS[table.name], {"i": interview_id}).all())

    def _load(self, row: Any) -> Interview:
        if row.id in self.seen:
            return self.seen[row.id]
        answers = self._children(ANSWER, row.id)
        takes = self._children(TAKE, row.id)
        # follow-ups and the candidate's questions exist only once an interview is complete
        complete = row.completed_at is not None
        follow_ups = self._children(FOLLOW_UP, row.id) if complete else []
        questions = self._children(QUESTION, row.id) if complete else []
        takes_by_answer: dict[str | None, list[Take]] = {}
        take_by_id: dict[str, Take] = {}
        for t in takes:
            take = take_by_id[t.id] = _take(t)
            takes_by_answer.setdefault(t.answer_id, []).append(take)
        interview = Interview(
            id=row.id, script_id=row.script_id, number=row.number,
            candidate_name=row.candidate_name, token_hash=row.token_hash,
            invited_at=row.invited_at, deadline=row.deadline, platform=row.platform,
            tz=row.tz, tz_confirmed=row.tz_confirmed, state=State(row.state),
            candidate=_user(row.candidate_platform, row.candidate_id),
            chat=_chat(row.chat_platform, row.chat_id),
            accepted_at=row.accepted_at, consented_at=row.consented_at,
            started_at=row.started_at, completed_at=row.completed_at, ended_at=row.ended_at,
            last_activity_at=row.last_activity_at, awaiting_redo=row.awaiting_redo,
            wrap_up=WrapUp(row.wrap_up) if row.wrap_up else None,
            experience_rating=row.experience_rating,
            state_before_expiry=State(row.state_before_expiry) if row.state_before_expiry else None,
            external_ref=row.external_ref,
            script_revision=row.script_revision, language=row.language,
            answers=[Answer(id=a.id, question_id=a.question_id,
                            takes=takes_by_answer.get(a.id, []), kept_take_id=a.kept_take_id,
                            kept_at=a.kept_at) for a in answers],
            follow_ups=[FollowUp(id=f.id, answer_id=f.answer_id,
                                 asked_by=UserRef.parse(f.asked_by), text=f.text,
                                 asked_at=f.asked_at,
                                 reply=take_by_id.get(f.reply_take_id or ""))
                        for f in follow_ups],
            candidate_questions=[CandidateQuestion(
                id=q.id, text=q.text, asked_at=q.asked_at, reply=q.reply,
                replied_by=UserRef.parse(q.replied_by) if q.replied_by else None)
                for q in questions],
        )
        self.seen[row.id] = interview
        self.snapshots[row.id] = Snapshot(row.version, _interview_values(interview),
                                          _rows(interview))
        return interview

    def flush(self) -> None:
        """Write what changed in every loaded or added aggregate."""
        for interview in self.seen.values():
            self._save(interview)

    def _save(self, i: Interview) -> None:
        s = self.session
        values, children = _interview_values(i), _rows(i)
        before = self.snapshots.get(i.id)
        if before is None:
            self.transitions.append((i, None))
            s.execute(INTERVIEW.insert().values(**values, version=1))
            old: dict[str, dict[str, Values]] = {t.name: {} for t in CHILDREN}
            version = 1
        else:
            if values == before.interview and children == before.children:
                return
            changed = {k: v for k, v in values.items() if before.interview[k] != v}
            if "state" in changed:
                self.transitions.append((i, before.interview["state"]))
            version = before.version + 1
            done = s.execute(INTERVIEW.update().where(
                INTERVIEW.c.id == i.id, INTERVIEW.c.version == before.version
            ).values(**changed, version=version))
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise ConcurrentUpdate(f"interview {i.id} changed since it was read")
            old = before.children
        for table in reversed(CHILDREN):  # children before parents
            gone = [k for k in old[table.name] if k not in children[table.name]]
            if gone:
                s.execute(table.delete().where(table.c.id.in_(gone)))
        for table in CHILDREN:
            now, was = children[table.name], old[table.name]
            added = [v for k, v in now.items() if k not in was]
            if added:
                s.execute(table.insert(), added)
            for key, row in now.items():
                if key in was and was[key] != row:
                    diff = {k: v for k, v in row.items() if was[key][k] != v}
                    s.execute(table.update().where(table.c.id == key).values(**diff))
        self.snapshots[i.id] = Snapshot(version, values, children)


class SqlReviews:
    """`ReviewRepository` on SQLModel."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.rated: list[Rating] = []  # new ratings and decisions of this transaction
        self.decided: list[ReviewerDecision] = []

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
        locked = self.session.execute(INTERVIEW.update().where(
            INTERVIEW.c.id == post.interview_id, INTERVIEW.c.state != State.ERASED.value
        ).values(version=INTERVIEW.c.version))
        if locked.rowcount != 1:  # type: ignore[attr-defined]
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


Recorder = Callable[["SqlUnitOfWork"], None]


class SqlUnitOfWork:
    """One database transaction implementing core's `UnitOfWork`.

    `recorder`, when set, sees every transaction just before it commits (its state changes,
    new ratings and decisions) and may write rows of its own into it: the outgoing webhook
    events (bots/webhooks.py) are committed with the change that caused them, or not at all.
    """

    def __init__(self, engine: Engine, recorder: Recorder | None = None) -> None:
        self.engine = engine
        self.recorder = recorder

    def __enter__(self) -> SqlUnitOfWork:
        self.session = Session(self.engine, expire_on_commit=False, autoflush=False)
        self.interviews = SqlInterviews(self.session)
        self.reviews = SqlReviews(self.session)
        self.outbox = SqlOutbox(self.session)
        self.scripts = SqlScriptRevisions(self.session)
        self.fairness = SqlFairness(self.session)
        self.deliveries: dict[str, datetime] = {}
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.session.rollback()
        self.session.close()

    def first_delivery(self, key: str, at: datetime | None = None) -> bool:
        if key in self.deliveries or self.seen(key):
            return False
        self.deliveries[key] = at or datetime.now(UTC)
        return True

    def record_delivery(self, key: str) -> None:
        self.deliveries.setdefault(key, datetime.now(UTC))

    def seen(self, key: str) -> bool:
        found = self.session.execute(DELIVERY_SEEN, {"key": key}).first()
        return found is not None

    def recent(self, prefix: str, since: datetime) -> int:
        query = select(func.count()).select_from(DeliveryRow).where(
            col(DeliveryRow.key).startswith(prefix, autoescape=True),
            col(DeliveryRow.seen_at) >= since)
        return self.session.exec(query).one()

    def commit(self) -> None:
        try:
            if self.deliveries:  # first, so that a redelivery fails before any other write
                self._insert_deliveries()
            self.interviews.flush()
            if self.recorder is not None:
                self.recorder(self)
            self.session.commit()
        except (IntegrityError, AlreadyHandled, ConcurrentUpdate):
            self.rollback()
            raise
        self._forget()

    def _insert_deliveries(self) -> None:
        """Insert this transaction's delivery keys, alone in one statement (nothing pending
        is flushed with it): a key's primary key is the only constraint it can break, so a
        failure here is a key already recorded, whatever the database's wording."""
        with self.session.no_autoflush:
            try:
                self.session.execute(DELIVERY.insert(), [
                    {"key": k, "seen_at": at} for k, at in self.deliveries.items()])
            except IntegrityError as exc:
                raise AlreadyHandled(str(exc.orig)) from exc

    def _forget(self) -> None:
        self.interviews.seen.clear()
        self.interviews.snapshots.clear()
        self.interviews.transitions.clear()
        self.reviews.rated.clear()
        self.reviews.decided.clear()
        self.deliveries.clear()

    def rollback(self) -> None:
        self.session.rollback()
        self._forget()


class SqlUnitOfWorkFactory:
    """Makes a fresh `SqlUnitOfWork` per command."""

    def __init__(self, engine: Engine, recorder: Recorder | None = None) -> None:
        self.engine = engine
        self.recorder = recorder

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.recorder)
