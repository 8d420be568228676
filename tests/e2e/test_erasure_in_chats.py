"""Erasure reaches the review chats: `/delete` and retention purge delete (or, where the
platform refuses, blank) every message and file posted about the interview, on Telegram and
Slack at once, with the real python-telegram-bot and slack_sdk stacks against the fakes.

The interview has voice cards, a reel, a text answer long enough to split its Telegram card
in two, a candidate question to the team and a follow-up reply.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bots.app import App, build, make_channels, serve
from bots.settings import Settings
from bots.slack.channel import SlackChannel
from bots.telegram.channel import TelegramChannel
from core.commands import CreateInvitation
from core.review_posting import ERASED_TEXT
from core.states import State
from fakes.slack import FakeSlack
from fakes.telegram import FakeTelegram, FakeUser
from tests.e2e.slack_support import _wait_until_up
from tests.e2e.telegram_support import FAST, audio, free_port, migrated_database

TOKEN = "xoxb-erase"
GROUP, CHANNEL = -100300, "CREVIEW"
LONG = "LONGANSWER " + "word " * 790  # ~4000 characters: its Telegram card splits in two
QUESTION = "SECRETQUESTION how big is the team?"
REPLY = "SECRETREPLY we used fakes over HTTP"
SCRIPT = f"""\
id: erase
title: Platform Engineer
intro: "Hi {{name}}! {{questions}} questions. Due {{deadline}}."
consent: "We keep your answers for 90 days. OK?"
deadline: 7d
answer: {{kinds: [voice, text], max_seconds: 60, retakes: 0}}
questions:
  - id: one
    text: "Tell us about a system you built."
    answer: {{kinds: [voice]}}
  - id: two
    text: "Tell us about an outage."
    answer: {{kinds: [voice]}}
  - id: three
    text: "Write down how you would design a queue."
    answer: {{kinds: [text]}}
rubric:
  depth: "Technical depth"
  scale: [1, 2, 3]
review: {{reviewers: ["telegram:{GROUP}", "slack:{CHANNEL}"], blind: true}}
"""


@pytest.fixture(autouse=True)
def fast_telegram(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TelegramChannel, "default_pacing", FAST)


@dataclass
class Both:
    tg: FakeTelegram
    slack: FakeSlack
    app: App
    clock_offset: list[float]


@pytest.fixture
async def both(tmp_path: Path) -> AsyncIterator[Both]:
    offset = [0.0]
    async with FakeTelegram(wall_clock=lambda: time.time() + offset[0]) as tg, \
            FakeSlack(bot_token=TOKEN) as slack:
        tg.group(GROUP, "Platform reviews")
        slack.channel(CHANNEL, "platform-reviews", is_private=True)
        database = tmp_path / "ib.db"
        migrated_database(database)
        (tmp_path / "scripts").mkdir()
        (tmp_path / "scripts" / "erase.yaml").write_text(SCRIPT)
        port = free_port()
        values: dict[str, Any] = {
            "DATABASE_URL": f"sqlite:///{database}", "INTERVIEWBOT_DATA_DIR": str(tmp_path / "d"),
            "INTERVIEWBOT_SCRIPTS": str(tmp_path / "scripts"), "INTERVIEWBOT_HTTP_PORT": port,
            "TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_URL": f"{tg.url}/bot",
            "TELEGRAM_FILE_URL": f"{tg.url}/file/bot", "TELEGRAM_WEBHOOK_URL": None,
            "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": "s", "SLACK_APP_TOKEN": None,
            "SLACK_API_URL": slack.api_url,
        }
        app = build(Settings(_env_file=None, **values))
        channels = make_channels(app.settings, app)
        slack_channel = next(c for c in channels if isinstance(c, SlackChannel))
        slack_channel.slack.rate, slack_channel.slack.burst = 1000.0, 1000
        stop = asyncio.Event()
        server = asyncio.create_task(serve(app, channels, stop))
        try:
            await _wait_until_up(f"http://127.0.0.1:{port}", server)
            telegram = next(c for c in channels if isinstance(c, TelegramChannel))
            await asyncio.wait_for(telegram.ready.wait(), 30)
            yield Both(tg, slack, app, offset)
        finally:
            stop.set()
            await server


async def press(tg: FakeTelegram, user: FakeUser, message: Any, label: str) -> str | None:
    update = tg.press_button(user, message, label=label)
    query_id = update["callback_query"]["id"]
    answer = await tg.wait_for(lambda: next(
        (a for a in tg.callback_answers if a.callback_query_id == query_id), None), timeout=30)
    return answer.text


async def complete_interview(b: Both) -> tuple[str, FakeUser]:
    tg, slack = b.tg, b.slack
    ada, rita = tg.user(7001, "Ada"), tg.user(7002, "Rita")
    interview, token = b.app.engine.invite(CreateInvitation("erase", "Ada Lovelace", "telegram",
                                                            "Europe/London"))
    tg.send_command(ada, "/start", token)
    consent = await tg.wait_for_message(ada.id, "90 days", timeout=30)
    await press(tg, ada, consent, "I agree")
    for number in (1, 2):
        await tg.wait_for_message(ada.id, f"Question {number} of 3", timeout=30, include_edits=True)
        tg.send_voice(ada, audio("voice.ogg"), duration=6)
        receipt = await tg.wait_for_message(ada.id, f"to Question {number} of 3", timeout=30)
        await press(tg, ada, receipt, "Submit")
    await tg.wait_for_message(ada.id, "Question 3 of 3", timeout=30, include_edits=True)
    tg.send_text(ada, LONG)
    receipt = await tg.wait_for_message(ada.id, "Got your written answer", timeout=30)
    await press(tg, ada, receipt, "Submit")
    await tg.wait_for_message(ada.id, "That was the last question", timeout=30)
    tg.send_text(ada, QUESTION)
    await tg.wait_for_message(ada.id, "Noted", timeout=30)
    # cards (summary, 3 answers, reel) and the question reach both review chats
    await tg.wait_for(lambda: any("asks the team" in (m.text or "")
                                  for m in tg.messages(GROUP)), timeout=60)
    await slack.wait_for(lambda: any("asks the team" in m.all_text
                                     for m in slack.messages(CHANNEL)), timeout=60)
    await tg.wait_for(lambda: any("every voice answer" in (m.text or "")
                                  for m in tg.messages(GROUP)), timeout=60)
    await slack.wait_for(lambda: len(slack.uploads_in(CHANNEL)) == 3, timeout=60)
    # a follow-up from the Telegram group, answered by the candidate
    card = next(m for m in tg.messages(GROUP) if m.method == "sendMessage"
                and "Ask a follow-up" in m.button_labels)  # the text answer's card
    assert await press(tg, rita, card, "Ask a follow-up") == "Write your follow-up question."
    prompt = await tg.wait_for_message(GROUP, "reply with your question", timeout=30)
    tg.send_text(rita, "How long did it last?", chat=tg._groups[GROUP], reply_to=prompt)
    await tg.wait_for_message(ada.id, "How long did it last?", timeout=30)
    tg.send_text(ada, REPLY)
    await tg.wait_for(lambda: any(REPLY in (m.text or "") for m in tg.messages(GROUP)),
                      timeout=30)
    await slack.wait_for(lambda: any(REPLY in m.all_text for m in slack.messages(CHANNEL)),
                         timeout=30)
    (head,) = [m for m in tg.messages(GROUP) if "LONGANSWER" in (m.text or "")]
    assert not head.buttons and card.message_id > head.message_id, "split: keys on the tail"
    return interview.id, ada


def telegram_left(tg: FakeTelegram) -> list[Any]:
    return tg.messages(GROUP)


def slack_left(slack: FakeSlack) -> list[Any]:
    return slack.messages(CHANNEL)


async def outbox_drained(app: App) -> None:
    async def empty() -> bool:
        with app.services.uow() as uow:
            return not uow.outbox.due(app.services.clock.now() + timedelta(days=1), 1)

    deadline = time.monotonic() + 60
    while not await empty():
        assert time.monotonic() < deadline, "outbox not drained"
        await asyncio.sleep(0.05)


def assert_nothing_of_hers(b: Both, *, refused_on_telegram: bool = False) -> None:
    secrets = ("LONGANSWER", "word word", "SECRETQUESTION", "SECRETREPLY", "every voice answer",
               "Tell us about", "Candidate #1")
    for m in telegram_left(b.tg):
        if refused_on_telegram:  # only the "erased" edit may stay, with no buttons
            assert (m.text or "") == ERASED_TEXT and not m.buttons, m.payload
        else:
            raise AssertionError(f"left in the Telegram group: {m.payload}")
    for m in slack_left(b.slack):
        raise AssertionError(f"left in Slack: {m.all_text}")
    assert not [u for u in b.slack.uploads_in(CHANNEL) if not u.deleted]
    assert all(u.data is None for u in b.slack.uploads_in(CHANNEL))
    text = repr([m.payload for m in telegram_left(b.tg)])
    for secret in secrets:
        assert secret not in text


async def test_delete_removes_every_post_on_telegram_and_slack(both: Both) -> None:
    interview_id, ada = await complete_interview(both)
    both.tg.send_command(ada, "/delete")
    confirm = await both.tg.wait_for_message(ada.id, "Erase your answers", timeout=30)
    assert await press(both.tg, ada, confirm, "Yes, erase everything") == "Erased."
    await both.tg.wait_for(lambda: not telegram_left(both.tg) or None, timeout=60)
    await both.slack.wait_for(lambda: not slack_left(both.slack) or None, timeout=60)
    await outbox_drained(both.app)
    assert_nothing_of_hers(both)
    with both.app.services.uow() as uow:
        erased = uow.interviews.get(interview_id)
        assert erased is not None and erased.state is State.ERASED and erased.tz == "UTC"
        assert uow.reviews.posts(interview_id) == []
        assert [(a.actor, a.action) for a in uow.reviews.audit_log(interview_id)][-1] == (
            "candidate", "erased")


async def test_delete_goes_through_when_the_review_chats_fail_at_first(both: Both) -> None:
    """The destinations fail the first deletions (the Telegram group answers 502 twice, Slack
    refuses a chat.delete and a files.delete): the erasure is retried, alone, until nothing
    of hers is left, and nothing is given up."""
    interview_id, ada = await complete_interview(both)
    both.tg.fail_chat(GROUP, 502, times=2)
    both.slack.fail_next("chat.delete", "internal_error", status=500)
    both.slack.fail_next("files.delete", "internal_error", status=500)
    both.tg.send_command(ada, "/delete")
    confirm = await both.tg.wait_for_message(ada.id, "Erase your answers", timeout=30)
    assert await press(both.tg, ada, confirm, "Yes, erase everything") == "Erased."
    await both.tg.wait_for(lambda: not telegram_left(both.tg) or None, timeout=90)
    await both.slack.wait_for(lambda: not slack_left(both.slack) or None, timeout=90)
    await outbox_drained(both.app)
    assert_nothing_of_hers(both)
    # the faults were met, not skipped
    assert [c for c in both.tg.calls_to("deleteMessage") if c.status == 502]
    assert both.slack.calls_to("chat.delete", ok=False)
    assert both.slack.calls_to("files.delete", ok=False)
    with both.app.services.uow() as uow:
        assert uow.reviews.posts(interview_id) == []


async def test_purge_after_48_hours_deletes_on_slack_and_blanks_on_telegram(both: Both) -> None:
    """Telegram refuses to delete messages older than 48 hours unless the bot is a group
    admin with delete rights: those are edited to say the answer was erased, buttons gone.
    A voice note cannot be edited into something else: its caption is blanked, and the
    recording stays until an admin (or the bot, once made one) deletes it."""
    interview_id, _ = await complete_interview(both)
    both.clock_offset[0] = 49 * 3600
    assert await both.app.engine.purge(timedelta(0)) == 1
    await outbox_drained(both.app)
    await both.slack.wait_for(lambda: not slack_left(both.slack) or None, timeout=60)
    for m in telegram_left(both.tg):
        assert (m.text or "") == ERASED_TEXT and not m.buttons, m.payload
    voices = [m for m in telegram_left(both.tg) if m.media_kind == "voice"]
    assert len(voices) == 3  # two answers and the reel: Telegram keeps the audio
    assert_nothing_of_hers(both, refused_on_telegram=True)
    with both.app.services.uow() as uow:
        assert [(a.actor, a.action) for a in uow.reviews.audit_log(interview_id)][-1] == (
            "retention", "erased")


async def test_purge_with_delete_rights_removes_old_messages_too(both: Both) -> None:
    await complete_interview(both)
    both.clock_offset[0] = 49 * 3600
    both.tg.grant_delete_rights(GROUP)
    assert await both.app.engine.purge(timedelta(0)) == 1
    await outbox_drained(both.app)
    await both.tg.wait_for(lambda: not telegram_left(both.tg) or None, timeout=60)
    await both.slack.wait_for(lambda: not slack_left(both.slack) or None, timeout=60)
    assert_nothing_of_hers(both)


async def test_run_warns_about_review_groups_where_the_bot_cannot_delete(
        both: Both, caplog: pytest.LogCaptureFixture) -> None:
    from bots.telegram.rights import warn_without_delete_rights

    assert await warn_without_delete_rights(both.app) == [f"telegram:{GROUP}"]
    assert any("not an admin allowed to delete" in r.getMessage() for r in caplog.records)
    both.tg.grant_delete_rights(GROUP)
    assert await warn_without_delete_rights(both.app) == []
