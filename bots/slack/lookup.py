"""Read-only questions the Slack adapter asks the engine's unit of work (App Home, modals)."""

from __future__ import annotations

from dataclasses import dataclass

from bots.slack.render import HomeItem
from core import payloads as pl
from core import texts
from core.candidate import status_text
from core.engine import Engine
from core.errors import ScriptError
from core.refs import ChatRef, UserRef
from core.review import candidate_label, complete_reviewers, is_reviewer, scored_answers
from core.states import State

HOME_LIMIT = 10


@dataclass(frozen=True)
class ReplyPrompt:
    """Whether a reviewer may write a follow-up / reply, and the modal's prompt if so."""

    allowed: bool
    text: str  # the prompt, or why not


def reply_prompt(engine: Engine, user: UserRef, chat: ChatRef, target: str) -> ReplyPrompt:
    """Check an "Ask a follow-up" / "Reply" press before opening its modal.

    The engine checks again when the text arrives; this only spares a reviewer from typing
    into a modal that would be refused.
    """
    payload = pl.parse(target)
    if payload is not None and payload.action == pl.OUTCOME_FEEDBACK:
        from bots.slack.outcome_prompt import feedback_prompt  # outcome "Edit feedback"

        return feedback_prompt(engine, user, chat, payload)
    if payload is None or payload.action not in (pl.FOLLOW_UP, pl.REPLY):
        return ReplyPrompt(False, texts.STALE_BUTTON)
    with engine.s.uow() as uow:
        interview = uow.interviews.get(payload.interview_id)
        if interview is None:
            return ReplyPrompt(False, texts.STALE_BUTTON)
        try:
            script = engine.s.script(interview)
        except ScriptError:
            return ReplyPrompt(False, texts.STALE_BUTTON)
        if not is_reviewer(engine.s, script, interview, user, chat):
            return ReplyPrompt(False, texts.NOT_A_REVIEWER)
        if interview.state is not State.COMPLETED or interview.chat is None:
            return ReplyPrompt(False, "That can no longer reach the candidate.")
        who = candidate_label(script, interview)
        if payload.action == pl.FOLLOW_UP:
            answer = interview.answer_by_id(payload.arg(0))
            if answer is None:
                return ReplyPrompt(False, texts.STALE_BUTTON)
            label = texts.question_label(script, script.question(answer.question_id))
            return ReplyPrompt(True, f"Follow-up for {who} on {label}. The candidate gets your "
                                     "question in their chat; the answer appears here.")
        found = next((q for q in interview.candidate_questions if q.id == payload.arg(0)), None)
        if found is None:
            return ReplyPrompt(False, texts.STALE_BUTTON)
        return ReplyPrompt(True, f"Reply to {who}'s question: \"{found.text}\"")


def home_items(engine: Engine, user: UserRef) -> tuple[list[HomeItem], list[HomeItem]]:
    """The person's own interviews, and completed interviews waiting for their ratings.

    Someone is a reviewer of a script when it lists them (`slack:U…`) or when they have
    rated one of its interviews (channel membership would need another scope).
    """
    own: list[HomeItem] = []
    waiting: list[HomeItem] = []
    now = engine.s.clock.now()
    with engine.s.uow() as uow:
        for script in engine.s.scripts.all():
            interviews = uow.interviews.for_script(script.id)
            listed = str(user) in script.review.reviewers
            completed = []
            for interview in interviews:
                if interview.candidate == user:
                    own.append(HomeItem(script.title, status_text(script, interview, now)))
                elif interview.state is State.COMPLETED:
                    completed.append(interview)
            pending: list[HomeItem] = []
            for interview in completed:
                ratings = uow.reviews.ratings(interview.id)
                rated_here = any(r.reviewer == user for r in ratings)
                listed = listed or rated_here
                answers = scored_answers(script, interview)
                done = sum(1 for a in answers if user in complete_reviewers(script, a, ratings))
                if done < len(answers):
                    when = interview.completed_at or interview.invited_at
                    pending.append(HomeItem(
                        f"{candidate_label(script, interview)} · {script.title}",
                        f"Completed {when:%d %b %Y}. You have rated {done} of "
                        f"{len(answers)} answers."))
            if listed:
                waiting.extend(pending)
    return own[-HOME_LIMIT:], waiting[:HOME_LIMIT * 2]
