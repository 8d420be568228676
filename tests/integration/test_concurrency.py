"""Two engines on one database, as two processes behind a load balancer would be.

Each `World` below has its own engine, locks and messengers and shares only the database, so
nothing in-process keeps their commands apart: versioned writes must.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import ClassVar

import pytest
from sqlalchemy import Engine, event

from core.commands import (
    ButtonPressed,
    CreateInvitation,
    InviteAccepted,
    MediaReceived,
    TextReceived,
)
from core.observe import NullObserver
from core.ports import ConcurrentUpdate
from core.refs import ChatRef, MediaRef, UserRef
from core.states import State
from core.texts import MOVED_ON, TOKEN_THROTTLED
from storage.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from tests.support.core_fakes import FakeMessenger, World, make_world
from tests.support.scripts import small_script

ADA = UserRef("telegram", "42")
CHAT = ChatRef("telegram", "42")


class Counting(NullObserver):
    def __init__(self) -> None:
        self.conflicts = 0

    def conflict_retried(self) -> None:
        self.conflicts += 1


async def started(world: World) -> str:
    """Invite Ada, accept, consent and skip the practice question; return the interview id."""
    interview, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    await world.engine.handle(InviteAccepted(ADA, CHAT, token))
    payload, ref = world.telegram.button(CHAT, "I agree")
    await world.engine.handle(ButtonPressed(ADA, CHAT, payload, ref, "cbq-consent"))
    payload, ref = world.telegram.button(CHAT, "Skip practice")
    await world.engine.handle(ButtonPressed(ADA, CHAT, payload, ref, "cbq-skip"))
    return interview.id


def test_a_stale_write_is_refused_and_the_first_one_kept(db: Engine) -> None:
    world = make_world(small_script(), uow=SqlUnitOfWorkFactory(db))
    interview, _ = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    with SqlUnitOfWork(db) as first, SqlUnitOfWork(db) as second:
        mine, theirs = first.interviews.get(interview.id), second.interviews.get(interview.id)
        assert mine is not None and theirs is not None
        mine.tz, theirs.candidate_name = "Europe/Berlin", "Overwritten"
        first.commit()
        with pytest.raises(ConcurrentUpdate):
            second.commit()
    with SqlUnitOfWork(db) as uow:
        stored = uow.interviews.get(interview.id)
        assert stored is not None and (stored.tz, stored.candidate_name) == ("Europe/Berlin", "Ada")


def statements(db: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    event.listen(db, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db, "before_cursor_execute", record)


@pytest.fixture
def sql(db: Engine) -> Iterator[list[str]]:
    yield from statements(db)


async def test_only_changed_rows_are_written(db: Engine, sql: list[str]) -> None:
    world = make_world(small_script(), uow=SqlUnitOfWorkFactory(db))
    interview_id = await started(world)
    sql.clear()
    with SqlUnitOfWork(db) as uow:
        assert uow.interviews.get(interview_id) is not None
        uow.commit()  # loaded, nothing changed: nothing is written
    assert [s for s in sql if s in ("INSERT", "UPDATE", "DELETE")] == []
    sql.clear()
    await world.engine.handle(TextReceived(ADA, CHAT, "The cache returned stale rows.", "u-1"))
    writes = sorted(s for s in sql if s in ("INSERT", "UPDATE", "DELETE"))
    # the delivery key, the new answer and take, the interview row (activity, version) and the
    # receipt in the outbox; then, once it is sent, the outbox entry goes
    assert writes == ["DELETE", "INSERT", "INSERT", "INSERT", "INSERT", "UPDATE"]


class Interfering(SqlUnitOfWork):
    """Runs `meanwhile` once, after its command's reads and before any of its writes: another
    process got there first."""

    meanwhile: ClassVar[list[Callable[[], None]]] = []

    def __enter__(self) -> Interfering:
        super().__enter__()
        add = self.outbox.add  # the first write of a command with a reply

        def interfere_then_add(body: str, due_at: datetime, owner: str | None = None,
                               lease_until: datetime | None = None) -> int:
            while self.meanwhile:
                self.meanwhile.pop()()
            return add(body, due_at, owner, lease_until)

        self.outbox.add = interfere_then_add  # type: ignore[method-assign]
        return self


async def test_a_command_overtaken_by_another_process_runs_again(db: Engine) -> None:
    observer = Counting()
    world = make_world(small_script(), uow=lambda: Interfering(db), observer=observer)
    interview_id = await started(world)

    def reviewer_extends_meanwhile() -> None:
        with SqlUnitOfWork(db) as other:
            found = other.interviews.get(interview_id)
            assert found is not None
            found.deadline += timedelta(days=2)
            other.commit()

    with SqlUnitOfWork(db) as uow:
        before = uow.interviews.get(interview_id)
        assert before is not None
    Interfering.meanwhile.append(reviewer_extends_meanwhile)
    await world.engine.handle(TextReceived(ADA, CHAT, "Both changes must survive.", "u-2"))
    assert observer.conflicts == 1
    with SqlUnitOfWork(db) as uow:
        after = uow.interviews.get(interview_id)
        assert after is not None
        answer = after.answer_for("bug")
        assert answer is not None and [t.text for t in answer.takes] == [
            "Both changes must survive."]
        assert after.deadline == before.deadline + timedelta(days=2)
    assert world.telegram.texts(CHAT)[-1].startswith("Got your written answer")


class SlowDownloads(FakeMessenger):
    """Holds every download until `release` is set."""

    def __init__(self) -> None:
        super().__init__("telegram")
        self.release = asyncio.Event()
        self.waiting = asyncio.Event()

    async def download(self, media: MediaRef, max_bytes: int) -> bytes:
        self.waiting.set()
        await self.release.wait()
        return await super().download(media, max_bytes)


async def test_a_recording_overtaken_on_another_process_is_not_used(db: Engine) -> None:
    slow = SlowDownloads()
    first = make_world(small_script(), uow=SqlUnitOfWorkFactory(db), telegram=slow)
    second = make_world(small_script(), uow=SqlUnitOfWorkFactory(db))
    interview_id = await started(second)
    slow.files["f1"] = b"speech:5"
    media = MediaRef("telegram", "f1", "voice", "audio/ogg", size=8, duration=5.0)
    voice = MediaReceived(ADA, CHAT, media, "u-voice")
    fetching = asyncio.create_task(first.engine.handle(voice))
    await slow.waiting.wait()  # the download runs with no transaction open...
    # ...read or write: no connection is checked out of the pool while it waits
    assert db.pool.checkedout() == 0  # type: ignore[attr-defined]
    await second.engine.handle(TextReceived(ADA, CHAT, "Typed while it uploads.", "u-text"))
    payload, ref = second.telegram.button(CHAT, "Submit")
    await second.engine.handle(ButtonPressed(ADA, CHAT, payload, ref, "cbq-keep"))
    slow.release.set()  # ...and ends after the candidate moved on to the next question
    await fetching
    assert slow.texts(CHAT)[0] == MOVED_ON
    assert len(first.audio.deleted) == 1 and not first.audio.stored
    with SqlUnitOfWork(db) as uow:
        stored = uow.interviews.get(interview_id)
        assert stored is not None and stored.state is State.IN_PROGRESS
        answer = stored.answer_for("bug")
        assert answer is not None and [t.kind for t in answer.takes] == ["text"]
        assert stored.answer_for("voice") is None


async def test_wrong_invitation_tokens_are_counted_across_processes(db: Engine) -> None:
    worlds = [make_world(small_script(), uow=SqlUnitOfWorkFactory(db)) for _ in range(2)]
    for attempt in range(5):
        await worlds[attempt % 2].engine.handle(InviteAccepted(ADA, CHAT, f"wrong-{attempt}"))
    await worlds[1].engine.handle(InviteAccepted(ADA, CHAT, "wrong-again"))
    assert worlds[1].telegram.texts(CHAT)[-1] == TOKEN_THROTTLED
    assert TOKEN_THROTTLED not in worlds[0].telegram.texts(CHAT)


async def test_answers_one_process_knows_are_read_again_once_another_changed_them(
        db: Engine, sql: list[str]) -> None:
    first = make_world(small_script(), uow=SqlUnitOfWorkFactory(db))
    second = make_world(small_script(), uow=SqlUnitOfWorkFactory(db))
    interview_id = await started(first)
    await first.engine.handle(TextReceived(ADA, CHAT, "Typed on the first process.", "u-1"))
    sql.clear()
    with first.engine.s.uow() as uow:  # the first process knows this version's rows
        known = uow.interviews.get(interview_id)
        assert known is not None and [t.text for t in known.answers[-1].takes] == [
            "Typed on the first process."]
    assert sql == ["SELECT"]  # the interview row alone: its answers and takes are known
    await second.engine.handle(TextReceived(ADA, CHAT, "And more on the second.", "u-2"))
    with first.engine.s.uow() as uow:
        now = uow.interviews.get(interview_id)
        assert now is not None
        # the draft grew on the second process: a new version, so its rows are read again
        assert [(t.text, t.pieces) for t in now.answers[-1].takes] == [
            ("Typed on the first process.\nAnd more on the second.", 2)]
