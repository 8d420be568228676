"""Review cards: how reviewers see a finished interview (the summary card with the decision
buttons, one card per answer with the rating buttons), in the review language."""

from __future__ import annotations

from collections import defaultdict
from statistics import mean

from core import payloads as pl
from core import texts
from core.i18n import N_, t, tn
from core.messages import Audio, Button, OutMessage
from core.model import Answer, Decision, Interview, Rating, ReviewerDecision
from core.refs import UserRef
from core.script import Script
from core.states import State

SCORES = N_("Scores: {scores}")
DECISION_LABELS = {Decision.ADVANCE: N_("Advance"), Decision.HOLD: N_("Hold"),
                   Decision.REJECT: N_("Reject")}


def candidate_label(script: Script, interview: Interview) -> str:
    """How reviewers see the candidate: a number in blind mode, else the name."""
    if script.review.blind or not interview.candidate_name:
        return t(texts.review_lang(script), texts.CANDIDATE_NUMBER, number=interview.number)
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
    team = texts.review_lang(script)
    lines = [f"{candidate_label(script, interview)} · "
             f"{texts.question_label(script, question, team)}",
             t(team, N_("Q: {question}"), question=question.text_in(team))]
    if take.kind == "text":
        lines.append(t(team, N_("A: {answer}"), answer=take.text))
    elif take.kind == "choice":
        lines.append(t(team, N_("A: {answer}"), answer=", ".join(take.choices)))
    else:
        lines.append(t(team, N_("A: voice answer, {length}"), length=texts.clock(take.duration)))
        if take.transcript:
            lines.append(t(team, N_("Transcript: {text}"), text=take.transcript))
    if len(script.languages) > 1 or (take.language or script.language) != script.language:
        lines.append(t(team, N_("Answered in {language}"),
                       language=texts.language_name(take.language or script.language)))
    done = complete_reviewers(script, answer, ratings)
    count = len(done)
    if script.review.independent:
        lines.append(tn(team, "{n} reviewer rated this answer. Scores stay hidden until you "
                              "have rated it yourself.",
                        "{n} reviewers rated this answer. Scores stay hidden until you have "
                        "rated it yourself.", count))
    else:
        lines.append(_score_summary(script, answer, ratings) or t(team, N_("No ratings yet.")))
    rows: list[tuple[Button, ...]] = []
    for index, criterion in enumerate(script.criteria_for(question)):
        rows.append(tuple(
            Button(f"{criterion} {score}" if i == 0 else str(score),
                   pl.make(pl.RATE, interview.id, answer.id, index, score))
            for i, score in enumerate(script.rubric.scale)))
    rows.append((Button(t(team, N_("Ask a follow-up")),
                        pl.make(pl.FOLLOW_UP, interview.id, answer.id)),))
    return OutMessage("\n".join(lines), tuple(rows), audio=audio)


def _score_summary(script: Script, answer: Answer, ratings: list[Rating]) -> str:
    question = script.question(answer.question_id)
    parts = []
    for criterion in script.criteria_for(question):
        scores = [r.score for r in ratings if r.answer_id == answer.id and r.criterion == criterion]
        if scores:
            parts.append(f"{criterion} {mean(scores):.1f} ({len(scores)})")
    return t(texts.review_lang(script), SCORES, scores=", ".join(parts)) if parts else ""


def choice_lines(script: Script, interview: Interview) -> list[str]:
    """The options chosen in each choice question, for the summary card."""
    out = []
    for question in script.questions:
        answer = interview.answer_for(question.id)
        take = answer.kept if answer else None
        if question.answer.is_choice and not question.practice and take is not None:
            team = texts.review_lang(script)
            out.append(f"{texts.question_label(script, question, team)} · "
                       f"{question.text_in(team)} {', '.join(take.choices)}")
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
    team = texts.review_lang(script)
    lines = [
        t(team, N_("{label} completed {title}"), label=candidate_label(script, interview),
          title=script.text_in("title", team)),
        t(team, N_("Completed {when} UTC · {answers} answers · {length} of audio"),
          when=f"{when:%Y-%m-%d %H:%M}", answers=len(answers), length=texts.clock(seconds)),
        t(team, N_("Rate every answer below; the decision buttons unlock for you once you "
                   "have.")),
    ]
    if len(script.languages) > 1:
        lines.insert(2, t(team, N_("Interview in {language}"),
                          language=texts.language_name(texts.lang_for(script,
                                                                      interview.language))))
    lines[-1:-1] = choice_lines(script, interview)
    if interview.state is State.ERASED:
        lines = [t(team, N_("Candidate #{number}: erased at the candidate's request."),
                   number=interview.number)]
        return OutMessage("\n".join(lines))
    if script.review.independent:
        if ratings is not None or decisions:
            rated = len(fully_rated(script, interview, ratings or []))
            lines.append(t(team, N_("Rated by {rated} · decided by {decided}."), rated=rated,
                           decided=len(decisions)))
    elif decisions:
        lines.append(t(team, N_("Decisions so far: {tally}"), tally=_tally(decisions, team)))
    buttons = ((Button(t(team, DECISION_LABELS[Decision.ADVANCE]),
                       pl.make(pl.DECIDE, interview.id, "a"), "primary"),
                Button(t(team, DECISION_LABELS[Decision.HOLD]),
                       pl.make(pl.DECIDE, interview.id, "h")),
                Button(t(team, DECISION_LABELS[Decision.REJECT]),
                       pl.make(pl.DECIDE, interview.id, "r"), "danger")),)
    return OutMessage("\n".join(lines), buttons, title=script.text_in("title", team))


def fully_rated(script: Script, interview: Interview, ratings: list[Rating]) -> set[UserRef]:
    """Reviewers who have rated every answer of an interview."""
    answers = scored_answers(script, interview)
    if not answers:
        return set()
    done = [complete_reviewers(script, a, ratings) for a in answers]
    return set.intersection(*done)


def _tally(decisions: list[ReviewerDecision], lang: str) -> str:
    counts: defaultdict[Decision, int] = defaultdict(int)
    for d in decisions:
        counts[d.decision] += 1
    return ", ".join(f"{t(lang, DECISION_LABELS[k])} {v}" for k, v in counts.items())
