"""The SQL unit of work on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

from core.commands import ButtonPressed, CreateInvitation, InviteAccepted, TextReceived
from core.model import (
    Answer,
    AuditEntry,
    CandidateQuestion,
    Decision,
    FollowUp,
    Interview,
    Rating,
    ReviewerDecision,
    Take,
    WrapUp,
    hash_token,
)
from core.ports import AlreadyHandled
from core.refs import ChatRef, UserRef
from core.states import State
from core.vocabulary import Verb
from storage.tables import WebhookDeliveryRow
from storage.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from tests.support.core_fakes import make_world
from tests.support.scripts import small_script

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ADA = UserRef("telegram", "42")


def sample_interview() -> Interview:
    interview = Interview(
        id="i1", script_id="qa", number=1, candidate_name="Ada", token_hash=hash_token("tok"),
        invited_at=T0, deadline=T0 + timedelta(days=7), platform="telegram", tz="Asia/Tokyo",
        state=State.COMPLETED, candidate=ADA, chat=ChatRef("telegram", "42"), accepted_at=T0,
        completed_at=T0 + timedelta(hours=1), wrap_up=WrapUp.FEEDBACK, experience_rating=5,
    )
    take1 = Take("t1", 1, "text", T0, text="first")
    take2 = Take("t2", 2, "voice", T0 + timedelta(minutes=1), media_key="i1/t2", duration=12.5,
                 checksum="ab" * 32, transcript="hello there")
    interview.answers.append(Answer("a1", "bug", [take1, take2], "t2", T0))
    interview.follow_ups.append(FollowUp("f1", "a1", UserRef("slack", "U1"), "Why?", T0,
                                         Take("t3", 1, "text", T0, text="Because.")))
    interview.candidate_questions.append(CandidateQuestion("q1", "Team size?", T0, "Six",
                                                           UserRef("slack", "U1")))
    return interview


def test_interview_aggregate_round_trip(db: Engine) -> None:
    with SqlUnitOfWork(db) as uow:
        uow.interviews.add(sample_interview())
        uow.commit()
    with SqlUnitOfWork(db) as uow:
        loaded = uow.interviews.get("i1")
        assert loaded == sample_interview()
        assert loaded is not None and loaded.deadline.tzinfo is not None
        assert uow.interviews.by_token_hash(hash_token("tok")) == loaded
        assert uow.interviews.current_for(ADA) == loaded
        assert uow.interviews.next_number("qa") == 2
        loaded.answers[0].takes.pop(0)
        loaded.follow_ups.clear()
        uow.commit()
    with SqlUnitOfWork(db) as uow:
        again = uow.interviews.get("i1")
        assert again is not None
        assert [t.id for t in again.answers[0].takes] == ["t2"]
        assert again.follow_ups == []


def test_uncommitted_work_is_discarded(db: Engine) -> None:
    with SqlUnitOfWork(db) as uow:
        uow.interviews.add(sample_interview())
    with SqlUnitOfWork(db) as uow:
        assert uow.interviews.get("i1") is None


def test_ratings_decisions_audit_and_erase(db: Engine) -> None:
    with SqlUnitOfWork(db) as uow:
        uow.interviews.add(sample_interview())
        uow.commit()
    reviewer = UserRef("slack", "U1")
    with SqlUnitOfWork(db) as uow:
        assert uow.reviews.put_rating(Rating("i1", "a1", "bug", reviewer, "depth", 3, T0)) is None
        before = uow.reviews.put_rating(Rating("i1", "a1", "bug", reviewer, "depth", 5, T0))
        assert before is not None and before.score == 3
        uow.reviews.put_decision(ReviewerDecision("i1", reviewer, Decision.HOLD, T0))
        uow.reviews.put_decision(ReviewerDecision("i1", reviewer, Decision.ADVANCE, T0))
        uow.reviews.audit(AuditEntry("i1", str(reviewer), "rating changed", "3 -> 5", T0))
        uow.commit()
    with SqlUnitOfWork(db) as uow:
        assert [r.score for r in uow.reviews.ratings("i1")] == [5]
        assert [d.decision for d in uow.reviews.decisions("i1")] == [Decision.ADVANCE]
        uow.reviews.erase("i1")
        uow.commit()
    with SqlUnitOfWork(db) as uow:
        assert uow.reviews.ratings("i1") == [] and uow.reviews.decisions("i1") == []
        assert [a.action for a in uow.reviews.audit_log("i1")] == ["rating changed"]


def test_delivery_keys_are_unique_across_transactions(db: Engine) -> None:
    with SqlUnitOfWork(db) as uow:
        assert uow.first_delivery("telegram:update:1")
        uow.commit()
    with SqlUnitOfWork(db) as uow:
        assert not uow.first_delivery("telegram:update:1")
    # two transactions racing: the second commit is refused as already handled
    first, second = SqlUnitOfWork(db), SqlUnitOfWork(db)
    with first, second:
        assert first.first_delivery("k2") and second.first_delivery("k2")
        first.commit()
        with pytest.raises(AlreadyHandled):
            second.commit()


def test_only_a_delivery_key_conflict_counts_as_already_handled(db: Engine) -> None:
    """Another table's unique constraint broken in the same commit is an error, not a
    redelivery, even when its name or message says "delivery" (webhook_delivery)."""
    row = {"id": "wh1", "event_type": "interview.completed", "url": "https://x.example/h",
           "body": "{}", "created_at": T0, "due_at": T0}

    def webhook_row(uow: SqlUnitOfWork) -> None:
        uow.session.execute(WebhookDeliveryRow.__table__.insert(), [row])  # type: ignore[attr-defined]

    with SqlUnitOfWork(db, webhook_row) as uow:
        uow.record_delivery("k1")
        uow.commit()
    with SqlUnitOfWork(db, webhook_row) as uow:  # a new key, the same webhook id
        uow.record_delivery("k2")
        with pytest.raises(IntegrityError):
            uow.commit()
    with SqlUnitOfWork(db) as uow:
        assert not uow.seen("k2")  # nothing of that transaction was kept
        uow.record_delivery("k1")
        with pytest.raises(AlreadyHandled):
            uow.commit()


def test_migrations_match_the_models(db: Engine) -> None:
    with db.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    assert diff == []


def test_sqlite_pragmas(tmp_path: object) -> None:
    from storage.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path}/x.db")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


async def test_engine_runs_on_the_database(db: Engine) -> None:
    world = make_world(small_script(), uow=SqlUnitOfWorkFactory(db))
    interview, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    chat = ChatRef("telegram", "42")
    await world.engine.handle(InviteAccepted(ADA, chat, token))
    payload, ref = world.telegram.button(chat, "I agree")
    await world.engine.handle(ButtonPressed(ADA, chat, payload, ref, "cbq-1"))
    payload, ref = world.telegram.button(chat, "Skip practice")
    await world.engine.handle(ButtonPressed(ADA, chat, payload, ref, "cbq-2"))
    await world.engine.handle(TextReceived(ADA, chat, "My answer", "update-1"))
    await world.engine.handle(TextReceived(ADA, chat, "My answer", "update-1"))  # redelivered
    with SqlUnitOfWork(db) as uow:
        stored = uow.interviews.get(interview.id)
        assert stored is not None and stored.state is State.IN_PROGRESS
        answer = stored.answer_for("bug")
        assert answer is not None and [t.text for t in answer.takes] == ["My answer"]


async def test_erasure_and_retention_purge(db: Engine) -> None:
    from core.commands import MediaReceived, UserCommand
    from core.refs import MediaRef

    world = make_world(small_script(), uow=SqlUnitOfWorkFactory(db))
    chat = ChatRef("telegram", "42")
    old, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    await world.engine.handle(InviteAccepted(ADA, chat, token))
    for label in ("I agree", "Skip practice"):
        payload, ref = world.telegram.button(chat, label)
        await world.engine.handle(ButtonPressed(ADA, chat, payload, ref))
    await world.engine.handle(TextReceived(ADA, chat, "text answer"))
    payload, ref = world.telegram.button(chat, "Submit")
    await world.engine.handle(ButtonPressed(ADA, chat, payload, ref))
    world.telegram.files["v"] = b"speech:5"
    await world.engine.handle(MediaReceived(ADA, chat, MediaRef("telegram", "v", "voice",
                                                                "audio/ogg", 10, 5.0)))
    assert len(world.audio.stored) == 1
    world.clock.advance(days=60)
    recent, _ = world.engine.invite(CreateInvitation("qa", "Bob", "telegram", "UTC"))
    world.clock.advance(days=40)
    assert await world.engine.purge(timedelta(days=90)) == 1
    assert world.audio.stored == {}
    with SqlUnitOfWork(db) as uow:
        gone = uow.interviews.get(old.id)
        assert gone is not None and gone.state is State.ERASED
        assert gone.candidate_name == "" and gone.answers == [] and gone.candidate is None
        assert [a.action for a in uow.reviews.audit_log(old.id)] == ["erased"]
        kept = uow.interviews.get(recent.id)
        assert kept is not None and kept.candidate_name == "Bob"
        assert db.dialect.name in ("sqlite", "postgresql")
        rows = uow.session.execute(text("SELECT count(*) FROM take")).scalar()
        assert rows == 0
    # the candidate's own /delete on an erased interview finds nothing to erase
    await world.engine.handle(UserCommand(ADA, chat, Verb.DELETE))
    assert "I have no interview waiting for you" in world.telegram.texts(chat)[-1]


def test_a_name_with_control_characters_is_stored_cleaned(db: Engine) -> None:
    world = make_world(small_script(), uow=SqlUnitOfWorkFactory(db))
    interview, _ = world.engine.invite(CreateInvitation("qa", " Ada\x00 Love\x07lace\n",
                                                        "telegram", "UTC"))
    with SqlUnitOfWork(db) as uow:  # PostgreSQL cannot store NUL: this insert used to fail
        stored = uow.interviews.get(interview.id)
        assert stored is not None and stored.candidate_name == "Ada Lovelace"


def test_after_commit_runs_only_once_the_transaction_has_committed(db: Engine) -> None:
    """The webhook sender is woken by `after_commit`: never for a rollback or a commit the
    database refused (it would look for rows that are not there), once for a commit.
    (Checked: with the callbacks run whether or not it commits, the rollback wakes; with
    them run only when a connection was used, the commit that wrote nothing does not.)"""
    woken: list[str] = []
    with SqlUnitOfWork(db) as uow:
        uow.first_delivery("k-rolled-back")
        uow.after_commit(lambda: woken.append("rolled back"))
    first, second = SqlUnitOfWork(db), SqlUnitOfWork(db)
    with first, second:
        assert first.first_delivery("k-race") and second.first_delivery("k-race")
        first.after_commit(lambda: woken.append("first"))
        second.after_commit(lambda: woken.append("second"))
        first.commit()
        with pytest.raises(AlreadyHandled):
            second.commit()
    with SqlUnitOfWork(db) as uow:
        uow.after_commit(lambda: woken.append("again"))
        uow.commit()
        uow.commit()  # a second commit of the same unit of work calls nothing more
    assert woken == ["first", "again"]
