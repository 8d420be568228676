"""The console reviewer's side across restarts: completed interviews the console reviewer has
not finished rating, listed and their cards shown again."""

from __future__ import annotations

from dataclasses import dataclass

from bots.console import CAPABILITIES
from bots.console.messenger import REVIEWER_CHAT, ConsoleMessenger
from core.engine import Engine
from core.model import ReviewPost
from core.refs import UserRef
from core.review import candidate_label, complete_reviewers, scored_answers
from core.states import State


@dataclass(frozen=True)
class Waiting:
    """A completed interview with answers the reviewer has not rated yet."""

    interview_id: str
    label: str
    rated: int
    answers: int


def waiting(engine: Engine, script_id: str, reviewer: UserRef) -> list[Waiting]:
    """Completed interviews of the script with answers `reviewer` has not fully rated, or
    with no decision from them yet."""
    out = []
    script = engine.s.script(script_id)
    with engine.s.uow() as uow:
        for interview in uow.interviews.for_script(script_id):
            if interview.state is not State.COMPLETED:
                continue
            ratings = uow.reviews.ratings(interview.id)
            answers = scored_answers(script, interview)
            rated = sum(1 for a in answers if reviewer in complete_reviewers(script, a, ratings))
            decided = any(d.reviewer == reviewer for d in uow.reviews.decisions(interview.id))
            if rated < len(answers) or not decided:
                out.append(Waiting(interview.id, candidate_label(script, interview), rated,
                                   len(answers)))
    return out


async def show_cards(engine: Engine, messenger: ConsoleMessenger, interview_id: str) -> None:
    """Print an interview's review cards again, recorded as posts so ratings update them."""
    with engine.s.uow() as uow:
        interview = uow.interviews.get(interview_id)
        if interview is None:
            return
        cards = await engine.reviews.cards(uow, interview, CAPABILITIES.platform)
    for answer_id, card in cards:
        ref = await messenger.send(REVIEWER_CHAT, card)
        with engine.s.uow() as uow:
            uow.reviews.add_post(ReviewPost(interview_id, REVIEWER_CHAT, ref.id, answer_id))
            uow.commit()
