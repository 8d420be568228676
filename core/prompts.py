"""What the candidate is asked or told next: questions, receipts, consent, wrap-up prompts,
and the message that repeats whatever is waiting for them."""

from __future__ import annotations

from datetime import datetime

from core import language_choice, notice, texts
from core import payloads as pl
from core.effects import Effects
from core.i18n import N_, t, tn
from core.messages import Button, OutMessage
from core.model import FollowUp, Interview, Take, WrapUp
from core.ports import UnitOfWork
from core.refs import MessageRef, UserRef
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


CARRY_LIMIT = 3000  # characters: an edit carrying the next question fits one message anywhere


def ask(script: Script, interview: Interview, fx: Effects, into: MessageRef | None = None,
        head: str = "", since: int | None = None) -> None:
    """Send the current question (a choice question with its options as buttons).

    With `into` (the message a button was pressed on), the question travels in that message's
    edit instead, below `head` (what the press did, and what the message showed before);
    `since` is the first question whose result `head` shows. The edit falls back to a new
    message when it cannot be made (`fx.carrying`). Too long to carry: `into` shows `head`,
    and the question is sent."""
    assert interview.chat is not None
    question = current_question(script, interview)
    if question is None:
        return
    if into is not None:
        carried = question_message(script, interview, question, since)
        text = f"{head}\n\n{carried.text}"
        if len(text) <= CARRY_LIMIT:
            fx.edits.append((into, OutMessage(text, carried.buttons)))
            fx.carrying.append(into)
            return
        close(into, head, fx)
    fx.send(interview.chat, question_message(script, interview, question))


def question_message(script: Script, interview: Interview, question: Question,
                     since: int | None = None) -> OutMessage:
    """A question as asked: its rules and text, its buttons (options, Skip practice).

    `since`: the message also shows the results of the questions from that position on (it
    carried them before), and its buttons say so, so that a press keeps them in view."""
    if question.answer.is_choice:
        return choice_message(script, interview, question, since)
    lang = texts.lang_for(script, interview.language)
    position = script.questions.index(question)  # an id may not fit a payload; this does
    buttons: tuple[tuple[Button, ...], ...] = ()
    if question.practice:
        buttons = ((Button(t(lang, texts.SKIP_PRACTICE),
                           pl.make(pl.SKIP, interview.id, position, *_chain(position, since))),),)
    left = retakes_left(question, interview)
    return OutMessage(texts.question_text(script, question, left, lang), buttons)


def _chain(position: int, since: int | None) -> tuple[int, ...]:
    """The payload argument naming where a message's chain of results starts, if before."""
    return (since,) if since is not None and since < position else ()


def chain_start(script: Script, question: Question, since: str) -> int:
    """Where the results shown above `question` start: a payload's `since`, checked."""
    position = script.questions.index(question)
    return int(since) if since.isdigit() and int(since) < position else position


def answer_result(script: Script, interview: Interview, question: Question) -> str:
    """What became of a question's answer, as the message it was given on says afterwards."""
    lang = texts.lang_for(script, interview.language)
    label = texts.question_label(script, question, lang)
    answer = interview.answer_for(question.id)
    kept = answer.kept if answer else None
    if kept is None:
        return (t(lang, texts.PRACTICE_SKIPPED) if question.practice
                else t(lang, N_("{label}: skipped."), label=label))
    if kept.kind == "choice":
        return (f"{label}: {question.text_in(lang)}\n\n"
                + t(lang, texts.YOU_CHOSE, options=", ".join(kept.choices)))
    return t(lang, N_("Submitted your answer to {label} ({summary})."), label=label,
             summary=draft_summary(kept, lang))


def results(script: Script, interview: Interview, start: int, end: int) -> str:
    """The results of the questions at positions [start, end), one paragraph each."""
    return "\n\n".join(answer_result(script, interview, q)
                         for q in script.questions[start:end])


def choice_message(script: Script, interview: Interview, question: Question,
                   since: int | None = None) -> OutMessage:
    """A choice question: one button per option (ticked when chosen), and Done for several;
    below the results of the questions from `since` on, when the message carried them."""
    rules = question.answer
    position = script.questions.index(question)
    chain = _chain(position, since)
    answer = interview.answer_for(question.id)
    draft = answer.draft(interview.awaiting_redo) if answer else None
    chosen = set(draft.choices) if draft else set()
    lang = texts.lang_for(script, interview.language)
    rows = [(Button(("✓ " if option in chosen else "") + option,
                    pl.make(pl.CHOOSE, interview.id, position, i, *chain)),)
            for i, option in enumerate(rules.options)]
    if rules.multiple:
        rows.append((Button(t(lang, texts.DONE),
                            pl.make(pl.CHOOSE, interview.id, position, "d", *chain),
                            "primary"),))
        how = t(lang, N_("Tap every option that applies, then Done (or type an option to tick or "
                         "untick it)."))
        if chosen:
            how += "\n" + t(lang, N_("Chosen so far: {options}."),
                            options=", ".join(o for o in rules.options if o in chosen))
    else:
        how = t(lang, N_("Tap one option, or type it."))
    head = results(script, interview, chain[0], position) + "\n\n" if chain else ""
    return OutMessage(f"{head}{texts.question_label(script, question, lang)}\n\n"
                      f"{question.text_in(lang)}\n\n{how}", tuple(rows))


def draft_summary(take: Take, lang: str | None = None) -> str:
    """What a draft holds: "2 messages, 143 words", "2 clips, 1:42", or the chosen options."""
    n = take.pieces
    if take.kind == "voice":
        return tn(lang, "{n} clip, {length}", "{n} clips, {length}", n,
                  length=texts.clock(take.duration))
    if take.kind == "choice":
        return ", ".join(take.choices) or t(lang, N_("nothing chosen"))
    words = tn(lang, "{n} word", "{n} words", take.words)
    return tn(lang, "{n} message, {words}", "{n} messages, {words}", n, words=words)


def receipt(script: Script, interview: Interview, question: Question, take: Take,
            max_seconds: int | None = None) -> OutMessage:
    """The message after each piece of a draft: what it holds, with Submit / Start over.
    `max_seconds`: the answer's limit for this interview, when an adjustment changed it."""
    lang = texts.lang_for(script, interview.language)
    label = texts.question_label(script, question, lang)
    summary = draft_summary(take, lang)
    if take.kind == "voice":
        limit = question.answer.max_seconds if max_seconds is None else max_seconds
        room = limit - (take.duration or 0)
        got = t(lang, N_("Got your voice answer ({summary}) to {label}."), summary=summary,
                label=label)
        more = (t(lang, N_("To add more, just record another voice note ({left} left)."),
                  left=texts.clock(room)) if room >= 1
                else t(lang, N_("To add more, just record another voice note.")))
    else:
        got = t(lang, N_("Got your written answer ({summary}) to {label}."), summary=summary,
                label=label)
        more = t(lang, N_("To add more, just keep typing."))
    left = retakes_left(question, interview)
    row = [Button(t(lang, texts.SUBMIT), pl.make(pl.KEEP, interview.id, take.id, take.pieces),
                  "primary")]
    if left:
        row.append(Button(t(lang, N_("Start over ({left} left)"), left=left),
                          pl.make(pl.REDO, interview.id, take.id)))
        tail = t(lang, N_("Tap Submit when it is complete, or Start over."))
    else:
        tail = t(lang, N_("Tap Submit when it is complete."))
    return OutMessage(f"{got} {more} {tail}", (tuple(row),))


def status_text(script: Script, interview: Interview, now: datetime) -> str:
    lang = texts.lang_for(script, interview.language)
    if interview.state is State.COMPLETED:
        return t(lang, texts.STATUS_COMPLETE)
    if not interview.is_open:
        state = texts.STATES.get(interview.state.value, interview.state.value.replace("_", " "))
        return t(lang, texts.STATUS_CLOSED, state=t(lang, state))
    scored = script.scored_questions
    done = sum(1 for q in scored if q.id in interview.done_ids())
    due = texts.local_time(interview.deadline, interview.tz, lang)
    return t(lang, texts.STATUS_PROGRESS, done=done, total=len(scored), left=len(scored) - done,
             due=due)


def consent_message(script: Script, interview: Interview) -> OutMessage:
    lang = texts.lang_for(script, interview.language)
    return OutMessage(notice.consent_text(script, lang), ((
        Button(t(lang, texts.AGREE), pl.make(pl.CONSENT, interview.id, "y"), "primary"),
        Button(t(lang, texts.NO_THANKS), pl.make(pl.CONSENT, interview.id, "n")),
    ),))


def zone_question(interview: Interview, lang: str | None = None) -> OutMessage:
    buttons = [Button(name.rsplit("/", 1)[-1].replace("_", " "),
                      pl.make(pl.TIMEZONE, interview.id, i))
               for i, name in enumerate(texts.ZONE_CHOICES)]
    return OutMessage(t(lang, texts.ASK_ZONE), tuple(tuple(buttons[i:i + 3])
                                                     for i in range(0, len(buttons), 3)))


def questions_prompt(interview: Interview, lang: str | None = None) -> OutMessage:
    return OutMessage(t(lang, N_("Any questions for the team? Send them as text, or tap Done.")),
                      ((Button(t(lang, texts.DONE), pl.make(pl.DONE, interview.id),
                               "primary"),),))


def feedback_prompt(interview: Interview, lang: str | None = None) -> OutMessage:
    return OutMessage(
        t(lang, N_("One last thing: how was this interview for you? (1 = poor, 5 = great)")),
        (tuple(Button(str(n), pl.make(pl.FEEDBACK, interview.id, n)) for n in range(1, 6)),),
    )


def follow_up_message(script: Script, interview: Interview, follow_up: FollowUp) -> OutMessage:
    answer = interview.answer_by_id(follow_up.answer_id)
    assert answer is not None
    question = script.question(answer.question_id)
    lang = texts.lang_for(script, interview.language)
    return OutMessage(t(lang, texts.FOLLOW_UP_QUESTION,
                        label=texts.question_label(script, question, lang),
                        question=follow_up.text,
                        kinds=texts.kinds_phrase(question.answer.kinds, lang)))


def repeat_prompt(script: Script, interview: Interview, fx: Effects) -> None:
    """Send again whatever is waiting for the candidate (consent, a question, a receipt...)."""
    assert interview.chat is not None
    lang = texts.lang_for(script, interview.language)
    if interview.state is State.INVITED:
        if language_choice.needs_choice(script, interview):
            fx.send(interview.chat, language_choice.question(script, interview))
            return
        fx.send(interview.chat, consent_message(script, interview) if interview.tz_confirmed
                else zone_question(interview, lang))
        return
    if interview.state is State.COMPLETED:
        follow_up = interview.open_follow_up()
        if follow_up:
            fx.send(interview.chat, follow_up_message(script, interview, follow_up))
        elif interview.wrap_up is WrapUp.QUESTIONS:
            fx.send(interview.chat, questions_prompt(interview, lang))
        elif interview.wrap_up is WrapUp.FEEDBACK:
            fx.send(interview.chat, feedback_prompt(interview, lang))
        return
    if not interview.is_open:
        return
    question = current_question(script, interview)
    assert question is not None
    answer = interview.answer_for(question.id)
    draft = answer.draft(interview.awaiting_redo) if answer else None
    if draft is not None and not question.answer.is_choice:
        fx.send(interview.chat, receipt(script, interview, question, draft))
    else:
        ask(script, interview, fx)


def close(message: MessageRef | None, text: str, fx: Effects) -> None:
    """Replace a pressed message's buttons by a line saying what was chosen."""
    if message is not None:
        fx.edits.append((message, OutMessage(text)))


def pressed_by_candidate(uow: UnitOfWork, user: UserRef, interview_id: str, fx: Effects
                         ) -> Interview | None:
    """The interview a candidate's button is about, when `user` is its candidate; None (the
    press answered "no longer active" or "not for you") otherwise."""
    interview = uow.interviews.get(interview_id)
    if interview is None or interview.candidate is None:
        fx.say(texts.STALE_BUTTON)
        return None
    if interview.candidate != user:
        fx.say(texts.NOT_YOUR_BUTTON)
        return None
    return interview
