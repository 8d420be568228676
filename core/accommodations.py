"""Adjustments on request: more time, longer answers, text instead of voice, something else.

A script's `accommodations` block lists what may be asked for. The expectations message tells
every candidate how (a button, or the adjust command). The candidate ticks adjustments, sends
them, may add a note; the request goes to the deciders as a card with Approve / Decline.
Approved adjustments apply to that interview only: the deadline moves, voice answers may run
longer, text is taken where voice was required. Reviewers are never told: nothing here
touches review cards.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from core import payloads as pl
from core import texts
from core.commands import ButtonPressed
from core.deadlines import extend_deadline
from core.durations import format_duration
from core.effects import Effects
from core.fairness_records import AccommodationRequest, RequestStatus
from core.i18n import N_, t
from core.messages import Button, OutMessage
from core.model import AuditEntry, Interview, new_id
from core.payloads import Payload
from core.ports import UnitOfWork
from core.refs import ChatRef
from core.replies import Reply, say
from core.review_settings import is_user_group
from core.reviewers import is_named
from core.script import AnswerRules, Question, Script
from core.script_fairness import ADJUSTMENTS, Accommodations
from core.services import Services
from core.states import OPEN_STATES

LABELS = {"more_time": N_("More time"), "longer_answers": N_("Longer answers"),
          "text_instead_of_voice": N_("Text instead of voice"), "other": N_("Something else")}
# The same in a sentence ("Need an adjustment (more time, longer answers)?").
NAMES = {"more_time": N_("more time"), "longer_answers": N_("longer answers"),
         "text_instead_of_voice": N_("text instead of voice"), "other": N_("something else")}
OPEN, TOGGLE, SEND, NO_NOTE = "m", "t", "s", "n"  # candidate steps in `pl.ADJUST` payloads
NOT_OFFERED = N_("This interview does not offer adjustments. Please write to the person who "
                 "invited you.")
MAX_NOTE = 1000
NOTE_WINDOW = timedelta(minutes=30)
"""A text this long after Send request is an answer, not the note: the request goes without."""


def _lang(script: Script, interview: Interview) -> str:
    return texts.lang_for(script, interview.language)


def names(adjustments: tuple[str, ...], lang: str) -> str:
    return ", ".join(t(lang, NAMES[a]) for a in adjustments)


def effect(settings: Accommodations, adjustment: str, lang: str | None = None) -> str:
    """What an adjustment does, in the candidate's words."""
    return {
        "more_time": lambda: t(lang, N_("more time (the deadline moves {duration} later)"),
                               duration=format_duration(settings.extra_time)),
        "longer_answers": lambda: t(lang, N_("longer answers (up to {factor}× the time for each "
                                             "voice answer)"),
                                    factor=f"{settings.answer_factor:g}"),
        "text_instead_of_voice": lambda: t(lang, N_("text instead of voice (you may type any "
                                                    "answer)")),
        "other": lambda: t(lang, N_("something else (explain it in your note)")),
    }[adjustment]()


def how_to_ask(script: Script, interview: Interview, message: str) -> OutMessage:
    """The expectations message, with how to ask for an adjustment when the script offers any."""
    settings = script.accommodations
    if settings is None:
        return OutMessage(message)
    lang = _lang(script, interview)
    offer = names(settings.offer, lang)
    how = (texts.for_channel(lang, N_(
        "Need an adjustment ({offer})? Tap the button below, send {adjust} at any time or write "
        "to {contact}. Reviewers are not told."), interview.platform, offer=offer,
        contact=settings.contact) if settings.contact else texts.for_channel(lang, N_(
            "Need an adjustment ({offer})? Tap the button below or send {adjust} at any time. "
            "Reviewers are not told."), interview.platform, offer=offer))
    return OutMessage(
        f"{message}\n{how}",
        ((Button(t(lang, N_("Ask for an adjustment")), pl.make(pl.ADJUST, interview.id, OPEN)),),))


def approved(uow: UnitOfWork, script: Script, interview: Interview) -> set[str]:
    """The adjustments approved for an interview (no query when the script offers none)."""
    if script.accommodations is None:
        return set()
    return {a for r in uow.fairness.requests(interview.id)
            if r.status is RequestStatus.APPROVED for a in r.adjustments}


def rules(uow: UnitOfWork, script: Script, interview: Interview, question: Question
          ) -> AnswerRules:
    """A question's answer rules with this interview's approved adjustments applied."""
    granted = approved(uow, script, interview)
    base = question.answer
    if not granted or script.accommodations is None:
        return base
    kinds = base.kinds
    if "text_instead_of_voice" in granted and "text" not in kinds:
        kinds = (*kinds, "text")
    seconds = base.max_seconds
    if "longer_answers" in granted:
        seconds = round(seconds * script.accommodations.answer_factor)
    return replace(base, kinds=kinds, max_seconds=seconds)


def _open(requests: list[AccommodationRequest]) -> AccommodationRequest | None:
    return next((r for r in requests
                 if r.status in (RequestStatus.DRAFT, RequestStatus.PENDING)), None)


def _waiting(request: AccommodationRequest, interview: Interview) -> Reply:
    return say(N_("You already have a request with the team (sent {when}); they will answer "
                  "here. Nothing was changed."),
               when=lambda lang: texts.local_time(request.requested_at, interview.tz, lang))


def _menu(script: Script, interview: Interview, mask: int) -> OutMessage:
    settings = script.accommodations
    assert settings is not None
    lang = _lang(script, interview)
    rows = []
    for adjustment in settings.offer:
        bit = 1 << ADJUSTMENTS.index(adjustment)
        tick = "✓ " if mask & bit else ""
        rows.append((Button(f"{tick}{t(lang, LABELS[adjustment])}",
                            pl.make(pl.ADJUST, interview.id, TOGGLE, mask ^ bit)),))
    if mask:
        rows.append((Button(t(lang, N_("Send request")),
                            pl.make(pl.ADJUST, interview.id, SEND, mask), "primary"),))
    lines = "\n".join(f"• {effect(settings, a, lang)}" for a in settings.offer)
    ask = t(lang, N_("Which adjustments would you like? Tap each that applies, then Send "
                     "request."))
    return OutMessage(f"{ask}\n{lines}", tuple(rows))


def ask(services: Services, uow: UnitOfWork, script: Script, interview: Interview,
        chat: ChatRef, fx: Effects) -> None:
    """The adjust command (or the button): show the adjustments offered, unless one request is
    waiting."""
    lang = _lang(script, interview)
    if script.accommodations is None:
        fx.send(chat, t(lang, NOT_OFFERED))
        return
    if interview.state not in OPEN_STATES:
        state = texts.STATES.get(interview.state.value, interview.state.value.replace("_", " "))
        fx.send(chat, t(lang, N_("Adjustments apply while an interview is open; this one is "
                                 "{state}."), state=t(lang, state)))
        return
    waiting = _open(uow.fairness.requests(interview.id))
    if waiting is not None:
        fx.send(chat, _waiting(waiting, interview).render(lang))
        return
    fx.send(chat, _menu(script, interview, 0))


def _adjustments(settings: Accommodations, mask: str) -> tuple[str, ...] | None:
    """The adjustments a mask names; None when it names one not offered (or is malformed)."""
    if not mask.isdigit() or not 0 < int(mask) < 1 << len(ADJUSTMENTS):
        return None
    chosen = tuple(a for i, a in enumerate(ADJUSTMENTS) if int(mask) & 1 << i)
    return chosen if all(a in settings.offer for a in chosen) else None


def take_note(services: Services, uow: UnitOfWork, script: Script, interview: Interview,
              text: str, fx: Effects) -> bool:
    """A text while a request waits for its note is that note; True if it was taken. After
    `NOTE_WINDOW` the request is sent without a note and the text is handled as usual."""
    if script.accommodations is None or interview.chat is None:
        return False
    draft = next((r for r in uow.fairness.requests(interview.id)
                  if r.status is RequestStatus.DRAFT), None)
    if draft is None:
        return False
    if services.clock.now() - draft.requested_at > NOTE_WINDOW:
        _submit(services, uow, script, interview, draft, "", fx)
        return False
    note = "".join(ch for ch in text if ch.isprintable() or ch == "\n").strip()[:MAX_NOTE]
    _submit(services, uow, script, interview, draft, note, fx)
    return True


def _submit(services: Services, uow: UnitOfWork, script: Script, interview: Interview,
            request: AccommodationRequest, note: str, fx: Effects) -> None:
    assert interview.chat is not None and script.accommodations is not None
    request.note, request.status = note, RequestStatus.PENDING
    uow.fairness.put_request(request)
    team = texts.review_lang(script)
    card = OutMessage(
        t(team, N_("Candidate #{number} ({title}) asks for adjustments: {chosen}.\nNote: {note}\n"
                   "Approving applies them to this interview only; reviewers are not told."),
          number=interview.number, title=script.text_in("title", team),
          chosen=names(request.adjustments, team), note=note or t(team, N_("(none)"))),
        ((Button(t(team, N_("Approve")),
                 pl.make(pl.ADJUST_DECIDE, interview.id, request.id, "a"), "primary"),
          Button(t(team, N_("Decline")),
                 pl.make(pl.ADJUST_DECIDE, interview.id, request.id, "d"))),))
    for destination in deciders(services, script):
        fx.send(destination, card)
    fx.send(interview.chat, t(_lang(script, interview), N_(
        "Your request is with the hiring team; they will answer here. You can carry on with the "
        "interview meanwhile.")))


def _listed(script: Script) -> tuple[str, ...]:
    """Who decides: the accommodations' deciders, else the review's (people, chats or
    user groups); empty: the reviewers."""
    assert script.accommodations is not None
    return script.accommodations.deciders or script.review.deciders


def deciders(services: Services, script: Script) -> tuple[ChatRef, ...]:
    """Where requests go: the listed deciders (a user group is not a chat: its members are
    reached through the review chats), else the review destinations."""
    chats = tuple(ChatRef.parse(d) for d in _listed(script) if not is_user_group(d))
    return chats or services.destinations(script)


def on_button(services: Services, uow: UnitOfWork, cmd: ButtonPressed, payload: Payload,
              fx: Effects) -> None:
    """A candidate's step (open, tick, send, no note) or a decider's Approve / Decline."""
    interview = uow.interviews.get(payload.interview_id)
    if interview is None:
        fx.say(texts.STALE_BUTTON)
        return
    script = services.script(interview.script_id)
    if payload.action == pl.ADJUST_DECIDE:
        _decide(services, uow, script, interview, cmd, payload, fx)
        return
    if interview.candidate != cmd.user or interview.chat is None:
        fx.say(texts.NOT_YOUR_BUTTON)
        return
    settings = script.accommodations
    step = payload.arg(0)
    lang = _lang(script, interview)
    if settings is None:
        fx.say(NOT_OFFERED)
        return
    if step == OPEN:
        fx.say(N_("Adjustments"))
        ask(services, uow, script, interview, interview.chat, fx)
        return
    if interview.state not in OPEN_STATES:
        fx.say(texts.STALE_BUTTON)
        return
    waiting = _open(uow.fairness.requests(interview.id))
    if step == NO_NOTE:
        if waiting is None or waiting.id != payload.arg(1) or \
                waiting.status is not RequestStatus.DRAFT:
            fx.say(texts.STALE_BUTTON)
            return
        fx.say(N_("Sent."))
        _submit(services, uow, script, interview, waiting, "", fx)
        return
    chosen = _adjustments(settings, payload.arg(1))
    if step not in (TOGGLE, SEND) or (chosen is None and (step == SEND or payload.arg(1) != "0")):
        fx.say(N_("That adjustment is not offered for this interview. Nothing was changed; "
                  "please pick from the list."))
        return
    if waiting is not None:
        fx.reply = _waiting(waiting, interview)
        return
    if step == TOGGLE:
        fx.say(N_("OK"))
        if cmd.message is not None:
            fx.edits.append((cmd.message, _menu(script, interview, int(payload.arg(1)))))
        return
    assert chosen is not None
    request = AccommodationRequest(new_id(), interview.id, chosen, "", services.clock.now(),
                                   RequestStatus.DRAFT)
    uow.fairness.put_request(request)
    fx.say(N_("Almost done."))
    if cmd.message is not None:
        fx.edits.append((cmd.message, OutMessage(t(lang, N_("You asked for: {effects}."), effects=(
            ", ".join(effect(settings, a, lang) for a in chosen))))))
    fx.send(interview.chat, OutMessage(
        t(lang, N_("Would you like to add a note for the team (optional, e.g. what would help)? "
                   "Type it now, or tap Send without a note.")),
        ((Button(t(lang, N_("Send without a note")),
                 pl.make(pl.ADJUST, interview.id, NO_NOTE, request.id)),),)))


def _decide(services: Services, uow: UnitOfWork, script: Script, interview: Interview,
            cmd: ButtonPressed, payload: Payload, fx: Effects) -> None:
    if script.accommodations is None:
        fx.say(texts.STALE_BUTTON)
        return
    listed = _listed(script)
    allowed = {str(d) for d in (deciders(services, script) if not listed else
                                (ChatRef.parse(d) for d in listed if not is_user_group(d)))}
    if not ({str(cmd.chat), str(cmd.user)} & allowed or is_named(services, listed, cmd.user)):
        fx.say(N_("Only the people who decide adjustments can answer this request."))
        return
    request = next((r for r in uow.fairness.requests(interview.id)
                    if r.id == payload.arg(0)), None)
    verdict = payload.arg(1)
    if request is None or request.status is not RequestStatus.PENDING or verdict not in ("a", "d"):
        fx.say(texts.STALE_BUTTON)
        return
    now, actor = services.clock.now(), str(cmd.user)
    request.status = RequestStatus.APPROVED if verdict == "a" else RequestStatus.DECLINED
    request.decided_by, request.decided_at = actor, now
    uow.fairness.put_request(request)
    uow.reviews.audit(AuditEntry(interview.id, actor, f"adjustments {request.status.value}",
                                 ",".join(request.adjustments), now))
    team, lang = texts.review_lang(script), _lang(script, interview)
    declined = request.status is RequestStatus.DECLINED
    if cmd.message is not None:
        fx.edits.append((cmd.message, OutMessage(t(
            team, N_("Candidate #{number} asked for: {chosen}. Declined by {actor}.") if declined
            else N_("Candidate #{number} asked for: {chosen}. Approved by {actor}."),
            number=interview.number, chosen=names(request.adjustments, team), actor=actor))))
    fx.changed.append(interview.id)
    if interview.chat is None:  # erased meanwhile
        fx.say(N_("Declined.") if declined else N_("Approved."))
        return
    settings = script.accommodations
    if declined:
        chosen = names(request.adjustments, lang)
        fx.send(interview.chat, t(lang, N_(
            "The hiring team could not approve your request for {chosen}. Please write to "
            "{contact} to talk about an alternative."), chosen=chosen, contact=settings.contact)
            if settings.contact else t(lang, N_(
                "The hiring team could not approve your request for {chosen}. Please contact "
                "the person who invited you to talk about an alternative."), chosen=chosen))
        fx.say(N_("Declined. The candidate has been told."))
        return
    fx.send(interview.chat, t(lang, N_(
        "The hiring team approved your request: {effects}. This applies to your interview only; "
        "the reviewers are not told."),
        effects=", ".join(effect(settings, a, lang) for a in request.adjustments)))
    if "more_time" in request.adjustments:
        extend_deadline(services, uow, interview, settings.extra_time, actor, fx)
    fx.say(N_("Approved. The candidate has been told."))
