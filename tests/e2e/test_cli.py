"""The command line, run as a hiring manager runs it (a subprocess each time).

One test per surprise of the hiring-team issue: paths from one data directory, ids and numbers
everywhere, invitations checked before anything is created, a purge that shows and asks, a
`check` that explains, clean help, `--version`, chart formats and a bounded `--by`.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bots.scripts import sample_text
from core.states import State
from storage.db import make_engine
from storage.unit_of_work import SqlUnitOfWork
from tests.support.console import BIN, cli_env, run_cli

SAMPLE_ID = "backend-engineer"


def run_in(cwd: Path, *args: str, drop: tuple[str, ...] = (), input_text: str = "",
           **extra: str) -> subprocess.CompletedProcess[str]:
    """The CLI from `cwd`, with some of the usual variables left out."""
    env = {k: v for k, v in cli_env(cwd, **extra).items() if k not in drop}
    return subprocess.run([str(BIN), *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=cwd, input=input_text)


def invite(tmp: Path, name: str = "Ada", **extra: str) -> str:
    """A console invitation; returns the interview id."""
    result = run_cli(tmp, "invite", SAMPLE_ID, "--name", name, "--console", **extra)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()[1]


def interview_count(tmp: Path) -> int:
    listed = run_cli(tmp, "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    return len(json.loads(listed.stdout))


def age(tmp: Path, interview_id: str, days: int, state: State | None = None) -> None:
    """Move an interview's times `days` into the past (and set its state), as time would."""
    db = make_engine(f"sqlite:///{tmp / 'ib.db'}")
    with SqlUnitOfWork(db) as uow:
        found = uow.interviews.get(interview_id)
        assert found is not None
        then = datetime.now(UTC) - timedelta(days=days)
        found.invited_at = found.deadline = then
        if state is State.IN_PROGRESS:  # answering, its deadline still ahead
            found.deadline = datetime.now(UTC) + timedelta(days=1)
        if state is not None:
            found.state = state
            found.ended_at = then if state is not State.IN_PROGRESS else None
        found.last_activity_at = then
        uow.commit()
    db.dispose()


# -- check ----------------------------------------------------------------------------------

def test_check_valid_script_prints_a_summary(tmp_path: Path) -> None:
    path = tmp_path / "be.yaml"
    path.write_text(sample_text())
    result = run_cli(tmp_path, "check", str(path))
    assert result.returncode == 0, result.stderr
    assert "Backend Engineer, first round" in result.stdout
    assert f"{path}: OK" in result.stdout.replace("\n", "")
    assert "warning" not in result.stderr


def test_check_reports_file_line_and_field_sorted_by_line(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    text = sample_text().replace("max_seconds: 240", "max_seconds: 240, retakes: many")
    text = text.replace("deadline: 7d", "deadline: someday")
    text = text.replace("id: backend-engineer", "id: 'Bad Id!'", 1)
    path.write_text(text)
    result = run_cli(tmp_path, "check", str(path))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    deadline_line = text.splitlines().index("deadline: someday") + 1
    assert f"{path}:{deadline_line}: deadline: 'someday' is not a duration like 7d, 24h or 30m" \
        in lines
    assert any(": questions[2].answer.retakes: 'many' is not a whole number" in ln for ln in lines)
    id_line = text.splitlines().index("id: 'Bad Id!'") + 1
    assert (f"{path}:{id_line}: id: 'Bad Id!' must be lowercase letters, digits and dashes"
            in result.stderr)
    assert "is required" not in result.stderr
    numbers = [int(ln.split(":")[1]) for ln in lines]
    assert numbers == sorted(numbers)
    assert "Traceback" not in result.stderr


def test_check_missing_file_is_one_line(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "check", str(tmp_path / "nope.yaml"))
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "nope.yaml:0: (file): No such file or directory" in result.stderr


def test_check_warns_about_a_script_nobody_reviews(tmp_path: Path) -> None:
    text = sample_text()
    start = text.index("\nreview:")
    end = text.index("\n", start + 1)
    no_block = tmp_path / "no-block.yaml"
    no_block.write_text(text[:start] + text[end:])
    empty = tmp_path / "empty.yaml"
    empty.write_text(text[:start] + "\nreview: {reviewers: []}" + text[end:])
    for path, why in ((no_block, "has no review block"), (empty, "lists no reviewers")):
        result = run_cli(tmp_path, "check", str(path))
        assert result.returncode == 0, result.stderr
        assert f"warning: {path}:" in result.stderr and "nobody reviews this script" in \
            result.stderr and why in result.stderr
        assert run_cli(tmp_path, "check", "--strict", str(path)).returncode == 1


def test_check_accepts_a_folder_and_names_both_files_of_a_duplicate_id(tmp_path: Path) -> None:
    folder = tmp_path / "scripts"
    folder.mkdir()
    (folder / "a.yaml").write_text(sample_text())
    ok = run_cli(tmp_path, "check", str(folder))
    assert ok.returncode == 0, ok.stderr
    assert f"{folder / 'a.yaml'}: OK" in ok.stdout.replace("\n", "")
    (folder / "b.yml").write_text(sample_text())
    twice = run_cli(tmp_path, "check", str(folder))
    assert twice.returncode == 1
    line = sample_text().splitlines().index("id: backend-engineer") + 1
    assert f"{folder / 'b.yml'}:{line}: id: 'backend-engineer' is defined twice: in " \
           f"{folder / 'a.yaml'}:{line} and here" in twice.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    none = run_cli(tmp_path, "check", str(empty))
    assert none.returncode == 1 and "holds no *.yaml or *.yml script" in none.stderr
    # the running bot names both files too
    served = run_cli(tmp_path, "invite", SAMPLE_ID, "--name", "Ada", "--console",
                     INTERVIEWBOT_SCRIPTS=str(folder))
    assert served.returncode == 1 and str(folder / "a.yaml") in served.stderr


# -- one data directory ---------------------------------------------------------------------

def test_paths_come_from_the_data_directory_whatever_the_folder(tmp_path: Path) -> None:
    home, elsewhere = tmp_path / "bot", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    data = home / "data"
    up = run_in(home, "db", "upgrade", drop=("DATABASE_URL",), INTERVIEWBOT_DATA_DIR=str(data))
    assert up.returncode == 0, up.stderr
    assert (data / "interviewbot.db").exists() and str(data / "interviewbot.db") in up.stdout
    made = run_in(home, "invite", SAMPLE_ID, "--name", "Ada", "--console",
                  drop=("DATABASE_URL",), INTERVIEWBOT_DATA_DIR=str(data))
    assert made.returncode == 0, made.stderr
    # another folder, the same data directory: the same database
    results = run_in(elsewhere, "results", SAMPLE_ID, drop=("DATABASE_URL",),
                     INTERVIEWBOT_DATA_DIR=str(data))
    assert results.returncode == 0, results.stderr
    assert len(list(csv.DictReader(io.StringIO(results.stdout)))) == 1
    # another folder with no data directory set: an error naming where it looked; no ./data
    lost = run_in(elsewhere, "results", SAMPLE_ID,
                  drop=("DATABASE_URL", "INTERVIEWBOT_DATA_DIR"))
    assert lost.returncode == 1 and lost.stdout == ""
    assert f"no database at {elsewhere / 'data' / 'interviewbot.db'}" in lost.stderr
    assert not (elsewhere / "data").exists()
    for command in (("list",), ("report", SAMPLE_ID), ("purge", "--older-than", "90d"),
                    ("extend", "x", "--by", "1d")):
        again = run_in(elsewhere, *command, drop=("DATABASE_URL", "INTERVIEWBOT_DATA_DIR"))
        assert again.returncode == 1 and "no database at" in again.stderr, command
    assert not (elsewhere / "data").exists()


# -- ids and numbers ------------------------------------------------------------------------

def test_invite_list_results_and_extend_share_ids_and_numbers(tmp_path: Path) -> None:
    made = run_cli(tmp_path, "invite", SAMPLE_ID, "--name", "Ada Lovelace", "--console")
    assert made.returncode == 0, made.stderr
    interview_id = made.stdout.split()[1]
    assert "(candidate #1)" in made.stdout
    second = invite(tmp_path, "Grace")
    listed = run_cli(tmp_path, "list")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.strip().splitlines()
    assert header.split() == ["interview_id", "script", "number", "state", "invited_at",
                              "started_at", "ended_at", "deadline", "last_activity"]
    assert [r.split()[:4] for r in rows] == [[interview_id, SAMPLE_ID, "1", "invited"],
                                             [second, SAMPLE_ID, "2", "invited"]]
    assert run_cli(tmp_path, "list", SAMPLE_ID, "--state", "completed").stdout.count(
        SAMPLE_ID) == 0
    assert run_cli(tmp_path, "list", "other-script").stdout.count(SAMPLE_ID) == 0
    bad_state = run_cli(tmp_path, "list", "--state", "done")
    assert bad_state.returncode == 1 and "unknown state 'done'" in bad_state.stderr
    as_csv = list(csv.DictReader(io.StringIO(run_cli(tmp_path, "list", "--format", "csv",
                                                     "--state", "open").stdout)))
    assert [r["interview_id"] for r in as_csv] == [interview_id, second]

    results = run_cli(tmp_path, "results", SAMPLE_ID)
    assert results.returncode == 0, results.stderr
    reader = csv.DictReader(io.StringIO(results.stdout))
    table = list(reader)
    assert reader.fieldnames is not None
    assert reader.fieldnames[:6] == ["interview_id", "number", "candidate", "state",
                                     "invited_at", "completed_at"]
    assert "proud.answer" in reader.fieldnames  # every question, answered or not
    assert [(r["interview_id"], r["number"], r["candidate"]) for r in table] == [
        (interview_id, "1", "Candidate #1"), (second, "2", "Candidate #2")]
    as_json = json.loads(run_cli(tmp_path, "results", SAMPLE_ID, "--format", "json").stdout)
    assert [list(r) for r in as_json] == [reader.fieldnames] * 2
    assert run_cli(tmp_path, "results", SAMPLE_ID, "--format", "xml").returncode == 1

    extended = run_cli(tmp_path, "extend", interview_id, "--by", "3d")
    assert extended.returncode == 0, extended.stderr
    assert extended.stdout.startswith("new deadline ")
    assert run_cli(tmp_path, "extend", "nope", "--by", "3d").stderr.strip() == (
        "error: no open or expired interview with id 'nope'")


def test_results_header_is_stable_with_no_interviews(tmp_path: Path) -> None:
    assert run_cli(tmp_path, "db", "upgrade").returncode == 0
    empty = run_cli(tmp_path, "results", SAMPLE_ID)
    assert empty.returncode == 0, empty.stderr
    invite(tmp_path)
    one = run_cli(tmp_path, "results", SAMPLE_ID)
    assert empty.stdout.splitlines()[0] == one.stdout.splitlines()[0]
    assert empty.stdout.startswith("interview_id,number,candidate,state")


# -- invitations: checked before anything is created ----------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    ((), "choose one channel: --telegram (prints a deep link) or --slack-user"),
    (("--telegram", "--slack-user", "U1"), "not --telegram and --slack-user"),
    (("--slack-user", "U1"), "SLACK_BOT_TOKEN is not set; no invitation was created"),
    (("--telegram",), "TELEGRAM_BOT_TOKEN is not set"),
    (("--console", "--tz", "Mars/Base"), "unknown time zone 'Mars/Base'"),
    (("--console", "--tz", "europe/berlin"), "unknown time zone 'europe/berlin'"),
    (("--console", "--name", "  "), "--name must not be empty"),
])
def test_invite_refuses_before_creating_anything(tmp_path: Path, args: tuple[str, ...],
                                                 message: str) -> None:
    invite(tmp_path)
    name = () if "--name" in args else ("--name", "Ada")
    result = run_cli(tmp_path, "invite", SAMPLE_ID, *name, *args)
    assert result.returncode == 1
    assert message in result.stderr and result.stdout == ""
    assert interview_count(tmp_path) == 1


def test_invite_to_an_unknown_script_or_an_unreachable_slack_keeps_nothing(
        tmp_path: Path) -> None:
    invite(tmp_path)
    bad = run_cli(tmp_path, "invite", "no-such-script", "--name", "Ada", "--console")
    assert bad.returncode == 1
    assert bad.stderr.strip() == "error: no interview script with id 'no-such-script'"
    down = run_cli(tmp_path, "invite", SAMPLE_ID, "--name", "Ada", "--slack-user", "U0ADA",
                   SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL="http://127.0.0.1:9/api/")
    assert down.returncode == 1 and "no invitation was kept" in down.stderr, down.stderr
    assert interview_count(tmp_path) == 1
    again = invite(tmp_path, "Grace")  # the number is not burnt
    listed = run_cli(tmp_path, "list", "--format", "json").stdout
    assert [r["number"] for r in json.loads(listed)] == [1, 2] and again in listed


def test_retired_script_refuses_invitations_and_is_listed_by_check(tmp_path: Path) -> None:
    served, later = tmp_path / "served", tmp_path / "later"
    served.mkdir()
    later.mkdir()
    (served / "be.yaml").write_text(sample_text())
    (later / "other.yaml").write_text(sample_text().replace("id: backend-engineer",
                                                            "id: other-role", 1))
    invite(tmp_path, INTERVIEWBOT_SCRIPTS=str(served))
    checked = run_cli(tmp_path, "check", INTERVIEWBOT_SCRIPTS=str(later))
    assert checked.returncode == 0, checked.stderr
    assert ("note: retired script 'backend-engineer': 1 open and 0 completed interview(s)"
            in checked.stderr)
    refused = run_cli(tmp_path, "invite", SAMPLE_ID, "--name", "Bob", "--console",
                      INTERVIEWBOT_SCRIPTS=str(later))
    assert refused.returncode == 1
    assert "'backend-engineer' is retired" in refused.stderr
    results = run_cli(tmp_path, "results", SAMPLE_ID, INTERVIEWBOT_SCRIPTS=str(later))
    assert results.returncode == 0 and len(results.stdout.strip().splitlines()) == 2
    report = run_cli(tmp_path, "report", SAMPLE_ID, "--format", "json",
                     INTERVIEWBOT_SCRIPTS=str(later))
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["script_id"] == SAMPLE_ID
    assert interview_count(tmp_path) == 1


# -- purge ----------------------------------------------------------------------------------

def test_purge_shows_asks_and_spares_interviews_in_progress(tmp_path: Path) -> None:
    done = invite(tmp_path, "Ada")
    running = invite(tmp_path, "Grace")
    fresh = invite(tmp_path, "Linus")
    age(tmp_path, done, 100, State.EXPIRED)
    age(tmp_path, running, 100, State.IN_PROGRESS)

    dry = run_cli(tmp_path, "purge", "--older-than", "90d", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would erase: 1 interview" in dry.stdout and done in dry.stdout
    assert running not in dry.stdout and fresh not in dry.stdout

    unanswered = run_cli(tmp_path, "purge", "--older-than", "90d")  # stdin at its end
    assert unanswered.returncode == 1
    assert "not confirmed: nothing was erased" in unanswered.stderr
    assert "Erase this interview? This cannot be undone. [y/N]" in unanswered.stderr
    no = run_cli(tmp_path, "purge", "--older-than", "90d", input_text="n\n")
    assert no.returncode == 1
    states = {r["interview_id"]: r["state"] for r in json.loads(
        run_cli(tmp_path, "list", "--format", "json").stdout)}
    assert states[done] == "expired"

    yes = run_cli(tmp_path, "purge", "--older-than", "90d", input_text="y\n")
    assert yes.returncode == 0, yes.stderr
    assert "erased 1 interview older than 90d" in yes.stdout
    states = {r["interview_id"]: r["state"] for r in json.loads(
        run_cli(tmp_path, "list", "--format", "json").stdout)}
    assert states == {done: "erased", running: "in_progress", fresh: "invited"}

    told = run_cli(tmp_path, "purge", "--older-than", "90d", "--include-in-progress", "--yes")
    assert told.returncode == 0 and running in told.stdout
    assert "erased 1 interview older than 90d" in told.stdout


def test_purge_of_everything_needs_yes(tmp_path: Path) -> None:
    ada = invite(tmp_path)
    for window in ("0d", "0s", "12h"):
        refused = run_cli(tmp_path, "purge", "--older-than", window, input_text="y\n")
        assert refused.returncode == 1
        assert f"--older-than {window} would erase interviews active today" in refused.stderr
    assert "invited" in run_cli(tmp_path, "list").stdout
    # even with --yes, an interview not ended yet stays
    spared = run_cli(tmp_path, "purge", "--older-than", "0d", "--yes")
    assert spared.returncode == 0 and "erased 0 interviews" in spared.stdout
    gone = run_cli(tmp_path, "purge", "--older-than", "0d", "--yes", "--include-in-progress")
    assert gone.returncode == 0 and ada in gone.stdout and "erased 1 interview" in gone.stdout
    assert run_cli(tmp_path, "purge", "--older-than", "soon").returncode == 1


# -- help, version, chart, extend ------------------------------------------------------------

COMMANDS = [(), ("run",), ("check",), ("invite",), ("list",), ("results",), ("extend",),
            ("purge",), ("report",), ("db",), ("db", "upgrade")]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "root")
def test_help_texts_are_clean(tmp_path: Path, command: tuple[str, ...]) -> None:
    result = run_cli(tmp_path, *command, "--help")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert text.startswith("Usage: interviewbot")
    for raw in ("<list", "<str>", "<bool>", "<Path>", "<int>", "{", "}", "NoneType", "╭"):
        assert raw not in text, (raw, text)
    assert "--help" in text


def test_version(tmp_path: Path) -> None:
    from importlib.metadata import version

    result = run_cli(tmp_path, "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"interviewbot {version('interviewbot')}"


def test_chart_format_follows_the_file_name(tmp_path: Path) -> None:
    invite(tmp_path)
    magic = {"f.png": b"\x89PNG", "f.svg": b"<?xml", "f.pdf": b"%PDF", "F.SVG": b"<?xml"}
    for name, start in magic.items():
        result = run_cli(tmp_path, "report", SAMPLE_ID, "--chart", name)
        assert result.returncode == 0, result.stderr
        assert (tmp_path / name).read_bytes().startswith(start), name
    for name in ("f.gif", "f"):
        bad = run_cli(tmp_path, "report", SAMPLE_ID, "--chart", name)
        assert bad.returncode == 1 and "must end in .png, .svg or .pdf" in bad.stderr
        assert not (tmp_path / name).exists()


def test_extend_by_is_bounded(tmp_path: Path) -> None:
    ada = invite(tmp_path)
    for by in ("99999d", "91d", "0d"):
        result = run_cli(tmp_path, "extend", ada, "--by", by)
        assert result.returncode == 1
        assert f"--by {by}: must be more than 0 and at most 90d" in result.stderr
    assert run_cli(tmp_path, "extend", ada, "--by", "soon").returncode == 1
    assert run_cli(tmp_path, "extend", ada, "--by", "90d").returncode == 0


# -- the rest -------------------------------------------------------------------------------

def test_db_upgrade_is_idempotent(tmp_path: Path) -> None:
    for _ in range(2):
        result = run_cli(tmp_path, "db", "upgrade")
        assert result.returncode == 0, result.stderr
        assert "up to date" in result.stdout
    assert (tmp_path / "ib.db").exists()


def test_bad_database_url_is_one_line(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "results", SAMPLE_ID,
                     DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr

