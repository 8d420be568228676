"""Adjustments on request, through the engine on fakes: ask, decide, apply, and refusals."""

from __future__ import annotations

from datetime import timedelta

from core import accommodations
from core import payloads as pl
from core.commands import (
    ButtonPressed,
    CreateInvitation,
    InviteAccepted,
    MediaReceived,
    TextReceived,
    UserCommand,
)
from core.fair_results import result_columns
from core.fairness import read_fairness
from core.fairness_records import RequestStatus
from core.messages import OutMessage
from core.model import Interview
from core.refs import ChatRef, MediaRef, MessageRef, UserRef
from core.script import Script
from core.states import State
from core.vocabulary import Verb
from tests.support.core_fakes import FakeUnitOfWork, FlakyMessenger, World, make_world
from tests.support.scripts import small_script

ADA = UserRef("telegram", "42")
ADA_CHAT = ChatRef("telegram", "42")
DECIDER = UserRef("slack", "UDEC")
DECIDER_CHAT = ChatRef("slack", "UDEC")
REVIEWER = UserRef("slack", "U1")
REVIEWS = ChatRef("slack", "CREV")
OFFER = {"offer": ["more_time", "longer_answers", "text_instead_of_voice"],
         "contact": "talent@acme.example", "deciders": ["slack:UDEC"]}
LEAKS = ("adjust", "more time", "text instead", "longer answers", "stammer", "accommodat")


def script(**overrides: object) -> Script:
    return small_script(**{"accommodations": OFFER, **overrides})


def newest_button(world: World, chat: ChatRef, label: str) -> tuple[str, MessageRef]:
    """The newest button so labelled in `chat`, in sent messages or in edits of them."""
    found: list[tuple[int, str, MessageRef]] = []
    for n, sent in enumerate(world.telegram.sent + world.slack.sent):
        for b in [b for m in (*sent.before, sent.message) for b in m.all_buttons()]:
            if sent.chat == chat and b.label.startswith(label):
                found.append((n, b.payload, sent.ref))
    for n, (ref, message) in enumerate(world.telegram.edits + world.slack.edits):
        for b in message.all_buttons():
            if ref.chat == chat and b.label.startswith(label):
                found.append((10_000 + n, b.payload, ref))
    assert found, f"no button {label!r} in {chat}"
    _, payload, ref = max(found, key=lambda f: f[0])
    return payload, ref


async def press(world: World, label: str, user: UserRef = ADA, chat: ChatRef = ADA_CHAT
                ) -> str | None:
    payload, ref = newest_button(world, chat, label)
    return await world.engine.handle(ButtonPressed(user, chat, payload, ref))


async def at_the_voice_question(world: World) -> str:
    interview, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    await world.engine.handle(InviteAccepted(ADA, ADA_CHAT, token))
    await press(world, "I agree")
    await press(world, "Skip practice")
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "A flaky test in the pager."))
    await press(world, "Submit")
    # the receipt now says what happened to the answer, with the next question below it
    assert "\n\nQuestion 2 of 2 · A voice note" in world.telegram.texts(ADA_CHAT)[-1]
    return interview.id


async def request(world: World, *labels: str, note: str | None = "I have a stammer.") -> None:
    await world.engine.handle(UserCommand(ADA, ADA_CHAT, Verb.ADJUST))
    for label in labels:
        assert await press(world, label) == "OK"
    assert await press(world, "Send request") == "Almost done."
    if note is None:
        assert await press(world, "Send without a note") == "Sent."
    else:
        await world.engine.handle(TextReceived(ADA, ADA_CHAT, note))


def requests(world: World) -> list[tuple[tuple[str, ...], str, RequestStatus]]:
    return [(r.adjustments, r.note, r.status) for r in world.store.requests.values()]


async def test_the_expectations_say_how_to_ask() -> None:
    world = make_world(script())
    _, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    await world.engine.handle(InviteAccepted(ADA, ADA_CHAT, token))
    expectations = next(s.message for s in world.telegram.sent
                        if s.message.text.startswith("What to expect"))
    assert "/adjust" in expectations.text and "talent@acme.example" in expectations.text
    assert [b.label for b in expectations.all_buttons()] == ["Ask for an adjustment"]
    # without an accommodations block the expectations are as before, without a button
    plain = make_world(small_script())
    _, token = plain.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    await plain.engine.handle(InviteAccepted(ADA, ADA_CHAT, token))
    assert not any("/adjust" in t for t in plain.telegram.texts(ADA_CHAT))


async def test_approved_more_time_and_text_instead_of_voice_apply_to_this_interview() -> None:
    world = make_world(script())
    iid = await at_the_voice_question(world)
    deadline = world.store.interviews[iid].deadline
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "Can I type this one instead?"))
    assert world.telegram.texts(ADA_CHAT)[-1].startswith("This question needs a voice note")
    await request(world, "More time", "Text instead of voice")
    assert requests(world) == [(("more_time", "text_instead_of_voice"), "I have a stammer.",
                                RequestStatus.PENDING)]
    assert world.telegram.texts(ADA_CHAT)[-1].startswith("Your request is with the hiring team")
    card = world.slack.last(DECIDER_CHAT).message
    assert card.text.startswith("Candidate #1 (QA Engineer) asks for adjustments: more time, "
                                "text instead of voice.\nNote: I have a stammer.")
    assert [b.label for b in card.all_buttons()] == ["Approve", "Decline"]
    # reviewers cannot answer it, even with the card's own payload
    payload, ref = newest_button(world, DECIDER_CHAT, "Approve")
    assert await world.engine.handle(ButtonPressed(REVIEWER, REVIEWS, payload, ref)) == \
        "Only the people who decide adjustments can answer this request."
    world.clock.advance(days=6, hours=23)  # the original deadline is an hour away
    assert await press(world, "Approve", DECIDER, DECIDER_CHAT) == \
        "Approved. The candidate has been told."
    told = world.telegram.texts(ADA_CHAT)[-2:]
    assert told[0].startswith("The hiring team approved your request: more time")
    assert told[1].startswith("Good news: you have more time.")
    interview = world.store.interviews[iid]
    assert interview.deadline == deadline + timedelta(days=7)  # the script's extra_time
    world.clock.advance(hours=2)  # past the original deadline, within the extended one
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "Because tests let me sleep at night."))
    assert world.telegram.texts(ADA_CHAT)[-1].startswith(
        "Got your written answer (1 message, 7 words) to Question 2")
    await press(world, "Submit")
    assert world.store.interviews[iid].state is State.COMPLETED
    # the report counts it; results show it only when asked; reviewers never see it
    with FakeUnitOfWork(world.store) as uow:
        report = read_fairness(script(), uow)
        assert (report.accommodation_requests, report.accommodations_approved) == (1, 1)
        assert "adjustments" not in result_columns(uow, iid, False)
        assert result_columns(uow, iid, True)["adjustments"] == \
            "more_time+text_instead_of_voice"
    seen_by_reviewers = [str(s.message) for s in world.slack.sent if s.chat != DECIDER_CHAT]
    seen_by_reviewers += [str(s.message) for s in world.telegram.sent if s.chat != ADA_CHAT]
    assert len(seen_by_reviewers) >= 3
    for leak in LEAKS:
        assert not any(leak in p.lower() for p in seen_by_reviewers), leak


async def test_longer_answers_multiply_the_voice_limit() -> None:
    world = make_world(script())
    await at_the_voice_question(world)
    world.telegram.files["long"] = b"speech:100"
    long_note = MediaRef("telegram", "long", "voice", "audio/ogg", 100, 100.0)
    await world.engine.handle(MediaReceived(ADA, ADA_CHAT, long_note))
    assert "longer than the 1 min limit" in world.telegram.texts(ADA_CHAT)[-1]
    await request(world, "Longer answers", note=None)
    await press(world, "Approve", DECIDER, DECIDER_CHAT)
    assert "2× the time" in world.telegram.texts(ADA_CHAT)[-1]
    await world.engine.handle(MediaReceived(ADA, ADA_CHAT, long_note))
    receipt = world.telegram.texts(ADA_CHAT)[-1]
    assert receipt.startswith("Got your voice answer")
    assert "(0:20 left)" in receipt  # of 2 min, not of the script's 1 min
    # a clip that would pass the doubled limit is measured against it too
    world.telegram.files["more"] = b"speech:30"
    await world.engine.handle(MediaReceived(
        ADA, ADA_CHAT, MediaRef("telegram", "more", "voice", "audio/ogg", 30, 30.0)))
    refused = world.telegram.texts(ADA_CHAT)[-1]
    assert "past the 2 min limit" in refused and "0:20 is left" in refused


async def test_declined_requests_change_nothing_but_tell_the_candidate() -> None:
    world = make_world(script())
    iid = await at_the_voice_question(world)
    deadline = world.store.interviews[iid].deadline
    await request(world, "Text instead of voice", note=None)
    assert world.slack.last(DECIDER_CHAT).message.text.endswith(
        "reviewers are not told.") and "Note: (none)" in world.slack.last(DECIDER_CHAT).message.text
    assert await press(world, "Decline", DECIDER, DECIDER_CHAT) == \
        "Declined. The candidate has been told."
    assert "talent@acme.example" in world.telegram.texts(ADA_CHAT)[-1]
    assert world.store.interviews[iid].deadline == deadline
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "Typed anyway."))
    assert world.telegram.texts(ADA_CHAT)[-1].startswith("This question needs a voice note")
    # the card's buttons are gone; pressing the old payload again changes nothing
    payload, ref = newest_button(world, DECIDER_CHAT, "Approve")
    assert await world.engine.handle(ButtonPressed(DECIDER, DECIDER_CHAT, payload, ref)) == \
        "This button is no longer active."
    assert requests(world) == [(("text_instead_of_voice",), "", RequestStatus.DECLINED)]


async def test_a_late_text_is_an_answer_and_the_request_goes_without_a_note() -> None:
    world = make_world(script(**{"questions": [
        {"id": "bug", "text": "Tell us about a bug you found."}]}))
    interview, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    await world.engine.handle(InviteAccepted(ADA, ADA_CHAT, token))
    await press(world, "I agree")
    await world.engine.handle(UserCommand(ADA, ADA_CHAT, Verb.ADJUST))
    await press(world, "More time")
    await press(world, "Send request")
    world.clock.advance(minutes=31)
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "A race in the cache."))
    assert requests(world) == [(("more_time",), "", RequestStatus.PENDING)]
    assert world.slack.last(DECIDER_CHAT).message.text.startswith("Candidate #1")
    assert world.telegram.texts(ADA_CHAT)[-1].startswith("Got your written answer")
    answer = world.store.interviews[interview.id].answer_for("bug")
    assert answer is not None and answer.takes[0].text == "A race in the cache."


async def test_a_second_request_while_one_is_pending_is_refused() -> None:
    world = make_world(script())
    await at_the_voice_question(world)
    await request(world, "More time")
    before = requests(world)
    sent = len(world.slack.sent)
    await world.engine.handle(UserCommand(ADA, ADA_CHAT, Verb.ADJUST))
    assert world.telegram.texts(ADA_CHAT)[-1].startswith("You already have a request with the "
                                                         "team")
    assert world.telegram.texts(ADA_CHAT)[-1].endswith("Nothing was changed.")
    # an old menu's Send button is refused the same way
    payload = pl.make(pl.ADJUST, next(iter(world.store.interviews)), accommodations.SEND, 1)
    reply = await world.engine.handle(ButtonPressed(ADA, ADA_CHAT, payload,
                                                    MessageRef(ADA_CHAT, "9")))
    assert reply is not None and reply.startswith("You already have a request")
    assert requests(world) == before and len(world.slack.sent) == sent


async def test_an_adjustment_not_offered_is_refused() -> None:
    world = make_world(script())
    iid = await at_the_voice_question(world)
    sent = len(world.telegram.sent) + len(world.slack.sent)
    other = 1 << 3  # "other" is not in this script's offer
    for payload in (pl.make(pl.ADJUST, iid, accommodations.SEND, other),
                    pl.make(pl.ADJUST, iid, accommodations.TOGGLE, other | 1),
                    pl.make(pl.ADJUST, iid, accommodations.SEND, 0),
                    pl.make(pl.ADJUST, iid, accommodations.SEND, 99)):
        reply = await world.engine.handle(ButtonPressed(ADA, ADA_CHAT, payload,
                                                        MessageRef(ADA_CHAT, "9")))
        assert reply == ("That adjustment is not offered for this interview. Nothing was "
                         "changed; please pick from the list."), payload
    assert world.store.requests == {}
    assert len(world.telegram.sent) + len(world.slack.sent) == sent


async def test_adjust_without_an_offer_or_an_interview() -> None:
    world = make_world(small_script())
    await at_the_voice_question(world)
    await world.engine.handle(UserCommand(ADA, ADA_CHAT, Verb.ADJUST))
    assert world.telegram.texts(ADA_CHAT)[-1] == accommodations.NOT_OFFERED
    assert world.store.requests == {}
    stranger = ChatRef("telegram", "77")
    await world.engine.handle(UserCommand(UserRef("telegram", "77"), stranger, Verb.ADJUST))
    assert "no interview" in world.telegram.texts(stranger)[-1].lower()


def test_menu_and_card_texts_fit_a_button_payload() -> None:
    message: OutMessage = accommodations._menu(script(), _interview(), 0b111)
    assert all(len(b.payload) <= 64 for b in message.all_buttons())


def _interview() -> Interview:
    world = make_world(script())
    interview, _ = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    return interview


async def test_a_card_the_deciders_did_not_get_is_sent_again_once() -> None:
    flaky = FlakyMessenger("slack")
    world = make_world(script(), slack=flaky)
    await at_the_voice_question(world)
    flaky.failures = 1
    await request(world, "More time")
    # the candidate is told, the request waits, the card is in the outbox
    assert world.telegram.texts(ADA_CHAT)[-1].startswith("Your request is with the hiring team")
    assert requests(world)[0][2] is RequestStatus.PENDING
    assert not flaky.texts(DECIDER_CHAT) and world.store.outbox
    world.clock.advance(seconds=31)
    assert await world.engine.resend_due() == 1
    cards = [t for t in flaky.texts(DECIDER_CHAT) if "asks for adjustments" in t]
    assert len(cards) == 1 and not world.store.outbox


async def test_approve_pressed_twice_applies_once() -> None:
    world = make_world(script())
    iid = await at_the_voice_question(world)
    deadline = world.store.interviews[iid].deadline
    await request(world, "More time")
    payload, ref = newest_button(world, DECIDER_CHAT, "Approve")
    first = await world.engine.handle(ButtonPressed(DECIDER, DECIDER_CHAT, payload, ref))
    second = await world.engine.handle(ButtonPressed(DECIDER, DECIDER_CHAT, payload, ref))
    assert (first, second) == ("Approved. The candidate has been told.",
                               "This button is no longer active.")
    assert world.store.interviews[iid].deadline == deadline + timedelta(days=7)
    told = [t for t in world.telegram.texts(ADA_CHAT) if t.startswith("The hiring team approved")]
    assert len(told) == 1


async def test_a_slack_user_group_of_deciders_answers_requests_from_the_review_chat() -> None:
    """Deciders listed as a Slack user group: the card goes to the review chat (a user group
    is not a chat to post to), and only the group's members may answer it there."""
    world = make_world(script(accommodations={**OFFER, "deciders": ["slack:S0LEADS"]}),
                       group_members=lambda group: frozenset(
                           {"slack:ULEAD"} if group == "slack:S0LEADS" else set()))
    await at_the_voice_question(world)
    await request(world, "More time", note=None)
    assert [s.chat for s in world.slack.sent if "asks for adjustments" in s.message.text] == [
        REVIEWS]
    assert await press(world, "Approve", REVIEWER, REVIEWS) == \
        "Only the people who decide adjustments can answer this request."
    assert requests(world)[0][2] is RequestStatus.PENDING
    assert await press(world, "Approve", UserRef("slack", "ULEAD"), REVIEWS) == \
        "Approved. The candidate has been told."
