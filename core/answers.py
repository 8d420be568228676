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
from core.choices import Choices
from core.commands import MediaReceived, UnsupportedReceived
from core.effects import Effects
from core.events import TakeStored
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
from core.refs import ChatRef, MessageRef
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


def over_limit(allowed: int, draft_seconds: float, clip_seconds: float | None) -> str:
    """The reply to a clip that would take a voice draft past the answer's limit."""
    clip = f" ({texts.clock(clip_seconds)})" if clip_seconds else ""
    return (f"That clip{clip} would take your answer past the {texts.limit(allowed)} "
            f"limit: your answer already holds {texts.clock(draft_seconds)}, so "
            f"{texts.clock(max(0.0, allowed - draft_seconds))} is left. The clip was "
            "not added; your answer so far is kept. Record a shorter clip, or tap Submit.")


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
        if question.answer.is_choice:
            self.choices.typed(script, interview, question, text, fx)
            return
        if not accommodations.rules(uow, script, interview, question).allows("text"):
            fx.send(interview.chat, "This question needs a voice note, not text. Please record "
                                    "your answer (hold the microphone button).")
            return
        text = clean_text(text)
        refusal = unreadable(text, "answer")
        if refusal is not None:
            fx.send(interview.chat, refusal)
            return
        draft = draft_of(interview, question)
        if draft is not None and draft.kind != "text":
            fx.send(interview.chat, "Your answer so far is a voice recording "
                                    f"({draft_summary(draft)}), so this message was not added. "
                                    "Record another clip to add to it, tap Submit, or Start "
                                    "over to answer in writing.")
            return
        if draft is not None:
            joined = f"{draft.text}\n{text}"
            if len(joined) > TEXT_LIMIT:
                fx.send(interview.chat, f"That message would make your answer longer than "
                                        f"{TEXT_LIMIT} characters, so it was not added. Your "
                                        "answer so far is kept: tap Submit, or send a shorter "
                                        "message.")
                return
            draft.text = joined
            self._added(script, interview, question, draft, fx)
            return
        if len(text) > TEXT_LIMIT:
            fx.send(interview.chat, f"That answer is over {TEXT_LIMIT} characters. Please "
                                    "shorten it.")
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
        if question.answer.is_choice and follow_up is None:
            fx.send(chat, "Please choose one of the options: "
                    + ", ".join(question.answer.options) + ".")
            return None
        if not question.answer.allows("voice"):
            fx.send(chat, "This question needs a written answer. Please type it as text.")
            return None
        if cmd.media.transcript == "processing":
            fx.send(chat, texts.PROCESSING)
            return None
        draft = draft_of(interview, question) if follow_up is None else None
        if draft is not None and draft.kind != "voice":
            fx.send(chat, f"Your answer so far is written ({draft_summary(draft)}), so this "
                          "recording was not added. Keep typing to add to it, tap Submit, or "
                          "Start over to answer by voice.")
            return None
        so_far = (draft.duration or 0.0) if draft else 0.0
        allowed = accommodations.rules(uow, script, interview, question).max_seconds
        max_seconds = allowed - so_far + GRACE_SECONDS
        if cmd.media.duration is not None and cmd.media.duration > max_seconds:
            fx.send(chat, over_limit(allowed, so_far, cmd.media.duration) if draft else
                    texts.AUDIO_REJECTED[RejectReason.TOO_LONG].format(
                        limit=texts.limit(allowed)))
            return None
        limit = self.s.download_limit(cmd.media.platform)
        if cmd.media.size is not None and cmd.media.size > limit:
            fx.send(chat, texts.AUDIO_REJECTED[RejectReason.TOO_LARGE])
            return None
        return MediaPlan(interview.id, chat, question, follow_up.id if follow_up else None,
                         max_seconds, limit, draft.id if draft else None,
                         draft.media_key if draft else None, so_far, allowed)

    async def fetch_media(self, cmd: MediaReceived, plan: MediaPlan, fx: Effects
                          ) -> Take | None:
        """Download and store the audio, joined to the draft's recording if there is one (no
        transaction is open meanwhile); None when `fx` holds the reason it could not be used."""
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
            if exc.reason is RejectReason.TOO_LONG and plan.draft_key is not None:
                fx.send(plan.chat, over_limit(plan.allowed, plan.draft_seconds, None))
            else:
                fx.send(plan.chat, texts.AUDIO_REJECTED[exc.reason].format(
                    limit=texts.limit(plan.allowed)))
            return None
        except Exception as exc:  # the pipeline failed (ffmpeg, a worker, the disk), not the clip
            log.warning("storing a recording failed: %s", type(exc).__name__)
            fx.send(plan.chat, texts.AUDIO_FAILED)
            return None
        transcript = cmd.media.transcript if cmd.media.transcript != "processing" else None
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
            fx.send(plan.chat, texts.AUDIO_FAILED)
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
        if interview.id != plan.interview_id:  # a newer interview began meanwhile
            fx.send(interview.chat, texts.MOVED_ON)
            return False
        if plan.follow_up_id is not None:
            follow_up = interview.open_follow_up() if interview.state is State.COMPLETED else None
            if follow_up is None or follow_up.id != plan.follow_up_id:
                fx.send(interview.chat, texts.MOVED_ON)
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
            fx.send(interview.chat, texts.MOVED_ON)  # submitted, started over or added to
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
        fx.send(cmd.chat, texts.UNSUPPORTED.format(what=cmd.what, kinds=texts.kinds_phrase(kinds)))
        return True

    def _record(self, uow: UnitOfWork, script: Script, interview: Interview, question: Question,
                take: Take, delivery: str | None, fx: Effects,
                max_seconds: int | None = None) -> bool:
        """Start a new draft for the current question (False: no re-records left)."""
        assert interview.chat is not None
        answer = interview.answer_for(question.id)
        if answer and answer.takes and retakes_left(question, interview) == 0:
            fx.send(interview.chat, "You have no re-records left for this question. "
                                    "Tap Submit on your last answer to continue.")
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
            fx.reply = texts.STALE_BUTTON
            return
        answer, take = found
        question = script.question(answer.question_id)
        if answer.draft(interview.awaiting_redo) is not take:
            if answer.draft(interview.awaiting_redo) is None:
                fx.reply = (f"Nothing to submit: your answer to "
                            f"{texts.question_label(script, question)} is empty. Send your "
                            "answer first.")
            else:
                fx.reply = texts.STALE_BUTTON
            return
        fx.reply = "Submitted."
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
            fx.reply = texts.STALE_BUTTON
            return
        question = script.question(found[0].question_id)
        if retakes_left(question, interview) == 0:
            fx.reply = texts.STALE_BUTTON
            return
        interview.awaiting_redo = True
        fx.reply = "OK, send your new answer."
        again = OutMessage(
            f"OK, send your new answer to {texts.question_label(script, question)} (what you "
            f"sent so far is set aside):\n\n{question.text}")
        if message is None:
            fx.send(interview.chat, again)
            return
        fx.edits.append((message, OutMessage(  # one message: what happened, and what next
            f"Starting {texts.question_label(script, question)} over.\n\n{again.text}")))
        fx.carrying.append(message)

    def on_skip(self, script: Script, interview: Interview, payload: Payload,
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
        submit(script, interview, question, None, self._now(), fx, message, payload.arg(1))


__all__ = ["GRACE_SECONDS", "Answers", "MediaPlan"]
