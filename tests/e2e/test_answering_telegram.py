"""Drafts, choice questions and knock-outs end to end on Telegram: real PTB over HTTP against
the fake Bot API, real SQLite and real ffmpeg."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

from bots.audio import PydubAudioProcessor, ffmpeg
from core import texts
from core.commands import CreateInvitation
from core.report import read_report
from core.results import scorecard
from core.states import State
from fakes.telegram import BotMessage, FakeUser
from tests.e2e.telegram_support import (
    REVIEW_GROUP,
    Session,
    audio,
)
from tests.support.ffmpeg_faults import KILL_WORKER, encodes, ffmpeg_wrapper

CHOICE_ID = "qa-choice"
CHOICE_SCRIPT = f"""\
id: {CHOICE_ID}
title: Screening (Telegram)
consent: "We keep your answers for 90 days. OK?"
answer: {{kinds: [voice, text], max_seconds: 30, retakes: 1}}
knockout_message: "Thank you, {{name}}. This role needs two office days in Berlin."
questions:
  - id: onsite
    text: "Can you work from our Berlin office two days a week?"
    answer: {{kinds: [choice], options: ["Yes", "No", "Let's discuss"]}}
    knockout: ["No"]
  - id: stack
    text: "Which of these have you run in production?"
    answer: {{kinds: [choice], options: [PostgreSQL, Kafka, Kubernetes], multiple: true}}
  - id: story
    text: "Tell us about an outage."
rubric: {{depth: "Technical depth"}}
review: {{reviewers: ["telegram:{REVIEW_GROUP}"], blind: true, independent: true}}
"""


pytestmark = pytest.mark.telegram_session(scripts={CHOICE_ID: CHOICE_SCRIPT}, ptb_timedelta=True)


def seconds_of(data: bytes, suffix: str = ".ogg") -> float:
    """The duration of an audio file, decoded by ffmpeg."""
    ffmpeg.configure()
    with tempfile.NamedTemporaryFile(suffix=suffix) as f:
        f.write(data)
        f.flush()
        return float(ffmpeg.decode(Path(f.name), fmt="ogg", codec="opus").duration_seconds)


async def test_three_messages_and_two_clips_reach_reviewers_as_one_answer_each(
        session: Session) -> None:
    fake = session.fake
    ada = fake.user(1001, "Ada")
    interview = await session.to_question(ada)
    # Question 1 (voice): two clips, then a third that would pass the 30 s limit
    fake.send_voice(ada, audio("voice.ogg"), duration=6)
    await session.reply(ada, "(1 clip, 0:06)")
    fake.send_voice(ada, audio("voice.ogg"), duration=6)
    receipt = await session.reply(ada, "(2 clips, 0:12)")
    assert "To add more, just record another voice note (0:18 left)." in (receipt.text or "")
    before = session.recorded(interview.id)
    fake.send_voice(ada, audio("voice.ogg"), duration=25)
    await session.reply(ada, "would take your answer past the 30 s limit")
    assert session.recorded(interview.id) == before  # nothing changed
    assert receipt.button_labels == ["Submit", "Start over (2 left)"]
    assert await session.press(ada, receipt, "Submit") == "Submitted."
    # Question 2 (text, no re-records): three messages, one answer
    await session.reply(ada, "Question 2 of 3")
    for part in ("We chose SQLite", "over PostgreSQL", "for a single-user tool."):
        fake.send_text(ada, part)
    receipt = await session.reply(ada, "(3 messages, 9 words)")
    assert receipt.button_labels == ["Submit"]  # retakes: 0: no Start over
    assert await session.press(ada, receipt, "Submit") == "Submitted."
    await session.reply(ada, "Question 3 of 3")
    fake.send_text(ada, "Unit tests first.")
    receipt = await session.reply(ada, "(1 message, 3 words)")
    assert await session.press(ada, receipt, "Submit") == "Submitted."
    await session.reply(ada, "That was the last question")

    await fake.wait_for(lambda: len(fake.messages(REVIEW_GROUP)) >= 4, timeout=30)
    cards = fake.messages(REVIEW_GROUP)
    voice_cards = [c for c in cards if c.method == "sendVoice" and "Question 1 of 3" in (
        c.text or "")]
    assert len(voice_cards) == 1 and voice_cards[0].media is not None
    # the reviewers' copy is trimmed of leading and trailing silence, so a little shorter
    # than the two 5.9 s clips, and far longer than one
    assert 9.5 < seconds_of(voice_cards[0].media) <= 12.0
    written = [c for c in cards if "Question 2 of 3" in (c.text or "")]
    assert len(written) == 1
    assert "A: We chose SQLite\nover PostgreSQL\nfor a single-user tool." in (
        written[0].text or "")
    kept = session.interview(interview.id).answer_for("project")
    assert kept is not None and kept.kept is not None and kept.kept.pieces == 2
    canonical = session.app.settings.media_dir / f"{kept.kept.media_key}.ogg"
    assert seconds_of(canonical.read_bytes()) == pytest.approx(11.8, abs=0.2)


async def begin_choice(session: Session, user: FakeUser, name: str) -> tuple[str, BotMessage]:
    interview, token = session.app.engine.invite(
        CreateInvitation(CHOICE_ID, name, "telegram", "Europe/Berlin"))
    session.fake.send_command(user, "/start", token)
    consent = await session.reply(user, "90 days")
    assert await session.press(user, consent, "I agree") == "Thank you!"
    return interview.id, await session.reply(user, "Berlin office")


async def test_knockout_ends_the_interview_without_cards_and_shows_in_the_report(
        session: Session) -> None:
    fake = session.fake
    bob = fake.user(1002, "Bob")
    iid, question = await begin_choice(session, bob, "Bob")
    assert question.button_labels == ["Yes", "No", "Let's discuss"]
    assert await session.press(bob, question, "No") == "You chose No."
    await session.reply(bob, "Thank you, Bob. This role needs two office days in Berlin.")
    assert session.interview(iid).state is State.SCREENED_OUT
    fake.send_text(bob, "Hello?")
    await session.reply(bob, "This interview is screened out.")
    with session.app.services.uow() as uow:  # no review step waits to be done, none was done
        assert uow.reviews.posts(iid) == []
        waiting = uow.outbox.due(session.app.services.clock.now() + timedelta(days=1), 100)
        assert not [e for e in waiting if '"kind":"review"' in e.body]
    assert fake.messages(REVIEW_GROUP) == []
    script = session.app.services.script(CHOICE_ID)
    with session.app.services.uow() as uow:
        report = read_report(script, uow)
        card = scorecard(script, session.interview(iid), [], [])
    assert ("screened out", 1) in [(s.name, s.count) for s in report.stages]
    assert card.state == "screened_out" and card.answers["onsite"] == "No"


async def test_typed_option_multiple_choice_order_and_an_earlier_questions_option(
        session: Session) -> None:
    fake = session.fake
    cy = fake.user(1003, "Cy")
    iid, onsite = await begin_choice(session, cy, "Cy")
    fake.send_text(cy, "let's discuss")
    stack = await session.reply(cy, "run in production")
    assert stack.button_labels == ["PostgreSQL", "Kafka", "Kubernetes", "Done"]
    before = session.recorded(iid)
    reply = await session.press(cy, onsite, "Yes")  # the earlier question's button
    assert reply is not None and reply.startswith("That question is already answered")
    assert session.recorded(iid) == before
    assert await session.press(cy, stack, "Done") == (
        "Nothing is chosen yet: tap at least one option, then Done.")
    assert await session.press(cy, stack, "Kubernetes") == "Ticked Kubernetes."
    await fake.wait_for(lambda: "✓ Kubernetes" in fake.message(cy.id, stack.message_id)
                        .button_labels or None, timeout=20)
    fake.send_text(cy, "PostgreSQL")
    await session.reply(cy, "Chosen so far: PostgreSQL, Kubernetes.")
    latest = fake.last_message(cy.id)
    assert await session.press(cy, latest, "Done") == "Saved."
    await session.reply(cy, "Tell us about an outage.")
    interview = session.interview(iid)
    assert interview.answer_for("onsite").kept.text == "Let's discuss"  # type: ignore[union-attr]
    assert interview.answer_for("stack").kept.choices == (  # type: ignore[union-attr]
        "PostgreSQL", "Kubernetes")
    script = session.app.services.script(CHOICE_ID)
    card = scorecard(script, interview, [], [])
    assert card.answers["stack"] == "PostgreSQL; Kubernetes"
    assert not any(k.startswith("stack.") for k in card.scores)  # not rated: no rubric


@pytest.mark.parametrize("fault", ["worker killed", "ffmpeg fails"])
async def test_a_recording_the_pipeline_cannot_store_gets_a_clear_answer_and_loses_nothing(
        session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str) -> None:
    """Converting a voice note fails on our side: every audio worker running it is killed
    (twice: once in the first pool, once in its replacement), or ffmpeg fails to encode. The
    candidate is told, the interview is unchanged, and the same note sent again is taken."""
    fake = session.fake
    ada = fake.user(1001, "Ada")
    interview = await session.to_question(ada)
    fake.send_voice(ada, audio("voice.ogg"), duration=6)
    await session.reply(ada, "(1 clip, 0:06)")
    before = session.recorded(interview.id)
    files_before = session.media_files()
    on_encode = KILL_WORKER if fault == "worker killed" else "exit 1"
    exe = ffmpeg_wrapper(tmp_path, "ffmpeg-faulty", on_encode)
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(exe))  # read by workers when they start
    audio_pipeline = session.app.services.audio
    assert isinstance(audio_pipeline, PydubAudioProcessor)
    audio_pipeline.close()  # the next clip starts new workers

    fake.send_voice(ada, audio("voice.ogg"), duration=6)
    await session.reply(ada, texts.AUDIO_FAILED, timeout=60)
    assert encodes(exe) == (2 if fault == "worker killed" else 1)
    after = session.recorded(interview.id)
    assert after[:4] == before[:4]  # the interview and its draft as they were
    added = set(session.media_files()) - set(files_before)  # and the upload, kept until the
    assert len(added) == 1 and added.pop().endswith(".orig.ogg")  # orphan sweep removes it

    monkeypatch.delenv("IMAGEIO_FFMPEG_EXE")
    audio_pipeline.close()
    fake.send_voice(ada, audio("voice.ogg"), duration=6)
    receipt = await session.reply(ada, "(2 clips, 0:12)", timeout=60)
    assert await session.press(ada, receipt, "Submit") == "Submitted."
