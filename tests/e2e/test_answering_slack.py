"""Drafts, choice questions and knock-outs end to end on Slack: real Bolt over signed HTTP
against the fake Web API, real SQLite and real ffmpeg."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.audio import ffmpeg
from core.commands import CreateInvitation
from core.report import read_report
from core.states import State
from tests.e2e.slack_support import GRACE, M4A, REVIEW, WEBM, SlackWorld, slack_world

CHOICE = """\
id: screening
title: Screening (Slack)
consent: "We keep your answers for 90 days. OK?"
questions:
  - id: permit
    text: "Do you have a work permit for Germany?"
    answer: {kinds: [choice], options: ["Yes", "No"]}
    knockout: ["No"]
  - id: stack
    text: "Which of these have you run in production?"
    answer: {kinds: [choice], options: [PostgreSQL, Kafka, Kubernetes], multiple: true}
  - id: story
    text: "Tell us about an outage."
rubric: {depth: "Technical depth"}
review: {reviewers: ["slack:CREVIEW"], blind: true, independent: true}
"""


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[SlackWorld]:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "screening.yaml").write_text(CHOICE)
    async with slack_world(tmp_path) as w:
        yield w


def seconds_of(data: bytes, suffix: str, fmt: str, codec: str) -> float:
    ffmpeg.configure()
    with tempfile.NamedTemporaryFile(suffix=suffix) as f:
        f.write(data)
        f.flush()
        return float(ffmpeg.decode(Path(f.name), fmt=fmt, codec=codec).duration_seconds)


async def test_three_messages_and_two_clips_reach_reviewers_as_one_answer_each(
        world: SlackWorld) -> None:
    await world.start()
    dm = world.dm(GRACE)
    # Question 1 (voice or text): three messages
    for part in ("A billing service", "in Go,", "for a small team."):
        await world.say(GRACE, part)
    assert world.last(dm).startswith(
        "Got your written answer (3 messages, 9 words) to Question 1 of 3.")
    await world.press(dm, "Submit", GRACE)
    # Question 2 (voice, 60 s): two clips with their transcripts, then one over the limit
    await world.share(GRACE, M4A, transcription={
        "status": "complete", "preview": {"content": "First part.", "has_more": False}})
    await world.share(GRACE, WEBM, transcription={
        "status": "complete", "preview": {"content": "Second part.", "has_more": False}})
    assert world.last(dm).startswith("Got your voice answer (2 clips, 0:12) to Question 2 of 3.")
    before = world.snapshot()
    await world.share(GRACE, WEBM, duration_ms=55_000)
    assert "would take your answer past the 1 min limit" in world.last(dm)
    assert world.snapshot() == before
    await world.press(dm, "Submit", GRACE)
    await world.say(GRACE, "Fewer meetings.")
    await world.press(dm, "Submit", GRACE)
    assert "That was the last question" in world.last(dm)

    interview = world.interview()
    built, bug = interview.answer_for("built"), interview.answer_for("bug")
    assert built is not None and built.kept is not None and bug is not None and bug.kept
    assert built.kept.text == "A billing service\nin Go,\nfor a small team."
    assert (bug.kept.pieces, bug.kept.transcript) == (2, "First part. Second part.")
    canonical = world.settings.media_dir / f"{bug.kept.media_key}.ogg"
    assert seconds_of(canonical.read_bytes(), ".ogg", "ogg", "opus") == pytest.approx(
        11.84, abs=0.2)
    cards = world.texts(REVIEW)
    assert sum("A: A billing service\nin Go,\nfor a small team." in c for c in cards) == 1
    assert sum("Transcript: First part. Second part." in c for c in cards) == 1
    uploads = [u for u in world.fake.uploads_in(REVIEW) if "Question 2" in (
        u.initial_comment or "") or "Question 2" in (u.title or "")]
    assert len(uploads) == 1 and uploads[0].data is not None
    assert 9.5 < seconds_of(uploads[0].data, ".m4a", "mp4", "aac") <= 12.2


async def invite(world: SlackWorld) -> str:
    from bots.slack.invite import invite_slack_user

    interview, token = world.app.engine.invite(CreateInvitation("screening", "Grace", "slack"))
    await invite_slack_user(world.app, token, GRACE)
    await world.press(world.dm(GRACE), "I agree", GRACE)
    return interview.id


def state_of(world: SlackWorld, iid: str) -> State:
    with world.app.services.uow() as uow:
        found = uow.interviews.get(iid)
    assert found is not None
    return found.state


async def test_knockout_and_choices_on_slack(world: SlackWorld) -> None:
    dm = world.dm(GRACE)
    iid = await invite(world)
    assert world.last(dm).startswith("Question 1 of 3")
    reply = await world.press(dm, "No", GRACE)
    assert reply is not None
    assert state_of(world, iid) is State.SCREENED_OUT
    assert "This role has a requirement your answer does not meet" in world.last(dm)
    assert world.texts(REVIEW) == []
    with world.app.services.uow() as uow:
        report = read_report(world.app.services.script("screening"), uow)
    assert ("screened out", 1) in [(s.name, s.count) for s in report.stages]


async def test_typed_option_and_multiple_choice_in_option_order(world: SlackWorld) -> None:
    dm = world.dm(GRACE)
    iid = await invite(world)
    await world.say(GRACE, "yes")
    assert "Which of these have you run in production?" in world.last(dm)
    await world.press(dm, "Kubernetes", GRACE)
    await world.say(GRACE, "kafka")
    await world.press(dm, "Done", GRACE)
    with world.app.services.uow() as uow:
        interview = uow.interviews.get(iid)
    assert interview is not None
    assert interview.answer_for("permit").kept.text == "Yes"  # type: ignore[union-attr]
    assert interview.answer_for("stack").kept.choices == (  # type: ignore[union-attr]
        "Kafka", "Kubernetes")
