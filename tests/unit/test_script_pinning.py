"""Interviews keep the script revision they were invited to: edits and retirement, on fakes."""

from __future__ import annotations

import pytest

from core.commands import ButtonPressed, CreateInvitation, InviteAccepted, TextReceived, UserCommand
from core.errors import ScriptError, ScriptRetired
from core.refs import ChatRef, UserRef
from core.states import State
from core.vocabulary import Verb
from tests.support.core_fakes import FakeCatalog, World, make_world
from tests.support.scripts import script_data, small_script
from tests.unit.test_review_flow import CHANNEL, R1, completed, rate

EVE = UserRef("telegram", "66")
EVE_CHAT = ChatRef("telegram", "66")
UNAVAILABLE = "this interview is not available right now"


def edited() -> dict[str, object]:
    """The `qa` script after an edit: other questions, one more, a shorter deadline."""
    data = script_data()
    data["deadline"] = "2d"
    data["questions"] = [
        {"id": "warmup", "text": "Warm up: say hello.", "practice": True},
        {"id": "bug", "text": "EDITED: the worst outage you saw?", "rubric": ["depth"]},
        {"id": "voice", "text": "EDITED: why testing?"},
        {"id": "extra", "text": "EDITED: a new third question."},
    ]
    return data


def catalog(world: World) -> FakeCatalog:
    scripts = world.engine.s.scripts
    assert isinstance(scripts, FakeCatalog)
    return scripts


async def press(world: World, user: UserRef, chat: ChatRef, label: str) -> str | None:
    payload, ref = world.telegram.button(chat, label)
    return await world.engine.handle(ButtonPressed(user, chat, payload, ref))


async def eve_at_first_question(world: World) -> str:
    interview, token = world.engine.invite(CreateInvitation("qa", "Eve", "telegram", "UTC"))
    await world.engine.handle(InviteAccepted(EVE, EVE_CHAT, token))
    await press(world, EVE, EVE_CHAT, "I agree")
    await press(world, EVE, EVE_CHAT, "Skip practice")
    assert world.telegram.texts(EVE_CHAT)[-1].startswith(
        "Practice question skipped.\n\nQuestion 1 of 2")
    return interview.id


async def test_an_edit_changes_no_question_of_a_running_interview() -> None:
    from core.script import parse_script

    world = make_world(small_script())
    eve = await eve_at_first_question(world)
    pinned = world.store.interviews[eve].script_revision
    assert pinned is not None and pinned in world.store.revisions
    catalog(world).serve(parse_script(edited()))

    await world.engine.handle(TextReceived(EVE, EVE_CHAT, "A race in the cache.", "e1"))
    await press(world, EVE, EVE_CHAT, "Submit")
    latest = world.telegram.texts(EVE_CHAT)[-1]
    assert latest.startswith("Submitted your answer to Question 1 of 2")
    assert "\n\nQuestion 2 of 2" in latest and "Why testing?" in latest
    assert not any("EDITED" in t for t in world.telegram.texts(EVE_CHAT))
    status = UserCommand(EVE, EVE_CHAT, Verb.STATUS)
    await world.engine.handle(status)
    assert "2" in world.telegram.texts(EVE_CHAT)[-1]
    assert world.store.interviews[eve].script_revision == pinned

    # a new invitation gets the edited script, as its own revision
    ada, _ = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    assert ada.script_revision not in (None, pinned)
    assert len(world.store.revisions) == 2
    assert (ada.deadline - ada.invited_at).days == 2


async def test_a_retired_script_still_serves_its_candidates_and_reviewers() -> None:
    world = make_world(small_script())
    ada = await completed(world)  # with the reviewers
    eve = await eve_at_first_question(world)
    catalog(world).retire("qa")
    assert world.engine.s.scripts.get("qa") is None

    # reviewers rate the completed interview
    assert await rate(world, R1, "Tell us about a bug", 0, 4) is not None
    assert [r.score for r in world.store.ratings] == [4]
    # the candidate half-way goes on with the same questions, and can check where they are
    await world.engine.handle(TextReceived(EVE, EVE_CHAT, "A race in the cache.", "e1"))
    await press(world, EVE, EVE_CHAT, "Submit")
    assert "\n\nQuestion 2 of 2" in world.telegram.texts(EVE_CHAT)[-1]
    await world.engine.handle(UserCommand(EVE, EVE_CHAT, Verb.STATUS))
    await world.engine.handle(UserCommand(EVE, EVE_CHAT, Verb.WITHDRAW))
    assert await press(world, EVE, EVE_CHAT, "Yes, withdraw") == "Withdrawn."
    await world.engine.handle(UserCommand(EVE, EVE_CHAT, Verb.DELETE))
    assert await press(world, EVE, EVE_CHAT, "Yes, erase everything") == "Erased."
    assert world.store.interviews[eve].state is State.ERASED
    assert not any(UNAVAILABLE in t for t in world.telegram.texts(EVE_CHAT))
    # the completed candidate can erase too: the review cards posted from the revision go
    ada_chat = ChatRef("telegram", "4242")
    await world.engine.handle(UserCommand(UserRef("telegram", "4242"), ada_chat, Verb.DELETE))
    assert await press(world, UserRef("telegram", "4242"), ada_chat,
                       "Yes, erase everything") == "Erased."
    assert world.store.interviews[ada].state is State.ERASED
    posted = {s.ref.id for s in world.slack.sent if s.chat == CHANNEL}
    deleted = {ref.id for ref in world.slack.deleted if ref.chat == CHANNEL}
    assert posted and posted <= deleted

    # no new invitation to a retired script, and nothing is kept of the attempt
    before = dict(world.store.interviews)
    with pytest.raises(ScriptRetired, match="'qa' is retired"):
        world.engine.invite(CreateInvitation("qa", "Bob", "telegram", "UTC"))
    assert world.store.interviews == before


async def test_an_unknown_script_is_not_called_retired() -> None:
    world = make_world(small_script())
    with pytest.raises(ScriptError, match="no interview script with id 'nope'") as caught:
        world.engine.invite(CreateInvitation("nope", "Bob", "telegram", "UTC"))
    assert not isinstance(caught.value, ScriptRetired)


async def test_an_interview_from_before_revisions_uses_the_current_file() -> None:
    world = make_world(small_script())
    eve = await eve_at_first_question(world)
    world.store.interviews[eve].script_revision = None  # as rows created before the migration
    await world.engine.handle(TextReceived(EVE, EVE_CHAT, "A race in the cache.", "e1"))
    await press(world, EVE, EVE_CHAT, "Submit")
    assert "\n\nQuestion 2 of 2" in world.telegram.texts(EVE_CHAT)[-1]


async def test_a_revision_missing_from_the_store_is_not_available() -> None:
    world = make_world(small_script())
    eve = await eve_at_first_question(world)
    world.store.interviews[eve].script_revision = "0" * 64
    await world.engine.handle(UserCommand(EVE, EVE_CHAT, Verb.STATUS))
    assert UNAVAILABLE in world.telegram.texts(EVE_CHAT)[-1]
