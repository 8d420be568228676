"""Property tests: no sequence of inputs reaches an illegal state or loses an answer."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.commands import (
    ButtonPressed,
    CreateInvitation,
    InviteAccepted,
    MediaReceived,
    TextReceived,
    UnsupportedReceived,
    UserCommand,
)
from core.refs import ChatRef, MediaRef, UserRef
from core.states import TRANSITIONS, State
from tests.support.core_fakes import World, make_world
from tests.support.scripts import small_script

ADA = UserRef("telegram", "1")
CHAT = ChatRef("telegram", "1")
EVE = UserRef("telegram", "2")
LABELS = ["I agree", "No thanks", "Keep", "Re-record", "Skip practice", "Done", "3", "Cancel",
          "Yes, withdraw", "Yes, erase"]
ACTIONS = st.one_of(
    st.tuples(st.just("press"), st.sampled_from(LABELS)),
    st.tuples(st.just("foreign"), st.sampled_from(LABELS)),
    st.tuples(st.just("text"), st.sampled_from(["an answer", "x", "another answer"])),
    st.tuples(st.just("voice"), st.sampled_from([b"speech:5", b"silence", b"junk", b"speech:0.2"])),
    st.tuples(st.just("sticker"), st.just("")),
    st.tuples(st.just("command"), st.sampled_from(["status", "withdraw", "delete", "help"])),
    st.tuples(st.just("redeliver"), st.just("")),
    st.tuples(st.just("wait"), st.sampled_from([1, 24, 200])),
)


async def play(world: World, steps: list[tuple[str, object]]) -> None:
    _, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    await world.engine.handle(InviteAccepted(ADA, CHAT, token))
    last_delivery: TextReceived | None = None
    receipts = 0
    seen_states = [next(iter(world.store.interviews.values())).state]
    for n, (kind, arg) in enumerate(steps):
        if kind in ("press", "foreign"):
            try:
                payload, ref = world.telegram.button(CHAT, str(arg))
            except AssertionError:
                continue
            who = ADA if kind == "press" else EVE
            await world.engine.handle(ButtonPressed(who, CHAT, payload, ref, f"cb{n}"))
        elif kind == "text":
            last_delivery = TextReceived(ADA, CHAT, str(arg), f"u{n}")
            await world.engine.handle(last_delivery)
        elif kind == "voice":
            world.telegram.files[f"f{n}"] = arg  # type: ignore[assignment]
            media = MediaRef("telegram", f"f{n}", "voice", "audio/ogg", size=10, duration=None)
            await world.engine.handle(MediaReceived(ADA, CHAT, media, f"u{n}"))
        elif kind == "sticker":
            await world.engine.handle(UnsupportedReceived(ADA, CHAT, "sticker"))
        elif kind == "command":
            await world.engine.handle(UserCommand(ADA, CHAT, str(arg)))
        elif kind == "redeliver" and last_delivery is not None:
            await world.engine.handle(last_delivery)
        elif kind == "wait":
            world.clock.advance(hours=int(arg))  # type: ignore[call-overload]
        interview = next(iter(world.store.interviews.values()))
        if interview.state is not seen_states[-1]:
            assert interview.state in TRANSITIONS[seen_states[-1]], (seen_states, interview.state)
            seen_states.append(interview.state)
        receipts = sum(1 for s in world.telegram.sent if s.message.text.startswith("Got your"))
        takes = sum(len(a.takes) for a in interview.answers)
        if interview.state is not State.ERASED:
            # every take acknowledged with a receipt is stored; nothing stored unacknowledged
            assert takes == receipts + sum(
                1 for a in interview.answers for t in a.takes if a.done and t.id == a.kept_take_id
                and _auto_kept(world, t.id)), (takes, receipts)
        else:
            assert interview.answers == [] and interview.candidate is None


def _auto_kept(world: World, take_id: str) -> bool:
    """Takes kept without a receipt: questions that allow no re-records."""
    return not any(take_id in b.payload for s in world.telegram.sent
                   for b in s.message.all_buttons())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ACTIONS, max_size=40))
def test_no_sequence_breaks_the_interview(steps: list[tuple[str, object]]) -> None:
    world = make_world(small_script())
    asyncio.run(play(world, steps))


@settings(max_examples=60, deadline=None)
@given(st.lists(ACTIONS, max_size=30))
def test_same_with_no_retakes(steps: list[tuple[str, object]]) -> None:
    world = make_world(small_script(answer={"kinds": ["voice", "text"], "max_seconds": 60,
                                            "retakes": 0}))
    asyncio.run(play(world, steps))
