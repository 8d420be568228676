"""`interviewbot report SCRIPT --fairness` as a subprocess on a seeded SQLite database."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml
from scipy.stats import fisher_exact

from storage.db import make_engine
from storage.migrate import upgrade
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.support.console import run_cli
from tests.support.population import (
    FAIRNESS_EXPECTED,
    FAIRNESS_RATIOS,
    fairness_script_data,
    seed_fairness,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    engine = make_engine(f"sqlite:///{tmp_path / 'ib.db'}")
    upgrade(engine)
    try:
        seed_fairness(SqlUnitOfWorkFactory(engine))
    finally:
        engine.dispose()
    (tmp_path / "qa.yaml").write_text(yaml.safe_dump(fairness_script_data()))
    return tmp_path


def report(tmp: Path, *args: str) -> tuple[int, str, str]:
    result = run_cli(tmp, "report", "qa", "--fairness", *args,
                     INTERVIEWBOT_SCRIPTS=str(tmp / "qa.yaml"))
    return result.returncode, result.stdout, result.stderr


def test_json_figures_exactly(seeded: Path) -> None:
    code, out, err = report(seeded, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["test"].startswith("Fisher's exact test (two-sided)")
    assert (data["min_group"], data["threshold"], data["respondents"]) == (5, 0.8, 244)
    assert data["selection_rate"] == "advanced / completed"
    for category in data["categories"]:
        name = category["category"]
        rows = {g["group"]: g for g in category["groups"]}
        assert list(rows) == list(FAIRNESS_EXPECTED[name])
        for group, (invited, started, completed, advanced) in FAIRNESS_EXPECTED[name].items():
            row = rows[group]
            assert (row["invited"], row["started"], row["completed"], row["advanced"]) == (
                invited, started, completed, advanced)
            assert row["selection_rate"] == round(advanced / completed, 4)
            assert "screened_out" not in row  # the script has no knock-out questions
        ref = rows[category["reference"]]
        for group, ratio in FAIRNESS_RATIOS[name].items():
            row = rows[group]
            assert row["impact_ratio"] == round(ratio, 4)
            assert row["below_four_fifths"] is (ratio < 0.8)
            if row is not ref:
                p = fisher_exact([[row["advanced"], row["completed"] - row["advanced"]],
                                  [ref["advanced"], ref["completed"] - ref["advanced"]]]).pvalue
                assert row["p_value"] == float(f"{p:.4g}")
    by_name = {c["category"]: c for c in data["categories"]}
    sex = {g["group"]: g for g in by_name["sex"]["groups"]}
    assert sex["Another"]["standing"] == "too few to judge"
    assert sex["Another"]["impact_ratio"] is None and sex["Another"]["p_value"] is None
    assert sex["Prefer not to say"]["standing"] == "prefer not to say"
    assert data["accommodations"] == {"requested": 0, "approved": 0}


def test_min_group_changes_who_is_judged(seeded: Path) -> None:
    code, out, err = report(seeded, "--format", "json", "--min-group", "3")
    assert code == 0, err
    sex = next(c for c in json.loads(out)["categories"] if c["category"] == "sex")
    # Another (2 of 3 advanced) is now judged and has the highest rate: the reference
    assert sex["reference"] == "Another"
    rows = {g["group"]: g for g in sex["groups"]}
    assert rows["Male"]["impact_ratio"] == 0.75 and rows["Male"]["below_four_fifths"]


def test_table_and_chart(seeded: Path) -> None:
    chart = seeded / "fair.png"
    code, out, err = report(seeded, "--chart", str(chart))
    assert code == 0, err
    assert chart.read_bytes().startswith(PNG_SIGNATURE)
    lines = out.splitlines()
    female = next(line for line in lines if "│ Female" in line)
    assert "30.0%" in female and "0.60 ⚑ < 0.80" in female
    assert "1.00 reference" in next(line for line in lines if "│ Male" in line)
    assert "too few to judge" in next(line for line in lines if "│ Another" in line)
    assert "not judged" in next(line for line in lines if "│ Prefer not to say" in line)
    assert "Fisher's exact test" in out
    assert all(len(line) <= 110 for line in lines)


def test_bad_options_are_refused(seeded: Path) -> None:
    code, _, err = report(seeded, "--min-group", "0")
    assert code == 1 and err == "error: --min-group must be at least 1, not 0\n"
    result = run_cli(seeded, "report", "nope", "--fairness",
                     INTERVIEWBOT_SCRIPTS=str(seeded / "qa.yaml"))
    assert result.returncode == 1 and "no script 'nope'" in result.stderr


def test_results_carry_the_consent_record_and_adjustments_only_when_asked(seeded: Path) -> None:
    from datetime import UTC, datetime

    from core.fairness_records import AccommodationRequest, ConsentRecord, RequestStatus

    at = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    engine = make_engine(f"sqlite:///{seeded / 'ib.db'}")
    try:
        with SqlUnitOfWorkFactory(engine)() as uow:
            uow.fairness.put_consent(ConsentRecord("f0001", "ab" * 32, at))
            uow.fairness.put_request(AccommodationRequest(
                "r1", "f0001", ("more_time", "text_instead_of_voice"), "a private note", at,
                RequestStatus.APPROVED, "telegram:3001", at))
            uow.fairness.put_request(AccommodationRequest(
                "r2", "f0002", ("other",), "", at, RequestStatus.DECLINED, "telegram:3001", at))
            uow.fairness.put_request(AccommodationRequest(  # not sent yet: not counted
                "r3", "f0003", ("more_time",), "", at, RequestStatus.DRAFT))
            uow.commit()
    finally:
        engine.dispose()
    env = {"INTERVIEWBOT_SCRIPTS": str(seeded / "qa.yaml")}
    plain = run_cli(seeded, "results", "qa", "--format", "json", **env)
    assert plain.returncode == 0, plain.stderr
    rows = json.loads(plain.stdout)
    assert rows[0]["notice_sha256"] == "ab" * 32
    assert rows[0]["consented_at"] == "2026-11-23T09:30:00+00:00"
    assert rows[1]["notice_sha256"] == "" and "adjustments" not in rows[0]
    for word in ("Female", "Male", "Asian", "private note", "more_time"):
        assert word not in plain.stdout
    full = run_cli(seeded, "results", "qa", "--format", "csv", "--include-adjustments", **env)
    assert full.returncode == 0, full.stderr
    first, second = list(csv.DictReader(io.StringIO(full.stdout)))[:2]
    assert first["adjustments"] == "more_time+text_instead_of_voice"
    assert second["adjustments"] == second["notice_sha256"] == second["consented_at"] == ""
    counted = json.loads(report(seeded, "--format", "json")[1])["accommodations"]
    assert counted == {"requested": 2, "approved": 1}


def test_check_warns_about_a_missing_notice_or_retention_period(tmp_path: Path) -> None:
    from tests.support.scripts import script_data

    cases = {
        "none.yaml": script_data(consent="Shall we start?"),
        "kept.yaml": script_data(notice="People decide. We keep your answers for 6 months."),
    }
    for name, data in cases.items():
        (tmp_path / name).write_text(yaml.safe_dump(data))
    none = run_cli(tmp_path, "check", "none.yaml")
    assert none.returncode == 0, none.stderr
    warnings = [w for w in none.stderr.splitlines() if w.startswith("warning: ")]
    assert len(warnings) == 2 and all(w.startswith("warning: none.yaml:1: notice: ")
                                      for w in warnings)
    assert "no retention period" in warnings[1]
    kept = run_cli(tmp_path, "check", "kept.yaml")
    assert kept.returncode == 0 and "warning" not in kept.stderr
