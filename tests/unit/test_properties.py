"""Property tests: no sequence of inputs reaches an illegal state or loses an answer, and a
candidate who follows the happy path always finishes, whatever stale or repeated input
arrives in between."""

from __future__ import annotations

import asyncio
import copy
import re
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import payloads as pl
from core import texts
from core.commands import (
    ButtonPressed,
    Command,
    CreateInvitation,
    InviteAccepted,
    MediaReceived,
    TextReceived,
    UnsupportedReceived,
    UserCommand,
)
from core.messages import OutMessage
from core.model import Interview, WrapUp
from core.refs import ChatRef, MediaRef, MessageRef, UserRef
from core.script import Script
from core.states import TRANSITIONS, State
from core.vocabulary import Verb
from tests.support.core_fakes import World, make_world
from tests.support.scripts import small_script

ADA = UserRef("telegram", "1")
CHAT = ChatRef("telegram", "1")
EVE = UserRef("telegram", "2")
REVIEW = ChatRef("slack", "CREV")
LABELS = ["I agree", "No thanks", "Submit", "Start over", "Skip practice", "Done", "3", "Cancel",
          "Yes, withdraw", "Yes, erase"]
ANSWERING = st.one_of(  # drawn as often as everything else together: runs get far
    st.tuples(st.just("press"), st.sampled_from(["Submit", "Start over", "Skip practice"])),
    st.tuples(st.just("text"), st.sampled_from(["an answer", "x", "another answer"])),
    st.tuples(st.just("voice"), st.sampled_from([b"speech:5", b"speech:12", b"silence",
                                                 b"junk", b"speech:0.2"])),
)
ACTIONS = st.one_of(ANSWERING, st.one_of(
    st.tuples(st.just("press"), st.sampled_from(LABELS)),
    st.tuples(st.just("foreign"), st.sampled_from(LABELS)),
    st.tuples(st.just("sticker"), st.just("")),
    st.tuples(st.just("command"), st.sampled_from(["status", "withdraw", "delete", "help"])),
    st.tuples(st.just("redeliver"), st.just("")),
    st.tuples(st.just("wait"), st.sampled_from([1, 24, 200])),
))
RECEIPT = re.compile(r"Got your (voice|written) answer \((\d+) (?:clip|message)s?, (.+?)\) to "
                     r"(.+?)\. To add more, .*"
                     r"Tap Submit when it is complete(?:, or Start over)?\.$")
AT_DEADLINE = re.compile(r"The deadline has come: your answer to (.+) \(([^()]+)\) was submitted")


def content(data: str | bytes) -> str | float:
    """What a take must hold for what was sent: the text, or a voice note's seconds."""
    if isinstance(data, bytes):
        return float(data.decode().split(":")[1])
    return data


def joined(kind: str, pieces: list[str | float]) -> str | float:
    """What a draft of these acknowledged pieces holds: the messages one a line, or the
    recordings' total seconds."""
    if kind == "voice":
        return float(sum(p for p in pieces if isinstance(p, float)))
    return "\n".join(str(p) for p in pieces)


@dataclass
class Acknowledged:
    """The drafts the candidate was told were received, read from the bot's messages only.

    Per question label: (kind, pieces, take id) in the order the drafts were started; each
    receipt names its draft by the take id on its Submit button and adds the piece just sent.
    `kept`: the position of the draft the candidate was told is submitted, per question label.
    """

    takes: dict[str, list[tuple[str, list[str | float], str]]] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)

    def read(self, messages: list[OutMessage], sent: str | bytes | None) -> None:
        """Take in what the bot sent after one input (`sent`: a text or voice, else None)."""
        for message in messages:
            found = RECEIPT.match(message.text)
            if found is not None:
                assert sent is not None, message.text
                kind = "voice" if found[1] == "voice" else "text"
                submit = next(b for b in message.all_buttons() if b.label == "Submit")
                parsed = pl.parse(submit.payload)
                assert parsed is not None
                rows = self.takes.setdefault(found[4], [])
                draft = next((r for r in rows if r[2] == parsed.arg(0)), None)
                if draft is None:
                    draft = (kind, [], parsed.arg(0))
                    rows.append(draft)
                draft[1].append(content(sent))
                assert int(found[2]) == len(draft[1]), (found[2], draft)
                value = joined(kind, draft[1])
                shown = (texts.clock(value) if isinstance(value, float)
                         else f"{len(value.split())} word{'s' if len(value.split()) != 1 else ''}")
                assert found[3] == shown, (found[3], draft)
                sent = None  # one input, one piece
                continue
            deadline = AT_DEADLINE.match(message.text)
            if deadline is not None:  # the draft was submitted as it stood
                self.kept[deadline[1]] = len(self.takes[deadline[1]]) - 1

    def pressed(self, payload: str, reply: str | None) -> None:
        """A press the bot answered: "Submitted." submits the draft on the button, "Erased."
        erases every take."""
        parsed = pl.parse(payload)
        if reply == "Submitted." and parsed is not None:
            label, position = next(
                (label, i) for label, rows in self.takes.items()
                for i, (_, _, take_id) in enumerate(rows) if take_id == parsed.arg(0))
            self.kept[label] = position
        elif reply == "Erased.":
            self.takes.clear()
            self.kept.clear()

    def check(self, script: Script, interview: Interview) -> None:
        """The store holds exactly the acknowledged drafts, each with every acknowledged
        piece, and submits the acknowledged ones."""
        labels = {q.id: texts.question_label(script, q) for q in script.questions}
        stored: dict[str, list[tuple[str, str | float, str]]] = {}
        kept: dict[str, int] = {}
        for answer in interview.answers:
            label = labels[answer.question_id]
            for position, take in enumerate(answer.takes):
                value = take.text if take.kind == "text" else take.duration
                assert value is not None
                stored.setdefault(label, []).append((take.kind, value, take.id))
                if take.id == answer.kept_take_id:
                    kept[label] = position
        told = {label: [(kind, joined(kind, pieces), take_id) for kind, pieces, take_id in rows]
                for label, rows in self.takes.items()}
        assert stored == told, (stored, told)
        assert kept == self.kept, (kept, self.kept)


def new_messages(world: World, before: int) -> list[OutMessage]:
    return [s.message for s in world.telegram.sent[before:] if s.chat == CHAT]


async def play(world: World, steps: list[tuple[str, object]], *, agree: bool) -> None:
    """Run `steps` (after agreeing to the consent first if `agree`), checking after each."""
    script = world.engine.s.script("qa")
    _, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    await world.engine.handle(InviteAccepted(ADA, CHAT, token))
    if agree:
        steps = [("press", "I agree"), *steps]
    record = Acknowledged()
    record.read(new_messages(world, 0), None)
    last_delivery: TextReceived | None = None
    seen_states = [next(iter(world.store.interviews.values())).state]
    for n, (kind, arg) in enumerate(steps):
        before = len(world.telegram.sent)
        sent: str | bytes | None = None
        if kind in ("press", "foreign"):
            try:
                payload, ref = world.telegram.button(CHAT, str(arg))
            except AssertionError:
                continue
            who = ADA if kind == "press" else EVE
            reply = await world.engine.handle(ButtonPressed(who, CHAT, payload, ref, f"cb{n}"))
            record.pressed(payload, reply)
        elif kind == "text":
            sent = str(arg)
            last_delivery = TextReceived(ADA, CHAT, sent, f"u{n}")
            await world.engine.handle(last_delivery)
        elif kind == "voice":
            assert isinstance(arg, bytes)
            sent = arg
            world.telegram.files[f"f{n}"] = arg
            media = MediaRef("telegram", f"f{n}", "voice", "audio/ogg", size=10, duration=None)
            await world.engine.handle(MediaReceived(ADA, CHAT, media, f"u{n}"))
        elif kind == "sticker":
            await world.engine.handle(UnsupportedReceived(ADA, CHAT, "sticker"))
        elif kind == "command":
            await world.engine.handle(UserCommand(ADA, CHAT, Verb(str(arg))))
        elif kind == "redeliver" and last_delivery is not None:
            await world.engine.handle(last_delivery)  # the same update id: nothing happens
            assert len(world.telegram.sent) == before
        elif kind == "wait":
            world.clock.advance(hours=int(arg))  # type: ignore[call-overload]
        record.read(new_messages(world, before), sent)
        interview = next(iter(world.store.interviews.values()))
        if interview.state is not seen_states[-1]:
            assert interview.state in TRANSITIONS[seen_states[-1]], (seen_states, interview.state)
            seen_states.append(interview.state)
        record.check(script, interview)
        if interview.state is State.ERASED:
            assert interview.answers == [] and interview.candidate is None


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.booleans(), st.lists(ACTIONS, min_size=8, max_size=40))
def test_no_sequence_breaks_the_interview(agree: bool, steps: list[tuple[str, object]]) -> None:
    world = make_world(small_script())
    asyncio.run(play(world, steps, agree=agree))


@settings(max_examples=100, deadline=None)
@given(st.booleans(), st.lists(ACTIONS, min_size=8, max_size=30))
def test_same_with_no_retakes(agree: bool, steps: list[tuple[str, object]]) -> None:
    world = make_world(small_script(answer={"kinds": ["voice", "text"], "max_seconds": 60,
                                            "retakes": 0}))
    asyncio.run(play(world, steps, agree=agree))


# -- the happy path, with stale and repeated input in between ---------------------------------

WRITTEN = st.sampled_from(["A race in the cache.", "Property tests, mostly.", "Hello there"])
SPOKEN = st.integers(min_value=1, max_value=60).map(lambda s: f"speech:{s}".encode())
NOISE = st.lists(st.tuples(st.sampled_from(["stale", "repeat"]), st.integers(0, 1000)),
                 max_size=3)


class HappyCandidate:
    """Ada follows the happy path; between her steps, old buttons get pressed again and old
    updates are delivered again, and each of those must change nothing."""

    def __init__(self, world: World, data: st.DataObject) -> None:
        self.world = world
        self.data = data
        self.n = 0
        self.stale: list[tuple[str, MessageRef]] = []  # buttons of messages already acted on
        self.history: list[Command] = []  # updates already handled, to deliver again

    def _id(self) -> str:
        self.n += 1
        return f"d{self.n}"

    async def noise(self) -> None:
        for kind, pick in self.data.draw(NOISE):
            world = self.world
            before = (copy.deepcopy(world.store.interviews), len(world.telegram.sent),
                      len(world.telegram.edits), len(world.slack.sent))
            if kind == "stale" and self.stale:
                payload, ref = self.stale[pick % len(self.stale)]
                reply = await world.engine.handle(ButtonPressed(ADA, CHAT, payload, ref,
                                                                self._id()))
                # a Submit from before a Start over finds an empty draft and says so
                assert reply == texts.STALE_BUTTON or (reply or "").startswith(
                    "Nothing to submit"), (payload, reply)
            elif kind == "repeat" and self.history:
                command = self.history[pick % len(self.history)]
                assert await world.engine.handle(command) is None
            after = (world.store.interviews, len(world.telegram.sent),
                     len(world.telegram.edits), len(world.slack.sent))
            assert after == before, kind

    async def handle(self, command: Command) -> str | None:
        await self.noise()
        if getattr(command, "delivery", None) is not None:
            self.history.append(command)
        return await self.world.engine.handle(command)

    async def press(self, label: str) -> None:
        payload, ref = self.world.telegram.button(CHAT, label)
        reply = await self.handle(ButtonPressed(ADA, CHAT, payload, ref, self._id()))
        assert reply is not None and reply != texts.STALE_BUTTON, (label, reply)
        pressed = next(s for s in self.world.telegram.sent if s.ref == ref)
        self.stale.extend((b.payload, ref) for b in pressed.message.all_buttons())

    async def answer(self, data: str | bytes) -> None:
        delivery = self._id()
        if isinstance(data, bytes):
            self.world.telegram.files[delivery] = data
            await self.handle(MediaReceived(ADA, CHAT, MediaRef(
                "telegram", delivery, "voice", "audio/ogg", size=10, duration=None), delivery))
        else:
            await self.handle(TextReceived(ADA, CHAT, data, delivery))


async def follow_the_happy_path(world: World, data: st.DataObject) -> dict[str, list[object]]:
    """Run the interview to the end; return what was sent per question id, in order."""
    script = world.engine.s.script("qa")
    ada = HappyCandidate(world, data)
    _, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    await ada.handle(InviteAccepted(ADA, CHAT, token, delivery="start"))
    await ada.press("I agree")
    sent: dict[str, list[object]] = {}
    for question in script.questions:
        if question.practice and data.draw(st.booleans(), label="skip practice"):
            await ada.press("Skip practice")
            sent[question.id] = []
            continue
        kinds = question.answer.kinds
        answers: st.SearchStrategy[str | bytes] = st.one_of(
            [WRITTEN] * ("text" in kinds) + [SPOKEN] * ("voice" in kinds))
        redos = data.draw(st.integers(0, question.answer.retakes), label="re-records")
        for take in range(redos + 1):
            answer = data.draw(answers, label=question.id)
            await ada.answer(answer)
            sent.setdefault(question.id, []).append(content(answer))
            if take < redos:
                await ada.press("Start over")
        await ada.press("Submit")
    await ada.press("Done")
    await ada.press("5")
    await ada.noise()
    return sent


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(retakes=st.integers(0, 2), data=st.data())
def test_the_happy_path_always_completes(retakes: int, data: st.DataObject) -> None:
    world = make_world(small_script(answer={"kinds": ["voice", "text"], "max_seconds": 60,
                                            "retakes": retakes}))
    sent = asyncio.run(follow_the_happy_path(world, data))
    (interview,) = world.store.interviews.values()
    assert interview.state is State.COMPLETED
    assert interview.wrap_up is WrapUp.DONE and interview.experience_rating == 5
    script = world.engine.s.script("qa")
    assert {a.question_id for a in interview.answers} == {q.id for q in script.questions}
    for answer in interview.answers:
        assert answer.done
        takes = [t.text if t.kind == "text" else t.duration for t in answer.takes]
        assert takes == sent[answer.question_id]
        if not takes:  # the practice question, skipped
            assert answer.kept_take_id is None
            continue
        # one kept take: the last one sent
        assert [t.id for t in answer.takes if t.id == answer.kept_take_id] == [
            answer.takes[-1].id]
    # the review cards went out once, however often the last Keep was repeated
    summaries = [m for m in world.slack.texts(REVIEW) if " completed QA Engineer" in m]
    assert len(summaries) == 1
