"""The adverse-impact report: arithmetic, Fisher's exact test, groups, and a seeded population."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from scipy.stats import fisher_exact as scipy_fisher

from core.fairness import (
    NO_ANSWER,
    Standing,
    fairness_report,
    fisher_exact,
    impact_ratio,
    read_fairness,
    selection_rate,
)
from core.model import Decision, Interview, ReviewerDecision, hash_token
from core.refs import UserRef
from core.script import Script
from core.script_fairness import PREFER_NOT
from core.states import State
from tests.support.core_fakes import FakeUnitOfWork, Store
from tests.support.population import (
    FAIRNESS_EXPECTED,
    FAIRNESS_RATIOS,
    fairness_script_data,
    seed_fairness,
)
from tests.support.scripts import small_script

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
R1 = UserRef("slack", "U1")


def completed(n: int) -> Interview:
    return Interview(id=f"i{n}", script_id="qa", number=n, candidate_name="", token_hash=hash_token(
        str(n)), invited_at=T0, deadline=T0 + timedelta(days=7), platform="telegram",
        state=State.COMPLETED, consented_at=T0, completed_at=T0)


Seeded = tuple[list[Interview], dict[str, list[ReviewerDecision]], dict[str, dict[str, str]]]


def groups(script: Script, cohorts: dict[str, tuple[int, int]], category: str = "race"
           ) -> Seeded:
    """Completed interviews per group: {group: (completed, advanced)}."""
    interviews: list[Interview] = []
    decisions: dict[str, list[ReviewerDecision]] = {}
    answers: dict[str, dict[str, str]] = {}
    counter = itertools.count(1)
    for group, (total, advanced) in cohorts.items():
        for k in range(total):
            i = completed(next(counter))
            interviews.append(i)
            answers[i.id] = {category: group}
            if k < advanced:
                decisions[i.id] = [ReviewerDecision(i.id, R1, Decision.ADVANCE, T0)]
    return interviews, decisions, answers


def test_the_uniform_guidelines_worked_example() -> None:
    """Uniform Guidelines Q&A 12: 80 of 120 White applicants (66.7%) and 12 of 40 Black
    applicants (30%) selected; 30 / 66.7 = 45%, under four-fifths: adverse impact."""
    assert selection_rate(80, 120) == pytest.approx(0.667, abs=5e-4)
    assert selection_rate(12, 40) == 0.30
    assert impact_ratio(selection_rate(12, 40), selection_rate(80, 120)) == pytest.approx(0.45)

    script = small_script(self_id={"race": ["White", "Black"]})
    interviews, decisions, answers = groups(script, {"White": (120, 80), "Black": (40, 12)})
    report = fairness_report(script, interviews, decisions, answers)
    rows = {r.group: r for r in report.categories[0].rows}
    assert report.categories[0].reference == "White"
    assert rows["White"].standing is Standing.REFERENCE and not rows["White"].flagged
    assert (rows["Black"].completed, rows["Black"].advanced) == (40, 12)
    assert rows["Black"].ratio == pytest.approx(0.45)
    assert rows["Black"].flagged
    expected_p = scipy_fisher([[12, 28], [80, 40]]).pvalue
    assert rows["Black"].p_value == pytest.approx(expected_p, rel=1e-9)
    assert report.to_dict()["categories"][0]["groups"][1]["impact_ratio"] == 0.45  # type: ignore[index]


def test_the_uniform_guidelines_four_groups_example() -> None:
    """Q&A 12's second example: hiring rates of 60% (whites), 45% (American Indians), 48%
    (Hispanics) and 51% (Blacks) give impact ratios of 75%, 80% and 85%: adverse impact is
    indicated for American Indians only. 48/60 is exactly four-fifths, which is not below it."""
    script = small_script(self_id={"race": ["White", "American Indian", "Hispanic", "Black"]})
    interviews, decisions, answers = groups(script, {
        "White": (100, 60), "American Indian": (100, 45), "Hispanic": (100, 48),
        "Black": (100, 51)})
    rows = {r.group: r for r in fairness_report(script, interviews, decisions,
                                                answers).categories[0].rows}
    assert rows["White"].standing is Standing.REFERENCE
    assert [rows[g].ratio for g in ("American Indian", "Hispanic", "Black")] == [0.75, 0.8, 0.85]
    assert [rows[g].flagged for g in ("American Indian", "Hispanic", "Black")] == [
        True, False, False]


def test_fisher_exact_matches_scipy() -> None:
    tables = [(3, 1, 1, 3), (0, 5, 5, 0), (12, 28, 80, 40), (30, 70, 63, 63), (1, 0, 0, 0),
              (0, 0, 4, 9), (7, 7, 7, 7), (2, 48, 9, 41), (100, 100, 90, 110)]
    tables += list(itertools.product(range(0, 7, 2), range(1, 8, 3), range(0, 5), range(2, 9, 3)))
    # large tables take the floating-point path (over EXACT_UP_TO people)
    tables += [(150, 350, 250, 250), (480, 520, 500, 500), (3000, 7000, 5000, 5000),
               (6000, 14000, 6100, 13900), (0, 600, 1, 599), (300, 301, 300, 300)]
    for a, b, c, d in tables:
        expected = scipy_fisher([[a, b], [c, d]]).pvalue
        found = fisher_exact(a, b, c, d)
        assert found == pytest.approx(expected, rel=1e-9, abs=1e-15), (a, b, c, d)
    assert fisher_exact(3, 1, 1, 3) == pytest.approx(17 / 35)  # the lady tasting tea
    with pytest.raises(ValueError):
        fisher_exact(-1, 2, 3, 4)


def test_small_groups_are_not_judged_nor_the_reference() -> None:
    script = small_script(self_id={"race": ["A", "B", "C"]})
    cohorts = {"A": (4, 4), "B": (10, 5), "C": (10, 3), PREFER_NOT: (9, 9)}
    interviews, decisions, answers = groups(script, cohorts)
    rows = {r.group: r for r in fairness_report(script, interviews, decisions,
                                                answers).categories[0].rows}
    # A has the highest rate (4/4) but only 4 completed: too few; prefer-not is never judged
    assert rows["A"].standing is Standing.TOO_FEW and rows["A"].ratio is None
    assert rows[PREFER_NOT].standing is Standing.PREFER_NOT and rows[PREFER_NOT].ratio is None
    assert rows["B"].standing is Standing.REFERENCE
    assert rows["C"].ratio == pytest.approx(0.6) and rows["C"].flagged
    assert rows[NO_ANSWER].invited == 0
    # with --min-group 4, A is judged and becomes the reference
    rows = {r.group: r for r in fairness_report(script, interviews, decisions, answers,
                                                min_group=4).categories[0].rows}
    assert rows["A"].standing is Standing.REFERENCE
    assert rows["B"].ratio == pytest.approx(0.5) and rows["B"].flagged
    with pytest.raises(ValueError):
        fairness_report(script, interviews, decisions, answers, min_group=0)


def test_no_group_large_enough_means_no_reference_and_no_ratio() -> None:
    script = small_script(self_id={"race": ["A", "B"]})
    interviews, decisions, answers = groups(script, {"A": (3, 1), "B": (2, 2)})
    category = fairness_report(script, interviews, decisions, answers).categories[0]
    assert category.reference is None
    assert all(r.ratio is None and not r.flagged for r in category.rows)


def test_a_script_without_self_id_has_no_categories() -> None:
    script = small_script()
    interviews, decisions, answers = groups(script, {"A": (10, 5)})
    report = fairness_report(script, interviews, decisions, answers)
    assert report.categories == () and report.respondents == 10


def test_the_seeded_population_figures() -> None:
    """324 interviews seeded with known rates: every count, rate, ratio and flag as worked out
    by hand in tests/support/population.py, p-values as scipy computes them."""
    store = Store()
    assert seed_fairness(lambda: FakeUnitOfWork(store)) == 324
    script = small_script(**{k: v for k, v in fairness_script_data().items() if k != "id"})
    with FakeUnitOfWork(store) as uow:
        report = read_fairness(script, uow)
    assert report.respondents == 244  # 259 completed, 15 of them skipped the survey
    for category in report.categories:
        expected = FAIRNESS_EXPECTED[category.name]
        rows = {r.group: r for r in category.rows}
        assert list(rows) == list(expected)  # the script's order, then prefer-not, no answer
        for group, (invited, started, done, advanced) in expected.items():
            row = rows[group]
            assert (row.invited, row.started, row.completed, row.advanced) == (
                invited, started, done, advanced), (category.name, group)
            assert row.rate == pytest.approx(advanced / done)
        reference = next(g for g, r in FAIRNESS_RATIOS[category.name].items() if r == 1.0)
        assert category.reference == reference
        ref = rows[reference]
        for group, ratio in FAIRNESS_RATIOS[category.name].items():
            row = rows[group]
            assert row.ratio == pytest.approx(ratio), (category.name, group)
            assert row.flagged == (ratio < 0.8)
            if group != reference:
                p = scipy_fisher([[row.advanced, row.completed - row.advanced],
                                  [ref.advanced, ref.completed - ref.advanced]]).pvalue
                assert row.p_value == pytest.approx(p, rel=1e-9)
        assert rows["Another" if category.name == "sex" else "Two or more races"].standing \
            is Standing.TOO_FEW
        assert rows[PREFER_NOT].standing is Standing.PREFER_NOT
        assert rows[NO_ANSWER].standing is Standing.NO_ANSWER
    flagged = {(c.name, r.group) for c in report.categories for r in c.rows if r.flagged}
    assert flagged == {("sex", "Female"), ("race_ethnicity", "Black"),
                       ("race_ethnicity", "Hispanic or Latino")}


def test_screened_out_is_a_stage_when_the_script_has_knock_outs() -> None:
    script = small_script(self_id={"race": ["A", "B"]})
    interviews, decisions, answers = groups(script, {"A": (6, 3), "B": (6, 3)})
    screened = {interviews[0].id, interviews[1].id, interviews[6].id}
    report = fairness_report(script, interviews, decisions, answers, screened_out=screened,
                             has_knockouts=True)
    rows = {r.group: r for r in report.categories[0].rows}
    assert (rows["A"].screened_out, rows["B"].screened_out) == (2, 1)
    groups_json = report.to_dict()["categories"][0]["groups"]  # type: ignore[index]
    assert [g["screened_out"] for g in groups_json] == [2, 1, 0, 0]
    plain = fairness_report(script, interviews, decisions, answers).to_dict()
    assert "screened_out" not in plain["categories"][0]["groups"][0]  # type: ignore[index]
