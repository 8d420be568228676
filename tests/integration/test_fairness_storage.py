"""Records kept apart from the interview, on SQLite and PostgreSQL: round trip, purge, erasure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from core.commands import CreateInvitation
from core.fairness_records import AccommodationRequest, ConsentRecord, RequestStatus
from core.model import new_id
from storage.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from tests.support.core_fakes import FakeClock, make_world
from tests.support.scripts import small_script

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SCRIPT = small_script(self_id={"sex": ["Female", "Male"]}, notice="Kept for 90 days.")


def test_records_round_trip(db: Engine) -> None:
    world = make_world(SCRIPT, uow=SqlUnitOfWorkFactory(db), clock=FakeClock(T0))
    a, _ = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    b, _ = world.engine.invite(CreateInvitation("qa", "Bob", "telegram", "UTC"))
    request = AccommodationRequest(new_id(), a.id, ("more_time", "text_instead_of_voice"),
                                   "I stammer", T0)
    with SqlUnitOfWork(db) as uow:
        uow.fairness.put_self_id(a.id, "sex", "Male", T0)
        uow.fairness.put_self_id(a.id, "sex", "Female", T0)  # a change replaces the answer
        uow.fairness.put_self_id(b.id, "race", "Asian", T0)
        uow.fairness.put_consent(ConsentRecord(a.id, "ab" * 32, T0))
        uow.fairness.put_request(request)
        uow.commit()
    request.status, request.decided_by, request.decided_at = (
        RequestStatus.APPROVED, "slack:U1", T0 + timedelta(hours=1))
    with SqlUnitOfWork(db) as uow:
        uow.fairness.put_request(request)
        uow.commit()
    with SqlUnitOfWork(db) as uow:
        assert uow.fairness.self_id(a.id) == {"sex": "Female"}
        assert uow.fairness.self_id_for_script("qa") == {a.id: {"sex": "Female"},
                                                         b.id: {"race": "Asian"}}
        assert uow.fairness.self_id_for_script("other") == {}
        assert uow.fairness.consent(a.id) == ConsentRecord(a.id, "ab" * 32, T0)
        assert uow.fairness.consent(b.id) is None
        assert uow.fairness.requests(a.id) == [request]
        assert uow.fairness.requests_for_script("qa") == [request]


async def test_purge_removes_self_identification_and_request_notes(db: Engine) -> None:
    world = make_world(SCRIPT, uow=SqlUnitOfWorkFactory(db), clock=FakeClock(T0))
    old, _ = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    world.clock.advance(days=60)
    recent, _ = world.engine.invite(CreateInvitation("qa", "Bob", "telegram", "UTC"))
    with SqlUnitOfWork(db) as uow:
        for interview in (old, recent):
            uow.fairness.put_self_id(interview.id, "sex", "Female", T0)
            uow.fairness.put_request(AccommodationRequest(new_id(), interview.id, ("other",),
                                                          "a private note", T0))
        uow.commit()
    world.clock.advance(days=40)
    assert await world.engine.purge(timedelta(days=90)) == 1
    with SqlUnitOfWork(db) as uow:
        assert uow.fairness.self_id(old.id) == {}
        assert [r.note for r in uow.fairness.requests(old.id)] == [""]
        assert uow.fairness.self_id(recent.id) == {"sex": "Female"}
        assert [r.note for r in uow.fairness.requests(recent.id)] == ["a private note"]
        count = uow.session.execute(text(
            "SELECT count(*) FROM self_identification WHERE interview_id = :i"), {"i": old.id})
        assert count.scalar() == 0
