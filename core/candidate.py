"""The candidate's side of an interview: finds the person's interview and routes what they
send or press to onboarding, answers, the wrap-up or their account."""

from __future__ import annotations

from datetime import datetime

from core import accommodations, notice, texts
from core import payloads as pl
from core.account import Account, erase
from core.answers import GRACE_SECONDS, Answers, MediaPlan
from core.commands import (
    InviteAccepted,
    MediaReceived,
    TextReceived,
    UnsupportedReceived,
    UserCommand,
)
from core.effects import Effects
from core.errors import DomainError
from core.i18n import N_
from core.model import Interview, Take
from core.onboarding import TOKEN_ATTEMPTS, TOKEN_WINDOW, Onboarding
from core.payloads import Payload
from core.ports import UnitOfWork
from core.prompts import ask, current_question, pressed_by_candidate, receipt, status_text
from core.refs import ChatRef, MessageRef, UserRef
from core.script import Script
from core.services import Services
from core.states import State
from core.submitting import check_deadline
from core.wrap_up import WrapUpFlow
from core.written import clean_text, unreadable


class CandidateFlow:
    """Handlers for everything a candidate sends or presses."""

    def __init__(self, services: Services) -> None:
        self.s = services
        self.onboarding = Onboarding(services)
        self.wrap_up = WrapUpFlow(services)
        self.answers = Answers(services, self.wrap_up)
        self.account = Account(services)

    def _now(self) -> datetime:
        return self.s.clock.now()

    def accept(self, uow: UnitOfWork, cmd: InviteAccepted, fx: Effects) -> None:
        self.onboarding.accept(uow, cmd, fx)

    def _current(self, uow: UnitOfWork, user: UserRef, chat: ChatRef, fx: Effects
                 ) -> tuple[Interview, Script] | None:
        """The person's interview, marked active, with its script; None when `fx` holds the
        reply instead (no interview, or its deadline has passed)."""
        interview = uow.interviews.current_for(user)
        if interview is None:
            fx.send(chat, texts.NO_INVITATION)
            return None
        interview.last_activity_at = self._now()
        script = self.s.script(interview)
        if not check_deadline(script, interview, self._now(), fx):
            return None
        return interview, script

    # -- inbound -----------------------------------------------------------------------
    def text(self, uow: UnitOfWork, cmd: TextReceived, fx: Effects) -> bool:
        """Handle a candidate's text (an answer, a time zone, a question for the team...)."""
        found = self._current(uow, cmd.user, cmd.chat, fx)
        if found is None:
            return True
        interview, script = found
        assert interview.chat is not None
        if accommodations.take_note(self.s, uow, script, interview, cmd.text, fx):
            return True
        if interview.state is State.COMPLETED:
            self.wrap_up.text_after_completion(script, interview, cmd.text, fx)
        elif interview.state is State.INVITED:
            self.onboarding.text_before_consent(script, interview, cmd.text, fx)
        elif not interview.is_open:
            fx.send(interview.chat, status_text(script, interview, self._now()))
        else:
            self.answers.text(uow, script, interview, cmd.text, cmd.delivery, fx)
        return True

    def media_plan(self, uow: UnitOfWork, cmd: MediaReceived, fx: Effects) -> MediaPlan | None:
        """Check a voice note or file before fetching it: what it would answer, or None when
        `fx` already holds the reply (no interview, wrong kind, too long...)."""
        found = self._current(uow, cmd.user, cmd.chat, fx)
        if found is None:
            return None
        interview, script = found
        return self.answers.media_plan(uow, script, interview, cmd, fx)

    async def fetch_media(self, cmd: MediaReceived, plan: MediaPlan, fx: Effects
                          ) -> Take | None:
        return await self.answers.fetch_media(cmd, plan, fx)

    def media_record(self, uow: UnitOfWork, cmd: MediaReceived, plan: MediaPlan, take: Take,
                     fx: Effects) -> bool:
        """Record a stored recording if the interview still waits for it; False if not used."""
        found = self._current(uow, cmd.user, cmd.chat, fx)
        if found is None:
            return False
        interview, script = found
        return self.answers.media_record(uow, script, interview, cmd, plan, take, fx)

    def unsupported(self, uow: UnitOfWork, cmd: UnsupportedReceived, fx: Effects) -> bool:
        return self.answers.unsupported(uow, cmd, fx)

    # -- buttons -----------------------------------------------------------------------
    def button(self, uow: UnitOfWork, user: UserRef, payload: Payload,
               message: MessageRef | None, fx: Effects) -> None:
        interview = pressed_by_candidate(uow, user, payload.interview_id, fx)
        if interview is None:
            return
        assert interview.chat is not None
        interview.last_activity_at = self._now()
        script = self.s.script(interview)
        if payload.action in (pl.WITHDRAW, pl.ERASE, pl.CANCEL):
            self.account.confirmed(uow, script, interview, payload, message, fx)
            return
        if interview.is_open and not check_deadline(script, interview, self._now(), fx):
            fx.say(N_("The deadline has passed."))
            return
        notice.on_consent(uow, script, interview, payload, self._now())
        handler = {
            pl.CONSENT: self.onboarding.on_consent,
            pl.KEEP: self.answers.on_keep,
            pl.REDO: self.answers.on_redo,
            pl.SKIP: self.answers.on_skip,
            pl.DONE: self.wrap_up.on_done,
            pl.FEEDBACK: self.wrap_up.on_feedback,
            pl.CONTINUE: self.onboarding.on_continue,
            pl.TIMEZONE: self.onboarding.on_zone,
            pl.CHOOSE: self.answers.choices.on_choose,
            pl.LANGUAGE: self.onboarding.on_language,
        }[payload.action]
        handler(script, interview, payload, message, fx)
        fx.changed.append(interview.id)

    # -- commands ----------------------------------------------------------------------
    def command(self, uow: UnitOfWork, cmd: UserCommand, fx: Effects) -> bool:
        return self.account.command(uow, cmd, fx)


__all__ = ["GRACE_SECONDS", "TOKEN_ATTEMPTS", "TOKEN_WINDOW", "CandidateFlow", "DomainError",
           "MediaPlan", "ask", "clean_text", "current_question", "erase", "receipt",
           "status_text", "unreadable"]
