"""Choice questions: options as buttons (several: ticks and Done) or typed, and knock-outs."""

from __future__ import annotations

from datetime import datetime

from core import texts
from core.effects import Effects
from core.i18n import N_, t
from core.model import Interview, Take, new_id
from core.payloads import Payload
from core.prompts import chain_start, choice_message, current_question
from core.refs import MessageRef
from core.script import Question, Script
from core.services import Services
from core.submitting import draft_of, start_answer, submit
from core.written import clean_text


class Choices:
    """Handlers for options typed or pressed."""

    def __init__(self, services: Services) -> None:
        self.s = services

    def _now(self) -> datetime:
        return self.s.clock.now()

    def typed(self, script: Script, interview: Interview, question: Question,
              text: str, fx: Effects) -> None:
        """A message while a choice question is open: an option typed (case-insensitive)."""
        assert interview.chat is not None
        option = question.answer.option(clean_text(text))
        if option is None:
            lang = texts.lang_for(script, interview.language)
            fx.send(interview.chat, t(lang, N_(
                "Please choose one of the options: {options}. Tap a button, or type the option "
                "as it is written."), options=", ".join(question.answer.options)))
            return
        self._option_chosen(script, interview, question, option, None, fx)

    # -- choice questions ---------------------------------------------------------------
    def on_choose(self, script: Script, interview: Interview, payload: Payload,
                  message: MessageRef | None, fx: Effects) -> None:
        question = current_question(script, interview) if interview.is_open else None
        if (question is None or not question.answer.is_choice
                or str(script.questions.index(question)) != payload.arg(0)):
            fx.say(N_(
                "That question is already answered, so nothing changed. Please answer the "
                "latest question."))
            return
        pick = payload.arg(1)
        options = question.answer.options
        if pick == "d" and question.answer.multiple:
            self._choices_done(script, interview, question, message, fx, payload.arg(2))
            return
        if not pick.isdigit() or int(pick) >= len(options):
            fx.say(texts.STALE_BUTTON)
            return
        self._option_chosen(script, interview, question, options[int(pick)], message, fx,
                            payload.arg(2))

    def _option_chosen(self, script: Script, interview: Interview, question: Question,
                       option: str, message: MessageRef | None, fx: Effects,
                       since: str = "") -> None:
        assert interview.chat is not None
        if not question.answer.multiple:
            take = Take(id=new_id(), number=1, kind="choice", received_at=self._now(),
                        text=option)
            start_answer(self.s, interview, question, take, self._now())
            fx.say(N_("You chose {option}."), option=option)
            submit(script, interview, question, take, self._now(), fx, message, since)
            fx.changed.append(interview.id)
            return
        draft = draft_of(interview, question)
        if draft is None:
            draft = Take(id=new_id(), number=1, kind="choice", received_at=self._now(), text="")
            start_answer(self.s, interview, question, draft, self._now())
        chosen = set(draft.choices) ^ {option}
        draft.text = "\n".join(o for o in question.answer.options if o in chosen)
        fx.say(N_("Ticked {option}.") if option in chosen else N_("Unticked {option}."),
               option=option)
        updated = choice_message(script, interview, question,
                                 chain_start(script, question, since))
        if message is not None:
            fx.edits.append((message, updated))
        else:
            fx.send(interview.chat, updated)
        fx.changed.append(interview.id)

    def _choices_done(self, script: Script, interview: Interview, question: Question,
                      message: MessageRef | None, fx: Effects, since: str = "") -> None:
        draft = draft_of(interview, question)
        if draft is None or not draft.choices:
            fx.say(N_("Nothing is chosen yet: tap at least one option, then Done."))
            return
        fx.say(N_("Saved."))
        submit(script, interview, question, draft, self._now(), fx, message, since)
        fx.changed.append(interview.id)
