"""`interviewbot report SCRIPT --fairness` as a subprocess on a seeded SQLite database."""

from __future__ import annotations

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
