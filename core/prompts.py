"""What the candidate is asked or told next: questions, receipts, consent, wrap-up prompts,
and the message that repeats whatever is waiting for them."""

from __future__ import annotations

from datetime import datetime

from core import payloads as pl
from core import texts
from core.effects import Effects
from core.messages import Button, OutMessage
from core.model import FollowUp, Interview, Take, WrapUp
from core.refs import MessageRef
from core.script import Question, Script
from core.states import State


def current_question(script: Script, interview: Interview) -> Question | None:
    """The first question not yet kept or skipped, in script order."""
    done = interview.done_ids()
    return next((q for q in script.questions if q.id not in done), None)


def retakes_left(question: Question, interview: Interview) -> int:
    answer = interview.answer_for(question.id)
    used = max(0, len(answer.takes) - 1) if answer else 0
    return max(0, question.answer.retakes - used)


def ask(script: Script, interview: Interview, fx: Effects) -> None:
    """Send the current question, or start the wrap-up when none is left."""
    assert interview.chat is not None
    question = current_question(script, interview)
    if question is None:
        return
    buttons: tuple[tuple[Button, ...], ...] = ()
    if question.practice:
        position = script.questions.index(question)  # an id may not fit a payload; this does
        buttons = ((Button("Skip practice", pl.make(pl.SKIP, interview.id, position)),),)
    left = retakes_left(question, interview)
    fx.send(interview.chat, OutMessage(texts.question_text(script, question, left), buttons))


def receipt(script: Script, interview: Interview, question: Question, take: Take) -> OutMessage:
    """The message after a take: what was received, with Keep / Re-record."""
    what = (
        f"your voice answer ({texts.clock(take.duration)})" if take.kind == "voice"
        else f"your written answer ({len(take.text or '')} characters)"
    )
    left = retakes_left(question, interview)
    row = [Button("Keep", pl.make(pl.KEEP, interview.id, take.id), "primary")]
    if left:
        row.append(Button(f"Re-record ({left} left)", pl.make(pl.REDO, interview.id, take.id)))
        tail = "Keep it, or re-record?"
    else:
        tail = "No re-records left; tap Keep to continue."
    label = texts.question_label(script, question)
    return OutMessage(f"Got {what} to {label}. {tail}", (tuple(row),))


def status_text(script: Script, interview: Interview, now: datetime) -> str:
    if interview.state is State.COMPLETED:
        return "Your interview is complete and with the hiring team. Thank you!"
    if not interview.is_open:
        return f"This interview is {interview.state.value.replace('_', ' ')}."
    scored = script.scored_questions
    done = sum(1 for q in scored if q.id in interview.done_ids())
    due = texts.local_time(interview.deadline, interview.tz)
    return f"{done} of {len(scored)} questions answered, {len(scored) - done} left. Due {due}."


def consent_message(script: Script, interview: Interview) -> OutMessage:
    return OutMessage(script.consent, ((
        Button("I agree", pl.make(pl.CONSENT, interview.id, "y"), "primary"),
        Button("No thanks", pl.make(pl.CONSENT, interview.id, "n")),
    ),))


def zone_question(interview: Interview) -> OutMessage:
    buttons = [Button(name.rsplit("/", 1)[-1].replace("_", " "),
                      pl.make(pl.TIMEZONE, interview.id, i))
               for i, name in enumerate(texts.ZONE_CHOICES)]
    return OutMessage(texts.ASK_ZONE, tuple(tuple(buttons[i:i + 3])
                                            for i in range(0, len(buttons), 3)))


def questions_prompt(interview: Interview) -> OutMessage:
    return OutMessage("Any questions for the team? Send them as text, or tap Done.",
                      ((Button("Done", pl.make(pl.DONE, interview.id), "primary"),),))


def feedback_prompt(interview: Interview) -> OutMessage:
    return OutMessage(
        "One last thing: how was this interview for you? (1 = poor, 5 = great)",
        (tuple(Button(str(n), pl.make(pl.FEEDBACK, interview.id, n)) for n in range(1, 6)),),
    )


def follow_up_message(script: Script, interview: Interview, follow_up: FollowUp) -> OutMessage:
    answer = interview.answer_by_id(follow_up.answer_id)
    assert answer is not None
    question = script.question(answer.question_id)
    kinds = texts.kinds_phrase(question.answer.kinds)
    return OutMessage(
        f"The team has a follow-up question on your answer to "
        f"{texts.question_label(script, question)}:\n\n\"{follow_up.text}\"\n\n"
        f"Please reply with {kinds}."
    )


def repeat_prompt(script: Script, interview: Interview, fx: Effects) -> None:
    """Send again whatever is waiting for the candidate (consent, a question, a receipt...)."""
    assert interview.chat is not None
    if interview.state is State.INVITED:
        fx.send(interview.chat, consent_message(script, interview) if interview.tz_confirmed
                else zone_question(interview))
        return
    if interview.state is State.COMPLETED:
        follow_up = interview.open_follow_up()
        if follow_up:
            fx.send(interview.chat, follow_up_message(script, interview, follow_up))
        elif interview.wrap_up is WrapUp.QUESTIONS:
            fx.send(interview.chat, questions_prompt(interview))
        elif interview.wrap_up is WrapUp.FEEDBACK:
            fx.send(interview.chat, feedback_prompt(interview))
        return
    if not interview.is_open:
        return
    question = current_question(script, interview)
    assert question is not None
    answer = interview.answer_for(question.id)
    if answer and answer.takes and not interview.awaiting_redo:
        take = answer.takes[-1]
        fx.send(interview.chat, receipt(script, interview, question, take))
    else:
        ask(script, interview, fx)


def check_deadline(interview: Interview, now: datetime, fx: Effects) -> bool:
    """Expire an open interview past its deadline; False (after telling them) if so."""
    assert interview.chat is not None
    if interview.is_open and now >= interview.deadline:
        interview.move_to(State.EXPIRED, now)
        fx.changed.append(interview.id)
    if interview.state is State.EXPIRED:
        when = texts.local_time(interview.deadline, interview.tz)
        fx.send(interview.chat, f"Sorry, the deadline for this interview passed on {when}, "
                                "so I can't take more answers. Please contact the hiring "
                                "team if you need more time.")
        return False
    return True


def close(message: MessageRef | None, text: str, fx: Effects) -> None:
    """Replace a pressed message's buttons by a line saying what was chosen."""
    if message is not None:
        fx.edits.append((message, OutMessage(text)))
