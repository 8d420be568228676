"""The reviewers' side: review cards, independent ratings, decisions, follow-ups and replies."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from statistics import mean

from core import outcome, texts
from core import payloads as pl
from core.candidate import clean_text, unreadable
from core.capabilities import capabilities
from core.commands import ReviewerText
from core.deadlines import extend_deadline, extended_notice
from core.effects import Effects
from core.events import ReviewChanged
from core.messages import Audio, Button, OutMessage
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

REVIEWER_TEXT_LIMIT = 2000  # characters of a follow-up question or reply
DECISION_LABELS = {Decision.ADVANCE: "Advance", Decision.HOLD: "Hold", Decision.REJECT: "Reject"}


def candidate_label(script: Script, interview: Interview) -> str:
    """How reviewers see the candidate: a number in blind mode, else the name."""
    if script.review.blind or not interview.candidate_name:
        return f"Candidate #{interview.number}"
    return f"{interview.candidate_name} (#{interview.number})"


def complete_reviewers(script: Script, answer: Answer, ratings: list[Rating]) -> set[UserRef]:
    """Reviewers who have rated every criterion of an answer."""
    criteria = set(script.criteria_for(script.question(answer.question_id)))
    by_reviewer: dict[UserRef, set[str]] = defaultdict(set)
    for r in ratings:
        if r.answer_id == answer.id:
            by_reviewer[r.reviewer].add(r.criterion)
    return {who for who, done in by_reviewer.items() if criteria <= done}


def scored_answers(script: Script, interview: Interview) -> list[Answer]:
    """Kept answers to rated questions (not practice; a choice question only with its own
    rubric), in script order."""
    order = {q.id: i for i, q in enumerate(script.questions)}
    unrated = {q.id for q in script.questions if not q.rated}
    kept = [a for a in interview.answers if a.kept is not None and a.question_id not in unrated]
    return sorted(kept, key=lambda a: order[a.question_id])


def answer_card(script: Script, interview: Interview, answer: Answer, ratings: list[Rating],
                audio: Audio | None = None) -> OutMessage:
    """One answer for reviewers: question, answer, transcript, rating rows, status line."""
    question = script.question(answer.question_id)
    take = answer.kept
    assert take is not None
    lines = [f"{candidate_label(script, interview)} · {texts.question_label(script, question)}",
             f"Q: {question.text}"]
    if take.kind == "text":
        lines.append(f"A: {take.text}")
    elif take.kind == "choice":
        lines.append(f"A: {', '.join(take.choices)}")
    else:
        lines.append(f"A: voice answer, {texts.clock(take.duration)}")
        if take.transcript:
            lines.append(f"Transcript: {take.transcript}")
    done = complete_reviewers(script, answer, ratings)
    count = len(done)
    if script.review.independent:
        lines.append(f"{count} reviewer{'s' if count != 1 else ''} rated this answer. "
                     "Scores stay hidden until you have rated it yourself.")
    else:
        lines.append(_score_summary(script, answer, ratings) or "No ratings yet.")
    rows: list[tuple[Button, ...]] = []
    for index, criterion in enumerate(script.criteria_for(question)):
        rows.append(tuple(
            Button(f"{criterion} {score}" if i == 0 else str(score),
                   pl.make(pl.RATE, interview.id, answer.id, index, score))
            for i, score in enumerate(script.rubric.scale)))
    rows.append((Button("Ask a follow-up", pl.make(pl.FOLLOW_UP, interview.id, answer.id)),))
    return OutMessage("\n".join(lines), tuple(rows), audio=audio)


def _score_summary(script: Script, answer: Answer, ratings: list[Rating]) -> str:
    question = script.question(answer.question_id)
    parts = []
    for criterion in script.criteria_for(question):
        scores = [r.score for r in ratings if r.answer_id == answer.id and r.criterion == criterion]
        if scores:
            parts.append(f"{criterion} {mean(scores):.1f} ({len(scores)})")
    return "Scores: " + ", ".join(parts) if parts else ""


def choice_lines(script: Script, interview: Interview) -> list[str]:
    """The options chosen in each choice question, for the summary card."""
    out = []
    for question in script.questions:
        answer = interview.answer_for(question.id)
        take = answer.kept if answer else None
        if question.answer.is_choice and not question.practice and take is not None:
            out.append(f"{texts.question_label(script, question)} · {question.text} "
                       f"{', '.join(take.choices)}")
    return out


def summary_card(script: Script, interview: Interview, decisions: list[ReviewerDecision],
                 ratings: list[Rating] | None = None) -> OutMessage:
    """The interview's head card: who, what, when, how long, and the decision buttons.

    In independent mode it shows only how many reviewers have rated every answer and how
    many have decided; what they chose is shown to each reviewer privately, after their own.
    """
    answers = scored_answers(script, interview)
    seconds = sum(a.kept.duration or 0 for a in answers if a.kept)
    when = interview.completed_at or interview.invited_at
    lines = [
        f"{candidate_label(script, interview)} completed {script.title}",
        f"Completed {when:%Y-%m-%d %H:%M} UTC · {len(answers)} answers · "
        f"{texts.clock(seconds)} of audio",
        "Rate every answer below; the decision buttons unlock for you once you have.",
    ]
    lines[2:2] = choice_lines(script, interview)
    if interview.state is State.ERASED:
        lines = [f"Candidate #{interview.number}: erased at the candidate's request."]
        return OutMessage("\n".join(lines))
    if script.review.independent:
        if ratings is not None or decisions:
            rated = len(fully_rated(script, interview, ratings or []))
            lines.append(f"Rated by {rated} · decided by {len(decisions)}.")
    elif decisions:
        tally: defaultdict[Decision, int] = defaultdict(int)
        for d in decisions:
            tally[d.decision] += 1
        lines.append("Decisions so far: " + ", ".join(
            f"{DECISION_LABELS[k]} {v}" for k, v in tally.items()))
    buttons = ((Button("Advance", pl.make(pl.DECIDE, interview.id, "a"), "primary"),
                Button("Hold", pl.make(pl.DECIDE, interview.id, "h")),
                Button("Reject", pl.make(pl.DECIDE, interview.id, "r"), "danger")),)
    return OutMessage("\n".join(lines), buttons, title=script.title)


def fully_rated(script: Script, interview: Interview, ratings: list[Rating]) -> set[UserRef]:
    """Reviewers who have rated every answer of an interview."""
    answers = scored_answers(script, interview)
    if not answers:
        return set()
    done = [complete_reviewers(script, a, ratings) for a in answers]
    return set.intersection(*done)


def _tally(decisions: list[ReviewerDecision]) -> str:
    counts: defaultdict[Decision, int] = defaultdict(int)
    for d in decisions:
        counts[d.decision] += 1
    return ", ".join(f"{DECISION_LABELS[k]} {v}" for k, v in counts.items())


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
                label = texts.question_label(script, script.question(answer.question_id))
                audio = Audio(path, mime, label, take.duration or 0.0)
            out.append((answer.id, answer_card(script, interview, answer, ratings, audio)))
        return out

    # -- presses -----------------------------------------------------------------------
    def button(self, uow: UnitOfWork, user: UserRef, chat: ChatRef, payload: Payload,
               fx: Effects, message: MessageRef | None = None) -> None:
        """A reviewer's press; every refusal is a private answer and changes nothing."""
        interview = uow.interviews.get(payload.interview_id)
        if interview is None:
            fx.reply = texts.STALE_BUTTON
            return
        script = self.s.script(interview)
        refusal = reviewer_refusal(self.s, uow, script, user, chat)
        if refusal is not None:
            fx.reply = refusal
            return
        if interview.state is State.ERASED:
            fx.reply = "This interview was erased at the candidate's request."
            return
        if payload.action == pl.RATE:
            self._rate(uow, script, interview, user, payload, fx)
        elif payload.action == pl.DECIDE:
            self._decide(uow, script, interview, user, payload, fx)
        elif payload.action == pl.FOLLOW_UP:
            answer = interview.answer_by_id(payload.arg(0))
            if answer is None or interview.state is not State.COMPLETED:
                fx.reply = texts.STALE_BUTTON
                return
            fx.reply = "Write your follow-up question."
            fx.send(chat, OutMessage(
                f"Follow-up for {candidate_label(script, interview)} on "
                f"{texts.question_label(script, script.question(answer.question_id))}: "
                "reply with your question.",
                ask_reply=pl.make(pl.FOLLOW_UP, interview.id, answer.id)))
        elif payload.action == pl.EXTEND:
            self._extend(uow, script, interview, user, payload, fx, message)
        elif payload.action == pl.REPLY:
            found = next((q for q in interview.candidate_questions if q.id == payload.arg(0)),
                         None)
            if found is None:
                fx.reply = texts.STALE_BUTTON
                return
            fx.reply = "Write your reply."
            fx.send(chat, OutMessage(
                f"Reply to {candidate_label(script, interview)}'s question: \"{found.text}\"",
                ask_reply=pl.make(pl.REPLY, interview.id, found.id)))
        else:
            fx.reply = texts.STALE_BUTTON

    def _rate(self, uow: UnitOfWork, script: Script, interview: Interview, user: UserRef,
              payload: Payload, fx: Effects) -> None:
        answer = interview.answer_by_id(payload.arg(0))
        if answer is None or answer.kept is None:
            fx.reply = texts.STALE_BUTTON
            return
        criteria = script.criteria_for(script.question(answer.question_id))
        try:
            criterion = criteria[int(payload.arg(1))]
            score = int(payload.arg(2))
        except (ValueError, IndexError):
            fx.reply = texts.STALE_BUTTON
            return
        if score not in script.rubric.scale:
            fx.reply = texts.STALE_BUTTON
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
        label = texts.question_label(script, script.question(answer.question_id))
        reply = f"You rated {label} {criterion}: {score}."
        missing = [c for c in criteria if c not in mine]
        if missing:
            reply += f" Still to rate: {', '.join(missing)}."
        elif script.review.independent:
            others = [r for r in ratings if r.answer_id == answer.id and r.reviewer != user]
            summary = _score_summary(script, answer, others)
            if summary:
                reply += f" Others so far: {summary[8:]}."
                if not seen:
                    uow.reviews.audit(AuditEntry(interview.id, str(user), REVEALED, answer.id,
                                                 self._now()))
                if revised:
                    reply += " Changed after seeing others: recorded as revised."
            else:
                reply += " You are the first."
        fx.reply = reply
        fx.emit(ReviewChanged(interview.id, answer.id))

    def _decide(self, uow: UnitOfWork, script: Script, interview: Interview, user: UserRef,
                payload: Payload, fx: Effects) -> None:
        choice = {"a": Decision.ADVANCE, "h": Decision.HOLD, "r": Decision.REJECT}.get(
            payload.arg(0))
        if choice is None or interview.state is not State.COMPLETED:
            fx.reply = texts.STALE_BUTTON
            return
        ratings = uow.reviews.ratings(interview.id)
        answers = scored_answers(script, interview)
        rated = sum(1 for a in answers if user in complete_reviewers(script, a, ratings))
        if rated < len(answers):
            fx.reply = (f"Rate every answer first: you have rated {rated} of {len(answers)}. "
                        "Decisions unlock after the last one.")
            return
        if not may_decide(script, self.s, user):
            fx.reply = texts.NOT_A_DECIDER
            return
        decisions = uow.reviews.decisions(interview.id)
        mine = next((d for d in decisions if d.reviewer == user), None)
        if mine is not None and mine.decision is choice:
            fx.reply = f"Your decision is already {DECISION_LABELS[choice]}."
            return
        uow.reviews.put_decision(ReviewerDecision(interview.id, user, choice, self._now()))
        uow.reviews.audit(AuditEntry(interview.id, str(user), "decision", choice.value,
                                     self._now()))
        fx.reply = f"Your decision: {DECISION_LABELS[choice]}."
        seen = revealed(uow, interview.id, user, DECISIONS)  # others' decisions shown before
        if mine is not None and seen:
            uow.reviews.audit(AuditEntry(interview.id, str(user), REVISED,
                                         f"decision: {mine.decision.value} -> {choice.value}",
                                         self._now()))
            fx.reply += " Changed after seeing others: recorded as revised."
        others = [d for d in decisions if d.reviewer != user]
        if others and script.review.independent:
            fx.reply += f" Others decided: {_tally(others)}."
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
            fx.reply = texts.STALE_BUTTON
            return
        if stamp != current or interview.state is not State.EXPIRED:
            known = any(e.action == "deadline extended" and e.detail.startswith(f"{stamp} ")
                        for e in uow.reviews.audit_log(interview.id))
            if not known:
                fx.reply = texts.STALE_BUTTON
                return
            fx.reply = ("Already extended: the new deadline is "
                        f"{interview.deadline:%Y-%m-%d %H:%M} UTC.")
            if message is not None:
                fx.edits.append((message, extended_notice(script, interview, who)))
            return
        if not extend_deadline(self.s, uow, interview, script.review.extend, str(user), fx,
                               since=stamp):
            fx.reply = texts.STALE_BUTTON
            return
        hours = round(script.review.extend.total_seconds() / 3600)
        fx.reply = f"Extended by {hours} h."
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
            fx.notes.append((cmd.chat, cmd.user, refusal))
            return
        if interview.state is not State.COMPLETED or interview.chat is None:
            fx.send(cmd.chat, "That can no longer reach the candidate.")
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
        refusal = unreadable(text, "follow-up question" if answer is not None else "reply")
        if refusal is not None:
            fx.send(cmd.chat, OutMessage(f"{refusal} Nothing was sent to the candidate.",
                                         ask_reply=cmd.target))
            return
        text = text[:REVIEWER_TEXT_LIMIT].rstrip()
        if answer is not None:
            waiting = interview.open_follow_up()
            follow_up = FollowUp(new_id(), answer.id, cmd.user, text, self._now())
            interview.follow_ups.append(follow_up)
            uow.reviews.audit(AuditEntry(interview.id, str(cmd.user), "follow-up asked",
                                         answer.question_id, self._now()))
            fx.send(cmd.chat, "Your follow-up was sent to the candidate; their reply will "
                              "appear here.")
            if waiting is None:
                question = script.question(answer.question_id)
                fx.send(interview.chat, OutMessage(
                    f"The team has a follow-up question on your answer to "
                    f"{texts.question_label(script, question)}:\n\n\"{text}\"\n\n"
                    f"Please reply with {texts.kinds_phrase(question.answer.kinds)}."))
            fx.changed.append(interview.id)
        elif found is not None:
            found.reply = text
            found.replied_by = cmd.user
            fx.send(cmd.chat, "Your reply was sent to the candidate.")
            fx.send(interview.chat, f"The team replied to your question \"{found.text}\":\n\n"
                                    f"{text}")
