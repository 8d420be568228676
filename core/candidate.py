"""The candidate's side of an interview: invitation, consent, questions, takes, wrap-up."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from core import accommodations, notice, self_id, texts
from core import payloads as pl
from core.audio import AudioRejected, RejectReason
from core.commands import (
    InviteAccepted,
    MediaReceived,
    TextReceived,
    UnsupportedReceived,
    UserCommand,
)
from core.effects import Effects
from core.errors import DomainError
from core.events import (
    CandidateAsked,
    FollowUpAnswered,
    InterviewCompleted,
    InterviewErased,
    TakeStored,
)
from core.messages import Button, OutMessage
from core.model import (
    AuditEntry,
    CandidateQuestion,
    FollowUp,
    Interview,
    Take,
    WrapUp,
    hash_token,
    new_id,
)
from core.payloads import Payload
from core.ports import MediaTooLarge, UnitOfWork
from core.refs import ChatRef, MessageRef, UserRef
from core.script import Question, Script
from core.services import Services
from core.states import State

GRACE_SECONDS = 2.0  # a recording may run this much over a question's limit
TOKEN_ATTEMPTS = 5  # wrong invitation tokens from one chat...
TOKEN_WINDOW = timedelta(minutes=10)  # ...within this window, then it has to wait


def clean_text(text: str) -> str:
    """A person's text without control characters (PostgreSQL cannot even store NUL), keeping
    line breaks and tabs, trimmed."""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc"
                   ).strip()


def unreadable(text: str, what: str) -> str | None:
    """Why `text` cannot be taken as a written `what` (answer, reply, question), or None.

    Under two letters or digits is no answer: empty, only spaces or invisible characters
    (zero-width, control), or only emoji or punctuation.
    """
    if sum(ch.isalnum() for ch in text) >= 2:
        return None
    if not any(ch.isprintable() and not ch.isspace() for ch in text):
        return f"That {what} is empty. Please write your {what}."
    return f"That {what} has no words in it. Please write your {what} in words."


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


@dataclass(frozen=True)
class MediaPlan:
    """What a recording being fetched will answer, decided before the download."""

    interview_id: str
    chat: ChatRef
    question: Question
    follow_up_id: str | None
    max_seconds: float
    limit: int


class CandidateFlow:
    """Handlers for everything a candidate sends or presses."""

    def __init__(self, services: Services) -> None:
        self.s = services

    def _now(self) -> datetime:
        return self.s.clock.now()

    # -- invitation --------------------------------------------------------------------
    def accept(self, uow: UnitOfWork, cmd: InviteAccepted, fx: Effects) -> None:
        now = self._now()
        if cmd.token is None:
            current = uow.interviews.current_for(cmd.user)
            if current is None:
                fx.send(cmd.chat, texts.NO_INVITATION)
            else:
                self._resume(uow, current, fx)
            return
        misses = f"token-miss:{cmd.chat}:"  # kept in the database: every process counts them
        if uow.recent(misses, now - TOKEN_WINDOW) >= TOKEN_ATTEMPTS:
            fx.send(cmd.chat, texts.TOKEN_THROTTLED)
            return
        interview = uow.interviews.by_token_hash(hash_token(cmd.token))
        if interview is None:
            uow.first_delivery(misses + new_id(), at=now)
            fx.send(cmd.chat, texts.TOKEN_UNKNOWN)
            return
        if interview.candidate is not None:
            if interview.candidate == cmd.user:
                self._resume(uow, interview, fx)
            else:
                fx.send(cmd.chat, texts.TOKEN_USED)
            return
        if interview.state is State.EXPIRED or now >= interview.deadline:
            when = texts.local_time(interview.deadline, interview.tz)
            fx.send(cmd.chat, f"This invitation expired on {when}. Please ask the person who "
                              "invited you for a new one.")
            return
        if interview.state is not State.INVITED:
            fx.send(cmd.chat, texts.TOKEN_USED)
            return
        interview.candidate = cmd.user
        interview.chat = cmd.chat
        interview.accepted_at = now
        interview.last_activity_at = now
        if cmd.tz:
            interview.tz = cmd.tz
            interview.tz_confirmed = True
        script = self.s.script(interview)
        fx.send(cmd.chat, texts.intro(script, interview.candidate_name, interview.deadline,
                                      interview.tz))
        if interview.tz_confirmed or cmd.user.platform != "telegram":
            self._expectations_and_consent(script, interview, fx)
        else:
            fx.send(cmd.chat, self._zone_question(interview))
        fx.changed.append(interview.id)

    def _expectations_and_consent(self, script: Script, interview: Interview, fx: Effects
                                  ) -> None:
        assert interview.chat is not None
        fx.send(interview.chat, accommodations.how_to_ask(script, interview, texts.expectations(
            script, interview.deadline, interview.tz)))
        fx.send(interview.chat, self._consent(script, interview))

    def _zone_question(self, interview: Interview) -> OutMessage:
        buttons = [Button(name.rsplit("/", 1)[-1].replace("_", " "),
                          pl.make(pl.TIMEZONE, interview.id, i))
                   for i, name in enumerate(texts.ZONE_CHOICES)]
        return OutMessage(texts.ASK_ZONE, tuple(tuple(buttons[i:i + 3])
                                                for i in range(0, len(buttons), 3)))

    def _set_zone(self, script: Script, interview: Interview, name: str, fx: Effects) -> None:
        interview.tz = name
        interview.tz_confirmed = True
        fx.changed.append(interview.id)
        self._expectations_and_consent(script, interview, fx)

    def _consent(self, script: Script, interview: Interview) -> OutMessage:
        return OutMessage(notice.consent_text(script), ((
            Button("I agree", pl.make(pl.CONSENT, interview.id, "y"), "primary"),
            Button("No thanks", pl.make(pl.CONSENT, interview.id, "n")),
        ),))

    def _resume(self, uow: UnitOfWork, interview: Interview, fx: Effects) -> None:
        """Say where the candidate stands and repeat what is waiting for them."""
        assert interview.chat is not None
        script = self.s.script(interview)
        if not self._check_deadline(interview, fx):
            return
        fx.send(interview.chat, f"Welcome back, {interview.candidate_name}! "
                + status_text(script, interview, self._now()))
        self._repeat_prompt(script, interview, fx)

    def _repeat_prompt(self, script: Script, interview: Interview, fx: Effects) -> None:
        assert interview.chat is not None
        if interview.state is State.INVITED:
            fx.send(interview.chat, self._consent(script, interview) if interview.tz_confirmed
                    else self._zone_question(interview))
            return
        if interview.state is State.COMPLETED:
            follow_up = interview.open_follow_up()
            if follow_up:
                fx.send(interview.chat, self._follow_up_message(script, interview, follow_up))
            elif interview.wrap_up is WrapUp.QUESTIONS:
                fx.send(interview.chat, self._questions_prompt(interview))
            elif interview.wrap_up is WrapUp.FEEDBACK:
                fx.send(interview.chat, self._feedback_prompt(interview))
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

    def _check_deadline(self, interview: Interview, fx: Effects) -> bool:
        """Expire an open interview past its deadline; False (after telling them) if so."""
        assert interview.chat is not None
        if interview.is_open and self._now() >= interview.deadline:
            interview.move_to(State.EXPIRED, self._now())
            fx.changed.append(interview.id)
        if interview.state is State.EXPIRED:
            when = texts.local_time(interview.deadline, interview.tz)
            fx.send(interview.chat, f"Sorry, the deadline for this interview passed on {when}, "
                                    "so I can't take more answers. Please contact the hiring "
                                    "team if you need more time.")
            return False
        return True

    # -- inbound -----------------------------------------------------------------------
    def _active(self, uow: UnitOfWork, user: UserRef) -> Interview | None:
        interview = uow.interviews.current_for(user)
        if interview is None:
            return None
        interview.last_activity_at = self._now()
        return interview

    def _current(self, uow: UnitOfWork, user: UserRef, chat: ChatRef, fx: Effects
                 ) -> tuple[Interview, Script] | None:
        """The person's interview, marked active, with its script; None when `fx` holds the
        reply instead (no interview, or its deadline has passed)."""
        interview = self._active(uow, user)
        if interview is None:
            fx.send(chat, texts.NO_INVITATION)
            return None
        if not self._check_deadline(interview, fx):
            return None
        return interview, self.s.script(interview)

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
            self._text_after_completion(uow, script, interview, cmd.text, fx)
            return True
        if interview.state is State.INVITED and not interview.tz_confirmed:
            zone = texts.find_zone(cmd.text)
            if zone is None:
                fx.send(interview.chat, "I don't know that time zone. Tap one of the buttons, "
                                        "or type a city such as Lisbon or a zone such as "
                                        "America/Denver.")
            else:
                self._set_zone(script, interview, zone, fx)
            return True
        if interview.state is State.INVITED:
            fx.send(interview.chat, texts.PRESS_A_BUTTON.format(labels="I agree or No thanks"))
            return True
        if not interview.is_open:
            fx.send(interview.chat, status_text(script, interview, self._now()))
            return True
        question = current_question(script, interview)
        assert question is not None
        if not accommodations.rules(uow, script, interview, question).allows("text"):
            fx.send(interview.chat, "This question needs a voice note, not text. Please record "
                                    "your answer (hold the microphone button).")
            return True
        text = clean_text(cmd.text)
        refusal = unreadable(text, "answer")
        if refusal is not None:
            fx.send(interview.chat, refusal)
            return True
        if len(text) > 4000:
            fx.send(interview.chat, "That answer is over 4000 characters. Please shorten it.")
            return True
        take = Take(id=new_id(), number=0, kind="text", received_at=self._now(), text=text)
        self._record(uow, script, interview, question, take, cmd.delivery, fx)
        return True

    def media_plan(self, uow: UnitOfWork, cmd: MediaReceived, fx: Effects) -> MediaPlan | None:
        """Check a voice note or file before fetching it: what it would answer, or None when
        `fx` already holds the reply (no interview, wrong kind, too long...)."""
        found = self._current(uow, cmd.user, cmd.chat, fx)
        if found is None:
            return None
        interview, script = found
        assert interview.chat is not None
        chat = interview.chat
        follow_up = interview.open_follow_up() if interview.state is State.COMPLETED else None
        if not interview.is_open and follow_up is None:
            if interview.state is State.COMPLETED and interview.wrap_up is WrapUp.QUESTIONS:
                fx.send(chat, "Please type your questions for the team as text.")
            else:
                fx.send(chat, status_text(script, interview, self._now()))
            return None
        if interview.state is State.INVITED:
            fx.send(chat, texts.PRESS_A_BUTTON.format(labels="I agree or No thanks"))
            return None
        question = (script.question(interview.answer_by_id(follow_up.answer_id).question_id)  # type: ignore[union-attr]
                    if follow_up else current_question(script, interview))
        assert question is not None
        if cmd.media.kind == "file" and not cmd.media.mime.startswith(("audio/", "video/")):
            fx.send(chat, texts.UNSUPPORTED.format(what="document", kinds=texts.kinds_phrase(
                question.answer.kinds)))
            return None
        if not question.answer.allows("voice"):
            fx.send(chat, "This question needs a written answer. Please type it as text.")
            return None
        if cmd.media.transcript == "processing":
            fx.send(chat, texts.PROCESSING)
            return None
        max_seconds = accommodations.rules(uow, script, interview, question).max_seconds
        if cmd.media.duration is not None and cmd.media.duration > max_seconds + GRACE_SECONDS:
            fx.send(chat, texts.AUDIO_REJECTED[RejectReason.TOO_LONG].format(
                limit=texts.limit(max_seconds)))
            return None
        limit = self.s.download_limit(cmd.media.platform)
        if cmd.media.size is not None and cmd.media.size > limit:
            fx.send(chat, texts.AUDIO_REJECTED[RejectReason.TOO_LARGE])
            return None
        return MediaPlan(interview.id, chat, question, follow_up.id if follow_up else None,
                         max_seconds + GRACE_SECONDS, limit)

    async def fetch_media(self, cmd: MediaReceived, plan: MediaPlan, fx: Effects
                          ) -> Take | None:
        """Download and store the audio (no transaction is open meanwhile); None when `fx`
        holds the reason it could not be used."""
        messenger = self.s.messengers[cmd.media.platform]
        try:
            data = await messenger.download(cmd.media, plan.limit)
        except MediaTooLarge:
            fx.send(plan.chat, texts.AUDIO_REJECTED[RejectReason.TOO_LARGE])
            return None
        except Exception:
            fx.send(plan.chat, texts.DOWNLOAD_FAILED)
            return None
        take_id = new_id()
        try:
            stored = await self.s.audio.ingest(
                data, cmd.media.mime, key=f"{plan.interview_id}/{take_id}",
                max_seconds=plan.max_seconds, max_bytes=plan.limit)
        except AudioRejected as exc:
            fx.send(plan.chat, texts.AUDIO_REJECTED[exc.reason].format(
                limit=texts.limit(plan.question.answer.max_seconds)))
            return None
        transcript = cmd.media.transcript if cmd.media.transcript != "processing" else None
        return Take(id=take_id, number=0, kind="voice", received_at=self._now(),
                    media_key=stored.key, duration=stored.duration, checksum=stored.checksum,
                    transcript=transcript)

    def media_record(self, uow: UnitOfWork, cmd: MediaReceived, plan: MediaPlan, take: Take,
                     fx: Effects) -> bool:
        """Record a stored recording if the interview still waits for it; False if not used
        (the candidate moved on meanwhile, or the interview ended)."""
        found = self._current(uow, cmd.user, cmd.chat, fx)
        if found is None:
            return False
        interview, script = found
        assert interview.chat is not None
        if interview.id != plan.interview_id:  # a newer interview began meanwhile
            fx.send(interview.chat, texts.MOVED_ON)
            return False
        if plan.follow_up_id is not None:
            follow_up = interview.open_follow_up() if interview.state is State.COMPLETED else None
            if follow_up is None or follow_up.id != plan.follow_up_id:
                fx.send(interview.chat, texts.MOVED_ON)
                self._repeat_prompt(script, interview, fx)
                return False
            if take.transcript is None:
                fx.emit(TakeStored(interview.id, take.id))
            self._follow_up_reply(script, interview, follow_up, take, fx)
            return True
        question = current_question(script, interview) if interview.is_open else None
        if question is None or question.id != plan.question.id:
            fx.send(interview.chat, texts.MOVED_ON)
            self._repeat_prompt(script, interview, fx)
            return False
        if not self._record(uow, script, interview, question, take, cmd.delivery, fx):
            return False
        if take.transcript is None:
            fx.emit(TakeStored(interview.id, take.id))
        return True

    def unsupported(self, uow: UnitOfWork, cmd: UnsupportedReceived, fx: Effects) -> bool:
        interview = uow.interviews.current_for(cmd.user)
        if interview is None:
            return False
        script = self.s.script(interview)
        question = current_question(script, interview) if interview.is_open else None
        kinds = question.answer.kinds if question else ("text",)
        fx.send(cmd.chat, texts.UNSUPPORTED.format(what=cmd.what, kinds=texts.kinds_phrase(kinds)))
        return True

    def _record(self, uow: UnitOfWork, script: Script, interview: Interview, question: Question,
                take: Take, delivery: str | None, fx: Effects) -> bool:
        """Add a take to the current question (False: no re-records left, nothing added)."""
        assert interview.chat is not None
        answer = interview.answer_for(question.id)
        if answer and answer.takes and retakes_left(question, interview) == 0:
            fx.send(interview.chat, "You have no re-records left for this question. "
                                    "Tap Keep on your last answer to continue.")
            return False
        take.number = len(answer.takes) + 1 if answer else 1
        answer = interview.add_take(question.id, take)
        self.s.observer.answer_received(take.kind, interview.platform)
        if interview.state is State.CONSENTED:
            interview.move_to(State.IN_PROGRESS, self._now())
            interview.started_at = self._now()
        if question.answer.retakes == 0:
            self._keep(script, interview, answer.id, take, fx)
        else:
            fx.send(interview.chat, receipt(script, interview, question, take))
        fx.changed.append(interview.id)
        return True

    def _keep(self, script: Script, interview: Interview, answer_id: str, take: Take | None,
              fx: Effects) -> None:
        assert interview.chat is not None
        answer = interview.answer_by_id(answer_id)
        assert answer is not None
        interview.keep(answer, take, self._now())
        if current_question(script, interview) is not None:
            ask(script, interview, fx)
            return
        interview.move_to(State.COMPLETED, self._now())
        interview.completed_at = self._now()
        interview.wrap_up = WrapUp.QUESTIONS
        fx.emit(InterviewCompleted(interview.id))
        fx.send(interview.chat, OutMessage(
            "That was the last question. Your answers are saved and on their way to the team.\n\n"
            + script.outro, ((Button("Done", pl.make(pl.DONE, interview.id), "primary"),),)))

    def _questions_prompt(self, interview: Interview) -> OutMessage:
        return OutMessage("Any questions for the team? Send them as text, or tap Done.",
                          ((Button("Done", pl.make(pl.DONE, interview.id), "primary"),),))

    def _feedback_prompt(self, interview: Interview) -> OutMessage:
        return OutMessage(
            "One last thing: how was this interview for you? (1 = poor, 5 = great)",
            (tuple(Button(str(n), pl.make(pl.FEEDBACK, interview.id, n)) for n in range(1, 6)),),
        )

    def _text_after_completion(self, uow: UnitOfWork, script: Script, interview: Interview,
                               text: str, fx: Effects) -> None:
        assert interview.chat is not None
        follow_up = interview.open_follow_up()
        if follow_up is not None:
            question = script.question(interview.answer_by_id(follow_up.answer_id).question_id)  # type: ignore[union-attr]
            if not question.answer.allows("text"):
                fx.send(interview.chat, "Please answer the follow-up with a voice note.")
                return
            refusal = unreadable(clean_text(text), "reply")
            if refusal is not None:
                fx.send(interview.chat, refusal)
                return
            take = Take(id=new_id(), number=1, kind="text", received_at=self._now(),
                        text=clean_text(text))
            self._follow_up_reply(script, interview, follow_up, take, fx)
            return
        if interview.wrap_up is WrapUp.QUESTIONS:
            refusal = unreadable(clean_text(text), "question")
            if refusal is not None:
                fx.send(interview.chat, refusal)
                return
            cq = CandidateQuestion(id=new_id(), text=clean_text(text)[:2000],
                                   asked_at=self._now())
            interview.candidate_questions.append(cq)
            fx.emit(CandidateAsked(interview.id, cq.id))
            fx.send(interview.chat, OutMessage(
                "Noted, the team will see your question. Send another, or tap Done.",
                ((Button("Done", pl.make(pl.DONE, interview.id), "primary"),),)))
            return
        if interview.wrap_up is WrapUp.FEEDBACK:
            fx.send(interview.chat, texts.PRESS_A_BUTTON.format(labels="1 to 5"))
            return
        fx.send(interview.chat, status_text(script, interview, self._now()))

    def _follow_up_message(self, script: Script, interview: Interview,
                           follow_up: FollowUp) -> OutMessage:
        answer = interview.answer_by_id(follow_up.answer_id)
        assert answer is not None
        question = script.question(answer.question_id)
        kinds = texts.kinds_phrase(question.answer.kinds)
        return OutMessage(
            f"The team has a follow-up question on your answer to "
            f"{texts.question_label(script, question)}:\n\n\"{follow_up.text}\"\n\n"
            f"Please reply with {kinds}."
        )

    def _follow_up_reply(self, script: Script, interview: Interview, follow_up: FollowUp,
                         take: Take, fx: Effects) -> None:
        assert interview.chat is not None
        follow_up.reply = take
        fx.emit(FollowUpAnswered(interview.id, follow_up.id))
        fx.send(interview.chat, "Thanks, your reply is on its way to the team.")
        nxt = interview.open_follow_up()
        if nxt is not None:
            fx.send(interview.chat, self._follow_up_message(script, interview, nxt))

    # -- buttons -----------------------------------------------------------------------
    def button(self, uow: UnitOfWork, user: UserRef, payload: Payload,
               message: MessageRef | None, fx: Effects) -> None:
        interview = uow.interviews.get(payload.interview_id)
        if interview is None or interview.candidate is None:
            fx.reply = texts.STALE_BUTTON
            return
        if interview.candidate != user:
            fx.reply = texts.NOT_YOUR_BUTTON
            return
        assert interview.chat is not None
        interview.last_activity_at = self._now()
        script = self.s.script(interview)
        if payload.action in (pl.WITHDRAW, pl.ERASE, pl.CANCEL):
            self._confirmed(uow, script, interview, payload, message, fx)
            return
        if interview.is_open and not self._check_deadline(interview, fx):
            fx.reply = "The deadline has passed."
            return
        notice.on_consent(uow, script, interview, payload, self._now())
        handler = {
            pl.CONSENT: self._on_consent,
            pl.KEEP: self._on_keep,
            pl.REDO: self._on_redo,
            pl.SKIP: self._on_skip,
            pl.DONE: self._on_done,
            pl.FEEDBACK: self._on_feedback,
            pl.CONTINUE: self._on_continue,
            pl.TIMEZONE: self._on_zone,
        }[payload.action]
        handler(script, interview, payload, message, fx)
        fx.changed.append(interview.id)

    def _close(self, message: MessageRef | None, text: str, fx: Effects) -> None:
        """Replace a pressed message's buttons by a line saying what was chosen."""
        if message is not None:
            fx.edits.append((message, OutMessage(text)))

    def _on_consent(self, script: Script, interview: Interview, payload: Payload,
                    message: MessageRef | None, fx: Effects) -> None:
        assert interview.chat is not None
        if interview.state is not State.INVITED:
            fx.reply = texts.STALE_BUTTON
            return
        if payload.arg(0) == "y":
            interview.move_to(State.CONSENTED, self._now())
            interview.consented_at = self._now()
            fx.reply = "Thank you!"
            self._close(message, f"{notice.consent_text(script)}\n\nYou agreed.", fx)
            ask(script, interview, fx)
        else:
            interview.move_to(State.WITHDRAWN, self._now())
            fx.reply = "Understood."
            self._close(message, f"{notice.consent_text(script)}\n\nYou declined.", fx)
            fx.send(interview.chat, "Understood: nothing has been recorded. If you change your "
                                    "mind, contact the person who invited you.")

    def _pending_take(self, script: Script, interview: Interview, take_id: str) -> (
            tuple[Question, str, Take] | None):
        """The take a Keep/Re-record button refers to, if it is still the latest, unkept one."""
        found = interview.take_by_id(take_id)
        if found is None or not interview.is_open:
            return None
        answer, take = found
        if answer.done or answer.latest is not take or interview.awaiting_redo:
            return None
        return script.question(answer.question_id), answer.id, take

    def _on_keep(self, script: Script, interview: Interview, payload: Payload,
                 message: MessageRef | None, fx: Effects) -> None:
        pending = self._pending_take(script, interview, payload.arg(0))
        if pending is None:
            fx.reply = texts.STALE_BUTTON
            return
        question, answer_id, take = pending
        fx.reply = "Kept."
        self._close(message, f"Kept your answer to {texts.question_label(script, question)}.", fx)
        self._keep(script, interview, answer_id, take, fx)

    def _on_redo(self, script: Script, interview: Interview, payload: Payload,
                 message: MessageRef | None, fx: Effects) -> None:
        assert interview.chat is not None
        pending = self._pending_take(script, interview, payload.arg(0))
        if pending is None or retakes_left(pending[0], interview) == 0:
            fx.reply = texts.STALE_BUTTON
            return
        question = pending[0]
        interview.awaiting_redo = True
        fx.reply = "OK, send your new answer."
        self._close(message, f"Re-recording {texts.question_label(script, question)}.", fx)
        fx.send(interview.chat, f"OK, send your new answer to "
                                f"{texts.question_label(script, question)}:\n\n{question.text}")

    def _on_skip(self, script: Script, interview: Interview, payload: Payload,
                 message: MessageRef | None, fx: Effects) -> None:
        question = current_question(script, interview) if interview.is_open else None
        if (question is None or not question.practice
                or str(script.questions.index(question)) != payload.arg(0)):
            fx.reply = texts.STALE_BUTTON
            return
        answer = interview.answer_for(question.id)
        if answer is None:
            take = Take(id=new_id(), number=0, kind="text", received_at=self._now(), text="")
            answer = interview.add_take(question.id, take)
            answer.takes.clear()
        if interview.state is State.CONSENTED:
            interview.move_to(State.IN_PROGRESS, self._now())
            interview.started_at = self._now()
        fx.reply = "Skipped."
        self._close(message, "Practice question skipped.", fx)
        self._keep(script, interview, answer.id, None, fx)

    def _on_done(self, script: Script, interview: Interview, payload: Payload,
                 message: MessageRef | None, fx: Effects) -> None:
        assert interview.chat is not None
        if interview.state is not State.COMPLETED or interview.wrap_up is not WrapUp.QUESTIONS:
            fx.reply = texts.STALE_BUTTON
            return
        interview.wrap_up = WrapUp.FEEDBACK
        fx.reply = "Done."
        if message is not None:
            fx.edits.append((message, OutMessage("Thanks for your questions.")))
        fx.send(interview.chat, self._feedback_prompt(interview))

    def _on_feedback(self, script: Script, interview: Interview, payload: Payload,
                     message: MessageRef | None, fx: Effects) -> None:
        assert interview.chat is not None
        score = payload.arg(0)
        if interview.wrap_up is not WrapUp.FEEDBACK or score not in {"1", "2", "3", "4", "5"}:
            fx.reply = texts.STALE_BUTTON
            return
        interview.experience_rating = int(score)
        interview.wrap_up = WrapUp.DONE
        fx.reply = "Thank you!"
        self._close(message, f"You rated this interview {score} of 5.", fx)
        fx.send(interview.chat, "Thank you for your time! The hiring team will review your "
                                "answers and get back to you. You can use /delete at any time "
                                "to erase your answers and recordings.")
        self_id.offer(script, interview, fx)

    def _on_zone(self, script: Script, interview: Interview, payload: Payload,
                 message: MessageRef | None, fx: Effects) -> None:
        index = int(payload.arg(0)) if payload.arg(0).isdigit() else -1
        if interview.tz_confirmed or not 0 <= index < len(texts.ZONE_CHOICES):
            fx.reply = texts.STALE_BUTTON
            return
        name = texts.ZONE_CHOICES[index]
        fx.reply = f"Time zone: {name}."
        self._close(message, f"Your time zone: {name}.", fx)
        self._set_zone(script, interview, name, fx)

    def _on_continue(self, script: Script, interview: Interview, payload: Payload,
                     message: MessageRef | None, fx: Effects) -> None:
        fx.reply = "Here is where you stopped."
        self._repeat_prompt(script, interview, fx)

    # -- commands ----------------------------------------------------------------------
    def command(self, uow: UnitOfWork, cmd: UserCommand, fx: Effects) -> bool:
        interview = uow.interviews.current_for(cmd.user)
        if cmd.name == "help":
            fx.send(cmd.chat, texts.HELP)
            return True
        if interview is None:
            return False
        assert interview.chat is not None
        script = self.s.script(interview)
        if cmd.name == "status":
            if interview.is_open and self._now() >= interview.deadline:
                self._check_deadline(interview, fx)
                return True
            fx.send(cmd.chat, status_text(script, interview, self._now()))
        elif cmd.name == "withdraw":
            if not interview.is_open:
                fx.send(cmd.chat, status_text(script, interview, self._now()))
                return True
            fx.send(cmd.chat, OutMessage(
                "Withdraw from this interview? The team will be told you stopped.",
                ((Button("Yes, withdraw", pl.make(pl.WITHDRAW, interview.id), "danger"),
                  Button("Cancel", pl.make(pl.CANCEL, interview.id))),)))
        elif cmd.name == "adjust":
            accommodations.ask(self.s, uow, script, interview, cmd.chat, fx)
        elif cmd.name == "delete":
            fx.send(cmd.chat, OutMessage(
                "Erase your answers and recordings? This cannot be undone.",
                ((Button("Yes, erase everything", pl.make(pl.ERASE, interview.id), "danger"),
                  Button("Cancel", pl.make(pl.CANCEL, interview.id))),)))
        else:
            fx.send(cmd.chat, texts.HELP)
        return True

    def _confirmed(self, uow: UnitOfWork, script: Script, interview: Interview,
                   payload: Payload, message: MessageRef | None, fx: Effects) -> None:
        assert interview.chat is not None
        if payload.action == pl.CANCEL:
            fx.reply = "Cancelled."
            self._close(message, "Cancelled. Nothing changed.", fx)
            return
        if payload.action == pl.WITHDRAW:
            if not interview.is_open:
                fx.reply = texts.STALE_BUTTON
                return
            interview.move_to(State.WITHDRAWN, self._now())
            fx.reply = "Withdrawn."
            self._close(message, "You withdrew from this interview.", fx)
            fx.send(interview.chat, "You have withdrawn. Thank you for your time. Use /delete "
                                    "if you also want your answers erased.")
            fx.changed.append(interview.id)
            return
        erase(self.s, uow, interview, actor="candidate", now=self._now(), fx=fx)
        fx.reply = "Erased."
        self._close(message, "Your answers and recordings have been erased.", fx)


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


__all__ = ["CandidateFlow", "DomainError", "ask", "current_question", "erase", "receipt"]
