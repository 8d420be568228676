"""The outbox codec, and how the engine retries a send that failed (on the fake store)."""

from __future__ import annotations

from core import outbox
from core.commands import TextReceived
from core.effects import Effects
from core.engine import OUTBOX_ATTEMPTS
from core.messages import Audio, Button, OutMessage
from core.observe import NullObserver
from core.ports import DeliveryFailed
from core.refs import ChatRef, MessageRef, UserRef
from tests.integration.test_concurrency import started
from tests.support.core_fakes import FakeMessenger, make_world
from tests.support.scripts import small_script

ADA = UserRef("telegram", "42")
CHAT = ChatRef("telegram", "42")


def test_effects_survive_the_round_trip() -> None:
    fx = Effects()
    rich = OutMessage("Rate it ✓", ((Button("1", "rate:i1:a:1", "primary"), Button("2", "x")),),
                      Audio("/m/i1/t1.ogg", "audio/ogg", "Answer", 12.5), "Title", "ask:i1",
                      (("Question", "Why?"),))
    fx.send(CHAT, rich)
    fx.send(ChatRef("slack", "C1"), "plain")
    fx.edits.append((MessageRef(ChatRef("slack", "C1"), "171.2"), OutMessage("edited")))
    fx.notes.append((ChatRef("slack", "C1"), UserRef("slack", "U1"), "only you"))
    fx.completed.append("i1")
    fx.broadcasts.append(("i1", OutMessage("question:q1")))
    fx.refresh_reviews += [("i1", "a1"), ("i1", None)]
    fx.transcribe.append(("i1", "t1"))
    back = outbox.decode(outbox.encode(fx))
    assert (back.sends, back.edits, back.notes, back.completed, back.broadcasts,
            back.refresh_reviews, back.transcribe) == (
        fx.sends, fx.edits, fx.notes, fx.completed, fx.broadcasts, fx.refresh_reviews,
        fx.transcribe)
    assert outbox.has_work(back) and not outbox.has_work(Effects(changed=["i1"]))


class Flaky(FakeMessenger):
    """Fails the next `failures` sends."""

    def __init__(self) -> None:
        super().__init__("telegram")
        self.failures = 0

    async def send(self, chat: ChatRef, message: OutMessage) -> MessageRef:
        if self.failures:
            self.failures -= 1
            raise DeliveryFailed("network down")
        return await super().send(chat, message)


class Counting(NullObserver):
    def __init__(self) -> None:
        self.failed = self.resent = 0

    def delivery_failed(self, platform: str) -> None:
        self.failed += 1

    def outbox_resent(self) -> None:
        self.resent += 1


async def test_a_failed_send_is_tried_again_later_and_only_it() -> None:
    world = make_world(small_script())
    flaky = world.telegram = world.engine.s.messengers["telegram"] = Flaky()
    await started(world)
    flaky.failures = 1
    await world.engine.handle(TextReceived(ADA, CHAT, "My answer.", "u-1"))
    (entry,) = world.store.outbox.values()
    left = outbox.decode(entry.body)
    assert [m.text[:8] for _, m in left.sends] == ["Got your"] and not left.edits
    world.clock.advance(seconds=29)
    assert await world.engine.resend_due() == 0
    world.clock.advance(seconds=2)
    assert await world.engine.resend_due() == 1
    assert flaky.texts(CHAT)[-1].startswith("Got your written answer")
    assert sum(t.startswith("Got your") for t in flaky.texts(CHAT)) == 1
    assert not world.store.outbox


async def test_a_send_that_keeps_failing_is_given_up_and_reported() -> None:
    world = make_world(small_script())
    flaky = world.telegram = world.engine.s.messengers["telegram"] = Flaky()
    observer = world.engine.s.observer = Counting()
    await started(world)
    flaky.failures = 100
    await world.engine.handle(TextReceived(ADA, CHAT, "My answer.", "u-1"))
    waits = []
    while world.store.outbox:
        (entry,) = world.store.outbox.values()
        waits.append(round((entry.due_at - world.clock.now()).total_seconds()))
        world.clock.current = entry.due_at
        await world.engine.resend_due()
    assert waits == [30 * 2 ** n for n in range(OUTBOX_ATTEMPTS)]  # backing off
    assert observer.resent == OUTBOX_ATTEMPTS
    assert observer.failed == 1 + OUTBOX_ATTEMPTS  # every attempt counted
    assert not any(t.startswith("Got your") for t in flaky.texts(CHAT))
