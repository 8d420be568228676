"""Read models for people outside a command: a person's home page (their own interview and
the completed interviews they review), a local reviewer's waiting list, and whether a
follow-up / reply / feedback modal may open. Adapters render them; the rules stay here.
"""

from __future__ import annotations

from dataclasses import dataclass

from core import payloads as pl
from core import texts
from core.candidate import status_text
from core.errors import ScriptError
from core.i18n import N_, t
from core.outcome import OutcomeFlow
from core.refs import ChatRef, UserRef
from core.replies import Reply
from core.review import candidate_label, complete_reviewers, scored_answers
from core.reviewers import is_named, reviewer_refusal
from core.script import Script
from core.services import Services
from core.states import State

HOME_LIMIT = 10  # completed interviews on one page of a home


@dataclass(frozen=True)
class HomeEntry:
    """One line of a home page: a title and a detail."""

    title: str
    detail: str


@dataclass(frozen=True)
class HomePage:
    """One page of a person's home."""

    own: list[HomeEntry]
    waiting: list[HomeEntry]
    page: int
    more: bool  # an older page exists


@dataclass(frozen=True)
class ModalPrompt:
    """Whether a reviewer may write a follow-up / reply / feedback, and the prompt if so."""

    allowed: bool
    text: str  # the prompt, or why not
    language: str | None = None  # the team's, when allowed: for the adapter's own notices


@dataclass(frozen=True)
class Waiting:
    """A completed interview with answers a reviewer has not rated yet."""

    interview_id: str
    label: str
    rated: int
    answers: int


def visible_scripts(services: Services, user: UserRef, channels: frozenset[str]
                    ) -> list[Script]:
    """The scripts whose interviews this person may see as a reviewer: listed themselves or
    through a user group, or a member of one of its review chats (`channels`, narrowed by
    `review.members`)."""
    found: list[Script] = []
    for script in services.scripts.all():
        review = script.review
        in_chat = any(str(d) in channels for d in services.destinations(script))
        if is_named(services, review.reviewers, user) or (
                in_chat and (review.members is None or is_named(services, review.members, user))):
            found.append(script)
    return found


def home_page(services: Services, user: UserRef, channels: frozenset[str], page: int = 0
              ) -> HomePage:
    """The person's own interview, and one page of completed interviews of the scripts they
    review: one bounded query (`HOME_LIMIT` + 1 rows), nothing of other scripts."""
    own: list[HomeEntry] = []
    waiting: list[HomeEntry] = []
    now = services.clock.now()
    page = max(0, page)
    scripts = {s.id: s for s in visible_scripts(services, user, channels)}
    with services.uow() as uow:
        mine = uow.interviews.current_for(user)
        if mine is not None:
            found = services.scripts.get(mine.script_id)
            if found is not None:
                own.append(HomeEntry(found.title, status_text(found, mine, now)))
        scripts = {sid: s for sid, s in scripts.items()
                   if not uow.interviews.is_candidate(sid, user)}
        rows = uow.interviews.completed_page(scripts, page * HOME_LIMIT, HOME_LIMIT + 1)
        for interview in rows[:HOME_LIMIT]:
            script = scripts[interview.script_id]
            ratings = uow.reviews.ratings(interview.id)
            answers = scored_answers(script, interview)
            done = sum(1 for a in answers if user in complete_reviewers(script, a, ratings))
            when = interview.completed_at or interview.invited_at
            team = texts.review_lang(script)
            state = (t(team, N_("You have rated {done} of {total} answers."), done=done,
                       total=len(answers)) if done < len(answers)
                     else t(team, N_("You have rated every answer.")))
            waiting.append(HomeEntry(f"{candidate_label(script, interview)} · "
                                     f"{script.text_in('title', team)}",
                                     t(team, N_("Completed {when}."),
                                       when=f"{when:%Y-%m-%d}") + f" {state}"))
    return HomePage(own, waiting, page, len(rows) > HOME_LIMIT)


def waiting_for(services: Services, script_id: str, reviewer: UserRef) -> list[Waiting]:
    """Completed interviews of the script with answers `reviewer` has not fully rated, or
    with no decision from them yet."""
    out = []
    script = services.script(script_id)
    with services.uow() as uow:
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


def modal_prompt(services: Services, outcomes: OutcomeFlow, user: UserRef, chat: ChatRef,
                 target: str) -> ModalPrompt:
    """Check an "Ask a follow-up" / "Reply" / "Edit feedback" press before its modal opens.

    The engine checks again when the text arrives; this only spares a reviewer from typing
    into a modal that would be refused.
    """
    payload = pl.parse(target)
    if payload is not None and payload.action == pl.OUTCOME_FEEDBACK:
        with services.uow() as uow:
            checked = outcomes.check(uow, user, chat, payload)
            if isinstance(checked, Reply):
                return ModalPrompt(False, checked.render(outcomes.team_language(uow, payload)))
        script, decided, _ = checked
        team = texts.review_lang(script)
        return ModalPrompt(True, t(team, N_(
            "Written feedback for {label}: it takes the place of {{feedback}} in the message. A "
            "new preview follows; nothing is sent before you press Send."),
            label=candidate_label(script, decided)), team)
    if payload is None or payload.action not in (pl.FOLLOW_UP, pl.REPLY):
        return ModalPrompt(False, texts.STALE_BUTTON)
    with services.uow() as uow:
        interview = uow.interviews.get(payload.interview_id)
        if interview is None:
            return ModalPrompt(False, texts.STALE_BUTTON)
        try:
            script = services.script(interview)
        except ScriptError:
            return ModalPrompt(False, texts.STALE_BUTTON)
        team = texts.review_lang(script)
        refusal = reviewer_refusal(services, uow, script, user, chat)
        if refusal is not None:
            return ModalPrompt(False, t(team, refusal))
        if interview.state is not State.COMPLETED or interview.chat is None:
            return ModalPrompt(False, t(team, N_("That can no longer reach the candidate.")))
        who = candidate_label(script, interview)
        if payload.action == pl.FOLLOW_UP:
            answer = interview.answer_by_id(payload.arg(0))
            if answer is None:
                return ModalPrompt(False, t(team, texts.STALE_BUTTON))
            label = texts.question_label(script, script.question(answer.question_id), team)
            return ModalPrompt(True, t(team, N_(
                "Follow-up for {label} on {question}. The candidate gets your question in their "
                "chat; the answer appears here."), label=who, question=label), team)
        found = next((q for q in interview.candidate_questions if q.id == payload.arg(0)), None)
        if found is None:
            return ModalPrompt(False, t(team, texts.STALE_BUTTON))
        return ModalPrompt(True, t(team, N_("Reply to {label}'s question: \"{question}\""),
                                   label=who, question=found.text), team)
