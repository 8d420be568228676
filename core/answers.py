"""Answering the questions: written answers, recordings (checked, fetched, stored), takes,
Keep / Re-record, skipping a practice question."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core import texts
from core.audio import AudioRejected, RejectReason
from core.commands import MediaReceived, UnsupportedReceived
from core.effects import Effects
from core.model import Interview, Take, WrapUp, new_id
from core.payloads import Payload
from core.ports import MediaTooLarge, UnitOfWork
from core.prompts import (
    ask,
    close,
    current_question,
    receipt,
    repeat_prompt,
    retakes_left,
    status_text,
)
from core.refs import ChatRef, MessageRef
from core.script import Question, Script
from core.services import Services
from core.states import State
from core.wrap_up import WrapUpFlow, finish
from core.written import clean_text, unreadable

GRACE_SECONDS = 2.0  # a recording may run this much over a question's limit


@dataclass(frozen=True)
class MediaPlan:
    """What a recording being fetched will answer, decided before the download."""

    interview_id: str
    chat: ChatRef
    question: Question
    follow_up_id: str | None
    max_seconds: float
    limit: int


class Answers:
    """Handlers for answers to the questions."""

    def __init__(self, services: Services, wrap_up: WrapUpFlow) -> None:
        self.s = services
        self.wrap_up = wrap_up

    def _now(self) -> datetime:
        return self.s.clock.now()

    def text(self, uow: UnitOfWork, script: Script, interview: Interview, text: str,
             delivery: str | None, fx: Effects) -> None:
        """A written answer to the open question."""
        assert interview.chat is not None
        question = current_question(script, interview)
        assert question is not None
        if not question.answer.allows("text"):
            fx.send(interview.chat, "This question needs a voice note, not text. Please record "
                                    "your answer (hold the microphone button).")
            return
        text = clean_text(text)
        refusal = unreadable(text, "answer")
        if refusal is not None:
            fx.send(interview.chat, refusal)
            return
        if len(text) > 4000:
            fx.send(interview.chat, "That answer is over 4000 characters. Please shorten it.")
            return
        take = Take(id=new_id(), number=0, kind="text", received_at=self._now(), text=text)
        self._record(uow, script, interview, question, take, delivery, fx)

    def media_plan(self, script: Script, interview: Interview, cmd: MediaReceived,
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
        if not question.answer.allows("voice"):
            fx.send(chat, "This question needs a written answer. Please type it as text.")
            return None
        if cmd.media.transcript == "processing":
            fx.send(chat, texts.PROCESSING)
            return None
        max_seconds = question.answer.max_seconds + GRACE_SECONDS
        if cmd.media.duration is not None and cmd.media.duration > max_seconds:
            fx.send(chat, texts.AUDIO_REJECTED[RejectReason.TOO_LONG].format(
                limit=texts.limit(question.answer.max_seconds)))
            return None
        limit = self.s.download_limit(cmd.media.platform)
        if cmd.media.size is not None and cmd.media.size > limit:
            fx.send(chat, texts.AUDIO_REJECTED[RejectReason.TOO_LARGE])
            return None
        return MediaPlan(interview.id, chat, question, follow_up.id if follow_up else None,
                         max_seconds, limit)

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
                fx.transcribe.append((interview.id, take.id))
            self.wrap_up.follow_up_reply(script, interview, follow_up, take, fx)
            return True
        question = current_question(script, interview) if interview.is_open else None
        if question is None or question.id != plan.question.id:
            fx.send(interview.chat, texts.MOVED_ON)
            repeat_prompt(script, interview, fx)
            return False
        if not self._record(uow, script, interview, question, take, cmd.delivery, fx):
            return False
        if take.transcript is None:
            fx.transcribe.append((interview.id, take.id))
        return True

    def unsupported(self, uow: UnitOfWork, cmd: UnsupportedReceived, fx: Effects) -> bool:
        interview = uow.interviews.current_for(cmd.user)
        if interview is None:
            return False
        script = self.s.script(interview.script_id)
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
        answer = interview.answer_by_id(answer_id)
        assert answer is not None
        interview.keep(answer, take, self._now())
        if current_question(script, interview) is not None:
            ask(script, interview, fx)
            return
        finish(script, interview, self._now(), fx)

    # -- buttons -----------------------------------------------------------------------
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

    def on_keep(self, script: Script, interview: Interview, payload: Payload,
                message: MessageRef | None, fx: Effects) -> None:
        pending = self._pending_take(script, interview, payload.arg(0))
        if pending is None:
            fx.reply = texts.STALE_BUTTON
            return
        question, answer_id, take = pending
        fx.reply = "Kept."
        close(message, f"Kept your answer to {texts.question_label(script, question)}.", fx)
        self._keep(script, interview, answer_id, take, fx)

    def on_redo(self, script: Script, interview: Interview, payload: Payload,
                message: MessageRef | None, fx: Effects) -> None:
        assert interview.chat is not None
        pending = self._pending_take(script, interview, payload.arg(0))
        if pending is None or retakes_left(pending[0], interview) == 0:
            fx.reply = texts.STALE_BUTTON
            return
        question = pending[0]
        interview.awaiting_redo = True
        fx.reply = "OK, send your new answer."
        close(message, f"Re-recording {texts.question_label(script, question)}.", fx)
        fx.send(interview.chat, f"OK, send your new answer to "
                                f"{texts.question_label(script, question)}:\n\n{question.text}")

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
        close(message, "Practice question skipped.", fx)
        self._keep(script, interview, answer.id, None, fx)
