"""The command line: check, invite, results, db upgrade, and one-line errors."""

from __future__ import annotations

from pathlib import Path

from bots.scripts import sample_text
from tests.support.console import run_cli


def test_check_valid_script_prints_a_summary(tmp_path: Path) -> None:
    path = tmp_path / "be.yaml"
    path.write_text(sample_text())
    result = run_cli(tmp_path, "check", str(path))
    assert result.returncode == 0, result.stderr
    assert "Backend Engineer, first round" in result.stdout
    assert f"{path}: OK" in result.stdout.replace("\n", "")


def test_check_reports_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    text = sample_text().replace("max_seconds: 240", "max_seconds: 240, retakes: many")
    text = text.replace("deadline: 7d", "deadline: someday")
    path.write_text(text)
    result = run_cli(tmp_path, "check", str(path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    deadline_line = text.splitlines().index("deadline: someday") + 1
    assert f"{path}:{deadline_line}: deadline: 'someday' is not a duration like 7d, 24h or 30m" \
        in lines
    assert any(": questions[2].answer.retakes: 'many' is not a whole number" in ln for ln in lines)
    assert "Traceback" not in result.stderr


def test_check_missing_file_is_one_line(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "check", str(tmp_path / "nope.yaml"))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "nope.yaml:0: (file): No such file or directory" in result.stderr


def test_invite_and_results_and_errors(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "invite", "backend-engineer", "--name", "Ada Lovelace")
    assert result.returncode == 0, result.stderr
    assert "token" in result.stdout
    bad = run_cli(tmp_path, "invite", "no-such-script", "--name", "Ada")
    assert bad.returncode == 1
    assert bad.stderr.strip() == "error: no interview script with id 'no-such-script'"
    tz = run_cli(tmp_path, "invite", "backend-engineer", "--name", "Ada", "--tz", "Mars/Base")
    assert tz.returncode == 1 and "unknown time zone 'Mars/Base'" in tz.stderr
    link = run_cli(tmp_path, "invite", "backend-engineer", "--name", "Ada", "--telegram")
    assert link.returncode == 1 and "TELEGRAM_BOT_TOKEN is not set" in link.stderr
    results = run_cli(tmp_path, "results", "backend-engineer", "--format", "csv")
    assert results.returncode == 0
    header, row = results.stdout.strip().splitlines()
    assert header.startswith("number,candidate,state")
    assert row.startswith("1,Candidate #1,invited")
    assert run_cli(tmp_path, "results", "backend-engineer", "--format", "xml").returncode == 1


def test_db_upgrade_is_idempotent(tmp_path: Path) -> None:
    for _ in range(2):
        result = run_cli(tmp_path, "db", "upgrade")
        assert result.returncode == 0, result.stderr
        assert "up to date" in result.stdout
    assert (tmp_path / "ib.db").exists()


def test_bad_database_url_is_one_line(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "results", "backend-engineer",
                     DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_purge_and_extend(tmp_path: Path) -> None:
    invited = run_cli(tmp_path, "invite", "backend-engineer", "--name", "Ada")
    interview_id = invited.stdout.split()[1]
    extended = run_cli(tmp_path, "extend", interview_id, "--by", "3d")
    assert extended.returncode == 0, extended.stderr
    assert extended.stdout.startswith("new deadline ")
    assert run_cli(tmp_path, "extend", "nope", "--by", "3d").stderr.strip() == (
        "error: no open or expired interview with id 'nope'")
    assert run_cli(tmp_path, "purge", "--older-than", "soon").returncode == 1
    result = run_cli(tmp_path, "purge", "--older-than", "90d")
    assert result.returncode == 0 and "erased 0 interviews older than 90d" in result.stdout
