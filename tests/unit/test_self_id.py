"""Voluntary self-identification and the notice before consent, through the engine on fakes."""

from __future__ import annotations

from core import payloads as pl
from core import self_id
from core.capabilities import with_commands
from core.commands import (
    ButtonPressed,
    CreateInvitation,
    InviteAccepted,
    MediaReceived,
    TextReceived,
    UserCommand,
)
from core.notice import notice_sha256
from core.refs import ChatRef, MediaRef, MessageRef, UserRef
from core.results import scorecard
from core.script import Script
from core.script_fairness import PREFER_NOT
from core.states import State
from core.vocabulary import Verb
from tests.support.core_fakes import World, make_world
from tests.support.scripts import small_script

ADA = UserRef("telegram", "42")
ADA_CHAT = ChatRef("telegram", "42")
EVE = UserRef("telegram", "66")
SELF_ID = {"sex": ["Female", "Male", "Another"], "race_ethnicity": ["Asian", "Black", "White"]}
NOTICE = ("We assess three answers. Only the hiring team hears them; we keep them for 90 days. "
          "People make every decision; nothing is scored by a machine. Ask for an adjustment "
          "with /adjust.")


def fair_script(**overrides: object) -> Script:
    return small_script(**{"self_id": SELF_ID, "notice": NOTICE, **overrides})


async def press(world: World, label: str, user: UserRef = ADA) -> str | None:
    payload, ref = world.telegram.button(ADA_CHAT, label)
    return await world.engine.handle(ButtonPressed(user, ADA_CHAT, payload, ref))


async def complete(world: World, rating: str = "4") -> str:
    interview, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    await world.engine.handle(InviteAccepted(ADA, ADA_CHAT, token))
    await press(world, "I agree")
    await press(world, "Skip practice")
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "An off-by-one in the pager."))
    await press(world, "Submit")
    world.telegram.files["f1"] = b"speech:12"
    await world.engine.handle(MediaReceived(
        ADA, ADA_CHAT, MediaRef("telegram", "f1", "voice", "audio/ogg", 100, 12.0)))
    await press(world, "Submit")
    await press(world, "Done")
    await press(world, rating)
    assert world.store.interviews[interview.id].state is State.COMPLETED
    return interview.id


async def test_the_survey_follows_the_last_step_one_question_at_a_time() -> None:
    world = make_world(fair_script())
    iid = await complete(world)
    texts = world.telegram.texts(ADA_CHAT)
    assert texts[-2] == with_commands(self_id.INTRO, "telegram")
    assert "/delete erases them" in texts[-2]
    assert texts[-1] == "Sex (1 of 2): which describes you? (optional)"
    labels = [b.label for b in world.telegram.last(ADA_CHAT).message.all_buttons()]
    assert labels == ["Female", "Male", "Another", PREFER_NOT, "Skip the survey"]
    assert world.store.self_id == {}
    assert await press(world, "Female") == "Thank you."
    assert world.store.self_id == {iid: {"sex": "Female"}}
    assert world.telegram.texts(ADA_CHAT)[-1].startswith("Race / ethnicity (2 of 2)")
    assert await press(world, PREFER_NOT) == "Thank you."
    assert world.store.self_id == {iid: {"sex": "Female", "race_ethnicity": PREFER_NOT}}
    assert world.telegram.texts(ADA_CHAT)[-1] == self_id.THANKS
    # the pressed messages now say what was chosen, without buttons
    edited = [m.text for _, m in world.telegram.edits][-2:]
    assert edited == ["Sex: Female", f"Race / ethnicity: {PREFER_NOT}"]


async def test_the_survey_can_be_skipped_and_a_second_press_changes_nothing() -> None:
    world = make_world(fair_script())
    iid = await complete(world)
    payload, ref = world.telegram.button(ADA_CHAT, "Male")
    assert await world.engine.handle(ButtonPressed(ADA, ADA_CHAT, payload, ref)) == "Thank you."
    sent = len(world.telegram.sent)
    # the same answer pressed again (a double tap, a redelivery): no second question is sent
    assert await world.engine.handle(ButtonPressed(ADA, ADA_CHAT, payload, ref)) == \
        "Already answered."
    assert len(world.telegram.sent) == sent
    assert await press(world, "Skip the survey") == "Skipped."
    assert world.store.self_id == {iid: {"sex": "Male"}}
    assert len(world.telegram.sent) == sent  # nothing more is asked
    assert world.telegram.edits[-1][1].text == self_id.SKIPPED


async def test_no_survey_without_a_self_id_block_and_a_forged_answer_is_refused() -> None:
    world = make_world(small_script())
    iid = await complete(world)
    assert self_id.INTRO not in world.telegram.texts(ADA_CHAT)
    before = list(world.telegram.sent)
    forged = pl.make(pl.SELF_ID, iid, 0, 0)
    reply = await world.engine.handle(ButtonPressed(ADA, ADA_CHAT, forged,
                                                    MessageRef(ADA_CHAT, "1")))
    assert reply == self_id.NO_SURVEY
    assert world.store.self_id == {} and world.telegram.sent == before


async def test_foreign_stale_and_malformed_survey_presses_change_nothing() -> None:
    world = make_world(fair_script())
    iid = await complete(world)
    ref = MessageRef(ADA_CHAT, "1")
    cases = [
        (EVE, pl.make(pl.SELF_ID, iid, 0, 0), "This button isn't for you."),
        (ADA, pl.make(pl.SELF_ID, iid, 7, 0), "This button is no longer active."),
        (ADA, pl.make(pl.SELF_ID, iid, 0, 9), "This button is no longer active."),
        (ADA, pl.make(pl.SELF_ID, "nope", 0, 0), "This button is no longer active."),
    ]
    for user, payload, expected in cases:
        assert await world.engine.handle(ButtonPressed(user, ADA_CHAT, payload, ref)) == expected
    assert world.store.self_id == {}


async def test_reviewers_and_results_never_see_the_answers_and_erasure_deletes_them() -> None:
    world = make_world(fair_script())
    iid = await complete(world)
    await press(world, "Another")
    await press(world, "Black")
    reviewer_payloads = [str(s.message) for s in world.slack.sent] + [
        str(m) for _, m in world.slack.edits] + [
        str(s.message) for s in world.telegram.sent if s.chat != ADA_CHAT]
    assert reviewer_payloads
    for word in ("Another", "Black", "Sex", "ethnicity", "survey"):
        assert not any(word in p for p in reviewer_payloads), word
    interview = world.store.interviews[iid]
    row = scorecard(fair_script(), interview, [], []).flat()
    assert not any(v in ("Another", "Black") for v in row.values())
    assert world.store.self_id == {iid: {"sex": "Another", "race_ethnicity": "Black"}}
    await world.engine.handle(UserCommand(ADA, ADA_CHAT, Verb.DELETE))
    await press(world, "Yes, erase")
    assert world.store.self_id == {}


async def test_the_notice_is_shown_before_consent_and_its_hash_recorded() -> None:
    world = make_world(fair_script())
    interview, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    await world.engine.handle(InviteAccepted(ADA, ADA_CHAT, token))
    shown = world.telegram.texts(ADA_CHAT)[-1]
    assert shown == f"{NOTICE}\n\nWe keep your answers for 90 days. OK?"
    assert world.store.consents == {}
    world.clock.advance(minutes=3)
    await press(world, "I agree")
    record = world.store.consents[interview.id]
    assert record.notice_sha256 == notice_sha256(shown)
    assert record.accepted_at == world.clock.current
    assert [(a.action, a.detail) for a in world.store.audit] == [
        ("accepted notice", f"sha256 {notice_sha256(shown)}")]
    # the agreed message keeps the notice, so the candidate can read it again
    assert world.telegram.edits[-1][1].text == f"{shown}\n\nYou agreed."
    # a second press of I agree (a stale button) records nothing new
    await press(world, "I agree")
    assert len(world.store.audit) == 1


async def test_declining_records_no_consent() -> None:
    world = make_world(fair_script())
    _, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    await world.engine.handle(InviteAccepted(ADA, ADA_CHAT, token))
    await press(world, "No thanks")
    assert world.store.consents == {} and world.store.audit == []
