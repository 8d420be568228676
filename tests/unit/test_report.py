"""The funnel report on a realistic population driven through the engine, and its formulas."""

from __future__ import annotations

import math
from fractions import Fraction

import krippendorff  # a dev dependency: missing means a broken install, not a skip
import numpy
import pytest

from core.agreement import interval_alpha
from core.commands import UserCommand
from core.report import FunnelReport, funnel_report, percentile, read_report
from core.vocabulary import Verb
from tests.support.population import EXPECTED, R1, Population
from tests.support.scripts import small_script

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 observers, 12 units,
# missing values as None; the paper gives alpha = 0.849 for interval data.
TEXTBOOK = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def textbook_units() -> list[list[int]]:
    return [[v for v in unit if v is not None] for unit in zip(*TEXTBOOK, strict=True)]


async def population_report(population: Population) -> FunnelReport:
    await population.run()
    with population.world.engine.s.uow() as uow:
        return read_report(population.world.engine.s.script("qa"), uow)


def assert_expected(report: FunnelReport) -> None:
    assert [(s.name, s.count, s.percent) for s in report.stages] == EXPECTED["funnel"]
    assert {d.step: (d.open, d.expired, d.withdrawn) for d in report.drop_off} == \
        EXPECTED["drop_off"]
    assert [d.label for d in report.drop_off] == [
        "Not opened", "Consent", "Practice", "Q1", "Q2"]
    timing = report.time_to_complete
    assert (timing.count, timing.median, timing.p90) == EXPECTED["time_to_complete"]
    assert report.reminders_sent == EXPECTED["reminders_sent"]
    assert report.reminders_per_completion == pytest.approx(7 / 11)
    turnaround = report.reviewer_turnaround
    count, median, p90 = EXPECTED["reviewer_turnaround"]
    assert (turnaround.count, turnaround.median) == (count, median)
    assert turnaround.p90 == pytest.approx(p90)
    count, mean, distribution = EXPECTED["experience"]
    assert report.experience.count == count
    assert report.experience.mean == pytest.approx(mean)
    assert report.experience.distribution == distribution
    alpha, units, ratings = EXPECTED["alpha"]
    assert report.agreement.alpha == pytest.approx(alpha, abs=1e-12)
    assert (report.agreement.units, report.agreement.ratings) == (units, ratings)
    assert report.erased == 0


async def test_report_of_a_realistic_population() -> None:
    population = Population()
    report = await population_report(population)
    assert_expected(report)
    assert sum(d.total for d in report.drop_off) == 20 - 11


async def test_report_as_json_ready_data() -> None:
    data = (await population_report(Population())).to_dict()
    funnel, drop_off = data["funnel"], data["drop_off"]
    assert isinstance(funnel, list) and isinstance(drop_off, list)
    assert funnel[1] == {"stage": "started", "count": 15, "percent": 75.0}
    assert drop_off[4] == {"step": "voice", "label": "Q2", "question": "Why testing?",
                                   "stopped": 2, "open": 0,
                                   "expired": 1, "withdrawn": 1}
    assert data["time_to_complete"] == {"count": 11, "median_seconds": 46800.0,
                                        "p90_seconds": 172800.0}
    assert data["reminders"] == {"sent": 7, "per_completion": 0.64}
    assert data["experience"] == {"count": 9, "mean": 3.67, "distribution": {
        "1": 1, "2": 1, "3": 1, "4": 3, "5": 3}}
    assert data["agreement"] == {"krippendorff_alpha_interval": 0.7439, "units": 10,
                                 "ratings": 20}


async def test_erased_interviews_stay_counted_but_are_not_reviewed() -> None:
    population = Population()
    population.invite(1)
    await population.consent(1)
    await population.complete(1, 1, None)
    await population.rate_all(R1, 1, 4, 4, 4)
    await population.world.engine.handle(UserCommand(population.user(1), population.chat(1),
                                                     Verb.DELETE))
    await population.press(1, "Yes, erase everything")
    with population.world.engine.s.uow() as uow:
        report = read_report(small_script(), uow)
    assert [(s.name, s.count) for s in report.stages] == [
        ("invited", 1), ("started", 1), ("screened out", 0), ("completed", 1), ("reviewed", 0),
        ("decided", 0)]
    assert report.erased == 1
    assert sum(d.total for d in report.drop_off) == 0
    assert report.time_to_complete.median == 3600.0


def test_empty_script_reports_zeros_and_nothing_undefined() -> None:
    report = funnel_report(small_script(), [], {}, {}, {})
    assert [(s.count, s.percent) for s in report.stages] == [(0, 0.0)] * 6
    assert report.time_to_complete.median is None and report.time_to_complete.p90 is None
    assert report.reminders_per_completion is None
    assert report.experience.mean is None
    assert report.experience.distribution == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}
    assert report.agreement.alpha is None
    assert report.to_dict()["reminders"] == {"sent": 0, "per_completion": None}


def test_interval_alpha_textbook_example() -> None:
    alpha = interval_alpha(textbook_units())
    assert alpha is not None and round(alpha, 3) == 0.849
    assert Fraction(alpha).limit_denominator(10_000) == Fraction(951, 1120)


def test_interval_alpha_edge_cases() -> None:
    assert interval_alpha([]) is None
    assert interval_alpha([[3], [4]]) is None  # nothing pairable
    assert interval_alpha([[3, 3], [3, 3]]) is None  # no variation: undefined
    assert interval_alpha([[1, 1], [5, 5]]) == 1.0  # perfect agreement
    assert interval_alpha([[1, 5], [5, 1]]) == pytest.approx(-0.5)  # systematic disagreement


def test_interval_alpha_matches_the_krippendorff_package() -> None:
    matrix = [[math.nan if v is None else v for v in row] for row in TEXTBOOK]
    theirs = krippendorff.alpha(reliability_data=numpy.array(matrix, dtype=float),
                                level_of_measurement="interval")
    assert interval_alpha(textbook_units()) == pytest.approx(theirs, abs=1e-12)
    # the population's units: two raters each
    pairs = [(4, 4), (4, 3), (5, 5), (2, 3), (2, 2), (3, 2), (3, 3), (3, 4), (3, 3), (4, 5)]
    matrix = [[float(a) for a, _ in pairs], [float(b) for _, b in pairs]]
    theirs = krippendorff.alpha(reliability_data=numpy.array(matrix),
                                level_of_measurement="interval")
    assert theirs == pytest.approx(EXPECTED["alpha"][0], abs=1e-12)


def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([], 0.9) is None
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([58.0, 59.0, 77.0, 95.0], 0.9) == pytest.approx(89.6)
    assert percentile(list(map(float, range(11))), 0.9) == 9.0
