"""Answering the questions. An answer is a draft until the candidate submits it: messages and
voice clips that arrive while a question is open are added to the draft (clips joined into one
recording). Choice questions take an option (or several), and a knock-out option ends the
interview. Also: Submit / Start over, skipping a practice question, and the deadline."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from core import accommodations, texts
from core.audio import AudioRejected, RejectReason
from core.capabilities import capabilities
from core.choices import Choices
from core.commands import MediaReceived, UnsupportedReceived
from core.effects import Effects
from core.events import TakeStored
from core.i18n import N_, t
from core.messages import OutMessage
from core.model import Interview, Take, WrapUp, new_id
from core.payloads import Payload
from core.ports import MediaTooLarge, UnitOfWork
from core.prompts import (
    current_question,
    draft_summary,
    receipt,
    repeat_prompt,
    retakes_left,
    status_text,
)
from core.refs import TRANSCRIPT_PENDING, ChatRef, MessageRef
from core.script import Question, Script
from core.services import Services
from core.states import State
from core.submitting import draft_of, start_answer, submit
from core.wrap_up import WrapUpFlow
from core.written import clean_text, unreadable

log = logging.getLogger(__name__)
GRACE_SECONDS = 2.0  # a recording may run this much over a question's limit
TEXT_LIMIT = 4000  # characters of one written answer, all its messages together


@dataclass(frozen=True)
class MediaPlan:
    """What a recording being fetched will answer, decided before the download."""

    interview_id: str
    chat: ChatRef
    question: Question
    follow_up_id: str | None
    max_seconds: float  # what this clip may last: the limit less the draft so far, plus grace
    limit: int
    draft_id: str | None = None  # the voice draft the clip is added to, if any...
    draft_key: str | None = None  # ...and its recording when the clip was checked
    draft_seconds: float = 0.0
    allowed: int = 0  # the answer's limit for this interview (adjustments included)
    lang: str | None = None  # the candidate's language


def over_limit(allowed: int, draft_seconds: float, clip_seconds: float | None,
               lang: str | None = None) -> str:
    """The reply to a clip that would take a voice draft past the answer's limit."""
    values = {"limit": texts.limit(allowed, lang), "held": texts.clock(draft_seconds),
              "left": texts.clock(max(0.0, allowed - draft_seconds))}
    if clip_seconds:
        return t(lang, N_("That clip ({clip}) would take your answer past the {limit} limit: your "
                          "answer already holds {held}, so {left} is left. The clip was not "
                          "added; your answer so far is kept. Record a shorter clip, or tap "
                          "Submit."), clip=texts.clock(clip_seconds), **values)
    return t(lang, N_("That clip would take your answer past the {limit} limit: your answer "
                      "already holds {held}, so {left} is left. The clip was not added; your "
                      "answer so far is kept. Record a shorter clip, or tap Submit."), **values)


class Answers:
    """Handlers for answers to the questions."""

    def __init__(self, services: Services, wrap_up: WrapUpFlow) -> None:
        self.s = services
        self.wrap_up = wrap_up
        self.choices = Choices(services)

    def _now(self) -> datetime:
        return self.s.clock.now()

    # -- written answers and typed options -------------------------------------------------
    def text(self, uow: UnitOfWork, script: Script, interview: Interview, text: str,
             delivery: str | None, fx: Effects) -> None:
        """A message while a question is open: added to the draft (or an option typed)."""
        assert interview.chat is not None
        question = current_question(script, interview)
        assert question is not None
        lang = texts.lang_for(script, interview.language)
        if question.answer.is_choice:
            self.choices.typed(script, interview, question, text, fx)
            return
        if not accommodations.rules(uow, script, interview, question).allows("text"):
            fx.send(interview.chat, t(lang, N_(
                "This question needs a voice note, not text. Please record your answer "
                "({how})."), how=t(lang, capabilities(interview.chat.platform).record_voice)))
            return
        text = clean_text(text)
        refusal = unreadable(text, "answer", lang)
        if refusal is not None:
            fx.send(interview.chat, refusal)
            return
        draft = draft_of(interview, question)
        if draft is not None and draft.kind != "text":
            fx.send(interview.chat, t(lang, N_(
                "Your answer so far is a voice recording ({summary}), so this message was not "
                "added. Record another clip to add to it, tap Submit, or Start over to answer in "
                "writing."), summary=draft_summary(draft, lang)))
            return
        if draft is not None:
            joined = f"{draft.text}\n{text}"
            if len(joined) > TEXT_LIMIT:
                fx.send(interview.chat, t(lang, N_(
                    "That message would make your answer longer than {limit} characters, so it "
                    "was not added. Your answer so far is kept: tap Submit, or send a shorter "
                    "message."), limit=TEXT_LIMIT))
                return
            draft.text = joined
            self._added(script, interview, question, draft, fx)
            return
        if len(text) > TEXT_LIMIT:
            fx.send(interview.chat, t(lang, N_("That answer is over {limit} characters. Please "
                                               "shorten it."), limit=TEXT_LIMIT))
            return
        take = Take(id=new_id(), number=0, kind="text", received_at=self._now(), text=text)
        self._record(uow, script, interview, question, take, delivery, fx)

    def _added(self, script: Script, interview: Interview, question: Question, draft: Take,
               fx: Effects, max_seconds: int | None = None) -> None:
        """One more piece in a draft: count it and show what the draft holds."""
        assert interview.chat is not None
        draft.pieces += 1
        self.s.observer.answer_received(draft.kind, interview.platform)
        fx.send(interview.chat, receipt(script, interview, question, draft, max_seconds))
        fx.changed.append(interview.id)

    # -- recordings ---------------------------------------------------------------------
    def media_plan(self, uow: UnitOfWork, script: Script, interview: Interview,
                   cmd: MediaReceived,
                   fx: Effects) -> MediaPlan | None:
        """Check a voice note or file before fetching it: what it would answer, or None when
        `fx` already holds the reply (wrong kind, too long...)."""
        assert interview.chat is not None
        chat = interview.chat
        lang = texts.lang_for(script, interview.language)
        follow_up = interview.open_follow_up() if interview.state is State.COMPLETED else None
        if not interview.is_open and follow_up is None:
            if interview.state is State.COMPLETED and interview.wrap_up is WrapUp.QUESTIONS:
                fx.send(chat, t(lang, N_("Please type your questions for the team as text.")))
            else:
                fx.send(chat, status_text(script, interview, self._now()))
            return None
        if interview.state is State.INVITED:
            fx.send(chat, t(lang, texts.PRESS_A_BUTTON, labels=texts.consent_labels(lang)))
            return None
        question = (script.question(interview.answer_by_id(follow_up.answer_id).question_id)  # type: ignore[union-attr]
                    if follow_up else current_question(script, interview))
        assert question is not None
        if cmd.media.kind == "file" and not cmd.media.mime.startswith(("audio/", "video/")):
            fx.send(chat, t(lang, texts.UNSUPPORTED, what=t(lang, texts.DOCUMENT),
                            kinds=texts.kinds_phrase(question.answer.kinds, lang)))
            return None
        if question.answer.is_choice and follow_up is None:
            fx.send(chat, t(lang, texts.CHOOSE_AN_OPTION,
                            options=", ".join(question.answer.options)))
            return None
        if not question.answer.allows("voice"):
            fx.send(chat, t(lang, N_("This question needs a written answer. Please type it as "
                                     "text.")))
            return None
        if cmd.media.transcript == TRANSCRIPT_PENDING:
            fx.send(chat, t(lang, texts.PROCESSING))
            return None
        draft = draft_of(interview, question) if follow_up is None else None
        if draft is not None and draft.kind != "voice":
            fx.send(chat, t(lang, N_(
                "Your answer so far is written ({summary}), so this recording was not added. "
                "Keep typing to add to it, tap Submit, or Start over to answer by voice."),
                summary=draft_summary(draft, lang)))
            return None
        so_far = (draft.duration or 0.0) if draft else 0.0
        allowed = accommodations.rules(uow, script, interview, question).max_seconds
        max_seconds = allowed - so_far + GRACE_SECONDS
        if cmd.media.duration is not None and cmd.media.duration > max_seconds:
            fx.send(chat, over_limit(allowed, so_far, cmd.media.duration, lang) if draft else
                    t(lang, texts.AUDIO_REJECTED[RejectReason.TOO_LONG],
                      limit=texts.limit(allowed, lang)))
            return None
        limit = self.s.download_limit(cmd.media.platform)
        if cmd.media.size is not None and cmd.media.size > limit:
            fx.send(chat, t(lang, texts.AUDIO_REJECTED[RejectReason.TOO_LARGE]))
            return None
        return MediaPlan(interview.id, chat, question, follow_up.id if follow_up else None,
                         max_seconds, limit, draft.id if draft else None,
                         draft.media_key if draft else None, so_far, allowed, lang)

    async def fetch_media(self, cmd: MediaReceived, plan: MediaPlan, fx: Effects
                          ) -> Take | None:
        """Download and store the audio, joined to the draft's recording if there is one (no
        transaction is open meanwhile); None when `fx` holds the reason it could not be used."""
        messenger = self.s.messengers[cmd.media.platform]
        try:
            data = await messenger.download(cmd.media, plan.limit)
        except MediaTooLarge:
            fx.send(plan.chat, t(plan.lang, texts.AUDIO_REJECTED[RejectReason.TOO_LARGE]))
            return None
        except Exception:
            fx.send(plan.chat, t(plan.lang, texts.DOWNLOAD_FAILED))
            return None
        take_id = new_id()
        try:
            stored = await self.s.audio.ingest(
                data, cmd.media.mime, key=f"{plan.interview_id}/{take_id}",
                max_seconds=plan.max_seconds, max_bytes=plan.limit)
        except AudioRejected as exc:
            if exc.reason is RejectReason.TOO_LONG and plan.draft_key is not None:
                fx.send(plan.chat, over_limit(plan.allowed, plan.draft_seconds, None, plan.lang))
            else:
                fx.send(plan.chat, t(plan.lang, texts.AUDIO_REJECTED[exc.reason],
                                     limit=texts.limit(plan.allowed, plan.lang)))
            return None
        except Exception as exc:  # the pipeline failed (ffmpeg, a worker, the disk), not the clip
            log.warning("storing a recording failed: %s", type(exc).__name__)
            fx.send(plan.chat, t(plan.lang, texts.AUDIO_FAILED))
            return None
        transcript = (cmd.media.transcript if cmd.media.transcript != TRANSCRIPT_PENDING
                      else None)
        clip = Take(id=take_id, number=0, kind="voice", received_at=self._now(),
                    media_key=stored.key, duration=stored.duration, checksum=stored.checksum,
                    transcript=transcript)
        if plan.draft_key is None:
            return clip
        try:  # the draft's recording and this clip, as one new recording
            joined = await self.s.audio.join([plan.draft_key, stored.key],
                                             key=f"{plan.interview_id}/{new_id()}")
        except Exception as exc:
            log.warning("joining a recording to its draft failed: %s", type(exc).__name__)
            fx.send(plan.chat, t(plan.lang, texts.AUDIO_FAILED))
            return None
        finally:
            self.s.audio.delete(stored.key)
        clip.media_key, clip.duration, clip.checksum = joined.key, joined.duration, joined.checksum
        return clip

    def media_record(self, uow: UnitOfWork, script: Script, interview: Interview,
                     cmd: MediaReceived, plan: MediaPlan, take: Take, fx: Effects) -> bool:
        """Record a stored recording if the interview still waits for it; False if not used
        (the candidate moved on meanwhile, or the interview ended)."""
        assert interview.chat is not None
        moved_on = t(texts.lang_for(script, interview.language), texts.MOVED_ON)
        if interview.id != plan.interview_id:  # a newer interview began meanwhile
            fx.send(interview.chat, moved_on)
            return False
        if plan.follow_up_id is not None:
            follow_up = interview.open_follow_up() if interview.state is State.COMPLETED else None
            if follow_up is None or follow_up.id != plan.follow_up_id:
                fx.send(interview.chat, moved_on)
                repeat_prompt(script, interview, fx)
                return False
            if take.transcript is None:
                fx.emit(TakeStored(interview.id, take.id))
            self.wrap_up.follow_up_reply(script, interview, follow_up, take, fx)
            return True
        question = current_question(script, interview) if interview.is_open else None
        draft = draft_of(interview, question) if question else None
        if (question is None or question.id != plan.question.id
                or (draft.id if draft else None) != plan.draft_id
                or (draft.media_key if draft else None) != plan.draft_key):
            fx.send(interview.chat, moved_on)  # submitted, started over or added to
            repeat_prompt(script, interview, fx)
            return False
        if draft is not None:
            clip_transcript = take.transcript
            draft.media_key, draft.duration, draft.checksum = (
                take.media_key, take.duration, take.checksum)
            draft.transcript = (f"{draft.transcript} {clip_transcript}"
                                if draft.transcript and clip_transcript else None)
            if draft.transcript is None:
                fx.emit(TakeStored(interview.id, draft.id))
            self._added(script, interview, question, draft, fx, plan.allowed)
            return True
        if not self._record(uow, script, interview, question, take, cmd.delivery, fx,
                            plan.allowed):
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
        lang = texts.lang_for(script, interview.language)
        fx.send(cmd.chat, t(lang, texts.UNSUPPORTED, what=t(lang, cmd.what),
                            kinds=texts.kinds_phrase(kinds, lang)))
        return True

    def _record(self, uow: UnitOfWork, script: Script, interview: Interview, question: Question,
                take: Take, delivery: str | None, fx: Effects,
                max_seconds: int | None = None) -> bool:
        """Start a new draft for the current question (False: no re-records left)."""
        assert interview.chat is not None
        answer = interview.answer_for(question.id)
        if answer and answer.takes and retakes_left(question, interview) == 0:
            fx.send(interview.chat, t(texts.lang_for(script, interview.language), N_(
                "You have no re-records left for this question. Tap Submit on your last answer "
                "to continue.")))
            return False
        take.number = len(answer.takes) + 1 if answer else 1
        start_answer(self.s, interview, question, take, self._now())
        fx.send(interview.chat, receipt(script, interview, question, take, max_seconds))
        fx.changed.append(interview.id)
        return True

    # -- buttons -----------------------------------------------------------------------
    def on_keep(self, script: Script, interview: Interview, payload: Payload,
                message: MessageRef | None, fx: Effects) -> None:
        """Submit: the draft a receipt (or reminder) refers to becomes the answer."""
        assert interview.chat is not None
        found = interview.take_by_id(payload.arg(0)) if interview.is_open else None
        if found is None or found[0].done:
            fx.say(texts.STALE_BUTTON)
            return
        answer, take = found
        question = script.question(answer.question_id)
        if answer.draft(interview.awaiting_redo) is not take:
            if answer.draft(interview.awaiting_redo) is None:
                fx.say(N_("Nothing to submit: your answer to {label} is empty. Send "
                          "your answer first."),
                       label=lambda lang: texts.question_label(script, question, lang))
            else:
                fx.say(texts.STALE_BUTTON)
            return
        fx.say(N_("Submitted."))
        # the latest receipt (or a reminder) carries the next question; an earlier receipt,
        # further up the chat, only shows what happened, and the question comes below
        pieces = payload.arg(1)
        submit(script, interview, question, take, self._now(), fx, message,
               carry=pieces in ("", str(take.pieces)))

    def on_redo(self, script: Script, interview: Interview, payload: Payload,
                message: MessageRef | None, fx: Effects) -> None:
        """Start over: the draft is set aside (it counts as a re-record)."""
        assert interview.chat is not None
        found = interview.take_by_id(payload.arg(0)) if interview.is_open else None
        if found is None or found[0].draft(interview.awaiting_redo) is not found[1]:
            fx.say(texts.STALE_BUTTON)
            return
        question = script.question(found[0].question_id)
        if retakes_left(question, interview) == 0:
            fx.say(texts.STALE_BUTTON)
            return
        interview.awaiting_redo = True
        lang = texts.lang_for(script, interview.language)
        label = texts.question_label(script, question, lang)
        fx.say(N_("OK, send your new answer."))
        again = OutMessage(
            t(lang, N_("OK, send your new answer to {label} (what you sent so far is set "
                       "aside):"), label=label) + f"\n\n{question.text_in(lang)}")
        if message is None:
            fx.send(interview.chat, again)
            return
        fx.edits.append((message, OutMessage(  # one message: what happened, and what next
            t(lang, N_("Starting {label} over."), label=label) + f"\n\n{again.text}")))
        fx.carrying.append(message)

    def on_skip(self, script: Script, interview: Interview, payload: Payload,
                message: MessageRef | None, fx: Effects) -> None:
        question = current_question(script, interview) if interview.is_open else None
        if (question is None or not question.practice
                or str(script.questions.index(question)) != payload.arg(0)):
            fx.say(texts.STALE_BUTTON)
            return
        answer = interview.answer_for(question.id)
        if answer is None:
            take = Take(id=new_id(), number=0, kind="text", received_at=self._now(), text="")
            answer = interview.add_take(question.id, take)
            answer.takes.clear()
        if interview.state is State.CONSENTED:
            interview.move_to(State.IN_PROGRESS, self._now())
            interview.started_at = self._now()
        fx.say(texts.SKIPPED)
        submit(script, interview, question, None, self._now(), fx, message, payload.arg(1))


__all__ = ["GRACE_SECONDS", "Answers", "MediaPlan"]
