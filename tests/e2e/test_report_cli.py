"""`interviewbot report` as a subprocess on a SQLite database filled through the engine."""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path

import pytest
import yaml

from storage.db import make_engine
from storage.migrate import upgrade
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.support.console import run_cli
from tests.support.population import EXPECTED, Population, population_script_data

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def populated(tmp_path: Path) -> Path:
    """tmp_path with ib.db holding the 20-interview population and qa.yaml, its script."""
    engine = make_engine(f"sqlite:///{tmp_path / 'ib.db'}")
    upgrade(engine)
    try:
        await Population(uow=SqlUnitOfWorkFactory(engine)).run()
    finally:
        engine.dispose()
    (tmp_path / "qa.yaml").write_text(yaml.safe_dump(population_script_data()))
    return tmp_path


def report(tmp: Path, *args: str) -> tuple[int, str, str]:
    result = run_cli(tmp, "report", *args, INTERVIEWBOT_SCRIPTS=str(tmp / "qa.yaml"))
    return result.returncode, result.stdout, result.stderr


def test_table_output(populated: Path) -> None:
    code, out, err = report(populated, "qa")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Funnel · QA Engineer (qa)")
    rows = {cells[0]: cells[1:] for cells in (
        [c.strip() for c in line.strip("│ ").split("│")] for line in lines if "│" in line)}
    for stage, count, percent in EXPECTED["funnel"]:
        assert rows[stage][:2] == [str(count), f"{percent:.1f}%"]
    assert rows["Not opened"] == ["", "3", "2", "1", "0"]
    assert rows["Q2"] == ["Why testing?", "2", "0", "1", "1"]
    assert rows["time to complete"] == ["median 13h · p90 2d (11 completed)"]
    assert rows["reminders sent"] == ["7 (0.64 per completion)"]
    assert rows["reviewer turnaround"] == ["median 2d20h · p90 3d17h (4 reviewed)"]
    assert rows["candidate experience"] == ["3.67 / 5 from 9: 1★ 1 · 2★ 1 · 3★ 1 · 4★ 3 · 5★ 3"]
    assert rows["rater agreement"] == ["Krippendorff α 0.744 (interval, 10 items, 20 ratings)"]
    assert all(len(line) <= 80 for line in lines)


def test_json_output(populated: Path) -> None:
    code, out, err = report(populated, "qa", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert [(s["stage"], s["count"], s["percent"]) for s in data["funnel"]] == EXPECTED["funnel"]
    assert {d["step"]: (d["open"], d["expired"], d["withdrawn"]) for d in data["drop_off"]} == \
        EXPECTED["drop_off"]
    assert data["time_to_complete"] == {"count": 11, "median_seconds": 46800.0,
                                        "p90_seconds": 172800.0}
    assert data["reminders"] == {"sent": 7, "per_completion": 0.64}
    assert data["reviewer_turnaround"]["median_seconds"] == 68 * 3600.0
    assert data["experience"]["mean"] == 3.67
    assert data["agreement"] == {"krippendorff_alpha_interval": 0.7439, "units": 10,
                                 "ratings": 20}


def test_chart_writes_a_png(populated: Path) -> None:
    chart = populated / "out" / "funnel.png"
    chart.parent.mkdir()
    code, out, err = report(populated, "qa", "--format", "json", "--chart", str(chart))
    assert code == 0, err
    assert json.loads(out)["script_id"] == "qa"  # stdout stays pure JSON
    assert f"chart written to {chart}" in err
    data = chart.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert (width, height) == (1100, 480)
    assert 15_000 < len(data) < 500_000


def test_errors_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "qa.yaml").write_text(yaml.safe_dump(population_script_data()))
    assert run_cli(tmp_path, "db", "upgrade").returncode == 0  # report never creates a database
    code, _, err = report(tmp_path, "nope")
    assert code == 1 and err.strip() == "error: no script 'nope' (served: qa)"
    code, _, err = report(tmp_path, "qa", "--format", "xml")
    assert code == 1 and err.strip() == "error: --format must be table or json, not 'xml'"
    code, out, err = report(tmp_path, "qa", "--chart", str(tmp_path / "empty.png"))
    assert code == 0, err  # nobody invited yet: zeros, and still a chart
    assert re.search(r"invited +│ +0 │ +0\.0%", out), out
    assert (tmp_path / "empty.png").read_bytes()[:8] == PNG_SIGNATURE
    code, _, err = report(tmp_path, "qa", "--chart", str(tmp_path / "missing" / "x.png"))
    assert code == 1 and err.startswith("error: ") and len(err.strip().splitlines()) == 1
