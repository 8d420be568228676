"""Referral interviews in Slack DMs, end to end: the composed app with real Bolt in HTTP mode,
signed requests, and the fake Slack Web API (fakes/slack/)."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bots.metrics import Metrics
from bots.slack import render
from bots.slack import translate as tr
from bots.slack.invite import SlackInviteFailed, invite_slack_user
from bots.slack.messenger import DownloadFailed, SlackMessenger, make_client
from core import texts
from core.capabilities import with_commands
from core.commands import CreateInvitation
from core.messages import OutMessage
from core.observe import NullObserver
from core.ports import MediaTooLarge
from core.refs import ChatRef
from core.states import State
from fakes import slack as ev
from fakes.slack import FakeSlack
from tests.e2e.slack_support import (
    AUDIO,
    EVE,
    GRACE,
    GRACE_TZ,
    M4A,
    METHOD_SCOPES,
    REV1,
    REV2,
    REVIEW,
    TOKEN,
    WEBM,
    SlackWorld,
    assert_scopes_cover,
    manifest,
    slack_world,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[SlackWorld]:
    async with slack_world(tmp_path) as w:
        yield w


# -- invitation ----------------------------------------------------------------------------
async def test_invite_opens_a_dm_and_greets_in_the_users_time_zone(world: SlackWorld) -> None:
    interview = await world.invite()
    dm = world.dm(GRACE)
    assert world.fake.calls_to("conversations.open")[-1]["users"] == GRACE
    assert world.fake.calls_to("users.info")[-1]["user"] == GRACE
    greeting, expectations, consent = world.fake.messages(dm)
    assert greeting.text.startswith("Hi Grace Hopper! 3 questions")
    due = texts.local_time(interview.deadline, GRACE_TZ)
    assert f"Deadline: {due}." in expectations.text and "(Asia/Kolkata)" in due
    assert consent.button("I agree").value and consent.button("No thanks").value
    stored = world.interview()
    assert (stored.state, stored.tz, str(stored.candidate), str(stored.chat)) == (
        State.INVITED, GRACE_TZ, f"slack:{GRACE}", f"slack:{dm}")


async def test_cli_invite_dms_the_slack_user(world: SlackWorld, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TELEGRAM_", "SLACK_", "INTERVIEWBOT_", "DATABASE_URL"))}
    env.update(DATABASE_URL=world.settings.database_url, SLACK_BOT_TOKEN=TOKEN,
               SLACK_API_URL=world.fake.api_url,
               INTERVIEWBOT_DATA_DIR=str(world.settings.data_dir),
               INTERVIEWBOT_SCRIPTS=str(world.settings.scripts))
    cli = Path(sys.executable).parent / "interviewbot"

    async def run(*args: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            str(cli), "invite", "referral", *args, env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 120)
        return proc.returncode or 0, out.decode(), err.decode()

    code, out, err = await run("--name", "Grace", "--slack-user", GRACE, "--tz", "Europe/Rome")
    assert code == 0, err
    assert f"sent to Slack user {GRACE} (DM {world.dm(GRACE)}, time zone Europe/Rome)" in out
    assert "(Europe/Rome)" in world.texts(world.dm(GRACE))[1]


async def test_invite_refuses_unknown_deactivated_and_bot_users(world: SlackWorld) -> None:
    world.fake.user("U0GONE", "Gone", deleted=True)
    for user, reason in [("U0NOBODY", "user_not_found"), ("U0GONE", "deactivated"),
                         ("UBOT", "a bot")]:
        _, token = world.app.engine.invite(CreateInvitation("referral", "X", "slack"))
        with pytest.raises(SlackInviteFailed, match=reason):
            await invite_slack_user(world.app, token, user)
    assert all(i.candidate is None for i in world.interviews())
    assert not world.fake.calls_to("chat.postMessage")


# -- the whole interview -----------------------------------------------------------------------
async def test_whole_referral_interview_with_clips_text_and_reviewers(world: SlackWorld) -> None:
    await world.start()
    dm = world.dm(GRACE)
    # Question 1: a text answer, re-recorded as a mobile audio clip, kept.
    await world.say(GRACE, "A billing service, in Go.")
    assert world.last(dm).startswith("Got your written answer")
    await world.press(dm, "Start over", GRACE)
    # the receipt is edited into what happened and what next: one message
    assert world.last(dm).startswith("Starting Question 1 of 3 over.\n\nOK, send your new")
    await world.share(GRACE, M4A, transcription={
        "status": "complete", "preview": {"content": "I built a billing service.",
                                          "has_more": False}})
    assert world.last(dm).startswith("Got your voice answer (1 clip, 0:0")
    assert world.fake.downloads[-1].authorized
    await world.press(dm, "Submit", GRACE)
    assert "Submitted." in world.whispers(GRACE)
    # Question 2 (voice only): a desktop webm clip.
    assert "(1 clip, 0:06).\n\nQuestion 2 of 3 · A voice note" in world.last(dm)  # one edit
    await world.share(GRACE, WEBM)
    await world.press(dm, "Submit", GRACE)
    # Question 3 (text only).
    await world.say(GRACE, "Fewer meetings, more written design reviews.")
    await world.press(dm, "Submit", GRACE)
    assert "That was the last question" in world.last(dm)
    interview = world.interview()
    assert interview.state is State.COMPLETED
    built = interview.answer_for("built")
    assert built is not None and built.kept is not None
    assert (built.kept.kind, built.kept.transcript) == ("voice", "I built a billing service.")
    assert len(built.takes) == 2
    keys = [a.kept.media_key for a in interview.answers if a.kept and a.kept.media_key]
    assert len(keys) == 2 and all((world.settings.media_dir / f"{k}.ogg").exists() for k in keys)

    # Reviewers: one summary card, one card per answer, the two clips uploaded first, then
    # the reel of both voice answers.
    cards = world.fake.messages(REVIEW)
    uploads = world.fake.uploads_in(REVIEW)
    assert len(uploads) == 3 and all(u.completed and u.data for u in uploads)
    assert [u.filename for u in uploads] == ["question-1-of-3.m4a", "question-2-of-3.m4a",
                                             "interview-reel.m4a"]
    assert (uploads[2].initial_comment or "").startswith(
        "Candidate #1: every voice answer in one recording")
    assert uploads[0].data is not None and uploads[0].data[4:8] == b"ftyp"
    assert re.fullmatch(r"Candidate #1 · Question 1 of 3 \(0:0\d\)", uploads[0].initial_comment
                        or "")
    assert [c.text.split("\n")[0] for c in cards if not c.files] == [
        "Candidate #1 completed Platform Engineer (referral)",
        "Candidate #1 · Question 1 of 3", "Candidate #1 · Question 2 of 3",
        "Candidate #1 · Question 3 of 3",
        "Candidate #1: every voice answer in one recording (0:11)."]
    assert "Transcript: I built a billing service." in world.texts(REVIEW)[2]
    blob = json.dumps([c.params for c in world.fake.calls
                       if REVIEW in (c.params.get("channel"), c.params.get("channel_id"))
                       or c.method == "files.getUploadURLExternal"])
    assert "Grace" not in blob and GRACE not in blob  # blind review

    # The candidate's question and the experience rating.
    await world.say(GRACE, "What does on-call look like?")
    assert any('asks the team: "What does on-call look like?"' in t
               for t in world.texts(REVIEW))
    await world.press(dm, "Done", GRACE)
    await world.press(dm, "5", GRACE)
    assert world.interview().experience_rating == 5

    # Rating: private confirmations, shared counts, decisions unlocked after the last answer.
    q1 = next(c for c in world.fake.messages(REVIEW) if "Question 1 of 3" in c.text
              and not c.files)
    await world.press(REVIEW, "Advance", REV1)
    assert world.whispers(REV1)[-1].startswith("Rate every answer first")
    await world.press(REVIEW, "4", REV1, message=q1)  # first row: depth
    assert world.whispers(REV1)[-1] == ("You rated Question 1 of 3 depth: 4. Still to rate: "
                                        "clarity.")
    row = next(b for b in q1.blocks if b["type"] == "actions" and "clarity" in json.dumps(b))
    clarity_3 = next(e for e in row["elements"] if e["text"]["text"] == "3")
    payload = ev.block_actions(REV1, action_id=clarity_3["action_id"],
                               value=clarity_3["value"], channel=REVIEW, message=q1.as_slack(),
                               trigger_id=world.fake.issue_trigger(REV1))
    await world.interact(payload)
    assert world.whispers(REV1)[-1].endswith("You are the first.")
    assert "1 reviewer rated this answer" in world.fake.message(REVIEW, q1.ts).text
    assert "Scores:" not in world.fake.message(REVIEW, q1.ts).text  # independent review
    for label in ("Question 2 of 3", "Question 3 of 3"):
        card = next(c for c in world.fake.messages(REVIEW) if label in c.text and not c.files)
        await world.press(REVIEW, "5" if "2 of 3" in label else "clarity 1", REV1,
                          message=card)
    await world.press(REVIEW, "Advance", REV1)
    assert world.whispers(REV1)[-1] == "Your decision: Advance."
    # independent review: the shared card counts, it never says what anyone chose
    assert "Rated by 1 · decided by 1." in world.texts(REVIEW)[0]
    assert "Advance 1" not in world.texts(REVIEW)[0]
    # Someone who is not a reviewer (the candidate herself) is refused and nothing changes.
    before = world.snapshot()
    await world.press(REVIEW, "depth 1", GRACE, message=q1)
    assert world.whispers(GRACE)[-1] == texts.NOT_A_REVIEWER
    assert world.snapshot() == before
    assert_scopes_cover(world.fake)


# -- bad input ---------------------------------------------------------------------------------
async def test_bad_input_gets_a_clear_reply_and_records_nothing(world: SlackWorld) -> None:
    await world.start()
    dm = world.dm(GRACE)

    async def refused(expected: str, action: object) -> None:
        before = world.snapshot()
        count = len(world.fake.messages(dm))
        await action  # type: ignore[misc]
        assert world.snapshot() == before
        assert [m.text for m in world.fake.messages(dm)[count:]] == [render.slack_text(expected)]

    either = "a voice note or text"
    await refused(texts.UNSUPPORTED.format(what="picture", kinds=either),
                  world.share(GRACE, "whiteboard.png", mime="image/png", subtype=None,
                              duration_ms=None, data=b"\x89PNG\r\n\x1a\n" + bytes(64)))
    await refused(texts.UNSUPPORTED.format(what="document", kinds=either),
                  world.share(GRACE, "cv.pdf", mime="application/pdf", subtype=None,
                              duration_ms=None, data=b"%PDF-1.7\n" + bytes(64)))
    corrupt = texts.AUDIO_REJECTED[tr_reason("CORRUPT")]
    await refused(corrupt, world.share(GRACE, "truncated.ogg", mime="audio/ogg", subtype=None,
                                       duration_ms=None))
    await refused(corrupt, world.share(GRACE, "notaudio.ogg", mime="audio/ogg", subtype=None,
                                       duration_ms=None))
    too_long = texts.AUDIO_REJECTED[tr_reason("TOO_LONG")].format(limit="1 min")
    downloads = len(world.fake.downloads)
    await refused(too_long, world.share(GRACE, "long.ogg", mime="audio/ogg",
                                        duration_ms=200_000))
    assert len(world.fake.downloads) == downloads  # refused from Slack's duration, no download
    await refused(too_long, world.share(GRACE, "long.ogg", mime="audio/ogg", subtype=None,
                                        duration_ms=None))  # measured after download
    infos = len(world.fake.calls_to("files.info"))
    await refused(texts.PROCESSING, world.share(GRACE, WEBM, transcription={
        "status": "processing"}))
    assert len(world.fake.calls_to("files.info")) == infos + world.channel.processing_checks
    # A clip whose url is not Slack's: the bot token is never sent there.
    file = world.fake.add_file(GRACE, (AUDIO / "voice.m4a").read_bytes(), "voice.m4a",
                               "audio/mp4", subtype="slack_audio", duration_ms=6000)
    file["url_private_download"] = "https://files.example.org/steal-the-token/voice.m4a"
    downloads = len(world.fake.downloads)
    await refused(texts.DOWNLOAD_FAILED,
                  world.deliver(ev.file_share(GRACE, [file], channel=dm)))
    assert len(world.fake.downloads) == downloads

    # An answer, then an edit and a deletion of it: a polite note, the answer unchanged.
    first = await world.say(GRACE, "My first answer")
    ts = first["event"]["ts"]
    await refused(tr.EDITED, world.deliver(ev.message_changed(
        GRACE, channel=dm, ts=ts, old_text="My first answer", new_text="A better answer")))
    await refused(with_commands(tr.DELETED, tr.PLATFORM), world.deliver(ev.message_deleted(
        GRACE, channel=dm, ts=ts, old_text="My first answer")))
    answer = world.interview().answer_for("built")
    assert answer is not None and answer.takes[0].text == "My first answer"

    # Stale and foreign buttons.
    receipt = world.fake.messages(dm)[-3]
    assert receipt.text.startswith("Got your written answer")
    old = dict(receipt.as_slack(), blocks=receipt.blocks)
    await world.press(dm, "Submit", GRACE)
    for label, user, reply in [("Submit", GRACE, texts.STALE_BUTTON),
                               ("Start over", GRACE, texts.STALE_BUTTON),
                               ("Submit", EVE, texts.NOT_YOUR_BUTTON)]:
        # Eve replays Grace's button in her own DM with the app
        before = world.snapshot()
        await world.interact(ev.press(old, label, user, channel=world.dm(user)))
        assert world.whispers(user)[-1] == reply and world.snapshot() == before
    before = world.snapshot()
    await world.interact(ev.block_actions(GRACE, action_id="ib-0", value="kp:deadbeef00000000:x",
                                          channel=dm, message_ts=receipt.ts,
                                          message=receipt.as_slack()))
    assert world.whispers(GRACE)[-1] == texts.STALE_BUTTON and world.snapshot() == before

    # Question 2 takes voice only; Question 3 text only. It came in the receipt's edit.
    carried = world.fake.message(dm, receipt.ts).text
    assert carried.startswith("Submitted your answer to Question 1 of 3")
    assert "\n\nQuestion 2 of 3 · A voice note" in carried
    await refused("This question needs a voice note, not text. Please record your answer "
                  "(hold the microphone button).", world.say(GRACE, "Can I type this one?"))
    await world.share(GRACE, M4A)
    await world.press(dm, "Submit", GRACE)
    await refused("This question needs a written answer. Please type it as text.",
                  world.share(GRACE, WEBM))


def tr_reason(name: str):  # type: ignore[no-untyped-def]
    from core.audio import RejectReason

    return RejectReason[name]


async def test_messenger_refuses_login_page_big_files_and_foreign_hosts(tmp_path: Path) -> None:
    async with FakeSlack(bot_token=TOKEN) as fake:
        fake.user(GRACE, "Grace", GRACE_TZ)
        data = (AUDIO / "voice.m4a").read_bytes()
        file = fake.add_file(GRACE, data, "voice.m4a", "audio/mp4", subtype="slack_audio")
        media = tr.media_ref(file)
        assert media is not None and media.url
        good = SlackMessenger(make_client(TOKEN, fake.api_url))
        wrong = SlackMessenger(make_client("xoxb-revoked", fake.api_url))
        try:
            assert await good.download(media, 10_000_000) == data
            with pytest.raises(DownloadFailed, match="login page"):
                await wrong.download(media, 10_000_000)
            with pytest.raises(MediaTooLarge):
                await good.download(media, 1000)
            unsized = replace(media, size=None)
            with pytest.raises(MediaTooLarge):
                await good.download(unsized, 1000)
            foreign = replace(media, url="https://evil.example/f.m4a")
            with pytest.raises(DownloadFailed, match="refusing"):
                await good.download(foreign, 10_000_000)
        finally:
            await good.close()
            await wrong.close()
        assert [d.authorized for d in fake.downloads] == [True, False, True]


# -- transport: signatures, retries, rate limits ---------------------------------------------
async def test_bad_signature_and_stale_requests_are_rejected(world: SlackWorld) -> None:
    await world.start()
    before, calls = world.snapshot(), len(world.fake.calls)
    envelope = ev.message(GRACE, "an answer nobody signed", channel=world.dm(GRACE))
    assert (await world.deliver(envelope, bad_signature=True)).status == 401
    assert (await world.deliver(envelope, age=301)).status == 401
    assert (await world.deliver(envelope, unsigned=True)).status == 401
    command = ev.slash_command(GRACE, "withdraw", channel=world.dm(GRACE))
    assert (await world.sender.command(command, age=600)).status == 401
    assert world.snapshot() == before and len(world.fake.calls) == calls
    challenge = await world.deliver(ev.url_verification("c-123"))
    assert (challenge.status, challenge.json()) == (200, {"challenge": "c-123"})
    assert (await world.deliver(envelope, age=299)).status == 200
    assert world.interview().answer_for("built") is not None


async def test_retried_event_is_recorded_once(world: SlackWorld) -> None:
    await world.start()
    dm = world.dm(GRACE)
    envelope = ev.message(GRACE, "Answer sent once, delivered four times", channel=dm)
    first, retry = await asyncio.gather(world.sender.event(envelope),
                                        world.sender.event(envelope, retry_num=1))
    await world.channel.idle()
    assert (first.status, retry.status) == (200, 200)
    again = await world.deliver(envelope, retry_num=2)
    assert again.status == 200
    world.channel._done.clear()  # as after a restart: only the database remembers
    await world.deliver(envelope, retry_num=3)
    answer = world.interview().answer_for("built")
    assert answer is not None and len(answer.takes) == 1
    assert sum(t.startswith("Got your written answer") for t in world.texts(dm)) == 1


async def test_ack_comes_before_the_work_and_a_retry_meanwhile_is_skipped(
        world: SlackWorld, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "interviewbot.slack")
    await world.start()
    dm = world.dm(GRACE)
    envelope = ev.message(GRACE, "Slow to handle, quick to acknowledge", channel=dm)
    lock = world.app.engine._locks[f"user:slack:{GRACE}"]
    async with lock:  # the engine is busy with Grace: handling must wait, the ack must not
        first = await world.sender.event(envelope)
        retry = await world.sender.event(envelope, retry_num=1)
        assert (first.status, retry.status) == (200, 200)
        assert world.channel._tasks and world.interview().answer_for("built") is None
    await world.channel.idle()
    assert "skipping Slack retry 1 of event" in caplog.text
    answer = world.interview().answer_for("built")
    assert answer is not None and len(answer.takes) == 1


async def test_clip_whose_transcript_finishes_meanwhile_is_taken(world: SlackWorld) -> None:
    await world.start()
    dm = world.dm(GRACE)
    data = (AUDIO / "clip.webm").read_bytes()
    file = world.fake.add_file(GRACE, data, "audio_message.webm", "audio/webm",
                               subtype="slack_audio", duration_ms=6000,
                               transcription={"status": "processing"})
    async with world.channel._chat_locks[dm]:  # Slack finishes before we look again
        await world.sender.event(ev.file_share(GRACE, [file], channel=dm))
        world.fake.set_transcription(file["id"], {
            "status": "complete", "preview": {"content": "Race conditions.", "has_more": False}})
    await world.channel.idle()
    assert world.last(dm).startswith("Got your voice answer")
    answer = world.interview().answer_for("built")
    assert answer is not None and answer.takes[0].transcript == "Race conditions."


async def test_rate_limited_post_is_retried_and_delivered(world: SlackWorld) -> None:
    await world.start()
    # Retry-After: 1, as Slack sends (never 0): an instant retry would break the channel's pace
    world.fake.fail_next("chat.postMessage", retry_after=1)
    await world.say(GRACE, "An answer whose receipt hits a 429")
    failed = [c for c in world.fake.calls if c.method == "chat.postMessage" and not c.ok]
    assert [(c.status, c.error) for c in failed] == [(429, "ratelimited")]
    assert world.last(world.dm(GRACE)).startswith("Got your written answer")


def retries_counted(world: SlackWorld) -> float:
    """`interviewbot_deliveries_retried_total{platform="slack"}` in the app's own registry."""
    metrics = world.app.services.observer
    assert isinstance(metrics, Metrics)  # installed by `serve`, as in production
    value = metrics.registry.get_sample_value("interviewbot_deliveries_retried_total",
                                              {"platform": "slack"})
    return value or 0.0


async def test_every_rate_limited_retry_is_counted(world: SlackWorld) -> None:
    await world.start()
    dm = world.dm(GRACE)
    before = retries_counted(world)
    world.fake.fail_next("chat.postMessage", retry_after=1, times=2)  # as Slack sends it
    await world.say(GRACE, "An answer whose receipt hits two 429s")
    failed = [c for c in world.fake.calls if c.method == "chat.postMessage" and not c.ok]
    assert [(c.status, c.error) for c in failed] == [(429, "ratelimited")] * 2
    assert retries_counted(world) - before == 2
    receipts = [t for t in world.texts(dm) if t.startswith("Got your written answer")]
    assert len(receipts) == 1


async def test_server_error_retries_are_counted_too() -> None:
    class Recording(NullObserver):
        def __init__(self) -> None:
            self.retried: list[str] = []

        def delivery_retried(self, platform: str) -> None:
            self.retried.append(platform)

    async with FakeSlack(bot_token=TOKEN) as fake:
        fake.channel(REVIEW, "reviews", is_private=True)
        observer = Recording()
        messenger = SlackMessenger(make_client(TOKEN, fake.api_url, observer))
        await messenger.open()
        try:
            fake.fail_next("chat.postMessage", "internal_error", status=500)
            await messenger.send(ChatRef("slack", REVIEW), OutMessage("after a 500"))
        finally:
            await messenger.close()
        assert observer.retried == ["slack"]
        assert [m.text for m in fake.messages(REVIEW)] == ["after a 500"]


async def test_posts_are_paced_per_channel() -> None:
    async with FakeSlack(bot_token=TOKEN) as fake:
        fake.channel(REVIEW, "reviews", is_private=True)
        fake.channel("COTHER", "other")
        messenger = SlackMessenger(make_client(TOKEN, fake.api_url), rate=20.0, burst=2)
        await messenger.open()
        loop = asyncio.get_running_loop()
        try:
            start = loop.time()
            await asyncio.gather(*(messenger.send(ChatRef("slack", REVIEW), OutMessage(f"m{n}"))
                                   for n in range(6)))
            paced = loop.time() - start
        finally:
            await messenger.close()
        # a burst of 2, then 20 a second: the 6th post cannot leave before 4/20 s
        assert paced >= 4 / 20 * 0.95
        assert sorted(m.text for m in fake.messages(REVIEW)) == [f"m{n}" for n in range(6)]


# -- reviewers' follow-ups and replies ---------------------------------------------------------
async def test_a_modal_that_cannot_open_in_time_asks_to_press_again(world: SlackWorld) -> None:
    await world.complete()
    q1 = next(c for c in world.fake.messages(REVIEW) if "Question 1 of 3" in c.text
              and not c.files)
    before = world.snapshot()
    world.fake.fail_next("views.open", "expired_trigger_id")  # the trigger lives 3 s
    await world.press(REVIEW, "Ask a follow-up", REV2, message=q1)
    assert world.whispers(REV2)[-1] == "That took too long; please press the button again."
    assert not world.fake.modals(REV2) and world.snapshot() == before
    await world.press(REVIEW, "Ask a follow-up", REV2, message=q1)
    (modal,) = world.fake.modals(REV2)
    assert "Follow-up for Candidate #1 on Question 1 of 3" in modal.all_text


async def test_follow_up_modal_round_trip(world: SlackWorld) -> None:
    await world.complete()
    dm = world.dm(GRACE)
    q1 = next(c for c in world.fake.messages(REVIEW) if "Question 1 of 3" in c.text
              and not c.files)
    # Someone outside the review list gets no modal.
    before = world.snapshot()
    await world.press(REVIEW, "Ask a follow-up", GRACE, message=q1)
    assert world.whispers(GRACE)[-1] == texts.NOT_A_REVIEWER and not world.fake.modals()
    # A reviewer opens the modal, writes, submits.
    await world.press(REVIEW, "Ask a follow-up", REV2, message=q1)
    (modal,) = world.fake.modals(REV2)
    assert "Follow-up for Candidate #1 on Question 1 of 3" in modal.all_text
    assert world.snapshot() == before
    empty = await world.interact(ev.view_submission(REV2, modal.as_slack(),
                                                    {"ib-text-input": " "}))
    assert empty.json()["response_action"] == "errors"
    sent = await world.interact(ev.view_submission(
        REV2, modal.as_slack(), {"ib-text-input": "How did you test the billing service?"}))
    assert (sent.status, sent.body) == (200, "")
    assert "How did you test the billing service?" in world.last(dm)
    assert "Your follow-up was sent to the candidate" in world.last(REVIEW)
    # The candidate answers in the DM; the answer reaches the review channel.
    await world.say(GRACE, "With replayed production traffic.")
    assert world.last(dm) == "Thanks, your reply is on its way to the team."
    assert world.last(REVIEW) == ("Candidate #1 answered the follow-up on Question 1 of 3:\n"
                                  "Q: How did you test the billing service?\n"
                                  "A: With replayed production traffic.")
    (follow_up,) = world.interview().follow_ups
    assert follow_up.reply is not None and str(follow_up.asked_by) == f"slack:{REV2}"
    assert_scopes_cover(world.fake)


async def test_reply_to_a_candidate_question(world: SlackWorld) -> None:
    await world.complete()
    await world.say(GRACE, "Is the role remote?")
    await world.press(REVIEW, "Reply", REV1)
    (modal,) = world.fake.modals(REV1)
    assert 'Reply to Candidate #1\'s question: "Is the role remote?"' in modal.all_text
    await world.interact(ev.view_submission(REV1, modal.as_slack(),
                                            {"ib-text-input": "Yes, within Europe."}))
    assert world.last(world.dm(GRACE)) == ('The team replied to your question "Is the role '
                                           'remote?":\n\nYes, within Europe.')
    (question,) = world.interview().candidate_questions
    assert question.reply == "Yes, within Europe."


# -- /interview and App Home --------------------------------------------------------------------
async def test_slash_command_and_app_home(world: SlackWorld) -> None:
    await world.start()
    dm = world.dm(GRACE)
    help_reply = await world.command(GRACE, "")
    assert "`/interview status`" in help_reply.body
    status = await world.command(GRACE, "status")
    assert status.status == 200
    assert world.last(dm).startswith("0 of 3 questions answered, 3 left. Due ")
    elsewhere = await world.command(GRACE, "withdraw", channel="C0GENERAL")
    assert "direct messages" in elsewhere.body
    assert world.last(dm).startswith("Withdraw from this interview?")
    await world.press(dm, "Cancel", GRACE)
    assert world.interview().state is State.CONSENTED

    await world.deliver(ev.app_home_opened(GRACE, channel=dm))
    home = world.fake.home(GRACE)
    assert home is not None
    assert "Platform Engineer (referral)" in home.all_text
    assert "0 of 3 questions answered" in home.all_text

    await world.command(GRACE, "delete")
    await world.press(dm, "Yes, erase everything", GRACE)
    erased = world.interview()
    assert (erased.state, erased.candidate_name, erased.answers) == (State.ERASED, "", [])
    assert_scopes_cover(world.fake)


def test_manifest_declares_what_the_app_uses() -> None:
    data = manifest()
    assert set(data["oauth_config"]["scopes"]["bot"]) == {
        scope for scope in METHOD_SCOPES.values() if scope} | {"commands", "im:history"}
    assert set(data["settings"]["event_subscriptions"]["bot_events"]) == {
        "message.im", "app_home_opened"}
    assert [c["command"] for c in data["features"]["slash_commands"]] == ["/interview"]
    assert data["settings"]["interactivity"]["is_enabled"] is True
    assert data["settings"]["socket_mode_enabled"] is True
    assert data["features"]["app_home"]["home_tab_enabled"] is True
    assert data["features"]["app_home"]["messages_tab_read_only_enabled"] is False


async def test_app_home_shows_reviewers_what_waits_for_them(world: SlackWorld) -> None:
    await world.complete()
    world.fake.channel(REVIEW, "hiring-reviews", is_private=True, members=[REV1, REV2])
    await world.press(REVIEW, "depth 1", REV1)
    await world.deliver(ev.app_home_opened(REV1, channel=world.dm(REV1)))
    home = world.fake.home(REV1)
    assert home is not None and "Waiting for your review" in home.all_text
    assert "Candidate #1 · Platform Engineer (referral)" in home.all_text
    assert "You have rated 1 of 3 answers." in home.all_text
    # a member of the private review channel sees it before rating anything
    await world.deliver(ev.app_home_opened(REV2, channel=world.dm(REV2)))
    member = world.fake.home(REV2)
    assert member is not None and "You have rated 0 of 3 answers." in member.all_text
    # someone outside the review channel, and the candidate, see none of it
    for outsider in (EVE, GRACE):
        await world.deliver(ev.app_home_opened(outsider, channel=world.dm(outsider)))
        other = world.fake.home(outsider)
        assert other is not None and "Waiting for your review" not in other.all_text
    assert "Grace" not in home.all_text


def test_socket_mode_needs_no_route_and_http_mode_needs_a_signing_secret(tmp_path: Path) -> None:
    from aiohttp import web

    from bots.settings import Settings
    from bots.slack.channel import SlackChannel

    base: dict[str, Any] = {
        "SLACK_BOT_TOKEN": TOKEN, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    socket = Settings(_env_file=None, SLACK_APP_TOKEN="xapp-1-test",
                      SLACK_SIGNING_SECRET=None, **base)
    channel = SlackChannel(socket, engine=None)  # type: ignore[arg-type]
    app = web.Application()
    assert channel.add_routes(app) is False and not list(app.router.routes())
    with pytest.raises(ValueError, match="SLACK_SIGNING_SECRET"):
        SlackChannel(Settings(_env_file=None, SLACK_APP_TOKEN=None,
                              SLACK_SIGNING_SECRET=None, **base), engine=None)  # type: ignore[arg-type]
