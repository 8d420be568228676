"""After the last answer: the candidate's questions for the team, follow-up questions from
reviewers and the candidate's replies, and the rating of the experience."""

from __future__ import annotations

from datetime import datetime

from core import payloads as pl
from core import self_id, texts
from core.capabilities import with_commands
from core.effects import Effects
from core.events import CandidateAsked, FollowUpAnswered, InterviewCompleted
from core.i18n import N_, t
from core.messages import Button, OutMessage
from core.model import CandidateQuestion, FollowUp, Interview, Take, WrapUp, new_id
from core.payloads import Payload
from core.prompts import close, feedback_prompt, follow_up_message, status_text
from core.refs import MessageRef
from core.script import Script
from core.services import Services
from core.states import State
from core.written import clean_text, unreadable


def finish(script: Script, interview: Interview, now: datetime, fx: Effects) -> None:
    """Every question is answered: complete the interview and open the wrap-up."""
    assert interview.chat is not None
    interview.move_to(State.COMPLETED, now)
    interview.completed_at = now
    interview.wrap_up = WrapUp.QUESTIONS
    fx.emit(InterviewCompleted(interview.id))
    lang = texts.lang_for(script, interview.language)
    outro = script.text_in("outro", lang)
    if outro == texts.DEFAULT_OUTRO:
        outro = t(lang, texts.DEFAULT_OUTRO)
    fx.send(interview.chat, OutMessage(
        t(lang, N_("That was the last question. Your answers are saved and on their way to the "
                   "team.")) + "\n\n" + outro,
        ((Button(t(lang, texts.DONE), pl.make(pl.DONE, interview.id), "primary"),),)))


class WrapUpFlow:
    """Handlers for what the candidate sends or presses once the questions are done."""

    def __init__(self, services: Services) -> None:
        self.s = services

    def _now(self) -> datetime:
        return self.s.clock.now()

    def text_after_completion(self, script: Script, interview: Interview, text: str,
                              fx: Effects) -> None:
        assert interview.chat is not None
        lang = texts.lang_for(script, interview.language)
        follow_up = interview.open_follow_up()
        if follow_up is not None:
            question = script.question(interview.answer_by_id(follow_up.answer_id).question_id)  # type: ignore[union-attr]
            if not question.answer.allows("text"):
                fx.send(interview.chat, t(lang, N_("Please answer the follow-up with a voice "
                                                   "note.")))
                return
            refusal = unreadable(clean_text(text), "reply", lang)
            if refusal is not None:
                fx.send(interview.chat, refusal)
                return
            take = Take(id=new_id(), number=1, kind="text", received_at=self._now(),
                        text=clean_text(text))
            self.follow_up_reply(script, interview, follow_up, take, fx)
            return
        if interview.wrap_up is WrapUp.QUESTIONS:
            refusal = unreadable(clean_text(text), "question", lang)
            if refusal is not None:
                fx.send(interview.chat, refusal)
                return
            cq = CandidateQuestion(id=new_id(), text=clean_text(text)[:2000],
                                   asked_at=self._now())
            interview.candidate_questions.append(cq)
            fx.emit(CandidateAsked(interview.id, cq.id))
            fx.send(interview.chat, OutMessage(
                t(lang, N_("Noted, the team will see your question. Send another, or tap Done.")),
                ((Button(t(lang, texts.DONE), pl.make(pl.DONE, interview.id), "primary"),),)))
            return
        if interview.wrap_up is WrapUp.FEEDBACK:
            fx.send(interview.chat, t(lang, texts.PRESS_A_BUTTON, labels=t(lang, N_("1 to 5"))))
            return
        fx.send(interview.chat, status_text(script, interview, self._now()))

    def follow_up_reply(self, script: Script, interview: Interview, follow_up: FollowUp,
                        take: Take, fx: Effects) -> None:
        assert interview.chat is not None
        follow_up.reply = take
        fx.emit(FollowUpAnswered(interview.id, follow_up.id))
        fx.send(interview.chat, t(texts.lang_for(script, interview.language),
                                  N_("Thanks, your reply is on its way to the team.")))
        nxt = interview.open_follow_up()
        if nxt is not None:
            fx.send(interview.chat, follow_up_message(script, interview, nxt))

    # -- buttons -----------------------------------------------------------------------
    def on_done(self, script: Script, interview: Interview, payload: Payload,
                message: MessageRef | None, fx: Effects) -> None:
        assert interview.chat is not None
        if interview.state is not State.COMPLETED or interview.wrap_up is not WrapUp.QUESTIONS:
            fx.say(texts.STALE_BUTTON)
            return
        interview.wrap_up = WrapUp.FEEDBACK
        lang = texts.lang_for(script, interview.language)
        fx.say(N_("Done."))
        if message is not None:
            fx.edits.append((message, OutMessage(t(lang, N_("Thanks for your questions.")))))
        fx.send(interview.chat, feedback_prompt(interview, lang))

    def on_feedback(self, script: Script, interview: Interview, payload: Payload,
                    message: MessageRef | None, fx: Effects) -> None:
        assert interview.chat is not None
        score = payload.arg(0)
        if interview.wrap_up is not WrapUp.FEEDBACK or score not in {"1", "2", "3", "4", "5"}:
            fx.say(texts.STALE_BUTTON)
            return
        interview.experience_rating = int(score)
        interview.wrap_up = WrapUp.DONE
        lang = texts.lang_for(script, interview.language)
        fx.say(texts.THANK_YOU)
        close(message, t(lang, N_("You rated this interview {score} of 5."), score=score), fx)
        fx.send(interview.chat, with_commands(t(lang, N_(
            "Thank you for your time! The hiring team will review your answers and get back to "
            "you. You can use {delete} at any time to erase your answers and recordings.")),
            interview.chat.platform))
        self_id.offer(script, interview, fx)
