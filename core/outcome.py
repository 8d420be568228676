"""The outcome each candidate gets: a decider's final call becomes a previewed message
(Send / Edit / Don't send), sent once, recorded in the audit log.

A script's `outcome` block holds the texts; `review.deciders` says whose decision is the
final call (any reviewer when the list is empty). The preview goes to the review chat on the
decider's platform; in blind scripts it shows "Candidate #N" where the name will be. Nothing
is ever sent to an interview that was erased or withdrawn, and a second Send (a double tap, a
second process) finds the outcome recorded and sends nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from statistics import median
from typing import TYPE_CHECKING

from core import payloads as pl
from core import (  # core.review imports this module: names used at call time
    review,
    reviewers,
    texts,
)
from core.candidate import clean_text, unreadable
from core.commands import ReviewerText
from core.effects import Effects
from core.i18n import N_, t
from core.messages import Button, OutMessage
from core.model import AuditEntry, Decision, Interview
from core.ports import UnitOfWork
from core.refs import ChatRef, MessageRef, UserRef
from core.replies import Reply, say
from core.script import Script
from core.script_translations import localized
from core.services import Services
from core.states import State

if TYPE_CHECKING:
    from core.report import Timing

SENT = "outcome sent"
SKIPPED = "outcome not sent"
FEEDBACK = "outcome feedback"
FEEDBACK_LIMIT = 1000
LETTERS = {"a": Decision.ADVANCE, "r": Decision.REJECT}
CODES = {v: k for k, v in LETTERS.items()}


def is_decider(services: Services, script: Script, user: UserRef) -> bool:
    """Whose decision is final: see `core.reviewers.may_decide`."""
    return reviewers.may_decide(script, services, user)


def template(script: Script, decision: Decision) -> str | None:
    if script.outcome is None:
        return None
    return {Decision.ADVANCE: script.outcome.advance,
            Decision.REJECT: script.outcome.reject}.get(decision)


def render(script: Script, interview: Interview, decision: Decision, feedback: str,
           name: str | None = None) -> str:
    """The candidate's message, in their language; `name` replaces theirs in a preview of a
    blind script."""
    lang = texts.lang_for(script, interview.language)
    text = localized(template(script, decision) or "", lang)
    booking = script.outcome.booking_url if script.outcome else ""
    out = text.format(name=name if name is not None else interview.candidate_name,
                      booking_url=booking, feedback=feedback,
                      title=script.text_in("title", lang))
    return "\n".join(line.rstrip() for line in out.strip().splitlines())


def recorded(uow: UnitOfWork, interview_id: str) -> AuditEntry | None:
    """The entry of the outcome sent (or deliberately not sent), if any."""
    return next((e for e in uow.reviews.audit_log(interview_id)
                 if e.action in (SENT, SKIPPED)), None)


def latest_feedback(uow: UnitOfWork, interview_id: str, decision: Decision) -> str:
    found = [e for e in uow.reviews.audit_log(interview_id) if e.action == FEEDBACK
             and e.detail.startswith(f"{decision.value}:")]
    return found[-1].detail.partition(":")[2] if found else ""


def preview(script: Script, interview: Interview, decision: Decision, feedback: str
            ) -> OutMessage:
    label = review.candidate_label(script, interview)
    shown = render(script, interview, decision, feedback,
                   name=label if script.review.blind else None)
    code = CODES[decision]
    team = texts.review_lang(script)
    values = {"label": label, "decision": t(team, review.DECISION_LABELS[decision])}
    head = (t(team, N_("Outcome for {label}: {decision}. The candidate will get this message "
                       "(their name is filled in when it is sent):"), **values)
            if script.review.blind else
            t(team, N_("Outcome for {label}: {decision}. The candidate will get this message:"),
              **values))
    return OutMessage(
        f"{head}\n\n{shown}",
        ((Button(t(team, N_("Send")), pl.make(pl.OUTCOME_SEND, interview.id, code), "primary"),
          Button(t(team, N_("Edit feedback")), pl.make(pl.OUTCOME_FEEDBACK, interview.id, code)),
          Button(t(team, N_("Don't send")), pl.make(pl.OUTCOME_SKIP, interview.id, code),
                 "danger")),))


def review_chat(services: Services, script: Script, user: UserRef) -> ChatRef | None:
    """Where a decider sees the preview: the review chat on their platform."""
    return next((d for d in services.destinations(script) if d.platform == user.platform), None)


def decided(services: Services, uow: UnitOfWork, script: Script, interview: Interview,
            user: UserRef, decision: Decision, fx: Effects) -> None:
    """The hook where a decision is recorded: a decider's Advance or Reject gets a preview."""
    if not is_decider(services, script, user) or template(script, decision) is None:
        return
    chat = review_chat(services, script, user)
    if chat is None:
        return
    done = recorded(uow, interview.id)
    if done is not None:
        fx.say_also(N_("The candidate was already told the outcome."))
        return
    fx.send(chat, preview(script, interview, decision,
                          latest_feedback(uow, interview.id, decision)))


class OutcomeFlow:
    """Presses of Send / Edit feedback / Don't send, and the written feedback."""

    def __init__(self, services: Services) -> None:
        self.s = services

    def _now(self) -> datetime:
        return self.s.clock.now()

    def check(self, uow: UnitOfWork, user: UserRef, chat: ChatRef, payload: pl.Payload
               ) -> tuple[Script, Interview, Decision] | Reply:
        """The script, interview and decision a press is about, or why it is refused (to be
        written in the team's language, `team_language`)."""
        interview = uow.interviews.get(payload.interview_id)
        decision = LETTERS.get(payload.arg(0))
        if interview is None or decision is None:
            return say(texts.STALE_BUTTON)
        script = self.s.script(interview)
        if not reviewers.is_reviewer(self.s, uow, script, user, chat):
            return say(texts.NOT_A_REVIEWER)
        if not is_decider(self.s, script, user):
            return say(N_("Only the deciders of this interview can send its outcome."))
        if interview.state is not State.COMPLETED or interview.chat is None:
            state = texts.STATES.get(interview.state.value, interview.state.value)
            return say(N_("This interview was {state}: no message goes to the candidate."),
                       state=say(state))
        done = recorded(uow, interview.id)
        if done is not None:
            values = {"when": f"{done.at:%Y-%m-%d %H:%M}", "actor": done.actor}
            return (say(N_("The outcome was already sent ({when} UTC, {actor})."), **values)
                    if done.action == SENT else
                    say(N_("The outcome was already marked not to be sent ({when} UTC, "
                           "{actor})."), **values))
        mine = [d for d in uow.reviews.decisions(interview.id) if d.reviewer == user]
        if not mine or mine[-1].decision is not decision:
            return say(N_("Your decision changed since this preview; use the newest one."))
        return script, interview, decision

    def team_language(self, uow: UnitOfWork, payload: pl.Payload | None) -> str | None:
        """The review language of the interview a press is about (None: no such interview)."""
        interview = uow.interviews.get(payload.interview_id) if payload is not None else None
        return texts.review_lang(self.s.script(interview)) if interview is not None else None

    def button(self, uow: UnitOfWork, user: UserRef, chat: ChatRef, payload: pl.Payload,
               message: MessageRef | None, fx: Effects) -> None:
        checked = self.check(uow, user, chat, payload)
        if isinstance(checked, Reply):
            fx.reply = checked
            return
        script, interview, decision = checked
        label = review.candidate_label(script, interview)
        team = texts.review_lang(script)
        said = t(team, review.DECISION_LABELS[decision])
        if payload.action == pl.OUTCOME_FEEDBACK:
            fx.say(N_("Write the feedback."))
            fx.send(chat, OutMessage(
                t(team, N_("Feedback for {label} ({decision}): reply with the text for "
                           "{{feedback}} in the message."), label=label, decision=said),
                ask_reply=pl.make(pl.OUTCOME_FEEDBACK, interview.id, CODES[decision])))
            return
        uow.record_delivery(f"outcome:{interview.id}")  # a second sender's commit fails
        if payload.action == pl.OUTCOME_SKIP:
            uow.reviews.audit(AuditEntry(interview.id, str(user), SKIPPED, decision.value,
                                         self._now()))
            fx.say(N_("Not sent: the candidate gets no message from the bot about "
                                  "this."))
            done = t(team, N_("Outcome for {label}: not sent ({user})."), label=label, user=user)
        else:
            assert interview.chat is not None
            feedback = latest_feedback(uow, interview.id, decision)
            fx.send(interview.chat, render(script, interview, decision, feedback))
            uow.reviews.audit(AuditEntry(interview.id, str(user), SENT, decision.value,
                                         self._now()))
            fx.say(N_("Sent to the candidate."))
            done = t(team, N_("Outcome for {label}: {decision}, sent ({user})."), label=label,
                     decision=said, user=user)
        if message is not None:
            fx.edits.append((message, OutMessage(done)))

    def text(self, uow: UnitOfWork, cmd: ReviewerText, fx: Effects) -> None:
        """Written feedback: kept for {feedback}, and a new preview with it."""
        payload = pl.parse(cmd.target)
        checked = (self.check(uow, cmd.user, cmd.chat, payload) if payload is not None
                   else say(texts.STALE_BUTTON))
        if isinstance(checked, Reply):
            fx.notes.append((cmd.chat, cmd.user,
                             checked.render(self.team_language(uow, payload))))
            return
        script, interview, decision = checked
        team = texts.review_lang(script)
        text = clean_text(cmd.text)
        refusal = unreadable(text, "feedback", team)
        if refusal is not None:
            fx.send(cmd.chat, OutMessage(f"{refusal} {t(team, texts.NOTHING_CHANGED)}",
                                         ask_reply=cmd.target))
            return
        text = text[:FEEDBACK_LIMIT].rstrip()
        uow.reviews.audit(AuditEntry(interview.id, str(cmd.user), FEEDBACK,
                                     f"{decision.value}:{text}", self._now()))
        fx.send(cmd.chat, preview(script, interview, decision, text))


def outcome_timing(interviews: Sequence[Interview], uow: UnitOfWork) -> Timing:
    """From completion to the outcome message, over the interviews that were sent one."""
    from core.report import Timing, percentile  # core.report imports core.review, this

    seconds = []
    for interview in interviews:
        if interview.completed_at is None:
            continue
        sent = next((e for e in uow.reviews.audit_log(interview.id) if e.action == SENT), None)
        if sent is not None:
            seconds.append((sent.at - interview.completed_at).total_seconds())
    return Timing(len(seconds), median(seconds) if seconds else None, percentile(seconds, 0.9))
