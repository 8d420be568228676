"""One message per step (issue 20): each thing a candidate does while answering gets exactly
one Bot API call in their chat (a message, or the edit of the message whose button was
pressed, carrying the next question), plus one callback answer per press. Real PTB over HTTP
against the fake Bot API, real SQLite and ffmpeg; the steps are counted once the outbox has
nothing left to do, so a second call sent later would be counted too."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bots.telegram.channel import TelegramChannel
from core.commands import CreateInvitation
from fakes.telegram import BotMessage, FakeTelegram, FakeUser
from tests.e2e.telegram_support import (
    FAST,
    REVIEW_GROUP,
    Session,
    audio,
    settings_for,
    start_bot,
)

STEPS_ID = "qa-steps"
STEPS_SCRIPT = f"""\
id: {STEPS_ID}
title: Steps (Telegram)
consent: "We keep your answers for 90 days. OK?"
answer: {{kinds: [text], max_seconds: 30, retakes: 1}}
questions:
  - id: design
    text: "Describe a design you are proud of."
  - id: hello
    text: "Say hello by voice."
    answer: {{kinds: [voice], retakes: 0}}
  - id: onsite
    text: "Can you work from our Berlin office two days a week?"
    answer: {{kinds: [choice], options: ["Yes", "No"]}}
  - id: stack
    text: "Which of these have you run in production?"
    answer: {{kinds: [choice], options: [PostgreSQL, Kafka, Kubernetes], multiple: true}}
  - id: outage
    text: "Tell us about an outage."
rubric: {{depth: "Technical depth"}}
review: {{reviewers: ["telegram:{REVIEW_GROUP}"], blind: true, independent: true}}
"""


@pytest.fixture
async def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Session]:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    monkeypatch.setattr(TelegramChannel, "default_pacing", FAST)
    async with FakeTelegram() as fake:
        fake.group(REVIEW_GROUP, "Backend reviews")
        settings = settings_for(tmp_path, fake)
        (tmp_path / "scripts" / f"{STEPS_ID}.yaml").write_text(STEPS_SCRIPT)
        bot = await start_bot(settings)
        try:
            yield Session(fake, bot, tmp_path)
        finally:
            await bot.stop()


class Steps:
    """Runs one candidate action at a time and counts the Bot API calls it caused."""

    def __init__(self, session: Session, user: FakeUser) -> None:
        self.session = session
        self.fake = session.fake
        self.user = user
        self.counted: list[tuple[str, int]] = []
        self.methods: list[list[str]] = []

    def _settled(self) -> bool:
        services = self.session.app.services
        with services.uow() as uow:  # every committed outbound step done
            return not uow.outbox.due(services.clock.now() + timedelta(days=1), 10)

    async def settle(self) -> None:
        await self.fake.wait_for(lambda: self._settled() or None, timeout=30)

    async def step(self, name: str, act: Callable[[], Any], expect: str) -> BotMessage:
        """Do `act`, wait for the reply containing `expect` and for the outbox to be empty;
        record how many calls named the candidate's chat (one callback answer per press is
        checked apart)."""
        first, answered = len(self.fake.calls), len(self.fake.callback_answers)
        pressed = act()
        reply = await self.session.reply(self.user, expect, timeout=30)
        await self.settle()
        calls = [c.method for c in self.fake.calls[first:]
                 if str(c.params.get("chat_id")) == str(self.user.id)]
        self.counted.append((name, len(calls)))
        self.methods.append(calls)
        if isinstance(pressed, dict) and "callback_query" in pressed:
            assert len(self.fake.callback_answers) - answered == 1, name
        return reply

    def press(self, message: BotMessage, label: str) -> Callable[[], Any]:
        return lambda: self.fake.press_button(self.user, message, label=label)


async def test_every_answering_step_is_one_call(session: Session) -> None:
    fake = session.fake
    ada = fake.user(1001, "Ada")
    interview, token = session.app.engine.invite(
        CreateInvitation(STEPS_ID, "Ada", "telegram", "Europe/Lisbon"))
    fake.send_command(ada, "/start", token)
    consent = await session.reply(ada, "90 days")
    assert await session.press(ada, consent, "I agree") == "Thank you!"
    await session.reply(ada, "Question 1 of 5")
    steps = Steps(session, ada)
    await steps.settle()  # the consent's edit done too

    # a written draft in two messages, started over, written again, submitted
    await steps.step("text", lambda: fake.send_text(ada, "A queue in front of the database."),
                     "(1 message, 7 words)")
    receipt = await steps.step("text, second message", lambda: fake.send_text(
        ada, "With back-pressure."), "(2 messages, 9 words)")
    again = await steps.step("Start over", steps.press(receipt, "Start over"),
                             "OK, send your new answer to Question 1 of 5")
    assert again.message_id == receipt.message_id and again.button_labels == []
    receipt = await steps.step("text after Start over", lambda: fake.send_text(
        ada, "A write-ahead log, replayed on start."), "(1 message, 6 words)")
    carried = await steps.step("Submit (text)", steps.press(receipt, "Submit"),
                               "Question 2 of 5")
    # the receipt became what happened to the answer, with the next question below it
    assert carried.message_id == receipt.message_id
    assert (carried.text or "").startswith(
        "Submitted your answer to Question 1 of 5 (1 message, 6 words).\n\nQuestion 2 of 5")

    # a voice answer, submitted: Question 3 (options) arrives in the same edit
    receipt = await steps.step("voice", lambda: fake.send_voice(ada, audio("voice.ogg"),
                                                                duration=6),
                               "Got your voice answer (1 clip, 0:06)")
    carried = await steps.step("Submit (voice)", steps.press(receipt, "Submit"),
                               "Question 3 of 5")
    assert carried.message_id == receipt.message_id
    assert carried.button_labels == ["Yes", "No"]

    # a single choice pressed on that message: it shows the choice, then Question 4
    carried = await steps.step("choice", steps.press(carried, "Yes"), "Question 4 of 5")
    assert carried.message_id == receipt.message_id
    assert "Berlin office two days a week?\n\nYou chose: Yes\n\nQuestion 4 of 5" in (
        carried.text or "")
    # several choices: each tick edits the same message; Done carries Question 5
    for label, chosen in (("PostgreSQL", "PostgreSQL."), ("Kubernetes", "PostgreSQL, Kubernetes.")):
        carried = await steps.step(f"tick {label}", steps.press(carried, label),
                                   f"Chosen so far: {chosen}")
    carried = await steps.step("Done", steps.press(carried, "Done"), "Question 5 of 5")
    assert carried.message_id == receipt.message_id
    # scrolling back: each question, the answer and what became of it, in order
    assert (carried.text or "").startswith(
        "Submitted your answer to Question 2 of 5 (1 clip, 0:06).\n\n"
        "Question 3 of 5: Can you work from our Berlin office two days a week?\n\n"
        "You chose: Yes\n\n"
        "Question 4 of 5: Which of these have you run in production?\n\n"
        "You chose: PostgreSQL, Kubernetes\n\n"
        "Question 5 of 5")

    assert steps.counted == [(name, 1) for name, _ in steps.counted], steps.methods
    assert len(steps.counted) == 11

    # the last answer: Submit edits the receipt into its result; the end of the questions
    # is a message of its own
    fake.send_text(ada, "The cache expired at once.")
    receipt = await session.reply(ada, "(1 message, 5 words)")
    assert await session.press(ada, receipt, "Submit") == "Submitted."
    await session.reply(ada, "That was the last question")
    assert fake.message(ada.id, receipt.message_id).text == (
        "Submitted your answer to Question 5 of 5 (1 message, 5 words).")
    assert session.interview(interview.id).answer_for("stack").kept.choices == (  # type: ignore[union-attr]
        "PostgreSQL", "Kubernetes")


async def test_an_edit_that_cannot_be_made_sends_the_next_question_instead(
        session: Session) -> None:
    """The receipt was deleted in the chat (Telegram: 'message to edit not found'): the
    result and the next question arrive as a new message, and nothing is lost."""
    fake = session.fake
    bo = fake.user(1002, "Bo")
    interview, token = session.app.engine.invite(
        CreateInvitation(STEPS_ID, "Bo", "telegram", "Europe/Lisbon"))
    fake.send_command(bo, "/start", token)
    consent = await session.reply(bo, "90 days")
    await session.press(bo, consent, "I agree")
    await session.reply(bo, "Question 1 of 5")
    fake.send_text(bo, "A queue in front of the database.")
    receipt = await session.reply(bo, "(1 message, 7 words)")
    fake.fail_next("editMessageText", 400, description="Bad Request: message to edit not found")
    assert await session.press(bo, receipt, "Submit") == "Submitted."
    sent = await fake.wait_for_message(bo.id, "Question 2 of 5", timeout=30)
    assert sent.message_id != receipt.message_id
    assert (sent.text or "").startswith(
        "Submitted your answer to Question 1 of 5 (1 message, 7 words).\n\nQuestion 2 of 5")
    assert [c.status for c in fake.calls_to("editMessageText")][-1] == 400
    answer = session.interview(interview.id).answer_for("design")
    assert answer is not None and answer.kept is not None
