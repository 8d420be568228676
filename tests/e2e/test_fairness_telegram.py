"""Notice, adjustments on request and the voluntary survey with the real bot (python-telegram-bot
over HTTP) against the fake Telegram Bot API; no reviewer payload mentions either."""

from __future__ import annotations

import json

import pytest

from core import self_id
from core.fairness_records import RequestStatus
from core.notice import notice_sha256
from core.script_fairness import PREFER_NOT
from core.states import State
from fakes.telegram import BotMessage, FakeTelegram, FakeUser
from tests.e2e.telegram_support import (
    REVIEW_GROUP,
    SCRIPT,
    SCRIPT_ID,
    Session,
    audio,
    expire,
)

DECIDER_GROUP = -100300
NOTICE = ("We assess your answers to three questions. Only the hiring team hears them; we keep "
          "them for 90 days. People make every decision. To ask for an adjustment, use /adjust.")
FAIR_SCRIPT = SCRIPT + f"""\
notice: "{NOTICE}"
self_id: {{sex: [Female, Male, Another], race_ethnicity: [Asian, Black, White]}}
accommodations:
  offer: [more_time, longer_answers, text_instead_of_voice, other]
  contact: "talent@acme.example"
  deciders: ["telegram:{DECIDER_GROUP}"]
"""
CONSENT = "We keep your answers for 90 days, seen only by the hiring team. OK?"
# nothing a reviewer receives may say that an adjustment was asked for, nor any survey answer
LEAKS = ("adjust", "more time", "text instead", "longer answers", "stammer", "accommodat",
         "approved", "Female", "Asian", "Prefer not", "survey")


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


pytestmark = pytest.mark.telegram_session(
    groups={DECIDER_GROUP: "Hiring managers"}, scripts={SCRIPT_ID: FAIR_SCRIPT})


def reviewer_payloads(fake: FakeTelegram) -> list[str]:
    """Every request the bot made to the review group, and every version of its messages."""
    seen = [json.dumps(call.params, ensure_ascii=False) for call in fake.calls
            if str(call.params.get("chat_id")) == str(REVIEW_GROUP)]
    for message in fake.messages(REVIEW_GROUP, include_deleted=True):
        seen += [json.dumps(p, ensure_ascii=False) for p in (message.payload, *message.history)]
    return seen


async def tick(session: Session, user: FakeUser, menu: BotMessage, label: str) -> BotMessage:
    assert await session.press(user, menu, label) == "OK"
    return await session.fake.wait_for_message(
        user.id, "Which adjustments", include_edits=True,
        predicate=lambda m: f"✓ {label}" in m.button_labels, timeout=20)


async def test_adjustments_approved_then_a_voice_question_answered_in_text(
        session: Session) -> None:
    fake = session.fake
    ada = fake.user(1001, "Ada")
    interview, token = session.invite("Ada Lovelace", "Europe/Lisbon")
    fake.send_command(ada, "/start", token)
    expect = await session.reply(ada, "What to expect")
    assert "/adjust" in (expect.text or "") and "talent@acme.example" in (expect.text or "")
    assert expect.button_labels == ["Ask for an adjustment"]
    consent = await session.reply(ada, "90 days, seen only by the hiring team")
    assert (consent.text or "").startswith(NOTICE)
    assert await session.press(ada, consent, "I agree") == "Thank you!"
    practice = await session.reply(ada, "Warm up")
    assert await session.press(ada, practice, "Skip practice") == "Skipped."
    await session.reply(ada, "Question 1 of 3")
    fake.send_text(ada, "Could I type this one?")
    await session.reply(ada, "This question needs a voice note")

    # the request: more time and text instead of voice, with a note
    fake.send_command(ada, "/adjust")
    menu = await session.reply(ada, "Which adjustments would you like?")
    assert menu.button_labels == ["More time", "Longer answers", "Text instead of voice",
                                  "Something else"]
    menu = await tick(session, ada, menu, "More time")
    menu = await tick(session, ada, menu, "Text instead of voice")
    assert await session.press(ada, menu, "Send request") == "Almost done."
    await session.reply(ada, "add a note for the team")
    fake.send_text(ada, "I have a stammer; typing is easier for me.")
    await session.reply(ada, "Your request is with the hiring team")
    card = await fake.wait_for_message(DECIDER_GROUP, "asks for adjustments", since=0,
                                       timeout=20)
    assert "more time, text instead of voice" in (card.text or "")
    assert "Note: I have a stammer" in (card.text or "")
    assert card.button_labels == ["Approve", "Decline"]
    # a second request while this one waits: refused, nothing changes
    fake.send_command(ada, "/adjust")
    await session.reply(ada, "You already have a request with the team")

    # days go by: the original deadline passes before the decider approves
    expire(session, interview.id)
    dana = fake.user(3001, "Dana")
    assert await session.press(dana, card, "Approve") == "Approved. The candidate has been told."
    await session.reply(ada, "The hiring team approved your request: more time")
    await fake.wait_for_message(ada.id, "Good news: you have more time.", since=0, timeout=20)
    with session.app.services.uow() as uow:
        (request,) = uow.fairness.requests(interview.id)
    assert request.status is RequestStatus.APPROVED
    assert request.adjustments == ("more_time", "text_instead_of_voice")

    # the voice-only question, answered in text within the extended deadline
    fake.send_text(ada, "A search index I rebuilt to answer in 20 ms instead of 2 s.")
    receipt = await session.reply(ada, "Got your written answer")
    assert await session.press(ada, receipt, "Submit") == "Submitted."
    await session.reply(ada, "Question 2 of 3")
    fake.send_text(ada, "I picked SQLite over PostgreSQL: one user, zero operations.")
    receipt = await session.reply(ada, "Got your written answer")
    assert await session.press(ada, receipt, "Submit") == "Submitted."
    await session.reply(ada, "Question 3 of 3")
    fake.send_voice(ada, audio("voice.ogg"), duration=6)
    receipt = await session.reply(ada, "Got your voice answer")
    assert await session.press(ada, receipt, "Submit") == "Submitted."
    last = await session.reply(ada, "That was the last question")
    assert await session.press(ada, last, "Done") == "Done."
    feedback = await session.reply(ada, "how was this interview for you?")
    assert await session.press(ada, feedback, "4") == "Thank you!"

    # the voluntary survey, after the last step
    await session.reply(ada, "Thank you for your time!")
    await fake.wait_for_message(ada.id, self_id.INTRO[:40], since=0, timeout=20)
    sex = await fake.wait_for_message(ada.id, "Sex (1 of 2)", since=0, timeout=20)
    assert sex.button_labels == ["Female", "Male", "Another", PREFER_NOT, "Skip the survey"]
    assert await session.press(ada, sex, "Female") == "Thank you."
    race = await session.reply(ada, "Race / ethnicity (2 of 2)")
    assert await session.press(ada, race, PREFER_NOT) == "Thank you."
    await session.reply(ada, self_id.THANKS)

    stored = session.interview(interview.id)
    assert stored.state is State.COMPLETED
    with session.app.services.uow() as uow:
        assert uow.fairness.self_id(interview.id) == {"sex": "Female",
                                                       "race_ethnicity": PREFER_NOT}
        consent_record = uow.fairness.consent(interview.id)
    assert consent_record is not None
    shown = consent.history[0]["text"]  # as first sent; the edit added "You agreed."
    assert shown == f"{NOTICE}\n\n{CONSENT}"
    assert consent_record.notice_sha256 == notice_sha256(shown)

    # reviewers got the interview, and nothing about the adjustment or the survey
    await fake.wait_for(lambda: len(fake.messages(REVIEW_GROUP)) >= 4, timeout=30)
    payloads = reviewer_payloads(fake)
    assert any("Candidate #1 completed" in p for p in payloads)
    assert any("A search index I rebuilt" in p for p in payloads)
    for leak in LEAKS:
        assert not any(leak.lower() in p.lower() for p in payloads), leak
