"""The real bot (python-telegram-bot over HTTP) against the fake Telegram Bot API.

Every test runs the composed application (`bots.app.build` + `make_channels` + `serve`) on a
temp SQLite database and data dir. Waits are on the fake's events; timeouts only bound failures.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiohttp
import pytest

from bots.metrics import Metrics
from bots.telegram.channel import SECRET_HEADER, SORRY, TelegramChannel
from bots.telegram.messenger import TelegramMessenger
from bots.telegram.translate import EDITS_IGNORED
from core import payloads as pl
from core import texts
from core.i18n import t
from core.messages import Audio, Button, OutMessage
from core.ports import DeliveryFailed, MediaTooLarge
from core.refs import ChatRef, MediaRef, UserRef
from core.states import State
from fakes.telegram import FakeTelegram, FakeUser
from tests.e2e.telegram_support import (
    FAST,
    REVIEW_GROUP,
    Session,
    audio,
    settings_for,
    start_bot,
)


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22's future behaviour (durations as timedelta); the adapter tests cover ints."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def fast_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TelegramChannel, "default_pacing", FAST)


@pytest.fixture
async def session(tmp_path: Path, fast_pacing: None) -> AsyncIterator[Session]:
    async with FakeTelegram() as fake:
        fake.group(REVIEW_GROUP, "Backend reviews")
        bot = await start_bot(settings_for(tmp_path, fake))
        try:
            yield Session(fake, bot, tmp_path)
        finally:
            await bot.stop()


# -- the happy path --------------------------------------------------------------------------

async def test_full_interview_from_deep_link_to_experience_rating(session: Session) -> None:
    started = time.monotonic()
    fake = session.fake
    ada = fake.user(1001, "Ada")
    interview, token = session.invite("Ada Lovelace")

    fake.send_command(ada, "/start", token)
    await session.reply(ada, "Hi Ada Lovelace!")
    zone = await session.reply(ada, "Which time zone are you in?")
    assert zone.button_labels[:3] == ["London", "Berlin", "Kyiv"]
    assert await session.press(ada, zone, "Berlin") == "Time zone: Europe/Berlin."
    expect = await session.reply(ada, "What to expect: 3 questions")
    assert "(Europe/Berlin)" in (expect.text or "")
    consent = await session.reply(ada, "90 days")
    assert consent.button_labels == ["I agree", "No thanks"]
    assert await session.press(ada, consent, "I agree") == "Thank you!"
    # the button is answered first; the edit follows
    await fake.wait_for(lambda: "You agreed." in (fake.message(ada.id, consent.message_id).text
                                                  or ""))
    practice = await session.reply(ada, "Practice question (not reviewed)")
    assert practice.button_labels == ["Skip practice"]

    # practice: a voice note, kept
    fake.send_voice(ada, audio("voice.ogg"), duration=6)
    receipt = await session.reply(ada, "Got your voice answer (1 clip, 0:06) to Practice question")
    assert await session.press(ada, receipt, "Submit") == "Submitted."

    # question 1 (voice only): a voice note, re-recorded as a round video note, kept
    q1 = await session.reply(ada, "Question 1 of 3")
    assert "A voice note · up to 30 s · 2 re-records allowed" in (q1.text or "")
    fake.send_voice(ada, audio("voice.ogg"), duration=6)
    receipt = await session.reply(ada, "Got your voice answer")
    assert receipt.button_labels == ["Submit", "Start over (2 left)"]
    assert await session.press(ada, receipt, "Start over") == "OK, send your new answer."
    await session.reply(ada, "OK, send your new answer to Question 1 of 3")
    fake.send_video_note(ada, audio("videonote.mp4"), duration=6)
    receipt = await session.reply(ada, "Got your voice answer")
    assert receipt.button_labels == ["Submit", "Start over (1 left)"]
    assert await session.press(ada, receipt, "Submit") == "Submitted."

    # question 2 (text only, no retakes): a draft with Submit only
    await session.reply(ada, "Question 2 of 3")
    fake.send_text(ada, "I picked SQLite over PostgreSQL: one user, zero operations.")
    receipt = await session.reply(ada, "Got your written answer (1 message, 9 words)")
    assert receipt.button_labels == ["Submit"]
    assert await session.press(ada, receipt, "Submit") == "Submitted."
    # question 3 (voice or text): an audio file (MP3)
    await session.reply(ada, "Question 3 of 3")
    fake.send_audio(ada, audio("voice.mp3"), duration=6)
    receipt = await session.reply(ada, "Got your voice answer")
    assert await session.press(ada, receipt, "Submit") == "Submitted."

    # wrap-up: a question for the team, Done, the experience rating
    last = await session.reply(ada, "That was the last question")
    fake.send_text(ada, "When will I hear back?")
    noted = await session.reply(ada, "Noted, the team will see your question")
    assert await session.press(ada, noted, "Done") == "Done."
    feedback = await session.reply(ada, "how was this interview for you?")
    assert feedback.button_labels == ["1", "2", "3", "4", "5"]
    assert await session.press(ada, feedback, "5") == "Thank you!"
    await session.reply(ada, "Thank you for your time!")
    assert last.message_id < feedback.message_id
    elapsed = time.monotonic() - started

    done = session.interview(interview.id)
    assert done.state is State.COMPLETED
    assert done.experience_rating == 5
    assert done.candidate is not None and done.candidate.id == str(ada.id)
    assert [q.text for q in done.candidate_questions] == ["When will I hear back?"]
    answers = {a.question_id: a for a in done.answers}
    assert set(answers) == {"warmup", "project", "tradeoff", "testing"}
    assert len(answers["project"].takes) == 2
    assert answers["project"].kept is answers["project"].takes[1]
    assert answers["tradeoff"].kept is not None
    assert answers["tradeoff"].kept.text == (
        "I picked SQLite over PostgreSQL: one user, zero operations.")
    voice_takes = [t for a in done.answers for t in a.takes if t.kind == "voice"]
    assert len(voice_takes) == 4
    for take in voice_takes:
        assert take.media_key is not None
        assert (session.app.settings.media_dir / f"{take.media_key}.ogg").is_file()
        assert take.duration is not None and 5 < take.duration < 7
    print(f"\nfull Telegram interview: {elapsed:.2f} s, {len(fake.calls)} Bot API calls")


# -- bad input: a clear reply, nothing recorded ----------------------------------------------

MB = 1024 * 1024
BadInput = Callable[[FakeTelegram, FakeUser], object]
BAD_AT_VOICE_QUESTION: dict[str, tuple[BadInput, str]] = {
    "sticker": (lambda f, u: f.send_sticker(u), "Sorry, I can't use a sticker as an answer. "
                "Please answer with a voice note."),
    "photo": (lambda f, u: f.send_photo(u), "Sorry, I can't use a photo as an answer."),
    "document": (lambda f, u: f.send_document(u, b"%PDF-1.4 cv", "cv.pdf"),
                 "Sorry, I can't use a document as an answer."),
    "location": (lambda f, u: f.send_message(u, {"location": {"latitude": 52.5,
                                                                "longitude": 13.4}}),
                 "Sorry, I can't use a location as an answer."),
    "forwarded voice": (lambda f, u: f.send_message(u, {
        "voice": {"file_id": "AwACforwarded", "file_unique_id": "AgADfwd", "duration": 6,
                  "mime_type": "audio/ogg", "file_size": 18214},
        "forward_origin": {"type": "hidden_user", "sender_user_name": "Someone", "date": 1}}),
        "Sorry, I can't use a forwarded message as an answer."),
    "text where only voice is allowed": (
        lambda f, u: f.send_text(u, "I would rather type this."),
        "This question needs a voice note, not text."),
    "voice over the length limit": (
        lambda f, u: f.send_voice(u, audio("long.ogg"), duration=200),
        "That recording is longer than the 30 s limit for this question."),
    "voice longer than it claims": (
        lambda f, u: f.send_voice(u, audio("long.ogg"), duration=6),
        "That recording is longer than the 30 s limit for this question."),
    "file over 20 MB": (
        lambda f, u: f.send_voice(u, audio("voice.ogg"), duration=6, file_size=25 * MB),
        "That file is too large for me to receive."),
    "corrupt file": (lambda f, u: f.send_voice(u, audio("truncated.ogg"), duration=6),
                     "the file seems damaged"),
    "not audio at all": (lambda f, u: f.send_voice(u, audio("notaudio.ogg"), duration=6),
                         "the file seems damaged"),
    "silent file": (lambda f, u: f.send_voice(u, audio("silence.ogg"), duration=3),
                    "We could not hear anything in that recording."),
    "mis-tap": (lambda f, u: f.send_voice(u, audio("short.ogg"), duration=1),
                "That recording is too short to be an answer."),
}


@pytest.mark.parametrize("case", list(BAD_AT_VOICE_QUESTION))
async def test_bad_input_at_a_voice_question(session: Session, case: str) -> None:
    ada = session.fake.user(1001, "Ada")
    interview = await session.to_question(ada)
    before = session.recorded(interview.id)
    action, expected = BAD_AT_VOICE_QUESTION[case]
    action(session.fake, ada)
    await session.reply(ada, expected)
    assert session.recorded(interview.id) == before
    if case == "file over 20 MB":
        assert session.fake.calls_to("getFile") == []  # refused before downloading


async def test_voice_where_only_text_is_allowed(session: Session) -> None:
    ada = session.fake.user(1001, "Ada")
    interview = await session.to_question(ada, question="tradeoff")
    before = session.recorded(interview.id)
    session.fake.send_voice(ada, audio("voice.ogg"), duration=6)
    await session.reply(ada, "This question needs a written answer. Please type it as text.")
    assert session.recorded(interview.id) == before


async def test_edited_message_is_not_taken_as_an_answer(session: Session) -> None:
    ada = session.fake.user(1001, "Ada")
    interview = await session.to_question(ada, question="tradeoff")
    sent = session.fake.send_text(ada, "First version of my answer.")
    await session.reply(ada, "Got your written answer")
    before = session.recorded(interview.id)
    session.fake.edit_text(ada, sent, "Second version of my answer.")
    await session.reply(ada, EDITS_IGNORED)
    assert session.recorded(interview.id) == before


async def test_answer_after_the_deadline(session: Session) -> None:
    ada = session.fake.user(1001, "Ada")
    interview = await session.to_question(ada)
    takes_before = session.recorded(interview.id)[2]
    from tests.e2e.telegram_support import expire

    expire(session, interview.id)
    session.fake.send_voice(ada, audio("voice.ogg"), duration=6)
    await session.reply(ada, "Sorry, the deadline for this interview passed on")
    after = session.recorded(interview.id)
    assert after[2] == takes_before
    assert session.interview(interview.id).state is State.EXPIRED


async def test_stale_and_already_used_buttons(session: Session) -> None:
    fake = session.fake
    ada = fake.user(1001, "Ada")
    interview = await session.to_question(ada)
    fake.send_voice(ada, audio("voice.ogg"), duration=6)
    receipt = await session.reply(ada, "Got your voice answer")
    keep, redo = _data(receipt, "Submit"), _data(receipt, "Start over")
    assert await session.press(ada, receipt, "Submit") == "Submitted."
    await session.reply(ada, "Question 2 of 3")
    before = session.recorded(interview.id)
    # the same Keep again, then Re-record on the kept answer: both stale now
    assert await _press_data(session, ada, receipt, keep) == texts.STALE_BUTTON
    assert await _press_data(session, ada, receipt, redo) == texts.STALE_BUTTON
    # the consent button from the start of the interview
    consent = next(m for m in fake.messages(ada.id) if "90 days" in (m.text or ""))
    agree = pl.make(pl.CONSENT, interview.id, "y")
    assert await _press_data(session, ada, consent, agree) == texts.STALE_BUTTON
    # tampered payloads: not ours, and an unknown interview
    assert await _press_data(session, ada, receipt, "kp:zzzz:../../etc") == texts.STALE_BUTTON
    assert await _press_data(session, ada, receipt, pl.make(pl.KEEP, "0" * 16, "1" * 16)) == (
        texts.STALE_BUTTON)
    assert session.recorded(interview.id) == before


def _data(message: object, label: str) -> str:
    from fakes.telegram import find_button

    return find_button(message.reply_markup, label)  # type: ignore[attr-defined]


async def _press_data(session: Session, user: object, message: object, data: str) -> str | None:
    update = session.fake.press_button(user, message, data)  # type: ignore[arg-type]
    query_id = update["callback_query"]["id"]
    answer = await session.fake.wait_for(lambda: next(
        (a for a in session.fake.callback_answers if a.callback_query_id == query_id), None))
    return answer.text


async def test_another_persons_button_is_refused(session: Session) -> None:
    fake = session.fake
    ada, bob = fake.user(1001, "Ada"), fake.user(1002, "Bob")
    interview = await session.to_question(ada)
    fake.send_voice(ada, audio("voice.ogg"), duration=6)
    receipt = await session.reply(ada, "Got your voice answer")
    before = session.recorded(interview.id)
    assert await session.press(bob, receipt, "Submit") == texts.NOT_YOUR_BUTTON
    assert session.recorded(interview.id) == before


async def test_invalid_used_and_expired_invitations(session: Session) -> None:
    fake = session.fake
    ada, bob, cy = fake.user(1001, "Ada"), fake.user(1002, "Bob"), fake.user(1003, "Cy")
    fake.send_command(bob, "/start", "not-a-real-token-0000000000")
    await session.reply(bob, texts.TOKEN_UNKNOWN)

    interview, token = session.invite("Ada", "Europe/Lisbon")
    fake.send_command(ada, "/start", token)
    await session.reply(ada, "90 days")
    fake.send_command(bob, "/start", token)
    await session.reply(bob, texts.TOKEN_USED)
    assert session.interview(interview.id).candidate is not None
    assert session.interview(interview.id).candidate.id == str(ada.id)  # type: ignore[union-attr]

    late, late_token = session.invite("Cy")
    from tests.e2e.telegram_support import expire

    expire(session, late.id)
    fake.send_command(cy, "/start", late_token)
    await session.reply(cy, "This invitation expired on")
    assert session.interview(late.id).candidate is None


async def test_people_without_an_invitation_get_an_explanation(session: Session) -> None:
    fake = session.fake
    eve = fake.user(1005, "Eve")
    sends: list[Callable[[], object]] = [
        lambda: fake.send_text(eve, "hello?"),
        lambda: fake.send_voice(eve, audio("voice.ogg"), duration=6),
        lambda: fake.send_sticker(eve),
        lambda: fake.send_command(eve, "/status"),
        lambda: fake.send_command(eve, "/start"),
    ]
    for send in sends:
        send()
        await session.reply(eve, texts.NO_INVITATION)
    fake.send_command(eve, "/help")
    await session.reply(eve, "Commands:")
    with session.app.services.uow() as uow:
        assert uow.interviews.current_for(_user_ref(eve.id)) is None
    assert fake.calls_to("getFile") == []


def _user_ref(user_id: int) -> UserRef:
    return UserRef("telegram", str(user_id))


# -- delivery: 429, 5xx, duplicates -----------------------------------------------------------

async def test_a_429_in_the_middle_delays_but_loses_nothing(session: Session) -> None:
    fake = session.fake
    ada = fake.user(1001, "Ada")
    interview = await session.to_question(ada, question="tradeoff")
    fake.fail_next("sendMessage", 429, retry_after=1)
    fake.send_text(ada, "I traded latency for simplicity.")
    await session.reply(ada, "Got your written answer")
    sends = fake.calls_to("sendMessage")
    assert [c.status for c in sends[-2:]] == [429, 200]
    answer = session.interview(interview.id).answer_for("tradeoff")
    assert answer is not None and answer.latest is not None
    assert answer.latest.text == "I traded latency for simplicity."


async def test_server_errors_and_dropped_connections_are_retried(session: Session) -> None:
    fake = session.fake
    ada = fake.user(1001, "Ada")
    await session.to_question(ada, question="tradeoff")
    fake.fail_next("sendMessage", 502)
    fake.drop_next("sendMessage")
    fake.send_text(ada, "I traded latency for simplicity.")
    await session.reply(ada, "Got your written answer")
    assert [c.status for c in fake.calls_to("sendMessage")[-3:]][-1] == 200


def retries_counted(session: Session, platform: str = "telegram") -> float:
    """`interviewbot_deliveries_retried_total{platform}` in the app's own registry."""
    metrics = session.app.services.observer
    assert isinstance(metrics, Metrics)  # installed by `serve`, as in production
    value = metrics.registry.get_sample_value("interviewbot_deliveries_retried_total",
                                              {"platform": platform})
    return value or 0.0


async def test_every_retry_is_counted_and_the_message_sent_once(session: Session) -> None:
    """Two 429s (retried by the rate limiter) and a 502 (retried by the messenger) on one
    message: three retries in the metrics, one message in the chat."""
    fake = session.fake
    ada = fake.user(1001, "Ada")
    await session.to_question(ada, question="tradeoff")
    before = retries_counted(session)
    fake.fail_next("sendMessage", 429, retry_after=1, times=2)
    fake.fail_next("sendMessage", 502)
    fake.send_text(ada, "I traded latency for simplicity.")
    await session.reply(ada, "Got your written answer")
    statuses = [c.status for c in fake.calls_to("sendMessage")]
    assert statuses[-4:] == [429, 429, 502, 200]
    assert retries_counted(session) - before == 3
    assert len([m for m in fake.messages(ada.id) if "Got your written answer" in (
        m.text or "")]) == 1


async def test_a_download_failure_asks_to_send_again(session: Session) -> None:
    fake = session.fake
    ada = fake.user(1001, "Ada")
    interview = await session.to_question(ada)
    before = session.recorded(interview.id)
    fake.fail_next("download", 500, times=10)
    fake.send_voice(ada, audio("voice.ogg"), duration=6)
    await session.reply(ada, texts.DOWNLOAD_FAILED)
    assert session.recorded(interview.id) == before


async def test_duplicated_updates_are_recorded_once(session: Session) -> None:
    fake = session.fake
    ada = fake.user(1001, "Ada")
    interview = await session.to_question(ada)
    voice = fake.send_voice(ada, audio("voice.ogg"), duration=6)
    receipt = await session.reply(ada, "Got your voice answer")
    fake.redeliver(voice["update_id"])
    # updates of one chat are handled in order, so once /status is answered the copy was seen
    fake.send_command(ada, "/status")
    await session.reply(ada, "0 of 3 questions answered")
    answer = session.interview(interview.id).answer_for("project")
    assert answer is not None and len(answer.takes) == 1
    assert len([m for m in fake.messages(ada.id) if "Got your voice" in (m.text or "")]) == 1

    press = fake.press_button(ada, receipt, label="Submit")
    await session.reply(ada, "Question 2 of 3")
    fake.redeliver(press["update_id"])
    fake.send_command(ada, "/status")
    await session.reply(ada, "1 of 3 questions answered")
    assert len([m for m in fake.messages(ada.id) if "Question 2 of 3" in (m.text or "")]) == 1


# -- restart half-way -------------------------------------------------------------------------

async def test_restart_half_way_resumes_at_the_right_question(tmp_path: Path,
                                                              fast_pacing: None) -> None:
    async with FakeTelegram() as fake:
        fake.group(REVIEW_GROUP)
        settings = settings_for(tmp_path, fake)
        bot = await start_bot(settings)
        session = Session(fake, bot, tmp_path)
        ada = fake.user(1001, "Ada")
        interview = await session.to_question(ada, question="tradeoff")
        await bot.stop()

        # while the bot is down, Ada answers question 2; Telegram keeps the update
        fake.send_text(ada, "Written while the bot was restarting.")
        bot = await start_bot(settings)
        session.bot = bot
        try:
            await session.reply(ada, "Got your written answer (1 message, 6 words)")
            fake.send_command(ada, "/start")
            await session.reply(ada, "Welcome back, Ada! 1 of 3 questions answered, 2 left.")
            receipt = await session.reply(ada, "Got your written answer (1 message, 6 words)")
            answer = session.interview(interview.id).answer_for("tradeoff")
            assert answer is not None and answer.latest is not None
            assert answer.latest.text == "Written while the bot was restarting."
            assert len(answer.takes) == 1
            assert await session.press(ada, receipt, "Submit") == "Submitted."
            await session.reply(ada, "Question 3 of 3")
        finally:
            await bot.stop()


# -- webhook mode -----------------------------------------------------------------------------

async def test_webhook_mode_with_and_without_the_secret(tmp_path: Path, fast_pacing: None
                                                        ) -> None:
    async with FakeTelegram() as fake:
        fake.group(REVIEW_GROUP)
        port_settings = settings_for(tmp_path, fake)
        url = f"http://127.0.0.1:{port_settings.http_port}/telegram/webhook"
        settings = settings_for(tmp_path, fake, INTERVIEWBOT_HTTP_PORT=port_settings.http_port,
                                TELEGRAM_WEBHOOK_URL=url, TELEGRAM_WEBHOOK_SECRET="s3cret_Token-1")
        bot = await start_bot(settings)
        session = Session(fake, bot, tmp_path)
        try:
            (set_call,) = fake.calls_to("setWebhook")
            assert set_call.params["secret_token"] == "s3cret_Token-1"
            assert set_call.params["url"] == url
            ada = fake.user(1001, "Ada")
            interview = await session.begin(ada)  # pushed by the fake with the secret
            assert fake.calls_to("getUpdates") == []
            assert all(d.ok for d in fake.webhook_deliveries)

            update = {"update_id": 999001, "message": {
                "message_id": 500, "date": 1, "chat": ada.chat_dict(), "from": ada.to_dict(),
                "text": "/status", "entities": [{"type": "bot_command", "offset": 0,
                                                 "length": 7}]}}
            async with aiohttp.ClientSession() as http:
                for headers in ({}, {SECRET_HEADER: "wrong"}):
                    async with http.post(url, json=update, headers=headers) as response:
                        assert response.status == 403
                async with http.post(url, data=b"{not json",
                                     headers={SECRET_HEADER: "s3cret_Token-1"}) as response:
                    assert response.status == 400
                assert not [m for m in fake.messages(ada.id) if "questions answered" in
                            (m.text or "")]
                async with http.post(url, json=update,
                                     headers={SECRET_HEADER: "s3cret_Token-1"}) as response:
                    assert response.status == 200
            # answered after processing: the reply is already there
            assert any("0 of 3 questions answered" in (m.text or "")
                       for m in fake.messages(ada.id))
            assert session.interview(interview.id).state is State.CONSENTED
        finally:
            await bot.stop()


# -- a Telegram review group ------------------------------------------------------------------

async def test_review_group_rating_follow_up_and_refusals(session: Session) -> None:
    fake = session.fake
    ada, rita, bob = fake.user(1001, "Ada"), fake.user(2001, "Rita"), fake.user(1002, "Bob")
    group = fake.group(REVIEW_GROUP, "Backend reviews")
    interview = await session.to_question(ada, question="testing")
    fake.send_text(ada, "Unit tests first, then a few end-to-end tests against fakes.")
    await session.reply(ada, "Got your written answer")
    receipt = fake.last_message(ada.id)
    assert await session.press(ada, receipt, "Submit") == "Submitted."
    await session.reply(ada, "That was the last question")

    await fake.wait_for(lambda: len(fake.messages(REVIEW_GROUP)) >= 4, timeout=30)
    cards = fake.messages(REVIEW_GROUP)
    summary, project, tradeoff, testing = cards[:4]
    assert "Candidate #1 completed QA Engineer (Telegram)" in (summary.text or "")
    assert "Ada" not in str([c.payload for c in cards])  # blind review
    assert project.method == "sendVoice" and project.media_kind == "voice"
    assert "Question 1 of 3" in (project.payload.get("caption") or "")
    assert project.button_labels[0] == "depth 1"
    assert tradeoff.method == "sendMessage"
    assert "A: I chose SQLite over PostgreSQL" in (tradeoff.text or "")
    assert testing.button_labels[-1] == "Ask a follow-up"

    answer = await session.press(rita, project, "depth 1")
    assert answer is not None and answer.startswith("You rated Question 1 of 3 depth: 1.")
    # the candidate pressing a rating button, and a tampered press from someone's own chat
    assert await _press_data(session, ada, project, _data(project, "depth 1")) == (
        texts.NOT_A_REVIEWER)
    fake.send_text(bob, "hi")
    bobs = await session.reply(bob, texts.NO_INVITATION)
    assert await _press_data(session, bob, bobs, _data(project, "depth 1")) == (
        texts.NOT_A_REVIEWER)
    with session.app.services.uow() as uow:
        ratings = uow.reviews.ratings(interview.id)
    assert [(r.reviewer.id, r.criterion, r.score) for r in ratings] == [
        (str(rita.id), "depth", 1)]

    # a follow-up through force-reply: the reviewer's reply reaches the candidate
    assert await session.press(rita, testing, "Ask a follow-up") == (
        "Write your follow-up question.")
    prompt = await fake.wait_for_message(REVIEW_GROUP, "reply with your question")
    assert prompt.payload.get("reply_markup") is None or "inline_keyboard" not in (
        prompt.payload.get("reply_markup") or {})
    assert "ref:" not in (prompt.text or "")  # routed by the prompt's recorded message id
    fake.send_text(rita, "Which fakes, and why not mocks?", chat=group, reply_to=prompt)
    await fake.wait_for_message(REVIEW_GROUP, "Your follow-up was sent to the candidate")
    await session.reply(ada, "Which fakes, and why not mocks?")
    fake.send_text(ada, "In-repo HTTP fakes, so the real client libraries run.")
    await session.reply(ada, "Thanks, your reply is on its way to the team.")
    await fake.wait_for_message(REVIEW_GROUP, "answered the follow-up")
    group_chatter = fake.mark()
    fake.send_text(rita, "Nice answer, everyone.", chat=group)
    fake.send_command(rita, "/status")  # in her own chat: no invitation
    await session.reply(rita, texts.NO_INVITATION)
    assert [m for m in fake.messages(REVIEW_GROUP) if m.seq > group_chatter] == []


# -- pacing and concurrency -------------------------------------------------------------------

async def test_pacing_keeps_one_message_per_second_per_private_chat(tmp_path: Path) -> None:
    from fakes.telegram import RateLimits

    # Telegram's limits, enforced, with its short burst per private chat (3, as paced)
    async with FakeTelegram(rate_limits=RateLimits(private_chat_burst=3)) as fake:
        fake.group(REVIEW_GROUP)
        bot = await start_bot(settings_for(tmp_path, fake))  # default pacing
        session = Session(fake, bot, tmp_path)
        try:
            ada = fake.user(1001, "Ada")
            _, token = session.invite("Ada", "Europe/Lisbon")
            fake.send_command(ada, "/start", token)
            await session.reply(ada, "90 days")
            sent = fake.messages(ada.id)
            assert len(sent) == 3
            span = sent[-1].at - sent[0].at
            assert fake.rate_limit_hits == 0  # the burst of 3 at once; tests/e2e/
            print(f"\n3 messages to one chat in {span:.2f} s")  # test_telegram_pacing.py: 1/s after
        finally:
            await bot.stop()


async def test_chats_run_concurrently_but_each_in_order(tmp_path: Path, fast_pacing: None
                                                        ) -> None:
    from tests.e2e.telegram_support import HoldingTelegram

    async with HoldingTelegram() as fake:
        fake.group(REVIEW_GROUP)
        bot = await start_bot(settings_for(tmp_path, fake))
        try:
            ada, bob = fake.user(1001, "Ada"), fake.user(1002, "Bob")
            gate = fake.hold(ada.id)
            fake.send_text(ada, "first")
            await fake.wait_for(lambda: ada.id in fake.held, timeout=20)
            fake.send_text(ada, "second")
            fake.send_command(ada, "/help")
            fake.send_text(bob, "hello")
            # Bob is answered while Ada's first reply is still stuck
            await fake.wait_for_message(bob.id, texts.NO_INVITATION, timeout=20)
            assert fake.messages(ada.id) == []
            gate.set()
            await fake.wait_for(lambda: len(fake.messages(ada.id)) == 3, timeout=20)
            texts_in_order = [m.text or "" for m in fake.messages(ada.id)]
            assert texts_in_order[:2] == [texts.NO_INVITATION] * 2
            assert "Commands:" in texts_in_order[2]
        finally:
            await bot.stop()


# -- handler errors ---------------------------------------------------------------------------

async def test_a_failing_handler_gets_a_friendly_reply_and_no_personal_data_in_logs(
        session: Session, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)  # what `interviewbot run` logs by default
    fake = session.fake
    ada = fake.user(1001, "Ada Secretname")
    db = session.app.db
    with db.begin() as conn:  # a real failure: the database loses a table under the bot
        conn.exec_driver_sql("ALTER TABLE interview RENAME TO interview_away")
    try:
        fake.send_text(ada, "my private answer text")
        await session.reply(ada, SORRY)
    finally:
        with db.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE interview_away RENAME TO interview")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "OperationalError" in logged
    for secret in ("Secretname", "my private answer text", "1001", fake.token):
        assert secret not in logged

    fake.send_text(ada, "and now?")  # the bot keeps going
    await session.reply(ada, texts.NO_INVITATION)


async def test_the_apology_is_in_the_language_of_the_persons_telegram(
        session: Session) -> None:
    fake = session.fake
    jonas = fake.user(1002, "Jonas", language_code="de-DE")
    db = session.app.db
    with db.begin() as conn:  # the same real failure as above
        conn.exec_driver_sql("ALTER TABLE interview RENAME TO interview_away")
    try:
        fake.send_text(jonas, "meine Antwort")
        apology = await session.reply(jonas)
    finally:
        with db.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE interview_away RENAME TO interview")
    assert apology.text == t("de", SORRY) != SORRY


async def test_a_press_whose_answer_telegram_refuses_still_counts(session: Session) -> None:
    """Telegram refuses a late callback answer ("query is too old"): the press still counts and
    the next question still arrives, since the answer and the edit go out independently."""
    fake = session.fake
    ada = fake.user(1001, "Ada")
    interview = await session.to_question(ada, question="tradeoff")
    fake.send_text(ada, "I chose SQLite over PostgreSQL for a single-user tool.")
    receipt = await session.reply(ada, "Got your written answer")
    fake.fail_next("answerCallbackQuery", 400, description=(
        "Bad Request: query is too old and response timeout expired or query ID is invalid"))
    query = fake.press_button(ada, receipt, label="Submit")["callback_query"]["id"]
    await session.reply(ada, "Question 3 of 3")
    assert not [a for a in fake.callback_answers if a.callback_query_id == query]
    assert "tradeoff" in session.interview(interview.id).done_ids()  # the Submit counted


# -- invitation links -------------------------------------------------------------------------

async def run_cli(session: Session, *args: str) -> str:
    """`interviewbot ARGS` in a subprocess on the session's settings; its stdout."""
    import os
    import sys

    settings = session.app.settings
    env = dict(os.environ, DATABASE_URL=settings.database_url,
               INTERVIEWBOT_DATA_DIR=str(settings.data_dir),
               INTERVIEWBOT_SCRIPTS=str(settings.scripts), TELEGRAM_BOT_TOKEN=session.fake.token,
               TELEGRAM_API_URL=settings.telegram_api_url,
               TELEGRAM_FILE_URL=settings.telegram_file_url)
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "interviewbot"), *args, env=env,
        cwd=str(session.tmp), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_cli_invite_prints_the_deep_link_for_this_bot(session: Session) -> None:
    link = (await run_cli(session, "invite", "qa-telegram", "--name", "Grace", "--telegram",
                          "--tz", "Europe/Rome")).strip()
    prefix = f"https://t.me/{session.fake.bot_username}?start="
    assert link.startswith(prefix)
    grace = session.fake.user(1010, "Grace")
    session.fake.send_command(grace, "/start", link.removeprefix(prefix))
    await session.reply(grace, "Hi Grace!")
    await session.reply(grace, "(Europe/Rome)")


async def test_cli_extend_reaches_the_candidate_through_the_bot_api(session: Session) -> None:
    from tests.e2e.telegram_support import expire

    fake = session.fake
    ada = fake.user(1001, "Ada")
    interview = await session.to_question(ada)
    expire(session, interview.id)
    fake.send_voice(ada, audio("voice.ogg"), duration=6)
    await session.reply(ada, "the deadline for this interview passed")
    await run_cli(session, "extend", interview.id, "--by", "2d")
    news = await session.reply(ada, "Good news: you have more time.")
    assert await session.press(ada, news, "Continue") == "Here is where you stopped."
    await session.reply(ada, "Question 1 of 3")
    fake.send_voice(ada, audio("voice.ogg"), duration=6)
    await session.reply(ada, "Got your voice answer")


async def test_an_update_the_library_cannot_read_does_not_stop_the_bot(
        session: Session, caplog: pytest.LogCaptureFixture) -> None:
    fake = session.fake
    ada = fake.user(1001, "Ada Secretname")
    # a poll as an older Bot API sends it: PTB 22.8 refuses options without persistent_id
    poison = fake.send_message(ada, {"poll": {
        "id": "1", "question": "Tabs?", "options": [{"text": "yes", "voter_count": 0}],
        "total_voter_count": 0, "is_closed": False, "is_anonymous": True, "type": "regular",
        "allows_multiple_answers": False}})
    fake.send_command(ada, "/help")
    await session.reply(ada, "Commands:")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"skipped update {poison['update_id']}" in logged
    assert "Secretname" not in logged and "Tabs?" not in logged


# -- the messenger on its own, over HTTP ------------------------------------------------------

@pytest.fixture
async def messenger_and_fake() -> AsyncIterator[tuple[TelegramMessenger, FakeTelegram]]:
    from telegram.ext import ExtBot

    from bots.telegram.pacing import ChatPacedRateLimiter

    async with FakeTelegram() as fake:
        bot: ExtBot[int] = ExtBot(fake.token, base_url=fake.api_url,
                                  base_file_url=fake.file_url,
                                  rate_limiter=ChatPacedRateLimiter(FAST))
        async with bot:
            yield TelegramMessenger(bot, FAST), fake


def _tg(chat_id: int) -> ChatRef:
    return ChatRef("telegram", str(chat_id))


async def test_audio_cards_long_texts_and_edits(
        messenger_and_fake: tuple[TelegramMessenger, FakeTelegram], tmp_path: Path) -> None:
    messenger, fake = messenger_and_fake
    fake.group(REVIEW_GROUP)
    clip = tmp_path / "review.ogg"
    clip.write_bytes(audio("voice.ogg"))
    keys = ((Button("depth 1", "rt:a:b:0:1"), Button("2", "rt:a:b:0:2")),)
    voice = Audio(str(clip), "audio/ogg", "Question 1 of 3", 5.9)
    chat = _tg(REVIEW_GROUP)

    short = await messenger.send(chat, OutMessage("Candidate #1 · Question 1", keys, voice))
    sent = fake.message(REVIEW_GROUP, int(short.id))
    assert (sent.method, sent.media_kind) == ("sendVoice", "voice")
    assert sent.payload["caption"] == "Candidate #1 · Question 1"
    assert sent.button_labels == ["depth 1", "2"]
    # an edit of a captioned card changes its caption; the same edit again is a no-op
    await messenger.edit(short, OutMessage("Candidate #1 · Question 1 · 1 rated", keys))
    assert fake.message(REVIEW_GROUP, int(short.id)).payload["caption"].endswith("1 rated")
    calls = len(fake.calls)
    await messenger.edit(short, OutMessage("Candidate #1 · Question 1 · 1 rated", keys))
    assert len(fake.calls) == calls  # remembered: no API call at all
    fresh = TelegramMessenger(messenger.bot, FAST)  # another process: Telegram says not modified
    await fresh.edit(short, OutMessage("Candidate #1 · Question 1 · 1 rated", keys))
    assert fake.calls[-1].description is not None and "not modified" in fake.calls[-1].description
    calls = len(fake.calls)
    await messenger.edit(short, OutMessage("Candidate #1 · Question 1 · 2 rated", keys))
    assert [c.method for c in fake.calls[calls:]] == ["editMessageCaption"]  # known: a caption

    long_text = "Transcript: " + "words " * 300
    long = await messenger.send(chat, OutMessage(long_text, keys, voice))
    card, upload = fake.message(REVIEW_GROUP, int(long.id)), fake.messages(REVIEW_GROUP)[-2]
    assert upload.method == "sendVoice" and upload.payload["caption"] == "Question 1 of 3"
    assert card.method == "sendMessage" and card.text == long_text
    assert card.button_labels == ["depth 1", "2"]

    huge = await messenger.send(chat, OutMessage("x" * 5000, keys))
    first, last = fake.messages(REVIEW_GROUP)[-2:]
    assert (len(first.text or ""), len(last.text or "")) == (4096, 904)
    assert first.reply_markup is None and last.button_labels == ["depth 1", "2"]
    assert huge.id == str(last.message_id)


async def test_downloads_refuse_big_files_before_fetching(
        messenger_and_fake: tuple[TelegramMessenger, FakeTelegram]) -> None:
    messenger, fake = messenger_and_fake
    ada = fake.user(1001, "Ada")
    small = fake.send_voice(ada, audio("voice.ogg"), duration=6)["message"]["voice"]
    big = fake.send_voice(ada, audio("voice.ogg"), duration=6,
                          file_size=21 * 1024 * 1024)["message"]["voice"]

    def ref(voice: dict[str, object], size: int | None) -> MediaRef:
        return MediaRef("telegram", str(voice["file_id"]), "voice", "audio/ogg", size=size)

    assert await messenger.download(ref(small, 18214), 20 * 1024 * 1024) == audio("voice.ogg")
    with pytest.raises(MediaTooLarge):
        await messenger.download(ref(big, int(str(big["file_size"]))), 20 * 1024 * 1024)
    assert fake.calls_to("getFile")[-1].params["file_id"] == small["file_id"]
    with pytest.raises(MediaTooLarge):  # size unknown in the update: getFile tells
        await messenger.download(ref(big, None), 20 * 1024 * 1024)
    with pytest.raises(MediaTooLarge):  # a smaller limit of our own
        await messenger.download(ref(small, None), 10_000)


async def test_notify_is_a_dm_or_nothing_and_failures_are_delivery_failed(
        messenger_and_fake: tuple[TelegramMessenger, FakeTelegram]) -> None:
    messenger, fake = messenger_and_fake
    group = _tg(REVIEW_GROUP)
    fake.group(REVIEW_GROUP)
    rita = fake.user(2001, "Rita", started=True)
    stranger = fake.user(2002, "Sam")
    await messenger.notify(group, UserRef("telegram", str(rita.id)), "Only you can see this.")
    assert fake.last_message(rita.id).text == "Only you can see this."
    await messenger.notify(group, UserRef("telegram", str(stranger.id)), "Lost.")  # no error
    assert fake.messages(stranger.id) == [] and fake.messages(REVIEW_GROUP) == []

    fake.fail_next("sendMessage", 500, times=10)
    with pytest.raises(DeliveryFailed):
        await messenger.send(_tg(rita.id), OutMessage("never arrives"))
    assert len([c for c in fake.calls_to("sendMessage") if c.status == 500]) == 4
    with pytest.raises(DeliveryFailed):
        await messenger.send(_tg(stranger.id), OutMessage("bot can't initiate"))


# -- `interviewbot run` as a process ----------------------------------------------------------

async def test_interviewbot_run_process_restarts_and_logs_no_secrets(tmp_path: Path) -> None:
    import os
    import signal
    import sys

    async with FakeTelegram() as fake:
        fake.group(REVIEW_GROUP)
        settings = settings_for(tmp_path, fake)
        env = dict(os.environ, DATABASE_URL=settings.database_url,
                   INTERVIEWBOT_DATA_DIR=str(settings.data_dir),
                   INTERVIEWBOT_SCRIPTS=str(settings.scripts),
                   INTERVIEWBOT_HTTP_PORT=str(settings.http_port),
                   TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_URL=settings.telegram_api_url,
                   TELEGRAM_FILE_URL=settings.telegram_file_url, INTERVIEWBOT_LOG_LEVEL="INFO")
        for name in ("TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET", "SLACK_BOT_TOKEN"):
            env.pop(name, None)
        command = str(Path(sys.executable).parent / "interviewbot")
        logs: list[str] = []

        async def run_until(check: Callable[[], object]) -> None:
            process = await asyncio.create_subprocess_exec(
                command, "run", env=env, cwd=str(tmp_path), stderr=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL)
            try:
                await check()  # type: ignore[misc]
            finally:
                process.send_signal(signal.SIGTERM)
                _, err = await asyncio.wait_for(process.communicate(), 60)
                logs.append(err.decode())
            assert process.returncode == 0, logs[-1]

        ada = fake.user(1001, "Ada Secretname")
        from bots.app import build
        from core.commands import CreateInvitation

        app = build(settings)
        _, token = app.engine.invite(CreateInvitation("qa-telegram", "Ada Secretname",
                                                      "telegram", "UTC"))
        app.db.dispose()

        async def first_half() -> None:
            fake.send_command(ada, "/start", token)
            consent = await fake.wait_for_message(ada.id, "90 days", timeout=60)
            fake.press_button(ada, consent, label="I agree")
            await fake.wait_for_message(ada.id, "Warm up", timeout=60)

        async def second_half() -> None:
            fake.send_text(ada, "Hello from the practice question, written after a restart.")
            await fake.wait_for_message(ada.id, "Got your written answer", timeout=60)

        await run_until(first_half)
        await run_until(second_half)
        assert "telegram bot @interviewbot_test_bot ready (polling)" in logs[0]
        for secret in (fake.token, "Secretname", "written after a restart"):
            assert all(secret not in text for text in logs)
