"""Scorecards: one row per candidate with per-question, per-criterion means and decisions."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from statistics import mean

from core.model import AuditEntry, Interview, Rating, ReviewerDecision, Take
from core.review import candidate_label
from core.reviewers import REVISED
from core.script import Script
from core.texts import lang_for


@dataclass
class Scorecard:
    """What `interviewbot results` prints for one candidate."""

    number: int
    candidate: str
    state: str
    completed_at: str
    language: str = "en"  # the interview's language (the script's default when none chosen)
    scores: dict[str, tuple[float | None, int]] = field(default_factory=dict)  # q.criterion
    answers: dict[str, str] = field(default_factory=dict)  # question id -> text or "voice m:ss"
    # question id -> the answer's language (asked in, or heard by a multilingual transcriber)
    languages: dict[str, str] = field(default_factory=dict)
    overall: float | None = None
    decision: str = ""
    decisions: str = ""
    reviewers: int = 0
    follow_ups: int = 0
    experience: int | None = None
    # changes a reviewer made after being shown others' scores or decisions ("who what")
    revised_after_reveal: list[str] = field(default_factory=list)

    def flat(self) -> dict[str, object]:
        """One flat row (for CSV): fixed columns, then answer and score columns."""
        row: dict[str, object] = {
            "number": self.number, "candidate": self.candidate, "state": self.state,
            "language": self.language, "completed_at": self.completed_at,
            "overall": "" if self.overall is None else round(self.overall, 2),
            "decision": self.decision, "decisions": self.decisions, "reviewers": self.reviewers,
            "follow_ups": self.follow_ups,
            "experience": "" if self.experience is None else self.experience,
            "revised_after_reveal": "; ".join(self.revised_after_reveal),
        }
        for qid, text in self.answers.items():
            row[f"{qid}.answer"] = text
        for qid, lang in self.languages.items():
            row[f"{qid}.language"] = lang
        for key, (avg, count) in self.scores.items():
            row[f"{key}.mean"] = "" if avg is None else round(avg, 2)
            row[f"{key}.n"] = count
        return row


def answer_cell(take: Take) -> str:
    """An answer in one cell: the text, the chosen options (in the order of the options,
    separated by "; "), or "voice <seconds>s"."""
    if take.kind == "choice":
        return "; ".join(take.choices)
    return take.text or "" if take.kind == "text" else f"voice {round(take.duration or 0)}s"


def scorecard(script: Script, interview: Interview, ratings: list[Rating],
              decisions: list[ReviewerDecision], audit: list[AuditEntry] | None = None
              ) -> Scorecard:
    """Summarise one interview's ratings. The candidate's name is shown unless review is blind.

    `audit` (the interview's audit log) marks changes made after seeing others: a hiring team
    can see where a reviewer may have anchored on their colleagues.
    """
    card = Scorecard(
        number=interview.number,
        candidate=candidate_label(script, interview),
        state=interview.state.value,
        completed_at=interview.completed_at.isoformat() if interview.completed_at else "",
        language=lang_for(script, interview.language),
        reviewers=len({r.reviewer for r in ratings}),
        follow_ups=len(interview.follow_ups),
        experience=interview.experience_rating,
        revised_after_reveal=[f"{e.actor} {e.detail}" for e in audit or ()
                              if e.action == REVISED],
    )
    for question in script.scored_questions:
        answer = interview.answer_for(question.id)
        take = answer.kept if answer else None
        if take is not None:
            card.answers[question.id] = answer_cell(take)
            if len(script.languages) > 1:
                card.languages[question.id] = take.language or card.language
        if not question.rated:  # a choice question without a rubric of its own
            continue
        for criterion in script.criteria_for(question):
            scores = [r.score for r in ratings
                      if r.question_id == question.id and r.criterion == criterion]
            card.scores[f"{question.id}.{criterion}"] = (mean(scores) if scores else None,
                                                        len(scores))
    all_scores = [r.score for r in ratings]
    card.overall = mean(all_scores) if all_scores else None
    tally = Counter(d.decision.value for d in decisions)
    card.decisions = ", ".join(f"{k} {v}" for k, v in sorted(tally.items()))
    if tally:
        top = tally.most_common()
        card.decision = top[0][0] if len(top) == 1 or top[0][1] > top[1][1] else "split"
    return card
