"""Drafts, choice questions and knock-outs through the engine, on in-memory fakes."""

from __future__ import annotations

from typing import Any

from core.commands import ButtonPressed, MediaReceived, TextReceived
from core.states import State
from tests.support.core_fakes import World, make_world
from tests.support.scripts import script_data
from tests.unit.test_candidate_flow import ADA, ADA_CHAT, invite_and_accept, press, voice

REVIEW_CHANNEL = "CREV"


def choice_world(**overrides: Any) -> World:
    from core.script import parse_script

    data = script_data(**overrides)
    data["questions"] = [
        {"id": "onsite", "text": "Can you work from Berlin two days a week?",
         "answer": {"kinds": ["choice"], "options": ["Yes", "No", "Let's discuss"]},
         "knockout": ["No"]},
        {"id": "stack", "text": "Which have you run in production?",
         "answer": {"kinds": ["choice"], "options": ["PostgreSQL", "Kafka", "Kubernetes"],
                    "multiple": True}},
        {"id": "bug", "text": "Tell us about a bug you found.", "rubric": ["depth"]},
    ]
    return make_world(parse_script(data))


async def test_a_text_answer_in_three_messages_is_one_answer() -> None:
    world = make_world(parse(retakes=0))
    iid = await invite_and_accept(world)
    await press(world, "I agree")
    await press(world, "Skip practice")
    for n, part in enumerate(["We escalate when", "the error budget is spent,", "not before."]):
        await world.engine.handle(TextReceived(ADA, ADA_CHAT, part, f"t{n}"))
    receipt = world.telegram.last(ADA_CHAT).message
    assert receipt.text.startswith(
        "Got your written answer (3 messages, 10 words) to Question 1 of 2. To add more, just "
        "keep typing.")
    assert [b.label for b in receipt.all_buttons()] == ["Submit"]  # retakes: 0, no Start over
    assert await press(world, "Submit") == "Submitted."
    answer = world.store.interviews[iid].answer_for("bug")
    assert answer is not None and answer.kept is not None
    assert answer.kept.text == "We escalate when\nthe error budget is spent,\nnot before."
    assert len(answer.takes) == 1


def parse(**answer: Any) -> Any:
    from core.script import parse_script

    rules = {"kinds": ["voice", "text"], "max_seconds": 60, "retakes": 1, **answer}
    return parse_script(script_data(answer=rules))


async def test_voice_clips_join_and_the_limit_applies_to_the_total() -> None:
    world = make_world(parse())
    iid = await invite_and_accept(world)
    await press(world, "I agree")
    await press(world, "Skip practice")
    world.telegram.files.update({"f1": b"speech:30", "f2": b"speech:25", "f3": b"speech:20"})
    await world.engine.handle(MediaReceived(ADA, ADA_CHAT, voice(30, "f1"), "m1"))
    await world.engine.handle(MediaReceived(ADA, ADA_CHAT, voice(25, "f2"), "m2"))
    assert world.telegram.texts(ADA_CHAT)[-1].startswith(
        "Got your voice answer (2 clips, 0:55) to Question 1 of 2.")
    # a third clip would make 75 s of a 60 s limit: refused, the draft unchanged
    before = world.store.interviews[iid].answer_for("bug").takes[0].media_key  # type: ignore[union-attr]
    await world.engine.handle(MediaReceived(ADA, ADA_CHAT, voice(20, "f3"), "m3"))
    assert world.telegram.texts(ADA_CHAT)[-1].startswith(
        "That clip (0:20) would take your answer past the 1 min limit: your answer already "
        "holds 0:55, so 0:05 is left. The clip was not added")
    take = world.store.interviews[iid].answer_for("bug").takes[0]  # type: ignore[union-attr]
    assert (take.media_key, take.duration, take.pieces) == (before, 55.0, 2)
    assert await press(world, "Submit") == "Submitted."


async def test_submit_on_an_empty_draft_after_start_over() -> None:
    world = make_world(parse())
    iid = await invite_and_accept(world)
    await press(world, "I agree")
    await press(world, "Skip practice")
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "A first try at it", "t1"))
    payload, ref = world.telegram.button(ADA_CHAT, "Submit")
    assert await press(world, "Start over") == "OK, send your new answer."
    reply = await world.engine.handle(ButtonPressed(ADA, ADA_CHAT, payload, ref))
    assert reply == ("Nothing to submit: your answer to Question 1 of 2 is empty. Send your "
                     "answer first.")
    interview = world.store.interviews[iid]
    assert interview.answer_for("bug").kept is None  # type: ignore[union-attr]
    assert interview.awaiting_redo


async def test_knockout_ends_the_interview_without_review() -> None:
    world = choice_world(knockout_message="Thank you, {name}. This role needs Berlin.")
    iid = await invite_and_accept(world)
    await press(world, "I agree")
    assert await press(world, "No") == "You chose No."
    interview = world.store.interviews[iid]
    assert interview.state is State.SCREENED_OUT
    assert world.telegram.texts(ADA_CHAT)[-1] == "Thank you, Ada. This role needs Berlin."
    assert world.slack.sent == []  # nothing to reviewers


async def test_multiple_choice_in_option_order_typed_text_and_stale_options() -> None:
    world = choice_world()
    iid = await invite_and_accept(world)
    await press(world, "I agree")
    onsite = world.telegram.button(ADA_CHAT, "Yes")
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "  let's DISCUSS ", "t1"))
    answer = world.store.interviews[iid].answer_for("onsite")
    assert answer is not None and answer.kept is not None and answer.kept.text == "Let's discuss"
    # an option of the earlier question: refused, nothing changed
    reply = await world.engine.handle(ButtonPressed(ADA, ADA_CHAT, *onsite))
    assert reply is not None and reply.startswith("That question is already answered")
    assert world.store.interviews[iid].answer_for("onsite").kept.text == "Let's discuss"  # type: ignore[union-attr]
    assert await press(world, "Done") == (
        "Nothing is chosen yet: tap at least one option, then Done.")
    await press(world, "Kubernetes")
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "postgresql", "t2"))
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "Redis", "t3"))
    assert world.telegram.texts(ADA_CHAT)[-1].startswith("Please choose one of the options")
    assert await press(world, "Done") == "Saved."
    stack = world.store.interviews[iid].answer_for("stack")
    assert stack is not None and stack.kept is not None
    assert stack.kept.choices == ("PostgreSQL", "Kubernetes")
    # Done edits the question's message into the choice, with the next question below it
    assert any("You chose: PostgreSQL, Kubernetes\n\nQuestion 3 of 3" in t
               for t in world.telegram.texts(ADA_CHAT))
