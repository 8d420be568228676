"""The adverse-impact report of one script: stages, selection rates and impact ratios by group.

Pure: `fairness_report` takes the interviews, their decisions and the candidates' voluntary
self-identification (kept apart, see core/self_id.py) and counts, per category and group, how many
reached each stage. The selection rate of a group is advanced / completed: the survey follows the
last answer, so everyone whose group is known has completed. A group's impact ratio is its rate
over the highest rate among groups large enough to judge (at least `min_group` completed); under
0.80 it is flagged (the four-fifths rule of 29 CFR 1607.4(D)). Beside each ratio is the two-sided
p-value of Fisher's exact test of the group against that reference group, computed exactly with
integers (`fisher_exact`). "Prefer not to say" and "no answer" are counted but never judged.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from fractions import Fraction

from core.fairness_records import RequestStatus
from core.model import Decision, Interview, ReviewerDecision
from core.ports import UnitOfWork
from core.script import Script
from core.script_fairness import PREFER_NOT
from core.states import State

FOUR_FIFTHS = 0.8
DEFAULT_MIN_GROUP = 5
TEST_NAME = "Fisher's exact test (two-sided), group vs the reference group"
NO_ANSWER = "No answer"
SCREENED_OUT = State.SCREENED_OUT.value


def selection_rate(selected: int, applicants: int) -> float | None:
    """Selected / applicants; None with no applicants."""
    return selected / applicants if applicants else None


def impact_ratio(rate: float | None, reference: float | None) -> float | None:
    """A group's selection rate over the reference (highest) rate; None when undefined."""
    if rate is None or not reference:
        return None
    return rate / reference


def exact_ratio(selected: int, applicants: int, ref_selected: int, ref_applicants: int
                ) -> float | None:
    """The impact ratio from the counts, as the float nearest the exact fraction (so that
    48/100 against 60/100 is exactly 0.8, not below it); None when undefined."""
    if not applicants or not ref_selected or not ref_applicants:
        return None
    return float(Fraction(selected * ref_applicants, applicants * ref_selected))


EXACT_UP_TO = 1000  # tables with more people are summed in floating point (see fisher_exact)
RELATIVE_TIE = 1 + 1e-7  # floating point: probabilities this close to the observed one tie


def fisher_exact(a: int, b: int, c: int, d: int) -> float:
    """Two-sided p-value of Fisher's exact test on the 2x2 table [[a, b], [c, d]].

    The p-value sums the hypergeometric probabilities of every table with the same margins that
    is no more likely than the one observed. Up to `EXACT_UP_TO` people the probabilities are
    compared as exact integers (numerators over the common denominator C(n, a + c)), so ties are
    exact; above that, big-integer arithmetic grows too slow (5,000 per group took 3 s), and the
    probabilities are computed from log-gamma, ties within a relative 1e-7 (as scipy does).
    """
    if min(a, b, c, d) < 0:
        raise ValueError("counts must not be negative")
    row1, row2, col1 = a + b, c + d, a + c
    total = row1 + row2
    if total == 0:
        return 1.0
    low, high = max(0, col1 - row2), min(row1, col1)
    if total <= EXACT_UP_TO:
        weights = [math.comb(row1, x) * math.comb(row2, col1 - x) for x in range(low, high + 1)]
        observed = weights[a - low]
        extreme = sum(w for w in weights if w <= observed)
        return min(1.0, extreme / math.comb(total, col1))

    def log_pmf(x: int) -> float:
        return (_log_comb(row1, x) + _log_comb(row2, col1 - x) - _log_comb(total, col1))

    logs = [log_pmf(x) for x in range(low, high + 1)]
    limit = logs[a - low] + math.log(RELATIVE_TIE)
    return min(1.0, math.fsum(math.exp(v) for v in logs if v <= limit))


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


class Standing(Enum):
    """How a row of the report is read."""

    REFERENCE = "reference"  # the highest selection rate among groups large enough to judge
    JUDGED = "judged"
    TOO_FEW = "too few to judge"
    PREFER_NOT = "prefer not to say"  # counted, never judged or used as the reference
    NO_ANSWER = "no answer"  # did not answer this question (or never reached the survey)


@dataclass(frozen=True)
class GroupRow:
    """One group of one category: how many reached each stage, and how it compares."""

    group: str
    standing: Standing
    invited: int
    started: int
    completed: int
    advanced: int
    screened_out: int
    rate: float | None  # advanced / completed
    ratio: float | None = None  # rate / the reference group's rate
    p_value: float | None = None  # Fisher's exact test against the reference group

    @property
    def flagged(self) -> bool:
        """Selected at under four-fifths of the reference group's rate."""
        return (self.standing is Standing.JUDGED and self.ratio is not None
                and self.ratio < FOUR_FIFTHS)


@dataclass(frozen=True)
class CategoryReport:
    name: str
    label: str
    reference: str | None  # the reference group, None when no group is large enough
    rows: tuple[GroupRow, ...]


@dataclass(frozen=True)
class FairnessReport:
    """What `interviewbot report SCRIPT --fairness` shows."""

    script_id: str
    title: str
    min_group: int
    has_knockouts: bool
    categories: tuple[CategoryReport, ...]
    respondents: int  # interviews with at least one self-identification answer
    accommodation_requests: int = 0
    accommodations_approved: int = 0
    test: str = TEST_NAME

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-ready data: rates and ratios to 4 decimals, p-values to 4 significant
        digits."""

        def row(r: GroupRow) -> dict[str, object]:
            stages: dict[str, object] = {"invited": r.invited, "started": r.started,
                                         "completed": r.completed, "advanced": r.advanced}
            if self.has_knockouts:
                stages["screened_out"] = r.screened_out
            return {
                "group": r.group, "standing": r.standing.value, **stages,
                "selection_rate": _round(r.rate, 4), "impact_ratio": _round(r.ratio, 4),
                "below_four_fifths": r.flagged, "p_value": _significant(r.p_value),
            }

        return {
            "script_id": self.script_id, "title": self.title,
            "selection_rate": "advanced / completed",
            "threshold": FOUR_FIFTHS, "min_group": self.min_group, "test": self.test,
            "respondents": self.respondents,
            "categories": [{"category": c.name, "label": c.label, "reference": c.reference,
                            "groups": [row(r) for r in c.rows]} for c in self.categories],
            "accommodations": {"requested": self.accommodation_requests,
                               "approved": self.accommodations_approved},
        }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _significant(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.4g}")


@dataclass(frozen=True)
class _Facts:
    started: bool
    completed: bool
    advanced: bool
    screened_out: bool


def _facts(interview: Interview, decisions: Sequence[ReviewerDecision],
           screened_out: Collection[str]) -> _Facts:
    return _Facts(
        started=interview.consented_at is not None or interview.completed_at is not None,
        completed=interview.completed_at is not None,
        advanced=any(d.decision is Decision.ADVANCE for d in decisions),
        screened_out=interview.id in screened_out,
    )


def _row(group: str, standing: Standing, people: Sequence[_Facts]) -> GroupRow:
    completed = sum(p.completed for p in people)
    advanced = sum(p.advanced for p in people)
    return GroupRow(group, standing, invited=len(people), started=sum(p.started for p in people),
                    completed=completed, advanced=advanced,
                    screened_out=sum(p.screened_out for p in people),
                    rate=selection_rate(advanced, completed))


def _compare(row: GroupRow, reference: GroupRow) -> GroupRow:
    if row is reference:
        return replace(row, standing=Standing.REFERENCE, ratio=1.0 if row.advanced else None)
    if row.standing is not Standing.JUDGED:
        return row
    p = fisher_exact(row.advanced, row.completed - row.advanced,
                     reference.advanced, reference.completed - reference.advanced)
    return replace(row, ratio=exact_ratio(row.advanced, row.completed, reference.advanced,
                                          reference.completed), p_value=p)


def fairness_report(script: Script, interviews: Sequence[Interview],
                    decisions: Mapping[str, Sequence[ReviewerDecision]],
                    self_id: Mapping[str, Mapping[str, str]], *,
                    min_group: int = DEFAULT_MIN_GROUP,
                    screened_out: Collection[str] = (), has_knockouts: bool = False,
                    accommodations: tuple[int, int] = (0, 0)) -> FairnessReport:
    """The adverse-impact report of one script; mappings are keyed by interview id."""
    if min_group < 1:
        raise ValueError("the minimum group size must be at least 1")
    mine = [i for i in interviews if i.script_id == script.id]
    facts = {i.id: _facts(i, decisions.get(i.id, ()), screened_out) for i in mine}
    categories = []
    for category in script.self_id:
        by_group: dict[str, list[_Facts]] = {option: [] for option in category.options}
        by_group[NO_ANSWER] = []
        for i in mine:
            answer = self_id.get(i.id, {}).get(category.name)
            by_group[answer if answer in by_group else NO_ANSWER].append(facts[i.id])
        rows = []
        for group, people in by_group.items():
            standing = (Standing.PREFER_NOT if group == PREFER_NOT
                        else Standing.NO_ANSWER if group == NO_ANSWER
                        else Standing.JUDGED if len([p for p in people if p.completed]) >= min_group
                        else Standing.TOO_FEW)
            rows.append(_row(group, standing, people))
        judged = [r for r in rows if r.standing is Standing.JUDGED]
        # the highest rate; among equal rates the larger group, then the earlier option
        reference = max(judged, key=lambda r: (r.rate or 0.0, r.completed), default=None)
        if reference is not None:
            rows = [_compare(r, reference) for r in rows]
        categories.append(CategoryReport(category.name, category.label,
                                         reference.group if reference else None, tuple(rows)))
    return FairnessReport(
        script_id=script.id, title=script.title, min_group=min_group,
        has_knockouts=has_knockouts, categories=tuple(categories),
        respondents=sum(1 for i in mine if self_id.get(i.id)),
        accommodation_requests=accommodations[0], accommodations_approved=accommodations[1])


def read_fairness(script: Script, uow: UnitOfWork, *,
                  min_group: int = DEFAULT_MIN_GROUP) -> FairnessReport:
    """Gather one script's interviews, decisions, survey answers and adjustment requests."""
    interviews = uow.interviews.for_script(script.id)
    sent = [r for r in uow.fairness.requests_for_script(script.id)
            if r.status is not RequestStatus.DRAFT]  # a draft has not reached anyone yet
    approved = sum(1 for r in sent if r.status is RequestStatus.APPROVED)
    # a knock-out answer ends an interview in state SCREENED_OUT
    screened = {i.id for i in interviews if i.state is State.SCREENED_OUT}
    knockouts = any(getattr(q, "knockout", None) for q in script.questions) or bool(screened)
    return fairness_report(
        script, interviews, {i.id: uow.reviews.decisions(i.id) for i in interviews},
        uow.fairness.self_id_for_script(script.id), min_group=min_group,
        screened_out=screened, has_knockouts=knockouts,
        accommodations=(len(sent), approved))
