"""The reviewers' side: review cards, independent ratings, decisions, follow-ups and replies."""

from __future__ import annotations

from datetime import datetime

from core import outcome, texts
from core import payloads as pl
from core.candidate import clean_text, unreadable
from core.capabilities import capabilities
from core.commands import ReviewerText
from core.deadlines import extend_deadline, extended_notice
from core.effects import Effects
from core.events import ReviewChanged
from core.i18n import N_, t
from core.messages import Audio, OutMessage
from core.model import (
    Answer,
    AuditEntry,
    CandidateQuestion,
    Decision,
    FollowUp,
    Interview,
    Rating,
    ReviewerDecision,
    new_id,
)
from core.payloads import Payload
from core.ports import UnitOfWork
from core.refs import ChatRef, MessageRef, UserRef
from core.replies import say
from core.review_cards import (
    DECISION_LABELS,
    SCORES,
    _score_summary,
    _tally,
    answer_card,
    candidate_label,
    complete_reviewers,
    scored_answers,
    summary_card,
)
from core.reviewers import (
    DECISIONS,
    REVEALED,
    REVISED,
    may_decide,
    revealed,
    reviewer_refusal,
)
from core.script import Script
from core.services import Services
from core.states import State

REVISED_NOTE = N_("Changed after seeing others: recorded as revised.")
REVIEWER_TEXT_LIMIT = 2000  # characters of a follow-up question or reply


class ReviewFlow:
    """Handlers for reviewers' presses and texts, and the posting of review cards."""

    def __init__(self, services: Services) -> None:
        self.s = services

    def _now(self) -> datetime:
        return self.s.clock.now()

    async def cards(self, uow: UnitOfWork, interview: Interview, platform: str
                    ) -> list[tuple[str | None, OutMessage]]:
        """Every card of an interview for one platform: (answer id or None, message)."""
        script = self.s.script(interview)
        ratings = uow.reviews.ratings(interview.id)
        out: list[tuple[str | None, OutMessage]] = [
            (None, summary_card(script, interview, uow.reviews.decisions(interview.id),
                                ratings))]
        for answer in scored_answers(script, interview):
            take = answer.kept
            audio = None
            if take is not None and take.media_key:
                path, mime = await self.s.audio.review_copy(
                    take.media_key, fmt=capabilities(platform).inline_audio)
                label = texts.question_label(script, script.question(answer.question_id),
                                             texts.review_lang(script))
                audio = Audio(path, mime, label, take.duration or 0.0)
            out.append((answer.id, answer_card(script, interview, answer, ratings, audio)))
        return out

    # -- presses -----------------------------------------------------------------------
    def button(self, uow: UnitOfWork, user: UserRef, chat: ChatRef, payload: Payload,
               fx: Effects, message: MessageRef | None = None) -> None:
        """A reviewer's press; every refusal is a private answer and changes nothing."""
        interview = uow.interviews.get(payload.interview_id)
        if interview is None:
            fx.say(texts.STALE_BUTTON)
            return
        script = self.s.script(interview)
        team = texts.review_lang(script)
        refusal = reviewer_refusal(self.s, uow, script, user, chat)
        if refusal is not None:
            fx.say(refusal)
            return
        if interview.state is State.ERASED:
            fx.say(N_("This interview was erased at the candidate's request."))
            return
        if payload.action == pl.RATE:
            self._rate(uow, script, interview, user, payload, fx)
        elif payload.action == pl.DECIDE:
            self._decide(uow, script, interview, user, payload, fx)
        elif payload.action == pl.FOLLOW_UP:
            answer = interview.answer_by_id(payload.arg(0))
            if answer is None or interview.state is not State.COMPLETED:
                fx.say(texts.STALE_BUTTON)
                return
            fx.say(N_("Write your follow-up question."))
            fx.send(chat, OutMessage(
                t(team, N_("Follow-up for {label} on {question}: reply with your question."),
                  label=candidate_label(script, interview),
                  question=texts.question_label(script, script.question(answer.question_id),
                                                team)),
                ask_reply=pl.make(pl.FOLLOW_UP, interview.id, answer.id)))
        elif payload.action == pl.EXTEND:
            self._extend(uow, script, interview, user, payload, fx, message)
        elif payload.action == pl.REPLY:
            found = next((q for q in interview.candidate_questions if q.id == payload.arg(0)),
                         None)
            if found is None:
                fx.say(texts.STALE_BUTTON)
                return
            fx.say(N_("Write your reply."))
            fx.send(chat, OutMessage(
                t(team, N_("Reply to {label}'s question: \"{question}\""),
                  label=candidate_label(script, interview), question=found.text),
                ask_reply=pl.make(pl.REPLY, interview.id, found.id)))
        else:
            fx.say(texts.STALE_BUTTON)

    def _rate(self, uow: UnitOfWork, script: Script, interview: Interview, user: UserRef,
              payload: Payload, fx: Effects) -> None:
        answer = interview.answer_by_id(payload.arg(0))
        if answer is None or answer.kept is None:
            fx.say(texts.STALE_BUTTON)
            return
        criteria = script.criteria_for(script.question(answer.question_id))
        try:
            criterion = criteria[int(payload.arg(1))]
            score = int(payload.arg(2))
        except (ValueError, IndexError):
            fx.say(texts.STALE_BUTTON)
            return
        if score not in script.rubric.scale:
            fx.say(texts.STALE_BUTTON)
            return
        rating = Rating(interview.id, answer.id, answer.question_id, user, criterion, score,
                        self._now())
        before = uow.reviews.put_rating(rating)
        seen = revealed(uow, interview.id, user, answer.id)  # others' scores shown before
        revised = before is not None and before.score != score and seen
        if before is not None and before.score != score:
            change = f"{answer.question_id}/{criterion}: {before.score} -> {score}"
            uow.reviews.audit(AuditEntry(interview.id, str(user), "rating changed", change,
                                         self._now()))
            if revised:
                uow.reviews.audit(AuditEntry(interview.id, str(user), REVISED, change,
                                             self._now()))
        ratings = uow.reviews.ratings(interview.id)
        mine = {r.criterion: r.score for r in ratings
                if r.reviewer == user and r.answer_id == answer.id}
        team = texts.review_lang(script)
        question = script.question(answer.question_id)
        fx.say(N_("You rated {label} {criterion}: {score}."), criterion=criterion, score=score,
               label=lambda lang: texts.question_label(script, question, lang))
        missing = [c for c in criteria if c not in mine]
        if missing:
            fx.say_also(N_("Still to rate: {criteria}."), criteria=", ".join(missing))
        elif script.review.independent:
            others = [r for r in ratings if r.answer_id == answer.id and r.reviewer != user]
            summary = _score_summary(script, answer, others)
            if summary:  # criteria and figures: the same in every language
                scores = summary[len(t(team, SCORES, scores="")):]
                fx.say_also(N_("Others so far: {scores}."), scores=scores)
                if not seen:
                    uow.reviews.audit(AuditEntry(interview.id, str(user), REVEALED, answer.id,
                                                 self._now()))
                if revised:
                    fx.say_also(REVISED_NOTE)
            else:
                fx.say_also(N_("You are the first."))
        fx.emit(ReviewChanged(interview.id, answer.id))

    def _decide(self, uow: UnitOfWork, script: Script, interview: Interview, user: UserRef,
                payload: Payload, fx: Effects) -> None:
        choice = {"a": Decision.ADVANCE, "h": Decision.HOLD, "r": Decision.REJECT}.get(
            payload.arg(0))
        if choice is None or interview.state is not State.COMPLETED:
            fx.say(texts.STALE_BUTTON)
            return
        ratings = uow.reviews.ratings(interview.id)
        answers = scored_answers(script, interview)
        rated = sum(1 for a in answers if user in complete_reviewers(script, a, ratings))
        said = say(DECISION_LABELS[choice])
        if rated < len(answers):
            fx.say(N_("Rate every answer first: you have rated {rated} of {total}. "
                      "Decisions unlock after the last one."), rated=rated, total=len(answers))
            return
        if not may_decide(script, self.s, user):
            fx.say(texts.NOT_A_DECIDER)
            return
        decisions = uow.reviews.decisions(interview.id)
        mine = next((d for d in decisions if d.reviewer == user), None)
        if mine is not None and mine.decision is choice:
            fx.say(N_("Your decision is already {decision}."), decision=said)
            return
        uow.reviews.put_decision(ReviewerDecision(interview.id, user, choice, self._now()))
        uow.reviews.audit(AuditEntry(interview.id, str(user), "decision", choice.value,
                                     self._now()))
        fx.say(N_("Your decision: {decision}."), decision=said)
        seen = revealed(uow, interview.id, user, DECISIONS)  # others' decisions shown before
        if mine is not None and seen:
            uow.reviews.audit(AuditEntry(interview.id, str(user), REVISED,
                                         f"decision: {mine.decision.value} -> {choice.value}",
                                         self._now()))
            fx.say_also(REVISED_NOTE)
        others = [d for d in decisions if d.reviewer != user]
        if others and script.review.independent:
            fx.say_also(N_("Others decided: {tally}."),
                        tally=lambda lang: _tally(others, lang))
            if not seen:
                uow.reviews.audit(AuditEntry(interview.id, str(user), REVEALED, DECISIONS,
                                             self._now()))
        fx.emit(ReviewChanged(interview.id, None))
        outcome.decided(self.s, uow, script, interview, user, choice, fx)  # core/outcome.py

    def _extend(self, uow: UnitOfWork, script: Script, interview: Interview, user: UserRef,
                payload: Payload, fx: Effects, message: MessageRef | None) -> None:
        """One press per expiry adds the script's `review.extend`; the payload names which
        expiry (its deadline), never an amount. The pressed button is removed."""
        stamp = payload.arg(0)
        who = candidate_label(script, interview)
        current = str(int(interview.deadline.timestamp()))
        if len(payload.args) != 1 or not stamp.isdigit():
            fx.say(texts.STALE_BUTTON)
            return
        if stamp != current or interview.state is not State.EXPIRED:
            known = any(e.action == "deadline extended" and e.detail.startswith(f"{stamp} ")
                        for e in uow.reviews.audit_log(interview.id))
            if not known:
                fx.say(texts.STALE_BUTTON)
                return
            fx.say(N_("Already extended: the new deadline is {deadline} UTC."),
                   deadline=f"{interview.deadline:%Y-%m-%d %H:%M}")
            if message is not None:
                fx.edits.append((message, extended_notice(script, interview, who)))
            return
        if not extend_deadline(self.s, uow, interview, script.review.extend, str(user), fx,
                               since=stamp):
            fx.say(texts.STALE_BUTTON)
            return
        hours = round(script.review.extend.total_seconds() / 3600)
        fx.say(N_("Extended by {hours} h."), hours=hours)
        if message is not None:
            fx.edits.append((message, extended_notice(script, interview, who)))

    # -- texts -------------------------------------------------------------------------
    def text(self, uow: UnitOfWork, cmd: ReviewerText, fx: Effects) -> None:
        """A reviewer's follow-up question or reply, cleaned like a candidate's text.

        Control characters are dropped (PostgreSQL cannot store NUL); a text with no words
        left is refused with a new reply box, and nothing is stored or sent.
        """
        payload = pl.parse(cmd.target)
        interview = uow.interviews.get(payload.interview_id) if payload else None
        if payload is None or interview is None:
            fx.notes.append((cmd.chat, cmd.user, texts.STALE_BUTTON))
            return
        script = self.s.script(interview)
        refusal = reviewer_refusal(self.s, uow, script, cmd.user, cmd.chat)
        if refusal is not None:
            fx.notes.append((cmd.chat, cmd.user, t(texts.review_lang(script), refusal)))
            return
        team, lang = texts.review_lang(script), texts.lang_for(script, interview.language)
        if interview.state is not State.COMPLETED or interview.chat is None:
            fx.send(cmd.chat, t(team, N_("That can no longer reach the candidate.")))
            return
        answer: Answer | None = None
        found: CandidateQuestion | None = None
        if payload.action == pl.FOLLOW_UP:
            answer = interview.answer_by_id(payload.arg(0))
        elif payload.action == pl.REPLY:
            found = next((q for q in interview.candidate_questions if q.id == payload.arg(0)),
                         None)
        if answer is None and found is None:
            fx.send(cmd.chat, texts.STALE_BUTTON)
            return
        text = clean_text(cmd.text)
        refusal = unreadable(text, "follow-up question" if answer is not None else "reply", team)
        if refusal is not None:
            fx.send(cmd.chat, OutMessage(
                f"{refusal} {t(team, N_('Nothing was sent to the candidate.'))}",
                ask_reply=cmd.target))
            return
        text = text[:REVIEWER_TEXT_LIMIT].rstrip()
        if answer is not None:
            waiting = interview.open_follow_up()
            follow_up = FollowUp(new_id(), answer.id, cmd.user, text, self._now())
            interview.follow_ups.append(follow_up)
            uow.reviews.audit(AuditEntry(interview.id, str(cmd.user), "follow-up asked",
                                         answer.question_id, self._now()))
            fx.send(cmd.chat, t(team, N_("Your follow-up was sent to the candidate; their reply "
                                         "will appear here.")))
            if waiting is None:
                question = script.question(answer.question_id)
                fx.send(interview.chat, OutMessage(t(
                    lang, texts.FOLLOW_UP_QUESTION,
                    label=texts.question_label(script, question, lang), question=text,
                    kinds=texts.kinds_phrase(question.answer.kinds, lang))))
            fx.changed.append(interview.id)
        elif found is not None:
            found.reply = text
            found.replied_by = cmd.user
            fx.send(cmd.chat, t(team, N_("Your reply was sent to the candidate.")))
            fx.send(interview.chat, t(lang, N_("The team replied to your question "
                                               "\"{question}\":\n\n{reply}"),
                                      question=found.text, reply=text))


__all__ = ["DECISION_LABELS", "REVIEWER_TEXT_LIMIT", "ReviewFlow", "answer_card",
           "candidate_label", "complete_reviewers", "scored_answers",
           "summary_card"]
