"""The outbox on SQLite and PostgreSQL: replies committed with their change survive the process."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text

from core.commands import ButtonPressed, InviteAccepted, TextReceived
from core.effects import Effects
from core.refs import ChatRef, UserRef
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.integration.test_concurrency import started
from tests.support.core_fakes import FakeClock, World, make_world
from tests.support.scripts import small_script

ADA = UserRef("telegram", "42")
CHAT = ChatRef("telegram", "42")


def pending(db: Engine) -> int:
    with db.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM outbox")).scalar_one())


async def dies_after_answer(db: Engine, clock: FakeClock, answer: str) -> World:
    """A process that takes Ada's answer, commits, then dies before sending anything."""
    dying = make_world(small_script(), uow=SqlUnitOfWorkFactory(db), clock=clock)
    await started(dying)

    async def nothing(fx: Effects) -> None:
        return None
    dying.engine.perform = nothing  # type: ignore[method-assign]
    await dying.engine.handle(TextReceived(ADA, CHAT, answer, "u-1"))
    return dying


async def test_replies_of_a_process_that_died_are_sent_by_the_next(db: Engine) -> None:
    clock = FakeClock()
    dying = await dies_after_answer(db, clock, "Committed, never acknowledged.")
    assert pending(db) == 1
    assert not any(t.startswith("Got your") for t in dying.telegram.texts(CHAT))

    nxt = make_world(small_script(), uow=SqlUnitOfWorkFactory(db), clock=clock)
    assert await nxt.engine.resend_due() == 0  # not due: its own process may still send it
    clock.advance(seconds=31)
    assert await nxt.engine.resend_due() == 1
    (receipt,) = nxt.telegram.texts(CHAT)
    assert receipt.startswith("Got your written answer")
    assert [b.label for b in nxt.telegram.last(CHAT).message.all_buttons()] == [
        "Submit", "Start over (1 left)"]
    assert pending(db) == 0
    clock.advance(seconds=120)
    assert await nxt.engine.resend_due() == 0  # sent once


async def test_two_sweeps_at_once_send_each_entry_once(db: Engine) -> None:
    clock = FakeClock()
    await dies_after_answer(db, clock, "One receipt, two sweepers.")
    clock.advance(seconds=31)
    sweepers = [make_world(small_script(), uow=SqlUnitOfWorkFactory(db), clock=clock)
                for _ in range(2)]
    done = await asyncio.gather(*(w.engine.resend_due() for w in sweepers))
    assert sorted(done) == [0, 1]
    assert sum(len(w.telegram.texts(CHAT)) for w in sweepers) == 1
    assert pending(db) == 0


async def test_the_outbox_is_empty_once_replies_are_sent(db: Engine) -> None:
    world = make_world(small_script(), uow=SqlUnitOfWorkFactory(db))
    await started(world)
    await world.engine.handle(TextReceived(ADA, CHAT, "Sent straight away.", "u-1"))
    assert world.telegram.texts(CHAT)[-1].startswith("Got your written answer")
    assert pending(db) == 0
    world.clock.advance(seconds=timedelta(days=1).total_seconds())
    assert await world.engine.resend_due() == 0


async def test_a_sweep_that_read_an_entry_before_another_claimed_it_does_not_send_it(
        db: Engine) -> None:
    """Two sweeps read the same due entry; the first claims and sends it; then the second,
    whose read came before that claim, tries to claim: refused, nothing sent twice.

    The interleaving is explicit (`due`, then `claim` and `run` step by step), not left to
    `gather`. Checked: with `SqlOutbox.claim`'s WHERE reduced to `id == entry.id` (no
    attempts check, no lease check) this test fails on both SQLite and PostgreSQL: the
    second sweep claims the entry and sends the receipt again."""
    clock = FakeClock()
    await dies_after_answer(db, clock, "One receipt, two sweepers.")
    clock.advance(seconds=31)
    first, second = (make_world(small_script(), uow=SqlUnitOfWorkFactory(db), clock=clock)
                     for _ in range(2))
    (read_by_first,) = first.engine.outbox.due()
    (read_by_second,) = second.engine.outbox.due()  # before the first one's claim
    assert first.engine.outbox.claim(read_by_first)
    assert not second.engine.outbox.claim(read_by_second)
    from core import outbox
    await first.engine.outbox.run(read_by_first.id, outbox.decode(read_by_first.body))
    assert not second.engine.outbox.claim(read_by_second)  # done and gone
    texts = first.telegram.texts(CHAT) + second.telegram.texts(CHAT)
    assert sum(t.startswith("Got your") for t in texts) == 1
    assert pending(db) == 0


async def test_a_leased_entry_is_not_due_until_the_lease_expires(db: Engine) -> None:
    clock = FakeClock()
    await dies_after_answer(db, clock, "Leased to a process that died.")
    sweeper = make_world(small_script(), uow=SqlUnitOfWorkFactory(db), clock=clock)
    clock.advance(seconds=29)
    assert sweeper.engine.outbox.due() == []  # its process may still be sending
    clock.advance(seconds=2)
    (entry,) = sweeper.engine.outbox.due()
    assert entry.lease_owner is not None and entry.lease_owner != sweeper.engine.owner


async def test_a_takeover_skips_replies_the_candidate_has_moved_past(db: Engine) -> None:
    """Ada's receipt was committed, then its process died; she re-opened the link and the
    next process restated her step ("Welcome back"). The dead process's receipt is behind
    her now: the sweep skips it instead of showing it after the restatement.
    (Checked: with `_skip_stale` removed from the sweep, she gets the receipt a second time,
    after "Welcome back".)"""
    clock = FakeClock()
    await dies_after_answer(db, clock, "Committed, never acknowledged.")
    nxt = make_world(small_script(), uow=SqlUnitOfWorkFactory(db), clock=clock)
    clock.advance(seconds=1)
    await nxt.engine.handle(InviteAccepted(ADA, CHAT, None))
    (welcome, restated) = nxt.telegram.texts(CHAT)
    assert welcome.startswith("Welcome back") and restated.startswith("Got your written")
    clock.advance(seconds=31)
    assert await nxt.engine.resend_due() == 1  # taken over ...
    assert len(nxt.telegram.texts(CHAT)) == 2  # ... and nothing in it sent
    assert pending(db) == 0


async def test_a_takeover_without_news_from_the_candidate_sends_and_says_in_doubt(
        db: Engine, caplog: pytest.LogCaptureFixture) -> None:
    """The same death, Ada silent: the receipt is sent by the sweep, and logged as in doubt
    (its process may have sent it just before dying; the Bot API has no idempotency key).
    (Checked: with the lease owner test in `resend_due` inverted, no line is logged.)"""
    clock = FakeClock()
    await dies_after_answer(db, clock, "Committed, never acknowledged.")
    nxt = make_world(small_script(), uow=SqlUnitOfWorkFactory(db), clock=clock)
    clock.advance(seconds=31)
    with caplog.at_level(logging.WARNING, logger="interviewbot.outbox"):
        assert await nxt.engine.resend_due() == 1
    (receipt,) = nxt.telegram.texts(CHAT)
    (line,) = [r for r in caplog.records if r.getMessage().startswith("outbox step in doubt")]
    assert line.__dict__["chat"] == str(CHAT)
    assert line.__dict__["text_sha"] == hashlib.sha256(receipt.encode()).hexdigest()[:12]


async def test_a_takeover_skips_a_receipt_the_candidate_has_answered_past(db: Engine) -> None:
    """As above, and Ada then submitted and answered the next question: the dead process's
    receipt stays unsent (the sweep would otherwise show it after her second answer)."""
    clock = FakeClock()
    await dies_after_answer(db, clock, "Committed, never acknowledged.")
    nxt = make_world(small_script(), uow=SqlUnitOfWorkFactory(db), clock=clock)
    clock.advance(seconds=1)
    await nxt.engine.handle(InviteAccepted(ADA, CHAT, None))
    clock.advance(seconds=1)
    payload, ref = nxt.telegram.button(CHAT, "Submit")
    await nxt.engine.handle(ButtonPressed(ADA, CHAT, payload, ref, "cb-1"))
    clock.advance(seconds=1)
    await nxt.engine.handle(TextReceived(ADA, CHAT, "The second answer, in words.", "u-2"))
    before = nxt.telegram.texts(CHAT)
    clock.advance(seconds=31)
    assert await nxt.engine.resend_due() == 1
    assert nxt.telegram.texts(CHAT) == before
