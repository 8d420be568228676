"""Reminder planning, quiet hours across time zones and DST, and what fired timers do."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from core.commands import ButtonPressed, CreateInvitation, InviteAccepted, TextReceived
from core.reminders import Timer, TimerKind, outside_quiet_hours, plan
from core.script import QuietHours
from core.states import State
from core.vocabulary import Verb
from tests.support.core_fakes import World, make_world
from tests.support.scripts import small_script
from tests.unit.test_candidate_flow import ADA, ADA_CHAT, press

QUIET = QuietHours(time(21, 0), time(8, 0))
REMINDERS = {"not_started": ["24h", "72h"], "idle": "24h", "before_deadline": "24h",
             "reviewers": "48h", "quiet_hours": "21:00-08:00"}


def test_quiet_hours_move_to_the_morning_in_the_persons_zone() -> None:
    # 23:30 UTC is 08:30 in Tokyo (outside) and 00:30 in Berlin (inside)
    at = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    assert outside_quiet_hours(at, QUIET, "Asia/Tokyo") == at
    moved = outside_quiet_hours(at, QUIET, "Europe/Berlin")
    assert moved.astimezone(UTC) == datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
    # 22:00 in Los Angeles (06:00 UTC next day) waits until 08:00 there
    la = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)
    assert outside_quiet_hours(la, QUIET, "America/Los_Angeles").astimezone(UTC) == datetime(
        2026, 11, 24, 16, 0, tzinfo=UTC)


def test_quiet_hours_across_daylight_saving_change() -> None:
    # Berlin leaves summer time on 2026-10-25 at 03:00 local; 08:00 that day is 07:00 UTC
    at = datetime(2026, 10, 24, 23, 0, tzinfo=UTC)  # 01:00 local, summer time
    assert outside_quiet_hours(at, QUIET, "Europe/Berlin").astimezone(UTC) == datetime(
        2026, 10, 25, 7, 0, tzinfo=UTC)
    # and on the day it starts (2026-03-29), 08:00 local is 06:00 UTC
    spring = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert outside_quiet_hours(spring, QUIET, "Europe/Berlin").astimezone(UTC) == datetime(
        2026, 3, 29, 6, 0, tzinfo=UTC)


def world_with_reminders() -> World:
    return make_world(small_script(reminders=REMINDERS))


async def started(world: World) -> str:
    interview, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    await world.engine.handle(InviteAccepted(ADA, ADA_CHAT, token))
    return interview.id


def timers(world: World, iid: str) -> dict[tuple[TimerKind, int], Timer]:
    script = world.engine.s.script("qa")
    return {(t.kind, t.index): t for t in plan(script, world.store.interviews[iid])}


async def test_plan_follows_the_state() -> None:
    world = world_with_reminders()
    iid = await started(world)
    planned = timers(world, iid)
    assert set(planned) == {(TimerKind.NOT_STARTED, 0), (TimerKind.NOT_STARTED, 1),
                            (TimerKind.BEFORE_DEADLINE, 0), (TimerKind.EXPIRE, 0)}
    assert planned[TimerKind.EXPIRE, 0].at == world.store.interviews[iid].deadline
    await press(world, "I agree")  # started: consent is the one definition
    assert (TimerKind.IDLE, 0) in timers(world, iid)
    assert (TimerKind.NOT_STARTED, 0) not in timers(world, iid)
    await press(world, "Skip practice")
    assert (TimerKind.IDLE, 0) in timers(world, iid)
    assert (TimerKind.NOT_STARTED, 0) not in timers(world, iid)


async def test_idle_runs_from_consent() -> None:
    """A candidate who consented, saw Question 1 and stopped is reminded after `idle`."""
    world = make_world(small_script(reminders=dict(REMINDERS, idle="8s", quiet_hours=None)))
    iid = await started(world)
    await press(world, "I agree")
    sent = len(world.telegram.sent)
    world.clock.advance(seconds=9)
    await fire(world, iid, TimerKind.IDLE)
    assert world.telegram.texts(ADA_CHAT)[sent:] == [
        "A reminder: you stopped part-way through your interview. 2 of 2 questions left, due "
        + world.telegram.texts(ADA_CHAT)[-1].rsplit("due ", 1)[1]]


async def test_reminder_names_an_unsubmitted_draft_with_submit() -> None:
    world = world_with_reminders()
    iid = await started(world)
    await press(world, "I agree")
    await press(world, "Skip practice")
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "First half of my answer", "t1"))
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "and the second half.", "t2"))
    world.clock.advance(hours=30)
    await fire(world, iid, TimerKind.IDLE)
    reminder = world.telegram.texts(ADA_CHAT)[-1]
    assert ("Your answer to Question 1 of 2 is not submitted yet (2 messages, 9 words)"
            in reminder), reminder
    payload, ref = world.telegram.button(ADA_CHAT, "Submit")
    assert await world.engine.handle(ButtonPressed(ADA, ADA_CHAT, payload, ref)) == "Submitted."
    answer = world.store.interviews[iid].answer_for("bug")
    assert answer is not None and answer.kept is not None
    assert answer.kept.text == "First half of my answer\nand the second half."


async def test_the_deadline_submits_a_draft() -> None:
    world = world_with_reminders()
    iid = await started(world)
    await press(world, "I agree")
    await press(world, "Skip practice")
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "Unsubmitted words", "t1"))
    world.clock.advance(days=7)
    await fire(world, iid, TimerKind.EXPIRE)
    interview = world.store.interviews[iid]
    assert interview.state is State.EXPIRED
    answer = interview.answer_for("bug")
    assert answer is not None and answer.kept is not None
    assert answer.kept.text == "Unsubmitted words"
    assert any(t.startswith("The deadline has come: your answer to Question 1 of 2")
               for t in world.telegram.texts(ADA_CHAT))


async def fire(world: World, iid: str, kind: TimerKind, index: int = 0) -> None:
    await world.engine.timer_fired(iid, kind.value, index)


async def test_each_reminder_fires_once_and_names_what_is_left() -> None:
    world = world_with_reminders()
    iid = await started(world)
    sent = len(world.telegram.sent)
    await fire(world, iid, TimerKind.NOT_STARTED)  # not due yet: nothing
    assert len(world.telegram.sent) == sent
    world.clock.advance(hours=24)
    await fire(world, iid, TimerKind.NOT_STARTED)
    await fire(world, iid, TimerKind.NOT_STARTED)  # a second firing sends nothing
    texts = world.telegram.texts(ADA_CHAT)[sent:]
    assert len(texts) == 1
    assert texts[0].startswith("A reminder: your interview for QA Engineer is waiting")
    assert "2 of 2 questions left, due" in texts[0]
    payload, ref = world.telegram.button(ADA_CHAT, "Continue")
    await world.engine.handle(ButtonPressed(ADA, ADA_CHAT, payload, ref))
    assert world.telegram.texts(ADA_CHAT)[-1] == "We keep your answers for 90 days. OK?"


async def test_no_reminder_after_withdrawal_or_completion() -> None:
    world = world_with_reminders()
    iid = await started(world)
    await press(world, "I agree")
    await press(world, "Skip practice")
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "An answer"))
    world.clock.advance(hours=30)
    sent = len(world.telegram.sent)
    await fire(world, iid, TimerKind.IDLE)
    assert "you stopped part-way" in world.telegram.texts(ADA_CHAT)[-1]
    assert "1 of 2 questions left" not in world.telegram.texts(ADA_CHAT)[-1]  # not kept yet
    assert len(world.telegram.sent) == sent + 1
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "/withdraw"))  # text, not a command
    from core.commands import UserCommand

    await world.engine.handle(UserCommand(ADA, ADA_CHAT, Verb.WITHDRAW))
    await press(world, "Yes, withdraw")
    assert world.store.interviews[iid].state is State.WITHDRAWN
    sent = len(world.telegram.sent)
    world.clock.advance(days=10)
    for kind in TimerKind:
        await fire(world, iid, kind)
    assert len(world.telegram.sent) == sent


async def test_expiry_tells_candidate_and_reviewers_and_extension_reopens() -> None:
    world = world_with_reminders()
    iid = await started(world)
    await press(world, "I agree")
    world.clock.advance(days=7)
    await fire(world, iid, TimerKind.EXPIRE)
    assert world.store.interviews[iid].state is State.EXPIRED
    assert "deadline for your interview has passed" in world.telegram.texts(ADA_CHAT)[-1]
    from core.refs import ChatRef, UserRef

    channel = ChatRef("slack", "CREV")
    notice = world.slack.texts(channel)[-1]
    assert notice == "Candidate #1's interview for QA Engineer expired with 0 of 2 answers."
    payload, ref = world.slack.button(channel, "Extend 48 h")
    reply = await world.engine.handle(ButtonPressed(UserRef("slack", "U9"), channel, payload,
                                                    ref))
    assert reply == "Extended by 48 h."
    interview = world.store.interviews[iid]
    assert interview.state is State.CONSENTED
    assert interview.deadline == world.clock.now() + timedelta(hours=48)
    assert "New deadline" in world.telegram.texts(ADA_CHAT)[-1]
    assert timers(world, iid)[TimerKind.EXPIRE, 0].at == interview.deadline
    # the candidate cannot press the reviewers' button
    assert await world.engine.handle(ButtonPressed(ADA, ADA_CHAT, payload, ref)) == (
        "Only the reviewers of this interview can do that.")


async def test_reviewer_digest_groups_interviews() -> None:
    world = world_with_reminders()
    ids = []
    from core.refs import ChatRef, UserRef

    for n in range(3):
        user, chat = UserRef("telegram", f"{n}"), ChatRef("telegram", f"{n}")
        interview, token = world.engine.invite(CreateInvitation("qa", f"C{n}", "telegram", "UTC"))
        ids.append(interview.id)
        await world.engine.handle(InviteAccepted(user, chat, token))
        for label in ("I agree", "Skip practice"):
            payload, ref = world.telegram.button(chat, label)
            await world.engine.handle(ButtonPressed(user, chat, payload, ref))
        await world.engine.handle(TextReceived(user, chat, "text answer"))
        payload, ref = world.telegram.button(chat, "Submit")
        await world.engine.handle(ButtonPressed(user, chat, payload, ref))
        world.telegram.files[f"v{n}"] = b"speech:4"
        from core.commands import MediaReceived
        from core.refs import MediaRef

        await world.engine.handle(MediaReceived(user, chat, MediaRef(
            "telegram", f"v{n}", "voice", "audio/ogg", 10, 4.0)))
        payload, ref = world.telegram.button(chat, "Submit")
        await world.engine.handle(ButtonPressed(user, chat, payload, ref))
        assert world.store.interviews[interview.id].state is State.COMPLETED
    channel = ChatRef("slack", "CREV")
    before = len(world.slack.texts(channel))
    world.clock.advance(hours=49)
    for iid in ids:
        await fire(world, iid, TimerKind.REVIEW)
    digests = world.slack.texts(channel)[before:]
    assert len(digests) == 1
    assert digests[0].startswith("3 interviews for QA Engineer wait for your review:")
    assert "Candidate #2: completed 2 days ago, 2 answers unrated" in digests[0]
