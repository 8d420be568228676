"""The console preview end to end: `interviewbot run` through a pipe, then `results`."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from tests.support.console import ConsoleSession, cards, run_cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "audio"


def test_whole_console_interview_resume_review_and_results(tmp_path: Path) -> None:
    s = ConsoleSession(tmp_path)
    s.expect("Do you agree")
    s.press("I agree")
    s.expect("Practice question (not reviewed)")
    s.send("I am building a payments service.")
    s.expect("Got your written answer")
    s.press("Submit")
    s.expect("Question 1 of 4")
    s.send(f"/voice {FIXTURES / 'voice.ogg'}")
    s.expect("Got your voice answer")
    s.send("/redo")
    s.expect("OK, send your new answer")
    s.send(f"/voice {FIXTURES / 'silence.ogg'}")
    s.expect("could not hear anything")
    s.send(f"/voice {FIXTURES / 'voice.m4a'}")
    s.expect("Got your voice answer")
    s.press("Submit")
    s.expect("Question 2 of 4")
    s.send("We chose PostgreSQL over a document store because we needed transactions.")
    s.expect("Got your written answer")
    s.press("Submit")
    s.expect("Question 3 of 4")
    s.send("/quit")
    assert s.close() == 0

    # running again resumes at the same question
    s = ConsoleSession(tmp_path)
    s.expect("Welcome back")
    s.expect("Question 3 of 4")
    s.send("A queue backed up; I found the cause by reading the consumer lag graphs.")
    s.expect("Got your written answer")
    s.press("Submit")
    s.expect("Question 4 of 4")
    s.send("I like direct feedback early, and I give it the same way.")
    s.expect("Got your written answer")
    s.press("Submit")
    lines = s.expect("That was the last question")
    lines += s.expect("Candidate #1 · Question 4 of 4")
    lines += s.expect("Ask a follow-up")
    s.send("How big is the team?")
    s.expect("Noted, the team will see your question")
    s.press("Done")
    s.expect("how was this interview for you?")
    s.press("4")
    s.expect("Thank you for your time!")
    review = cards(lines)
    summary, answers = review[0], review[1:]
    assert summary[0] == "Candidate #1 completed Backend Engineer, first round"
    assert "Console Candidate" not in "\n".join(lines)
    assert len(answers) == 4
    s.send(f"#{summary[1][0][0]}")  # Advance before rating: locked
    s.expect("Rate every answer first: you have rated 0 of 4")
    for index, (_, rows) in enumerate(answers):
        rating_rows = rows[:-1]  # the last row is "Ask a follow-up"
        assert len(rating_rows) == 2
        for row in rating_rows:
            s.send(f"#{row[3 if index % 2 == 0 else 4]}")  # 4 or 5
            s.expect("You rated")
    s.send(f"#{summary[1][0][0]}")
    s.expect("Your decision: Advance.")
    s.send("/quit")
    assert s.close() == 0

    result = run_cli(tmp_path, "results", "backend-engineer", "--format", "csv")
    assert result.returncode == 0, result.stderr
    records = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(records) == 1
    record = records[0]
    assert record["candidate"] == "Candidate #1" and record["state"] == "completed"
    assert record["decision"] == "advance" and record["reviewers"] == "1"
    assert record["proud.competency.mean"] == "4" and record["tradeoff.competency.mean"] == "5"
    assert record["incident.ownership.mean"] == "4" and record["team.ownership.mean"] == "5"
    assert record["overall"] == "4.5" and record["experience"] == "4"
    assert record["proud.answer"].startswith("voice ")
    assert record["tradeoff.answer"].startswith("We chose PostgreSQL")
    as_json = json.loads(run_cli(tmp_path, "results", "backend-engineer", "--format",
                                 "json").stdout)
    assert as_json[0]["proud.competency.n"] == 1
    # the kept recording is on disk in canonical form
    assert list((tmp_path / "data" / "media").rglob("*.ogg"))


def test_console_with_all_input_piped_at_once(tmp_path: Path) -> None:
    """No TTY and no interaction: a prepared answer file drives the whole interview."""
    answers = ["#1", "Practice answer", "#4", "An answer about a project", "#6",
               "Trade-offs answer", "#8", "Incident answer", "#10", "Team answer", "#12"]
    result = run_cli(tmp_path, "run", input_text="\n".join(answers) + "\n")
    assert "That was the last question" in result.stdout, result.stdout[-2000:]
    assert "Candidate #1 completed" in result.stdout


def test_console_journey_with_a_restart_between_answering_and_rating(tmp_path: Path) -> None:
    """Answer in pieces, quit, run again: the review cards come back and can be rated; plain
    numbers and unknown /words are answers, #N presses; /voice takes ~, quotes and spaces."""
    clips = tmp_path / "my clips"
    clips.mkdir()
    (clips / "voice one.ogg").write_bytes((FIXTURES / "voice.ogg").read_bytes())
    home = {"HOME": str(tmp_path)}
    s = ConsoleSession(tmp_path, **home)
    s.press("I agree")
    s.expect("Practice question (not reviewed)")
    s.send("/etc/hosts is where I keep my notes")  # not a command: an answer
    s.expect("Got your written answer (1 message, 7 words)")
    s.press("Submit")
    s.expect("Question 1 of 4")
    s.send("/voice ~/my clips/voice one.ogg")
    s.expect("Got your voice answer (1 clip, 0:06)")
    s.send('/voice "~/my clips/voice one.ogg"')
    s.expect("Got your voice answer (2 clips, 0:12)")
    s.press("Submit")
    s.expect("Question 2 of 4")
    s.send("2019")  # a number is an answer, not a button
    s.expect("Got your written answer (1 message, 1 word)")
    s.send("was when we moved to PostgreSQL.")
    s.expect("Got your written answer (2 messages, 7 words)")
    s.send("/help")
    help_lines = s.expect("/help - this message")
    assert any("/voice PATH" in line for line in help_lines)
    assert any("/review" in line for line in help_lines)
    s.press("Submit")
    s.expect("Question 3 of 4")
    s.send("A queue backed up.")
    s.press("Submit")
    s.expect("Question 4 of 4")
    s.send("Direct feedback.")
    s.press("Submit")
    s.expect("That was the last question")
    s.send("/quit")
    s.expect("Bye. Everything is saved")
    assert s.close() == 0

    # run again: the cards not yet rated by the console reviewer are shown again
    s = ConsoleSession(tmp_path, **home)
    lines = s.expect("Waiting for your review:")
    lines += s.expect("Candidate #1: 0 of 4 answers rated")
    for _ in range(4):
        lines += s.expect("Ask a follow-up")
    review = cards(lines)
    summary, answers = review[0], review[1:]
    assert summary[0] == "Candidate #1 completed Backend Engineer, first round"
    assert len(answers) == 4
    assert any(line.endswith("A: 2019") for line in lines)  # the answer, one line a message
    assert any(line == "    was when we moved to PostgreSQL." for line in lines)
    for _, rows in answers:
        for row in rows[:-1]:
            s.send(f"#{row[2]}")  # 3
            s.expect("You rated")
    s.send(f"#{summary[1][0][0]}")
    s.expect("Your decision: Advance.")
    s.send("/review")
    s.expect("no completed interview is waiting for your review")
    s.send("/delete")
    s.press("Yes, erase everything")
    s.expect("Your answers and recordings have been erased")
    s.send("/quit")
    rest = s.expect("Bye.")
    assert s.close() == 0
    assert not any("Everything is saved" in line for line in rest)
