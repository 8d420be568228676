"""Reviews on fakes: blind cards, independent ratings, locked decisions, follow-ups, replies."""

from __future__ import annotations

import copy

from core.commands import (
    ButtonPressed,
    CreateInvitation,
    InviteAccepted,
    MediaReceived,
    ReviewerText,
    TextReceived,
)
from core.refs import ChatRef, MediaRef, UserRef
from core.results import scorecard
from core.vocabulary import Verb
from tests.support.core_fakes import World, make_world
from tests.support.scripts import small_script

ADA = UserRef("telegram", "4242")
ADA_CHAT = ChatRef("telegram", "4242")
CHANNEL = ChatRef("slack", "CREV")
GROUP = ChatRef("telegram", "-100")
R1, R2 = UserRef("slack", "U1"), UserRef("slack", "U2")
STRANGER = UserRef("slack", "UX")


async def completed(world: World, name: str = "Ada Lovelace") -> str:
    interview, token = world.engine.invite(CreateInvitation("qa", name, "telegram", "UTC"))
    await world.engine.handle(InviteAccepted(ADA, ADA_CHAT, token))
    for label in ("I agree", "Skip practice"):
        payload, ref = world.telegram.button(ADA_CHAT, label)
        await world.engine.handle(ButtonPressed(ADA, ADA_CHAT, payload, ref))
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "I found a race in the cache."))
    payload, ref = world.telegram.button(ADA_CHAT, "Submit")
    await world.engine.handle(ButtonPressed(ADA, ADA_CHAT, payload, ref))
    world.telegram.files["v"] = b"speech:30"
    await world.engine.handle(MediaReceived(ADA, ADA_CHAT, MediaRef(
        "telegram", "v", "voice", "audio/ogg", 100, 30.0, transcript="because quality")))
    payload, ref = world.telegram.button(ADA_CHAT, "Submit")
    await world.engine.handle(ButtonPressed(ADA, ADA_CHAT, payload, ref))
    return interview.id


def card(world: World, question: str, chat: ChatRef = CHANNEL):  # type: ignore[no-untyped-def]
    messenger = world.slack if chat.platform == "slack" else world.telegram
    return next(s for s in messenger.sent if s.chat == chat and question in s.message.text)


async def rate(world: World, who: UserRef, question: str, row: int, score: int,
               chat: ChatRef = CHANNEL) -> str | None:
    sent = card(world, question, chat)
    button = sent.message.buttons[row][score - 1]
    return await world.engine.handle(ButtonPressed(who, chat, button.payload, sent.ref))


async def test_blind_cards_leak_no_identity() -> None:
    world = make_world(small_script())
    await completed(world)
    reviewer_payloads = [s.message for s in world.slack.sent] + [
        s.message for s in world.telegram.sent if s.chat == GROUP]
    assert len(reviewer_payloads) == 6
    for message in reviewer_payloads:
        blob = repr(message)
        assert "Ada" not in blob and "Lovelace" not in blob and "4242" not in blob
    summary = card(world, "completed QA Engineer").message
    assert summary.text.startswith("Candidate #1 completed QA Engineer")
    voice = card(world, "Why testing?").message
    assert voice.audio is not None and voice.audio.mime == "audio/ogg"
    assert "Transcript: because quality" in voice.text


async def test_named_cards_when_not_blind() -> None:
    world = make_world(small_script(review={"reviewers": ["slack:CREV"], "blind": False}))
    await completed(world)
    assert card(world, "completed QA Engineer").message.text.startswith(
        "Ada Lovelace (#1) completed")


async def test_independent_ratings_hide_scores_until_rated() -> None:
    world = make_world(small_script())
    iid = await completed(world)
    reply = await rate(world, R1, "Tell us about a bug", 0, 4)
    assert reply == "You rated Question 1 of 2 depth: 4. You are the first."
    edited = [m for ref, m in world.slack.edits if ref == card(world, "Tell us about a bug").ref]
    assert "1 reviewer rated this answer. Scores stay hidden" in edited[-1].text
    assert "4" not in edited[-1].text.split("\n")[-1]
    reply = await rate(world, R2, "Tell us about a bug", 0, 2)
    assert reply == "You rated Question 1 of 2 depth: 2. Others so far: depth 4.0 (1)."
    # a two-criterion answer: nothing is revealed until both are rated
    reply = await rate(world, R2, "Why testing?", 0, 5)
    assert reply == "You rated Question 2 of 2 depth: 5. Still to rate: clarity."
    # changing a rating is allowed and audited; R1 had not seen others before changing it
    await rate(world, R1, "Tell us about a bug", 0, 5)
    assert [(a.actor, a.action) for a in world.store.audit] == [
        (str(R2), "others revealed"), (str(R1), "rating changed"), (str(R1), "others revealed")]
    assert world.store.audit[1].detail == "bug/depth: 4 -> 5"
    assert sorted(r.score for r in world.store.ratings if r.question_id == "bug") == [2, 5]
    assert iid


async def test_shared_scores_when_not_independent() -> None:
    world = make_world(small_script(review={"reviewers": ["slack:CREV"], "independent": False}))
    await completed(world)
    await rate(world, R1, "Tell us about a bug", 0, 4)
    edited = [m for ref, m in world.slack.edits if ref == card(world, "Tell us about a bug").ref]
    assert "Scores: depth 4.0 (1)" in edited[-1].text


async def test_decision_unlocks_after_every_answer_is_rated() -> None:
    world = make_world(small_script())
    iid = await completed(world)
    summary = card(world, "completed QA Engineer")
    advance = summary.message.buttons[0][0].payload
    reply = await world.engine.handle(ButtonPressed(R1, CHANNEL, advance, summary.ref))
    assert reply == ("Rate every answer first: you have rated 0 of 2. Decisions unlock after "
                     "the last one.")
    await rate(world, R1, "Tell us about a bug", 0, 4)
    await rate(world, R1, "Why testing?", 0, 3)
    reply = await world.engine.handle(ButtonPressed(R1, CHANNEL, advance, summary.ref))
    assert reply == "Rate every answer first: you have rated 1 of 2. Decisions unlock after the " \
                    "last one."
    await rate(world, R1, "Why testing?", 1, 5)
    reply = await world.engine.handle(ButtonPressed(R1, CHANNEL, advance, summary.ref))
    assert reply == "Your decision: Advance."
    script = world.engine.s.script("qa")
    interview = world.store.interviews[iid]
    result = scorecard(script, interview, world.store.ratings, world.store.decisions)
    assert result.scores == {"bug.depth": (4, 1), "voice.depth": (3, 1), "voice.clarity": (5, 1)}
    assert result.overall == 4 and result.decision == "advance" and result.reviewers == 1


async def test_unauthorised_presses_are_refused_and_recorded_nowhere() -> None:
    world = make_world(small_script())
    await completed(world)
    outsider_chat = ChatRef("slack", "CRANDOM")
    sent = card(world, "Tell us about a bug")
    payload = sent.message.buttons[0][3].payload
    assert await world.engine.handle(ButtonPressed(STRANGER, outsider_chat, payload)) == (
        "Only the reviewers of this interview can do that.")
    # the candidate, even inside the review channel, cannot rate their own answers
    assert await world.engine.handle(ButtonPressed(ADA, CHANNEL, payload)) == (
        "Only the reviewers of this interview can do that.")
    tampered = payload.rsplit(":", 1)[0] + ":9"
    assert await world.engine.handle(ButtonPressed(R1, CHANNEL, tampered)) == (
        "This button is no longer active.")
    assert world.store.ratings == [] and world.store.audit == []


async def test_follow_up_round_trip_and_candidate_question_reply() -> None:
    world = make_world(small_script())
    iid = await completed(world)
    sent = card(world, "Tell us about a bug")
    ask = sent.message.buttons[-1][0]
    assert ask.label == "Ask a follow-up"
    assert await world.engine.handle(ButtonPressed(R1, CHANNEL, ask.payload, sent.ref)) == (
        "Write your follow-up question.")
    prompt = world.slack.last(CHANNEL).message
    assert prompt.ask_reply is not None
    await world.engine.handle(ReviewerText(R1, CHANNEL, prompt.ask_reply,
                                           "How did you reproduce it?"))
    assert "How did you reproduce it?" in world.telegram.texts(ADA_CHAT)[-1]
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "With a stress test."))
    posted = world.slack.texts(CHANNEL)[-1]
    assert posted.startswith("Candidate #1 answered the follow-up on Question 1 of 2")
    assert "A: With a stress test." in posted
    assert world.store.interviews[iid].follow_ups[0].reply is not None
    # the candidate's own question, and the team's reply
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "Is the role remote?"))
    question = world.slack.last(CHANNEL)
    assert question.message.text == 'Candidate #1 asks the team: "Is the role remote?"'
    reply_button = question.message.buttons[0][0]
    await world.engine.handle(ButtonPressed(R2, CHANNEL, reply_button.payload, question.ref))
    target = world.slack.last(CHANNEL).message.ask_reply
    assert target is not None
    await world.engine.handle(ReviewerText(R2, CHANNEL, target, "Yes, fully remote."))
    assert world.telegram.texts(ADA_CHAT)[-1].endswith("Yes, fully remote.")
    # a stranger's follow-up text is refused
    await world.engine.handle(ReviewerText(STRANGER, ChatRef("slack", "CX"), prompt.ask_reply,
                                           "sneaky"))
    assert len(world.store.interviews[iid].follow_ups) == 1


async def test_reel_of_every_voice_answer_is_posted_and_erased_with_the_interview() -> None:
    world = make_world(small_script())
    interview, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    await world.engine.handle(InviteAccepted(ADA, ADA_CHAT, token))
    for label in ("I agree", "Skip practice"):
        payload, ref = world.telegram.button(ADA_CHAT, label)
        await world.engine.handle(ButtonPressed(ADA, ADA_CHAT, payload, ref))
    for n in range(2):
        world.telegram.files[f"v{n}"] = b"speech:20"
        await world.engine.handle(MediaReceived(ADA, ADA_CHAT, MediaRef(
            "telegram", f"v{n}", "voice", "audio/ogg", 100, 20.0)))
        payload, ref = world.telegram.button(ADA_CHAT, "Submit")
        await world.engine.handle(ButtonPressed(ADA, ADA_CHAT, payload, ref))
    reel = world.slack.last(CHANNEL).message
    assert reel.text == ("Candidate #1: every voice answer in one recording (0:22).\n"
                         "0:00 Question 1 of 2\n0:11 Question 2 of 2")
    assert reel.audio is not None and reel.audio.title == "Interview reel"
    assert f"{interview.id}/reel" in world.audio.stored
    from core.commands import UserCommand

    await world.engine.handle(UserCommand(ADA, ADA_CHAT, Verb.DELETE))
    payload, ref = world.telegram.button(ADA_CHAT, "Yes, erase")
    await world.engine.handle(ButtonPressed(ADA, ADA_CHAT, payload, ref))
    assert world.audio.stored == {}


async def open_follow_up_box(world: World) -> str:
    """R1 presses "Follow up" on the first card; the reply box's target."""
    sent = card(world, "Tell us about a bug")
    await world.engine.handle(ButtonPressed(R1, CHANNEL, sent.message.buttons[-1][0].payload,
                                            sent.ref))
    target = world.slack.last(CHANNEL).message.ask_reply
    assert target is not None
    return target


async def test_reviewer_text_is_cleaned_like_a_candidates() -> None:
    """Control characters (NUL included: PostgreSQL cannot store it) are dropped from
    follow-ups and replies; line breaks and tabs stay."""
    world = make_world(small_script())
    iid = await completed(world)
    target = await open_follow_up_box(world)
    await world.engine.handle(ReviewerText(R1, CHANNEL, target,
                                           "  How\x00 did you\x1b[0m\treproduce it?\x07\n\x7f"))
    (follow_up,) = world.store.interviews[iid].follow_ups
    assert follow_up.text == "How did you[0m\treproduce it?"
    assert '"How did you[0m\treproduce it?"' in world.telegram.texts(ADA_CHAT)[-1]
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "With a stress test."))
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "Is the role remote?"))
    question = world.slack.last(CHANNEL)
    await world.engine.handle(ButtonPressed(R2, CHANNEL, question.message.buttons[0][0].payload,
                                            question.ref))
    reply_target = world.slack.last(CHANNEL).message.ask_reply
    assert reply_target is not None
    await world.engine.handle(ReviewerText(R2, CHANNEL, reply_target,
                                           "Yes,\x00 fully\u0085 remote."))
    (asked,) = world.store.interviews[iid].candidate_questions
    assert asked.reply == "Yes, fully remote."
    assert world.telegram.texts(ADA_CHAT)[-1].endswith("\n\nYes, fully remote.")


async def test_reviewer_text_without_words_is_refused_and_changes_nothing() -> None:
    world = make_world(small_script())
    iid = await completed(world)
    target = await open_follow_up_box(world)
    to_candidate = len(world.telegram.texts(ADA_CHAT))
    before = copy.deepcopy(world.store)
    cases = {
        "\x00\x01\x07\x1b\x7f\x9b": "That follow-up question is empty. Please write your "
                                    "follow-up question.",
        " \u200b\n\t ": "That follow-up question is empty. Please write your follow-up question.",
        "?! 👍": "That follow-up question has no words in it. Please write your follow-up "
                "question in words.",
    }
    for n, (text, refusal) in enumerate(cases.items()):
        await world.engine.handle(ReviewerText(R1, CHANNEL, target, text, f"slack:view:{n}"))
        answer = world.slack.last(CHANNEL).message
        # a clear reply, with a new reply box for the same follow-up
        assert answer.text == refusal + " Nothing was sent to the candidate."
        assert answer.ask_reply == target
    assert len(world.telegram.texts(ADA_CHAT)) == to_candidate
    assert world.store.interviews == before.interviews and world.store.audit == before.audit
    # a reply to a candidate's question: the same rule, its own wording
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "Is the role remote?"))
    question = world.slack.last(CHANNEL)
    await world.engine.handle(ButtonPressed(R2, CHANNEL, question.message.buttons[0][0].payload,
                                            question.ref))
    reply_target = world.slack.last(CHANNEL).message.ask_reply
    assert reply_target is not None
    await world.engine.handle(ReviewerText(R2, CHANNEL, reply_target, "\x00\x00"))
    assert world.slack.last(CHANNEL).message.text == (
        "That reply is empty. Please write your reply. Nothing was sent to the candidate.")
    (asked,) = world.store.interviews[iid].candidate_questions
    assert asked.reply is None and asked.replied_by is None
