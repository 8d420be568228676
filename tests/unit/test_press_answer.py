"""A button press's answer (what stops the button's spinner) and the messages the press causes
go out together: neither waits for the other."""

from __future__ import annotations

import asyncio

from core.commands import ButtonPressed, CreateInvitation, InviteAccepted
from core.messages import OutMessage
from core.refs import ChatRef, MessageRef, UserRef
from tests.support.core_fakes import FakeMessenger, World, make_world
from tests.support.scripts import small_script

ADA = UserRef("telegram", "42")
ADA_CHAT = ChatRef("telegram", "42")
DEADLINE = 30.0  # seconds: only reached when one side waits for the other for good


class GatedMessenger(FakeMessenger):
    """Holds every send and edit until `gate` is set."""

    def __init__(self) -> None:
        super().__init__("telegram")
        self.gate = asyncio.Event()
        self.reached = asyncio.Event()  # a send or an edit was asked for

    async def send(self, chat: ChatRef, message: OutMessage) -> MessageRef:
        self.reached.set()
        await self.gate.wait()
        return await super().send(chat, message)

    async def edit(self, ref: MessageRef, message: OutMessage) -> None:
        self.reached.set()
        await self.gate.wait()
        await super().edit(ref, message)


async def _consent(world: World, messenger: GatedMessenger) -> ButtonPressed:
    _, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    messenger.gate.set()
    await world.engine.handle(InviteAccepted(ADA, ADA_CHAT, token))
    payload, ref = messenger.button(ADA_CHAT, "I agree")
    messenger.gate.clear()
    messenger.reached.clear()
    return ButtonPressed(ADA, ADA_CHAT, payload, ref)


async def test_the_messages_do_not_wait_for_the_press_answer() -> None:
    messenger = GatedMessenger()
    world = make_world(small_script(), telegram=messenger)
    press = await _consent(world, messenger)
    messenger.gate.set()
    answered: list[str | None] = []

    async def answer(text: str | None) -> None:
        await messenger.reached.wait()  # the answer's round trip ends after the edit began
        answered.append(text)

    await asyncio.wait_for(world.engine.handle(press, answer), DEADLINE)
    assert answered == ["Thank you!"]
    assert "Practice question" in "\n".join(messenger.texts(ADA_CHAT))


async def test_the_press_answer_does_not_wait_for_the_messages() -> None:
    messenger = GatedMessenger()
    world = make_world(small_script(), telegram=messenger)
    press = await _consent(world, messenger)
    answered = asyncio.Event()

    async def answer(_text: str | None) -> None:
        answered.set()

    handling = asyncio.create_task(world.engine.handle(press, answer))
    await asyncio.wait_for(answered.wait(), DEADLINE)  # while the edit is still held
    assert not handling.done()
    messenger.gate.set()
    await asyncio.wait_for(handling, DEADLINE)


async def test_an_answer_that_fails_loses_neither_the_press_nor_its_messages() -> None:
    messenger = GatedMessenger()
    world = make_world(small_script(), telegram=messenger)
    press = await _consent(world, messenger)
    messenger.gate.set()

    async def answer(_text: str | None) -> None:
        raise ConnectionError("the platform refused the answer")

    assert await asyncio.wait_for(world.engine.handle(press, answer), DEADLINE) == "Thank you!"
    assert "Practice question" in "\n".join(messenger.texts(ADA_CHAT))
    payload, _ = messenger.button(ADA_CHAT, "Skip practice")  # the consent was recorded
    assert payload
