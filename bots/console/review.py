"""The console reviewer's side across restarts: completed interviews the console reviewer has
not finished rating, listed and their cards shown again."""

from __future__ import annotations

from bots.console import CAPABILITIES
from bots.console.messenger import REVIEWER_CHAT, ConsoleMessenger
from core.dashboards import Waiting
from core.engine import Engine
from core.model import ReviewPost
from core.refs import UserRef


def waiting(engine: Engine, script_id: str, reviewer: UserRef) -> list[Waiting]:
    """Completed interviews of the script with answers `reviewer` has not fully rated, or
    with no decision from them yet (see `core.dashboards.waiting_for`)."""
    return engine.views.waiting_for(script_id, reviewer)


async def show_cards(engine: Engine, messenger: ConsoleMessenger, interview_id: str) -> None:
    """Print an interview's review cards again, recorded as posts so ratings update them."""
    for answer_id, card in await engine.views.review_cards(interview_id, CAPABILITIES.platform):
        ref = await messenger.send(REVIEWER_CHAT, card)
        engine.views.record_post(ReviewPost(interview_id, REVIEWER_CHAT, ref.id, answer_id))
