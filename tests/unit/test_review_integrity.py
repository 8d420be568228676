"""Review integrity on fakes: counts-only shared card, private reveal after your own rating or
decision, changes after the reveal recorded and marked in results, who may rate and decide,
the review block of a script, and lock tables that do not grow."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from core import texts
from core.commands import ButtonPressed
from core.locks import KeyedLocks
from core.refs import ChatRef, UserRef
from core.results import scorecard
from core.reviewers import REVEALED, REVISED
from core.script import ScriptInvalid
from tests.support.core_fakes import World, make_world
from tests.support.scripts import script_data, small_script
from tests.unit.test_review_flow import ADA, CHANNEL, GROUP, R1, R2, card, completed, rate

BUG, WHY = "Tell us about a bug", "Why testing?"


def review(**fields: Any) -> Any:
    base: dict[str, Any] = {"reviewers": ["slack:CREV", "telegram:-100"], "blind": True,
                            "independent": True}
    base.update(fields)
    return small_script(review=base)


async def rate_all(world: World, who: UserRef, score: int, chat: ChatRef = CHANNEL) -> None:
    await rate(world, who, BUG, 0, score, chat)
    await rate(world, who, WHY, 0, score, chat)
    await rate(world, who, WHY, 1, score, chat)


async def decide(world: World, who: UserRef, label: str, chat: ChatRef = CHANNEL
                 ) -> str | None:
    sent = card(world, "completed QA Engineer", chat)
    button = next(b for row in sent.message.buttons for b in row if b.label == label)
    return await world.engine.handle(ButtonPressed(who, chat, button.payload, sent.ref))


def summary(world: World) -> str:
    edits = [m.text for ref, m in world.slack.edits if ref == card(
        world, "completed QA Engineer").ref]
    return edits[-1] if edits else card(world, "completed QA Engineer").message.text


async def test_the_shared_card_counts_and_never_says_what_anyone_decided() -> None:
    world = make_world(small_script())
    await completed(world)
    await rate_all(world, R1, 4)
    assert await decide(world, R1, "Reject") == "Your decision: Reject."
    text = summary(world)
    assert "Rated by 1 · decided by 1." in text
    assert "Reject 1" not in text and "Decisions so far" not in text
    # R2 sees R1's decision privately, only once R2 has decided
    await rate_all(world, R2, 2)
    reply = await decide(world, R2, "Advance")
    assert reply == "Your decision: Advance. Others decided: Reject 1."
    assert "Rated by 2 · decided by 2." in summary(world)


async def test_a_change_after_the_reveal_is_allowed_recorded_and_marked_in_results() -> None:
    world = make_world(small_script())
    iid = await completed(world)
    await rate(world, R1, BUG, 0, 4)
    reply = await rate(world, R2, BUG, 0, 2)
    assert reply is not None and reply.endswith("Others so far: depth 4.0 (1).")
    reply = await rate(world, R2, BUG, 0, 4)  # anchoring on R1
    assert reply is not None and "recorded as revised" in reply
    revised = [a for a in world.store.audit if a.action == REVISED]
    assert [(a.actor, a.detail) for a in revised] == [(str(R2), "bug/depth: 2 -> 4")]
    # a change before any reveal is not marked: R1 was first, and sees R2's score only now
    reply = await rate(world, R1, BUG, 0, 3)
    assert reply is not None and "Others so far" in reply and "revised" not in reply
    assert len([a for a in world.store.audit if a.action == REVISED]) == 1
    # decisions: R2 decides after R1, sees it, changes: marked
    await rate_all(world, R1, 3)
    await decide(world, R1, "Reject")
    await rate(world, R2, WHY, 0, 4)
    await rate(world, R2, WHY, 1, 4)
    await decide(world, R2, "Advance")
    assert (await decide(world, R2, "Reject") or "").endswith("Others decided: Reject 1.")
    audit = world.store.audit
    interview = world.store.interviews[iid]
    row = scorecard(small_script(), interview, world.store.ratings, world.store.decisions,
                    audit).flat()
    assert row["revised_after_reveal"] == (
        f"{R2} bug/depth: 2 -> 4; {R2} decision: advance -> reject")
    assert scorecard(small_script(), interview, world.store.ratings,
                     world.store.decisions).flat()["revised_after_reveal"] == ""
    assert [a.detail for a in audit if a.action == REVEALED and a.actor == str(R2)][-1] == \
        "decisions"


async def test_the_same_decision_twice_changes_nothing() -> None:
    world = make_world(small_script())
    await completed(world)
    await rate_all(world, R1, 4)
    await decide(world, R1, "Hold")
    before = (list(world.store.decisions), list(world.store.audit))
    assert await decide(world, R1, "Hold") == "Your decision is already Hold."
    assert (world.store.decisions, world.store.audit) == before


async def test_a_member_list_narrows_who_may_rate_in_a_telegram_group() -> None:
    groups: dict[str, frozenset[str]] = {}  # Slack user groups as the adapter resolved them
    world = make_world(review(members=["telegram:77", "slack:S0LEADS"]),
                       group_members=lambda g: groups.get(g, frozenset()))
    await completed(world)
    listed, member_only = UserRef("telegram", "77"), UserRef("telegram", "88")
    before = (list(world.store.ratings), list(world.store.audit))
    assert await rate(world, member_only, BUG, 0, 3, GROUP) == texts.NOT_A_LISTED_MEMBER
    assert (world.store.ratings, world.store.audit) == before
    assert (await rate(world, listed, BUG, 0, 3, GROUP) or "").startswith("You rated")
    # a Slack user group named in members: its members may rate in the Slack channel
    assert await rate(world, R1, BUG, 0, 3) == texts.NOT_A_LISTED_MEMBER
    groups["slack:S0LEADS"] = frozenset({str(R1)})
    assert (await rate(world, R1, BUG, 0, 3) or "").startswith("You rated")


async def test_listed_people_and_user_groups_rate_anywhere_others_nowhere() -> None:
    groups: dict[str, frozenset[str]] = {}
    world = make_world(review(reviewers=["slack:CREV", "slack:U0LISTED", "slack:S0TEAM"]),
                       group_members=lambda g: groups.get(g, frozenset()))
    await completed(world)
    dm = ChatRef("slack", "D0ELSEWHERE")
    payload = card(world, BUG).message.buttons[0][2].payload
    press = world.engine.handle
    assert await press(ButtonPressed(UserRef("slack", "UOTHER"), dm, payload)) == \
        texts.NOT_A_REVIEWER
    assert (await press(ButtonPressed(UserRef("slack", "U0LISTED"), dm, payload)) or ""
            ).startswith("You rated")
    groups["slack:S0TEAM"] = frozenset({"slack:U0INTEAM"})
    assert (await press(ButtonPressed(UserRef("slack", "U0INTEAM"), dm, payload)) or ""
            ).startswith("You rated")
    # a user group is not a destination: no card was posted to "S0TEAM"
    assert all(s.chat.id != "S0TEAM" for s in world.slack.sent)


async def test_a_candidate_of_the_script_is_never_a_reviewer() -> None:
    world = make_world(review(reviewers=["slack:CREV", "telegram:4242"]))
    await completed(world)  # Ada (telegram:4242) is listed as a reviewer and is a candidate
    before = list(world.store.ratings)
    assert await rate(world, ADA, BUG, 0, 5) == texts.NOT_A_REVIEWER
    assert world.store.ratings == before


async def test_only_named_deciders_decide_when_the_script_names_them() -> None:
    world = make_world(review(deciders=["slack:U2"]))
    await completed(world)
    await rate_all(world, R1, 4)
    before = list(world.store.decisions)
    assert await decide(world, R1, "Advance") == texts.NOT_A_DECIDER
    assert world.store.decisions == before
    await rate_all(world, R2, 4)
    assert await decide(world, R2, "Advance") == "Your decision: Advance."


@pytest.mark.parametrize(("review_block", "message"), [
    ({"reviewers": ["slack:CREV"], "members": ["slack:C0CHAN"]}, "is not a person"),
    ({"reviewers": ["slack:CREV"], "deciders": ["telegram:-100"]}, "is not a person"),
    ({"reviewers": ["slack:CREV"], "extend": "30d"}, "at most 14d"),
    ({"reviewers": ["slack:CREV"], "extend": "soon"}, "not a duration"),
    ({"reviewers": ["slack:CREV"], "allow_public_channel": "yes"}, ""),
    ({"reviewers": ["slack:CREV"], "reviewer": ["slack:U1"]}, "not a known review field"),
])
def test_the_review_block_refuses(review_block: dict[str, Any], message: str) -> None:
    with pytest.raises(ScriptInvalid) as caught:
        small_script(review=review_block)
    assert message in str(caught.value)


def test_the_review_block_reads_people_groups_and_the_extension() -> None:
    script = small_script(review={
        "reviewers": ["slack:CREV", "slack:U0ADA", "slack:S0LEADS", "telegram:-100"],
        "members": ["telegram:77"], "extend": "24h", "deciders": ["slack:U0ADA"],
        "allow_public_channel": True})
    review_settings = script.review
    assert review_settings.destinations == ("slack:CREV", "slack:U0ADA", "telegram:-100")
    assert review_settings.groups == ("slack:S0LEADS",)
    assert review_settings.members == ("telegram:77",)
    assert review_settings.extend.total_seconds() == 24 * 3600
    assert review_settings.allow_public_channel is True
    assert small_script().review.members is None
    assert small_script().review.extend.total_seconds() == 48 * 3600
    assert script_data()["review"]["reviewers"]


async def test_lock_tables_keep_only_the_locks_in_use() -> None:
    locks = KeyedLocks()
    for n in range(1000):
        async with locks[f"interview:{n}"]:
            assert locks[f"interview:{n}"] is locks[f"interview:{n}"]
    gc.collect()
    assert len(locks) == 0
    world = make_world(small_script())
    await completed(world)
    for n in range(200):
        await rate(world, R1, BUG, 0, 1 + n % 5)
    gc.collect()
    assert len(world.engine._locks) == 0
