"""Voluntary self-identification: a short, optional survey after the last step of an interview.

Only scripts with a `self_id` block ask it. One category at a time, each with its answers and
"Prefer not to say" as buttons, and a button to skip the rest. Answers go to their own table
(`FairnessRecords`), keyed by interview: no review card, `results` row or webhook reads it; only
the adverse-impact report (core/fairness.py) counts it, and erasure deletes it.
"""

from __future__ import annotations

from core import payloads as pl
from core import texts
from core.capabilities import with_commands
from core.effects import Effects
from core.i18n import N_, t
from core.messages import Button, OutMessage
from core.model import Interview
from core.payloads import Payload
from core.ports import UnitOfWork
from core.prompts import pressed_by_candidate
from core.refs import MessageRef, UserRef
from core.script import Script
from core.services import Services
from core.states import State

SKIP = "x"
INTRO = N_(
    "Optional and voluntary: to check that our hiring process treats every group fairly, we "
    "ask a few questions about you. Your answers are kept apart from your interview, are never "
    "shown to the people who review it, and have no effect on any decision. Skip any question, "
    "or all of them. {delete} erases them with the rest of your interview."
)
NO_SURVEY = N_("This interview has no voluntary survey, so nothing was recorded.")
THANKS = N_("Thank you. That was the last question of the survey.")
SKIPPED = N_("Survey skipped. Nothing more will be asked.")


def question(script: Script, interview: Interview, index: int) -> OutMessage:
    """The survey's question `index`: its answers as buttons, three to a row, then Skip."""
    category = script.self_id[index]
    lang = texts.lang_for(script, interview.language)
    # Built-in labels and "Prefer not to say" are shown translated; answers are stored as the
    # script (or the catalog's English) writes them, so the report counts one option once.
    buttons = [Button(t(lang, option), pl.make(pl.SELF_ID, interview.id, index, n))
               for n, option in enumerate(category.options)]
    rows = [tuple(buttons[i:i + 3]) for i in range(0, len(buttons), 3)]
    rows.append((Button(t(lang, N_("Skip the survey")),
                        pl.make(pl.SELF_ID, interview.id, index, SKIP)),))
    label = t(lang, category.label)
    if len(script.self_id) > 1:
        return OutMessage(t(lang, N_("{label} ({step} of {total}): which describes you? "
                                     "(optional)"), label=label, step=index + 1,
                            total=len(script.self_id)), tuple(rows))
    return OutMessage(t(lang, N_("{label}: which describes you? (optional)"), label=label),
                      tuple(rows))


def offer(script: Script, interview: Interview, fx: Effects) -> None:
    """After the interview's last message: ask the survey's first question, if it has one."""
    if not script.self_id or interview.chat is None:
        return
    fx.send(interview.chat, with_commands(t(texts.lang_for(script, interview.language), INTRO),
                                          interview.chat.platform))
    fx.send(interview.chat, question(script, interview, 0))


def on_button(services: Services, uow: UnitOfWork, user: UserRef, payload: Payload,
              message: MessageRef | None, fx: Effects) -> None:
    """A survey answer or Skip; anything stale or foreign changes nothing."""
    interview = pressed_by_candidate(uow, user, payload.interview_id, fx)
    if interview is None:
        return
    script = services.script(interview.script_id)
    lang = texts.lang_for(script, interview.language)
    if not script.self_id:
        fx.say(NO_SURVEY)
        return
    index = int(payload.arg(0)) if payload.arg(0).isdigit() else -1
    if interview.state is not State.COMPLETED or not 0 <= index < len(script.self_id):
        fx.say(texts.STALE_BUTTON)
        return
    category = script.self_id[index]
    choice = payload.arg(1)
    if choice == SKIP:
        fx.say(texts.SKIPPED)
        if message is not None:
            fx.edits.append((message, OutMessage(t(lang, SKIPPED))))
        return
    option = int(choice) if choice.isdigit() else -1
    if not 0 <= option < len(category.options):
        fx.say(texts.STALE_BUTTON)
        return
    if category.name in uow.fairness.self_id(interview.id):
        fx.say(N_("Already answered."))
        return
    answer = category.options[option]
    uow.fairness.put_self_id(interview.id, category.name, answer, services.clock.now())
    fx.say(N_("Thank you."))
    if message is not None:
        fx.edits.append((message, OutMessage(f"{t(lang, category.label)}: {t(lang, answer)}")))
    assert interview.chat is not None
    if index + 1 < len(script.self_id):
        fx.send(interview.chat, question(script, interview, index + 1))
    else:
        fx.send(interview.chat, t(lang, THANKS))
