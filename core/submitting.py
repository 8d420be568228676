"""Submitting an answer: the draft becomes the answer, then the next question, the end of
the questions, or a knock-out; and the deadline, which submits a draft left unsubmitted."""

from __future__ import annotations

from datetime import datetime

from core import texts
from core.capabilities import with_commands
from core.effects import Effects
from core.i18n import N_, t
from core.model import Interview, Take
from core.prompts import ask, chain_start, close, current_question, draft_summary, results
from core.refs import MessageRef
from core.script import DEFAULT_KNOCKOUT_MESSAGE, Question, Script
from core.services import Services
from core.states import State
from core.wrap_up import finish


def draft_of(interview: Interview, question: Question) -> Take | None:
    answer = interview.answer_for(question.id)
    return answer.draft(interview.awaiting_redo) if answer else None


def check_deadline(script: Script, interview: Interview, now: datetime, fx: Effects) -> bool:
    """Close an open interview past its deadline (submitting its draft first); False (after
    telling the candidate) if it is closed."""
    assert interview.chat is not None
    if interview.is_open and now >= interview.deadline:
        submit_at_deadline(script, interview, now, fx)
        fx.changed.append(interview.id)
        if interview.state is State.COMPLETED:
            return False
    if interview.state is State.EXPIRED:
        lang = texts.lang_for(script, interview.language)
        when = texts.local_time(interview.deadline, interview.tz, lang)
        fx.send(interview.chat, t(lang, N_(
            "Sorry, the deadline for this interview passed on {when}, so I can't take more "
            "answers. Please contact the hiring team if you need more time."), when=when))
        return False
    return True


def submit_at_deadline(script: Script, interview: Interview, now: datetime, fx: Effects) -> None:
    """The deadline: an unsubmitted draft is submitted as the answer (never lost); the
    interview then completes if that was the last question, else it expires."""
    question = current_question(script, interview) if interview.state is not State.INVITED else None
    draft = draft_of(interview, question) if question else None
    if question is not None and draft is not None and (draft.kind != "choice" or draft.choices):
        answer = interview.answer_for(question.id)
        assert answer is not None
        interview.keep(answer, draft, now)
        if interview.chat is not None:
            lang = texts.lang_for(script, interview.language)
            fx.send(interview.chat, t(lang, N_(
                "The deadline has come: your answer to {label} ({summary}) was submitted as it "
                "stood."), label=texts.question_label(script, question, lang),
                summary=draft_summary(draft, lang)))
        if question.knockout and set(draft.choices) & set(question.knockout):
            screen_out(script, interview, now, fx)
            return
        if current_question(script, interview) is None:
            finish(script, interview, now, fx)
            return
    interview.move_to(State.EXPIRED, now)


def screen_out(script: Script, interview: Interview, now: datetime, fx: Effects) -> None:
    """A knock-out answer: the interview ends politely and goes to no reviewer."""
    interview.move_to(State.SCREENED_OUT, now)
    if interview.chat is not None:
        lang = texts.lang_for(script, interview.language)
        message = script.text_in("knockout_message", lang)
        if message == DEFAULT_KNOCKOUT_MESSAGE:
            message = t(lang, DEFAULT_KNOCKOUT_MESSAGE)
        fx.send(interview.chat, with_commands(message.replace(
            "{name}", interview.candidate_name or t(lang, N_("there"))), interview.chat.platform))


def start_answer(services: Services, interview: Interview, question: Question, take: Take,
                 now: datetime) -> None:
    """A first piece of an answer (a new draft): the interview is now in progress."""
    interview.add_take(question.id, take)
    services.observer.answer_received(take.kind, interview.platform)
    if interview.state is State.CONSENTED:
        interview.move_to(State.IN_PROGRESS, now)
        interview.started_at = now


def submit(script: Script, interview: Interview, question: Question, take: Take | None,
           now: datetime, fx: Effects, pressed: MessageRef | None = None,
           since: str = "", carry: bool = True) -> None:
    """Submit (keep) an answer, then ask the next question, screen out, or finish.

    `pressed`: the message whose button submitted it. It is edited into the answer's result
    (below the results it showed before, from position `since`), and with `carry` the next
    question travels in that same edit: one message per step."""
    answer = interview.answer_for(question.id)
    assert answer is not None
    interview.keep(answer, take, now)
    start = chain_start(script, question, since)
    head = results(script, interview, start, script.questions.index(question) + 1)
    if take is not None and question.knockout and set(take.choices) & set(question.knockout):
        close(pressed, head, fx)
        screen_out(script, interview, now, fx)
        return
    if current_question(script, interview) is not None:
        if pressed is not None and carry:
            ask(script, interview, fx, into=pressed, head=head, since=start)
        else:
            close(pressed, head, fx)
            ask(script, interview, fx)
        return
    close(pressed, head, fx)
    finish(script, interview, now, fx)
