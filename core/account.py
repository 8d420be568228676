"""The candidate's control over their interview: status, withdrawing, and erasure."""

from __future__ import annotations

from datetime import datetime

from core import accommodations, language_choice, texts
from core import payloads as pl
from core.capabilities import with_commands
from core.commands import UserCommand
from core.effects import Effects
from core.events import InterviewErased
from core.i18n import N_, t
from core.messages import Button, OutMessage
from core.model import AuditEntry, Interview
from core.onboarding import Onboarding
from core.payloads import Payload
from core.ports import UnitOfWork
from core.prompts import close, repeat_prompt, status_text
from core.refs import MessageRef
from core.script import Script
from core.services import Services
from core.states import State
from core.submitting import check_deadline
from core.vocabulary import Verb


class Account:
    """Handlers for the commands of `core.vocabulary.Verb` and their confirmations."""

    def __init__(self, services: Services) -> None:
        self.s = services

    def _now(self) -> datetime:
        return self.s.clock.now()

    def command(self, uow: UnitOfWork, cmd: UserCommand, fx: Effects) -> bool:
        interview = uow.interviews.current_for(cmd.user)
        if cmd.name == Verb.HELP:
            if interview is None:
                fx.send(cmd.chat, texts.help_text(None, None, cmd.chat.platform))
            else:
                helped = self.s.script(interview)
                fx.send(cmd.chat, texts.help_text(helped, texts.lang_for(
                    helped, interview.language), cmd.chat.platform))
            return True
        if interview is None:
            return False
        assert interview.chat is not None
        script = self.s.script(interview)
        lang = texts.lang_for(script, interview.language)
        if cmd.name == Verb.STATUS:
            if interview.is_open and self._now() >= interview.deadline:
                check_deadline(script, interview, self._now(), fx)
                return True
            fx.send(cmd.chat, status_text(script, interview, self._now()))
        elif cmd.name == Verb.WITHDRAW:
            if not interview.is_open:
                fx.send(cmd.chat, status_text(script, interview, self._now()))
                return True
            fx.send(cmd.chat, OutMessage(
                t(lang, N_("Withdraw from this interview? The team will be told you stopped.")),
                ((Button(t(lang, N_("Yes, withdraw")), pl.make(pl.WITHDRAW, interview.id),
                         "danger"),
                  Button(t(lang, texts.CANCEL), pl.make(pl.CANCEL, interview.id))),)))
        elif cmd.name == Verb.LANGUAGE:
            awaiting = language_choice.needs_choice(script, interview)  # asked after greeting
            changed = language_choice.change(script, interview, cmd.argument, fx)
            if changed and awaiting and interview.state is State.INVITED:
                Onboarding(self.s).after_language(script, interview, fx)
            elif changed and (interview.is_open or interview.state is State.COMPLETED):
                repeat_prompt(script, interview, fx)
        elif cmd.name == Verb.ADJUST:
            accommodations.ask(self.s, uow, script, interview, cmd.chat, fx)
        elif cmd.name == Verb.DELETE:
            fx.send(cmd.chat, OutMessage(
                t(lang, N_("Erase your answers and recordings? This cannot be undone.")),
                ((Button(t(lang, N_("Yes, erase everything")), pl.make(pl.ERASE, interview.id),
                         "danger"),
                  Button(t(lang, texts.CANCEL), pl.make(pl.CANCEL, interview.id))),)))
        else:
            fx.send(cmd.chat, texts.help_text(script, lang, cmd.chat.platform))
        return True

    def confirmed(self, uow: UnitOfWork, script: Script, interview: Interview,
                  payload: Payload, message: MessageRef | None, fx: Effects) -> None:
        assert interview.chat is not None
        lang = texts.lang_for(script, interview.language)
        if payload.action == pl.CANCEL:
            fx.say(N_("Cancelled."))
            close(message, t(lang, N_("Cancelled. Nothing changed.")), fx)
            return
        if payload.action == pl.WITHDRAW:
            if not interview.is_open:
                fx.say(texts.STALE_BUTTON)
                return
            interview.move_to(State.WITHDRAWN, self._now())
            fx.say(N_("Withdrawn."))
            close(message, t(lang, N_("You withdrew from this interview.")), fx)
            fx.send(interview.chat, with_commands(t(lang, N_(
                "You have withdrawn. Thank you for your time. Use {delete} if you also want "
                "your answers erased.")), interview.chat.platform))
            fx.changed.append(interview.id)
            return
        erase(self.s, uow, interview, actor="candidate", now=self._now(), fx=fx)
        fx.say(N_("Erased."))
        close(message, t(lang, N_("Your answers and recordings have been erased.")), fx)


def erase(services: Services, uow: UnitOfWork, interview: Interview, *, actor: str,
          now: datetime, fx: Effects) -> None:
    """Remove an interview's personal data and media, keeping an anonymous row and audit entry.

    `actor` is "candidate", "retention" or an operator, never the candidate's platform id.
    Once committed, the `InterviewErased` step deletes every message posted about the
    interview (cards, their pieces and files, the reel, broadcasts, reviewer prompts)."""
    for answer in interview.answers:
        for take in answer.takes:
            if take.media_key:
                services.audio.delete(take.media_key)
    for follow_up in interview.follow_ups:
        if follow_up.reply and follow_up.reply.media_key:
            services.audio.delete(follow_up.reply.media_key)
    services.audio.delete(f"{interview.id}/reel")
    if interview.state is not State.ERASED:
        interview.move_to(State.ERASED, now)
    interview.candidate_name = ""
    interview.candidate = None
    interview.chat = None
    interview.tz = "UTC"
    interview.tz_confirmed = False
    interview.answers.clear()
    interview.follow_ups.clear()
    interview.candidate_questions.clear()
    interview.experience_rating = None
    uow.reviews.erase(interview.id)
    uow.fairness.erase(interview.id)
    uow.reviews.audit(AuditEntry(interview.id, actor, "erased", "answers, media and name", now))
    fx.emit(InterviewErased(interview.id))
    fx.changed.append(interview.id)
