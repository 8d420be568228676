"""What happens when a timer fires: reminders, expiry, reviewer digests, and extensions."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from core import payloads as pl
from core import texts
from core.deadlines import expiry_notice, progress
from core.effects import Effects
from core.i18n import N_, t, tn
from core.messages import Button, OutMessage
from core.model import Interview
from core.ports import UnitOfWork
from core.prompts import current_question, draft_summary
from core.reminders import REVIEW_NUDGES, Timer, TimerKind, plan
from core.review import candidate_label, complete_reviewers, scored_answers
from core.script import Script
from core.services import Services
from core.states import State
from core.submitting import draft_of, submit_at_deadline

EARLY = timedelta(minutes=1)  # a timer may fire this much before its planned time


def waiting_answers(script: Script, interview: Interview, ratings_by_answer: dict[str, int]
                    ) -> int:
    """How many reviewed answers nobody has fully rated yet."""
    return sum(1 for a in scored_answers(script, interview) if not ratings_by_answer.get(a.id))


class TimerFlow:
    """Handlers for fired timers."""

    def __init__(self, services: Services) -> None:
        self.s = services

    def due(self, script: Script, interview: Interview, kind: TimerKind, index: int,
            now: datetime) -> Timer | None:
        """The planned timer if it still exists and is due; None if its reason has passed."""
        for timer in plan(script, interview):
            if timer.kind is kind and timer.index == index and timer.at <= now + EARLY:
                return timer
        return None

    def fire(self, uow: UnitOfWork, interview_id: str, kind: TimerKind, index: int,
             fx: Effects) -> None:
        interview = uow.interviews.get(interview_id)
        if interview is None:
            return
        script = self.s.script(interview)
        now = self.s.clock.now()
        timer = self.due(script, interview, kind, index, now)
        if timer is None:
            fx.changed.append(interview.id)  # an early look (see plan): plan it again
            return
        if not uow.first_delivery(timer.key):
            return
        if kind is TimerKind.EXPIRE:
            self._expire(script, interview, now, fx)
        elif kind is TimerKind.REVIEW:
            self._digest(uow, script, now, fx)
        else:
            self._remind(script, interview, kind, fx)

    def _remind(self, script: Script, interview: Interview, kind: TimerKind, fx: Effects) -> None:
        assert interview.chat is not None
        lang = texts.lang_for(script, interview.language)
        lead = t(lang, {
            TimerKind.NOT_STARTED: texts.REMIND_NOT_STARTED,
            TimerKind.IDLE: texts.REMIND_IDLE,
            TimerKind.BEFORE_DEADLINE: texts.REMIND_BEFORE_DEADLINE,
        }[kind], title=script.text_in("title", lang))
        question = current_question(script, interview) if interview.is_open else None
        draft = draft_of(interview, question) if question is not None else None
        if question is not None and draft is not None and not (
                draft.kind == "choice" and not draft.choices):
            label = texts.question_label(script, question, lang)
            waiting = t(lang, N_("Your answer to {label} is not submitted yet ({summary}). Tap "
                                 "Submit if it is complete, or add more."),
                        label=label, summary=draft_summary(draft, lang))
            fx.send(interview.chat, OutMessage(
                f"{lead} {waiting} {progress(script, interview)}",
                ((Button(t(lang, texts.SUBMIT), pl.make(pl.KEEP, interview.id, draft.id),
                         "primary"),
                  Button(t(lang, texts.CONTINUE), pl.make(pl.CONTINUE, interview.id))),)))
        else:
            fx.send(interview.chat, OutMessage(
                f"{lead} {progress(script, interview)}",
                ((Button(t(lang, texts.CONTINUE), pl.make(pl.CONTINUE, interview.id),
                         "primary"),),)))
        self.s.observer.reminder_sent(kind.value)

    def _expire(self, script: Script, interview: Interview, now: datetime, fx: Effects) -> None:
        submit_at_deadline(script, interview, now, fx)  # a draft is submitted, never lost
        fx.changed.append(interview.id)
        if interview.state is not State.EXPIRED:
            return  # the draft completed the interview (or screened it out)
        if interview.chat is not None:
            fx.send(interview.chat, t(texts.lang_for(script, interview.language),
                                      texts.DEADLINE_PASSED))
        notice = expiry_notice(script, interview, candidate_label(script, interview))
        for dest in self.s.destinations(script):
            fx.send(dest, notice)

    def _digest(self, uow: UnitOfWork, script: Script, now: datetime, fx: Effects) -> None:
        """One message per review destination listing every interview waiting for ratings."""
        after = script.reminders.reviewer_after
        assert after is not None
        team = texts.review_lang(script)
        lines: list[str] = []
        for interview in uow.interviews.for_script(script.id):
            if interview.state is not State.COMPLETED or interview.completed_at is None:
                continue
            waited = now - interview.completed_at
            if waited < after:
                continue
            ratings = uow.reviews.ratings(interview.id)
            counts: dict[str, int] = defaultdict(int)
            for answer in scored_answers(script, interview):
                counts[answer.id] = len(complete_reviewers(script, answer, ratings))
            unrated = waiting_answers(script, interview, counts)
            if not unrated and uow.reviews.decisions(interview.id):
                continue
            nudge = min(int(waited / after), REVIEW_NUDGES)
            if not uow.first_delivery(f"nudge:{interview.id}:{nudge}"):
                continue
            days = waited.days
            age = (tn(team, "{n} day", "{n} days", days) if days else
                   tn(team, "{n} hour", "{n} hours", int(waited.total_seconds() // 3600)))
            what = (tn(team, "{n} answer unrated", "{n} answers unrated", unrated) if unrated
                    else t(team, N_("no decision yet")))
            lines.append("- " + t(team, N_("{label}: completed {age} ago, {what}"),
                                  label=candidate_label(script, interview), age=age, what=what))
        if not lines:
            return
        text = tn(team, "{n} interview for {title} waits for your review:",
                  "{n} interviews for {title} wait for your review:", len(lines),
                  title=script.text_in("title", team)) + "\n" + "\n".join(lines)
        for dest in self.s.destinations(script):
            fx.send(dest, text)
