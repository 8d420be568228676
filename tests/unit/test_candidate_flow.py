"""The candidate's path through the engine, on in-memory fakes."""

from __future__ import annotations

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
from core.states import State
from core.vocabulary import Verb
from tests.support.core_fakes import World, make_world
from tests.support.scripts import small_script

ADA = UserRef("telegram", "42")
ADA_CHAT = ChatRef("telegram", "42")
EVE = UserRef("telegram", "66")
EVE_CHAT = ChatRef("telegram", "66")


async def invite_and_accept(world: World) -> str:
    interview, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram",
                                                            "Europe/Lisbon"))
    await world.engine.handle(InviteAccepted(ADA, ADA_CHAT, token))
    return interview.id


async def press(world: World, label: str, user: UserRef = ADA, chat: ChatRef = ADA_CHAT
                ) -> str | None:
    payload, ref = world.telegram.button(ADA_CHAT, label)
    return await world.engine.handle(ButtonPressed(user, chat, payload, ref))


def voice(seconds: float, file_id: str = "f1") -> MediaRef:
    return MediaRef("telegram", file_id, "voice", "audio/ogg", size=100, duration=seconds)


def interview_of(world: World, interview_id: str):  # type: ignore[no-untyped-def]
    return world.store.interviews[interview_id]


async def test_greeting_expectations_and_consent() -> None:
    world = make_world(small_script())
    iid = await invite_and_accept(world)
    texts = world.telegram.texts(ADA_CHAT)
    assert texts[0].startswith("Hi Ada! 2 questions")
    assert "(Europe/Lisbon)" in texts[1] and "plus 1 optional practice question" in texts[1]
    assert texts[2] == "We keep your answers for 90 days. OK?"
    assert interview_of(world, iid).state is State.INVITED
    assert await press(world, "I agree") == "Thank you!"
    assert interview_of(world, iid).state is State.CONSENTED
    assert world.telegram.texts(ADA_CHAT)[-1].startswith("Practice question (not reviewed)")


async def test_full_interview_with_redo_then_review_cards() -> None:
    world = make_world(small_script())
    iid = await invite_and_accept(world)
    await press(world, "I agree")
    await press(world, "Skip practice")
    assert world.telegram.texts(ADA_CHAT)[-1].startswith(
        "Practice question skipped.\n\nQuestion 1 of 2")
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "First try", "u1"))
    assert "Start over (1 left)" in [b.label for b in
                                   world.telegram.last(ADA_CHAT).message.all_buttons()]
    await press(world, "Start over")
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "Second, better try", "u2"))
    labels = [b.label for b in world.telegram.last(ADA_CHAT).message.all_buttons()]
    assert labels == ["Submit"]
    await press(world, "Submit")
    assert "\n\nQuestion 2 of 2" in world.telegram.texts(ADA_CHAT)[-1]
    world.telegram.files["f1"] = b"speech:12"
    await world.engine.handle(MediaReceived(ADA, ADA_CHAT, voice(12), "u3"))
    await press(world, "Submit")
    interview = interview_of(world, iid)
    assert interview.state is State.COMPLETED
    bug = interview.answer_for("bug")
    assert bug is not None and bug.kept is not None and bug.kept.text == "Second, better try"
    assert len(bug.takes) == 2
    # review cards reach both destinations, blind
    slack_texts = world.slack.texts(ChatRef("slack", "CREV"))
    assert slack_texts[0].startswith("Candidate #1 completed QA Engineer")
    assert len(slack_texts) == 3  # summary + 2 answers
    assert all("Ada" not in t for t in slack_texts)
    assert len(world.telegram.texts(ChatRef("telegram", "-100"))) == 3
    # wrap-up: a question for the team, then the experience rating
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "What is the team size?", "u4"))
    assert any("What is the team size?" in t for t in world.slack.texts(ChatRef("slack", "CREV")))
    await press(world, "Done")
    await press(world, "4")
    assert interview_of(world, iid).experience_rating == 4


async def test_bad_inputs_change_nothing() -> None:
    world = make_world(small_script())
    iid = await invite_and_accept(world)
    await press(world, "I agree")
    await press(world, "Skip practice")
    await press(world, "Skip practice")  # stale
    before = world.store.interviews[iid].answers[:]
    await world.engine.handle(UnsupportedReceived(ADA, ADA_CHAT, "sticker"))
    assert "can't use a sticker" in world.telegram.texts(ADA_CHAT)[-1]
    world.telegram.files["bad"] = b"garbage"
    await world.engine.handle(MediaReceived(ADA, ADA_CHAT, voice(5, "bad")))
    assert "damaged" in world.telegram.texts(ADA_CHAT)[-1]
    world.telegram.files["quiet"] = b"silence"
    await world.engine.handle(MediaReceived(ADA, ADA_CHAT, voice(5, "quiet")))
    assert "could not hear anything" in world.telegram.texts(ADA_CHAT)[-1]
    await world.engine.handle(MediaReceived(ADA, ADA_CHAT, voice(500, "long")))
    assert "longer than the 1 min limit" in world.telegram.texts(ADA_CHAT)[-1]
    big = MediaRef("telegram", "big", "voice", "audio/ogg", size=25 * 1024 * 1024, duration=5)
    await world.engine.handle(MediaReceived(ADA, ADA_CHAT, big))
    assert "too large" in world.telegram.texts(ADA_CHAT)[-1]
    assert world.store.interviews[iid].answers == before
    assert world.audio.stored == {}


async def test_foreign_and_tampered_buttons_are_refused() -> None:
    world = make_world(small_script())
    iid = await invite_and_accept(world)
    payload, ref = world.telegram.button(ADA_CHAT, "I agree")
    reply = await world.engine.handle(ButtonPressed(EVE, EVE_CHAT, payload, ref))
    assert reply == "This button isn't for you."
    assert interview_of(world, iid).state is State.INVITED
    assert await world.engine.handle(ButtonPressed(ADA, ADA_CHAT, "cs:nope:y")) == (
        "This button is no longer active.")
    assert await world.engine.handle(ButtonPressed(ADA, ADA_CHAT, "../../etc")) == (
        "This button is no longer active.")


async def test_tokens_unknown_used_expired() -> None:
    world = make_world(small_script())
    await world.engine.handle(InviteAccepted(ADA, ADA_CHAT, "not-a-token"))
    assert "isn't valid" in world.telegram.texts(ADA_CHAT)[-1]
    _, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    await world.engine.handle(InviteAccepted(ADA, ADA_CHAT, token))
    await world.engine.handle(InviteAccepted(EVE, EVE_CHAT, token))
    assert "already been used" in world.telegram.texts(EVE_CHAT)[-1]
    _, late = world.engine.invite(CreateInvitation("qa", "Bob", "telegram", "UTC"))
    world.clock.advance(days=8)
    await world.engine.handle(InviteAccepted(EVE, EVE_CHAT, late))
    assert "expired" in world.telegram.texts(EVE_CHAT)[-1]


async def test_duplicate_delivery_records_once() -> None:
    world = make_world(small_script())
    iid = await invite_and_accept(world)
    await press(world, "I agree")
    await press(world, "Skip practice")
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "An answer", "update-7"))
    sent = len(world.telegram.sent)
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "An answer", "update-7"))
    assert len(world.telegram.sent) == sent
    answer = interview_of(world, iid).answer_for("bug")
    assert answer is not None and len(answer.takes) == 1


async def test_deadline_expires_and_status() -> None:
    world = make_world(small_script())
    iid = await invite_and_accept(world)
    await press(world, "I agree")
    await world.engine.handle(UserCommand(ADA, ADA_CHAT, Verb.STATUS))
    assert "0 of 2 questions answered" in world.telegram.texts(ADA_CHAT)[-1]
    world.clock.advance(days=7, minutes=1)
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "late answer"))
    assert "deadline for this interview passed" in world.telegram.texts(ADA_CHAT)[-1]
    assert interview_of(world, iid).state is State.EXPIRED


async def test_unknown_person_gets_an_explanation() -> None:
    world = make_world(small_script())
    await world.engine.handle(TextReceived(EVE, EVE_CHAT, "hello?"))
    assert "I have no interview waiting for you" in world.telegram.texts(EVE_CHAT)[-1]


async def test_withdraw_and_erase() -> None:
    world = make_world(small_script())
    iid = await invite_and_accept(world)
    await press(world, "I agree")
    await press(world, "Skip practice")
    world.telegram.files["f1"] = b"speech:5"
    await world.engine.handle(UserCommand(ADA, ADA_CHAT, Verb.WITHDRAW))
    await press(world, "Cancel")
    assert interview_of(world, iid).state is State.IN_PROGRESS  # skipping practice started it
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "my answer"))
    await press(world, "Submit")
    await world.engine.handle(MediaReceived(ADA, ADA_CHAT, voice(5)))
    assert world.audio.stored
    await world.engine.handle(UserCommand(ADA, ADA_CHAT, Verb.DELETE))
    await press(world, "Yes, erase")
    erased = interview_of(world, iid)
    assert erased.state is State.ERASED
    assert erased.answers == [] and erased.candidate_name == "" and erased.candidate is None
    assert world.audio.stored == {}
    assert [a.action for a in world.store.audit] == ["erased"]


async def test_telegram_candidate_without_zone_is_asked_for_one() -> None:
    world = make_world(small_script())
    interview, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram"))
    await world.engine.handle(InviteAccepted(ADA, ADA_CHAT, token))
    assert world.telegram.texts(ADA_CHAT)[-1].startswith("Which time zone are you in?")
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "Atlantis"))
    assert world.telegram.texts(ADA_CHAT)[-1].startswith("I don't know that time zone")
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "lisbon"))
    assert "(Europe/Lisbon)" in world.telegram.texts(ADA_CHAT)[-2]
    assert world.store.interviews[interview.id].tz == "Europe/Lisbon"
    await press(world, "I agree")
    assert world.store.interviews[interview.id].state is State.CONSENTED


async def test_zone_buttons() -> None:
    world = make_world(small_script())
    interview, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram"))
    await world.engine.handle(InviteAccepted(ADA, ADA_CHAT, token))
    assert await press(world, "Tokyo") == "Time zone: Asia/Tokyo."
    assert world.store.interviews[interview.id].tz == "Asia/Tokyo"
    assert "(Asia/Tokyo)" in world.telegram.texts(ADA_CHAT)[-2]
    assert await press(world, "Tokyo") == "This button is no longer active."


class WordsTranscriber:
    """Transcriber double: knows one clip, fails on another."""

    async def transcribe(self, key: str) -> str | None:
        if key.endswith("boom"):
            raise RuntimeError("engine crashed")
        return "hello world"


async def test_offline_transcript_is_attached_later_and_never_fails_the_answer() -> None:
    world = make_world(small_script(), transcriber=WordsTranscriber())
    iid = await invite_and_accept(world)
    await press(world, "I agree")
    await press(world, "Skip practice")
    world.telegram.files["f1"] = b"speech:5"
    await world.engine.handle(MediaReceived(ADA, ADA_CHAT, voice(5)))
    await world.engine.idle()
    answer = interview_of(world, iid).answer_for("bug")
    assert answer is not None and answer.takes[0].transcript == "hello world"
    assert world.telegram.texts(ADA_CHAT)[-1].startswith("Got your voice answer")


async def test_a_burst_of_wrong_tokens_is_throttled() -> None:
    world = make_world(small_script())
    _, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    for n in range(5):
        await world.engine.handle(InviteAccepted(EVE, EVE_CHAT, f"guess{n}"))
        assert "isn't valid" in world.telegram.texts(EVE_CHAT)[-1]
    await world.engine.handle(InviteAccepted(EVE, EVE_CHAT, token))  # even a right one waits
    assert world.telegram.texts(EVE_CHAT)[-1] == "Too many invalid invitation links in a row. " \
                                                 "Please wait a few minutes."
    assert all(i.candidate is None for i in world.store.interviews.values())
    await world.engine.handle(InviteAccepted(ADA, ADA_CHAT, token))  # another chat is not held
    assert world.telegram.texts(ADA_CHAT)[-1] == "We keep your answers for 90 days. OK?"
    world.clock.advance(minutes=11)
    await world.engine.handle(InviteAccepted(EVE, EVE_CHAT, "guess-again"))
    assert "isn't valid" in world.telegram.texts(EVE_CHAT)[-1]
