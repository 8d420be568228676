"""The outbox steps codec, and how the runner retries a failed step alone (on the fake store)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Collection
from datetime import UTC, datetime, timedelta

import pytest

from core import outbox
from core.bus import work_of
from core.commands import TextReceived
from core.effects import Effects
from core.events import CandidateAsked, InterviewCompleted, ReviewChanged
from core.messages import Audio, Button, OutMessage
from core.observe import NullObserver
from core.outbox_runner import STEP_ATTEMPTS
from core.ports import DeliveryFailed
from core.refs import ChatRef, MessageRef, UserRef
from core.texts import NO_INVITATION
from tests.integration.test_concurrency import started
from tests.support.core_fakes import (
    FakeMessenger,
    FakeOutbox,
    FakeUnitOfWork,
    FlakyMessenger,
    World,
    make_world,
)
from tests.support.scripts import small_script

ADA = UserRef("telegram", "42")
CHAT = ChatRef("telegram", "42")


def test_steps_survive_the_round_trip() -> None:
    fx = Effects()
    rich = OutMessage("Rate it ✓", ((Button("1", "rate:i1:a:1", "primary"), Button("2", "x")),),
                      Audio("/m/i1/t1.ogg", "audio/ogg", "Answer", 12.5), "Title", "ask:i1",
                      (("Question", "Why?"),))
    fx.send(CHAT, rich)
    fx.send(ChatRef("slack", "C1"), "plain")
    fx.edits.append((MessageRef(ChatRef("slack", "C1"), "171.2"), OutMessage("edited")))
    fx.notes.append((ChatRef("slack", "C1"), UserRef("slack", "U1"), "only you"))
    fx.emit(InterviewCompleted("i1"))
    fx.emit(CandidateAsked("i1", "q1"))
    fx.emit(ReviewChanged("i1", "a1"))
    fx.emit(ReviewChanged("i1", "a1"))  # twice: refreshed once
    work = work_of(fx)
    work.steps[1].attempts, work.steps[1].ref = 2, "99"
    back = outbox.decode(outbox.encode(work))
    assert back == work
    assert [s.kind for s in back.steps] == ["edit", "send", "send", "note", "review",
                                            "broadcast", "refresh"]
    assert back.steps[1].message() == rich
    assert back.steps[6].args == {"interview": "i1", "answer": "a1"}


def test_an_entry_of_the_version_before_steps_is_read_as_steps() -> None:
    body = json.dumps({"edits": [], "sends": [["telegram:42", {"text": "Got it"}]], "notes": [],
                       "completed": ["i1"], "broadcasts": [["i1", {"text": "question:q7"}]],
                       "refresh_reviews": [["i1", None]], "transcribe": [["i1", "t1"]]})
    work = outbox.decode(body)
    assert [(s.kind, s.args.get("question")) for s in work.steps] == [
        ("send", None), ("review", None), ("broadcast", "q7"), ("refresh", None),
        ("transcribe", None)]


class Counting(NullObserver):
    def __init__(self) -> None:
        self.failed = self.resent = self.given_up = 0

    def delivery_failed(self, platform: str) -> None:
        self.failed += 1

    def outbox_resent(self) -> None:
        self.resent += 1

    def step_given_up(self, kind: str, platform: str) -> None:
        self.given_up += 1


async def flaky_world() -> tuple[World, FlakyMessenger, Counting]:
    flaky, observer = FlakyMessenger("telegram", DeliveryFailed("network down")), Counting()
    world = make_world(small_script(), telegram=flaky, observer=observer)
    await started(world)
    return world, flaky, observer


async def test_a_failed_send_is_tried_again_later_and_only_it() -> None:
    world, flaky, _ = await flaky_world()
    flaky.failures = 1
    await world.engine.handle(TextReceived(ADA, CHAT, "My answer.", "u-1"))
    (entry,) = world.store.outbox.values()
    assert entry.lease_owner is None  # released: a sweep may take it once due
    steps = outbox.decode(entry.body).steps
    assert [s.state for s in steps] == ["pending"]
    assert steps[0].message().text.startswith("Got your") and steps[0].attempts == 1
    world.clock.advance(seconds=29)
    assert await world.engine.resend_due() == 0
    world.clock.advance(seconds=2)
    assert await world.engine.resend_due() == 1
    assert sum(t.startswith("Got your") for t in flaky.texts(CHAT)) == 1
    assert not world.store.outbox


async def test_a_send_that_keeps_failing_is_given_up_counted_and_never_repeated() -> None:
    world, flaky, observer = await flaky_world()
    flaky.failures = 100
    await world.engine.handle(TextReceived(ADA, CHAT, "My answer.", "u-1"))
    waits = []
    while world.store.outbox:
        (entry,) = world.store.outbox.values()
        waits.append(round((entry.due_at - world.clock.now()).total_seconds()))
        world.clock.current = entry.due_at
        await world.engine.resend_due()
    assert waits == [30 * 2 ** n for n in range(STEP_ATTEMPTS - 1)]  # backing off
    assert observer.resent == STEP_ATTEMPTS - 1
    assert observer.failed == STEP_ATTEMPTS and observer.given_up == 1
    world.clock.advance(days=1)
    assert await world.engine.resend_due() == 0
    assert flaky.failures == 100 - STEP_ATTEMPTS  # never tried past the cap


async def test_a_step_that_raises_is_retried_alone_and_capped() -> None:
    """A step that raises something other than a delivery failure (a bug, a missing file)
    fails only itself: the steps before it are not sent again on each retry."""
    world, flaky, observer = await flaky_world()
    flaky.error = RuntimeError("missing canonical file")
    before = len(flaky.sent)
    flaky.failures = 1
    # the receipt fails; nothing else is pending in that entry
    await world.engine.handle(TextReceived(ADA, CHAT, "My answer.", "u-1"))
    flaky.failures = 100
    for _ in range(10):
        world.clock.advance(hours=2)
        await world.engine.resend_due()
    assert not world.store.outbox
    assert observer.given_up == 1 and observer.failed == STEP_ATTEMPTS
    assert len(flaky.sent) == before  # nothing sent twice, the failed one never


async def test_a_claimed_entry_is_not_taken_while_its_lease_holds() -> None:
    world, flaky, _ = await flaky_world()
    flaky.failures = 1
    await world.engine.handle(TextReceived(ADA, CHAT, "My answer.", "u-1"))
    world.clock.advance(seconds=31)
    (entry,) = world.engine.outbox.due()
    assert world.engine.outbox.claim(entry)
    assert not world.engine.outbox.claim(entry)  # read before the claim: refused
    assert world.engine.outbox.due() == []  # leased: not due for anyone


class RealClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class Blocking(FakeMessenger):
    """Holds the receipt until released: a chat paced far past the outbox's lease."""

    def __init__(self) -> None:
        super().__init__("telegram")
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def send(self, chat: ChatRef, message: OutMessage) -> MessageRef:
        if message.text.startswith("Got your"):
            self.entered.set()
            await self.release.wait()
        return await super().send(chat, message)


async def test_a_slow_send_keeps_its_lease_and_no_sweep_takes_it() -> None:
    """The live process renews its lease while a send is held far past the lease; a sweep
    of another process, run once the first lease would have expired, takes nothing.

    Checked: with the renewal in `OutboxRunner._renewing` disabled (its sleep set to an
    hour), the other process claims the entry and sends the receipt a second time."""
    clock = RealClock()
    slow = Blocking()
    world = make_world(small_script(), clock=clock, telegram=slow,  # type: ignore[arg-type]
                       outbox_retry=timedelta(seconds=0.3))
    await started(world)
    other = make_world(small_script(), uow=lambda: FakeUnitOfWork(world.store),
                       clock=clock, outbox_retry=timedelta(seconds=0.3))  # type: ignore[arg-type]
    task = asyncio.create_task(world.engine.handle(TextReceived(ADA, CHAT, "Slow.", "u-1")))
    await asyncio.wait_for(slow.entered.wait(), 30)
    (entry,) = world.store.outbox.values()
    assert entry.lease_until is not None
    first_lease = entry.lease_until
    deadline = time.monotonic() + 30
    while clock.now() < first_lease + timedelta(seconds=0.6):  # two leases' worth later
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    assert await other.engine.resend_due() == 0
    slow.release.set()
    await asyncio.wait_for(task, 30)
    assert sum(t.startswith("Got your") for t in slow.texts(CHAT) + other.telegram.texts(CHAT)) == 1
    assert not world.store.outbox


def strangers(n: int) -> list[TextReceived]:
    """Texts from people with no invitation: each gets a reply, each reply an outbox entry."""
    return [TextReceived(UserRef("telegram", str(100 + i)), ChatRef("telegram", str(100 + i)),
                         "hello", f"u-{i}") for i in range(n)]


async def test_entries_finished_in_one_turn_of_the_loop_are_removed_together(
        monkeypatch: pytest.MonkeyPatch) -> None:
    world = make_world(small_script())
    batches: list[list[int]] = []
    remove = FakeOutbox.done_all

    def recorded(self: FakeOutbox, entry_ids: Collection[int], owner: str) -> int:
        batches.append(sorted(entry_ids))
        return remove(self, entry_ids, owner)

    monkeypatch.setattr(FakeOutbox, "done_all", recorded)
    await asyncio.gather(*(world.engine.handle(cmd) for cmd in strangers(3)))
    assert all(world.telegram.texts(cmd.chat) == [NO_INVITATION] for cmd in strangers(3))
    await world.engine.idle()  # removes at once whatever the end of the turn did not
    assert batches == [[1, 2, 3]]  # one removal (one transaction) for the three answers
    assert world.store.outbox == {}


async def test_a_failed_removal_keeps_the_entries_leased_and_is_tried_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    world = make_world(small_script())
    failures = [ConnectionError("database unreachable")]
    remove = FakeOutbox.done_all

    def flaky(self: FakeOutbox, entry_ids: Collection[int], owner: str) -> int:
        if failures:
            raise failures.pop()
        return remove(self, entry_ids, owner)

    monkeypatch.setattr(FakeOutbox, "done_all", flaky)
    await world.engine.handle(strangers(1)[0])  # its removal at the end of the turn failed
    assert not failures and list(world.store.outbox) == [1]
    assert world.engine.outbox.due() == []  # still leased: no sweep sends it again meanwhile
    world.clock.advance(seconds=world.engine.outbox.lease.total_seconds())
    assert [e.id for e in world.engine.outbox.due()] == [1]  # (a sweep would, after the lease)
    world.engine.outbox.settle()  # the retry, planned a third of a lease later, removes it
    assert world.store.outbox == {}
