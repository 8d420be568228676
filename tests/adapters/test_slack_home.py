"""App Home (core/dashboards.py, shown by Slack): only the interviews of the scripts the
viewer reviews, in bounded pages."""

from __future__ import annotations

from datetime import timedelta

from core.commands import CreateInvitation
from core.dashboards import HOME_LIMIT
from core.refs import UserRef
from core.states import State
from tests.support.core_fakes import World, make_world
from tests.support.scripts import small_script

LISTED = UserRef("slack", "U0LISTED")
MEMBER = UserRef("slack", "U0MEMBER")  # in the review channel CREV
STRANGER = UserRef("slack", "U0STRANGER")
CANDIDATE = UserRef("slack", "U0CAND")


def world_with(count: int) -> World:
    qa = small_script(review={"reviewers": ["slack:CREV", "slack:U0LISTED"]})
    other = small_script(id="other", review={"reviewers": ["slack:COTHER"]})
    world = make_world(qa, scripts=[other])
    for script_id, n in (("qa", count), ("other", 3)):
        for i in range(n):
            interview, _ = world.engine.invite(CreateInvitation(script_id, f"P{i}", "slack"))
            stored = world.store.interviews[interview.id]
            stored.state = State.COMPLETED
            stored.completed_at = world.clock.now() + timedelta(minutes=i)
            if script_id == "qa" and i == 0:
                stored.candidate = CANDIDATE
    return world


def test_the_viewer_sees_only_scripts_they_review() -> None:
    world = world_with(2)
    channels = frozenset({"slack:CREV"})
    assert [s.id for s in world.engine.views.visible_scripts(LISTED, frozenset())] == ["qa"]
    assert [s.id for s in world.engine.views.visible_scripts(MEMBER, channels)] == ["qa"]
    assert world.engine.views.visible_scripts(STRANGER, frozenset()) == []
    assert world.engine.views.home(STRANGER, frozenset()).waiting == []
    # a candidate of the script sees their own interview, never its reviews
    page = world.engine.views.home(CANDIDATE, channels)
    assert page.waiting == [] and len(page.own) == 1


def test_pages_are_bounded_newest_first() -> None:
    world = world_with(HOME_LIMIT * 2 + 3)
    first = world.engine.views.home(LISTED, frozenset())
    assert len(first.waiting) == HOME_LIMIT and first.more and first.page == 0
    assert first.waiting[0].title.startswith(f"Candidate #{HOME_LIMIT * 2 + 3}")
    third = world.engine.views.home(LISTED, frozenset(), 2)
    assert len(third.waiting) == 3 and not third.more
    assert all("QA Engineer" in item.title for item in first.waiting + third.waiting)
    assert world.engine.views.home(LISTED, frozenset(), 99).waiting == []
