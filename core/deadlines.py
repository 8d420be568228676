"""Deadlines: what is left before one, and extending it (CLI or a reviewer's button)."""

from __future__ import annotations

from datetime import timedelta

from core import payloads as pl
from core import texts
from core.effects import Effects
from core.i18n import N_, t
from core.messages import Button, OutMessage
from core.model import AuditEntry, Interview
from core.ports import UnitOfWork
from core.script import Script
from core.services import Services
from core.states import State


def progress(script: Script, interview: Interview) -> str:
    scored = script.scored_questions
    left = len([q for q in scored if q.id not in interview.done_ids()])
    lang = texts.lang_for(script, interview.language)
    due = texts.local_time(interview.deadline, interview.tz, lang)
    return t(lang, texts.PROGRESS, left=left, total=len(scored), due=due)


def expiry_notice(script: Script, interview: Interview, label: str) -> OutMessage:
    """What reviewers see when an interview expires: one "Extend" press for this expiry.

    The payload names the expiry (the deadline that passed), never an amount: a press adds
    the script's `review.extend`, and only while the interview is still expired.
    """
    done = len([q for q in script.scored_questions if q.id in interview.done_ids()])
    hours = round(script.review.extend.total_seconds() / 3600)
    team = texts.review_lang(script)
    return OutMessage(
        t(team, N_("{label}'s interview for {title} expired with {done} of {total} answers."),
          label=label, title=script.text_in("title", team), done=done,
          total=len(script.scored_questions)),
        ((Button(t(team, N_("Extend {hours} h"), hours=hours),
                 pl.make(pl.EXTEND, interview.id, int(interview.deadline.timestamp()))),),))


def extended_notice(script: Script, interview: Interview, label: str) -> OutMessage:
    """The expiry notice once extended: the same words, the new deadline, no button."""
    team = texts.review_lang(script)
    return OutMessage(t(team, N_("{label}'s interview for {title} expired and was extended; the "
                                 "new deadline is {deadline} UTC."),
                        label=label, title=script.text_in("title", team),
                        deadline=f"{interview.deadline:%Y-%m-%d %H:%M}"))


def extend_deadline(services: Services, uow: UnitOfWork, interview: Interview, by: timedelta,
                    actor: str, fx: Effects, since: str | None = None) -> bool:
    """Move the deadline (re-opening an expired interview); False if it cannot be.

    `since` (the expired deadline a reviewer's button named) is kept in the audit entry.
    """
    if interview.state not in (State.INVITED, State.CONSENTED, State.IN_PROGRESS,
                               State.EXPIRED):
        return False
    now = services.clock.now()
    interview.deadline = max(interview.deadline, now) + by
    if interview.state is State.EXPIRED:
        interview.move_to(interview.state_before_expiry or State.INVITED, now)
        interview.ended_at = None
    detail = interview.deadline.isoformat()
    uow.reviews.audit(AuditEntry(interview.id, actor, "deadline extended",
                                 f"{since} -> {detail}" if since else detail, now))
    fx.changed.append(interview.id)
    if interview.chat is not None:
        script = services.script(interview)
        lang = texts.lang_for(script, interview.language)
        due = texts.local_time(interview.deadline, interview.tz, lang)
        fx.send(interview.chat, OutMessage(
            f"{t(lang, texts.DEADLINE_EXTENDED, deadline=due)} {progress(script, interview)}",
            ((Button(t(lang, texts.CONTINUE), pl.make(pl.CONTINUE, interview.id),
                     "primary"),),)))
    return True
