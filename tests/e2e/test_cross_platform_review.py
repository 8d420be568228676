"""One flow across platforms: a candidate answers on Telegram, reviewers rate in Slack.

Both real stacks run in one process (`build` + `make_channels` + `serve`), python-telegram-bot
against the fake Bot API and Bolt in HTTP mode against the fake Web API, with signed
`block_actions` from the reviewers. `interviewbot results` then shows the expected means.
"""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bots.app import build, make_channels, serve
from bots.settings import Settings
from bots.slack.channel import SlackChannel
from bots.telegram.channel import TelegramChannel
from core.commands import CreateInvitation
from fakes import slack as ev
from fakes.slack import FakeSlack, SlackSender
from fakes.telegram import FakeTelegram
from tests.e2e.slack_support import _wait_until_up
from tests.e2e.telegram_support import FAST, audio, free_port, migrated_database
from tests.support.console import run_cli

SECRET = "cross-signing-secret"
TOKEN = "xoxb-cross"
REVIEW = "CREVIEW"
R1, R2, OUTSIDER = "U0REV1", "U0REV2", "U0OUT"
SCRIPT = """\
id: cross
title: Support Engineer
intro: "Hi {name}! {questions} questions. Due {deadline}."
consent: "We keep your answers for 90 days. OK?"
deadline: 7d
answer: {kinds: [voice, text], max_seconds: 60, retakes: 1}
questions:
  - id: story
    text: "Tell us about a customer you helped."
    answer: {kinds: [voice]}
    rubric: [empathy, clarity]
  - id: written
    text: "How do you prioritise a queue of tickets?"
    answer: {kinds: [text]}
    rubric: [clarity]
rubric:
  empathy: "Understands the customer"
  clarity: "Clear and structured"
  scale: [1, 2, 3, 4, 5]
review: {reviewers: ["slack:CREVIEW"], blind: true, independent: true}
"""


@pytest.fixture(autouse=True)
def fast_telegram(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TelegramChannel, "default_pacing", FAST)


def settings_for(tmp: Path, tg: FakeTelegram, slack: FakeSlack, port: int) -> Settings:
    database = tmp / "ib.db"
    migrated_database(database)
    scripts = tmp / "scripts"
    scripts.mkdir()
    (scripts / "cross.yaml").write_text(SCRIPT)
    values: dict[str, Any] = {
        "DATABASE_URL": f"sqlite:///{database}", "INTERVIEWBOT_DATA_DIR": str(tmp / "data"),
        "INTERVIEWBOT_SCRIPTS": str(scripts), "INTERVIEWBOT_HTTP_PORT": port,
        "TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_URL": f"{tg.url}/bot",
        "TELEGRAM_FILE_URL": f"{tg.url}/file/bot", "TELEGRAM_WEBHOOK_URL": None,
        "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": SECRET, "SLACK_APP_TOKEN": None,
        "SLACK_API_URL": slack.api_url,
    }
    return Settings(_env_file=None, **values)


async def test_telegram_candidate_slack_reviewers_results(tmp_path: Path) -> None:
    async with FakeTelegram() as tg, FakeSlack(bot_token=TOKEN) as slack:
        for user in (R1, R2, OUTSIDER):
            slack.user(user, user.lower())
        slack.channel(REVIEW, "support-reviews", is_private=True)
        port = free_port()
        settings = settings_for(tmp_path, tg, slack, port)
        app = build(settings)
        channels = make_channels(settings, app)
        slack_channel = next(c for c in channels if isinstance(c, SlackChannel))
        slack_channel.slack.rate, slack_channel.slack.burst = 1000.0, 1000
        stop = asyncio.Event()
        server = asyncio.create_task(serve(app, channels, stop))
        try:
            base = f"http://127.0.0.1:{port}"
            await _wait_until_up(base, server)
            telegram_channel = next(c for c in channels if isinstance(c, TelegramChannel))
            await asyncio.wait_for(telegram_channel.ready.wait(), 30)
            async with aiohttp.ClientSession() as http, http.get(base + "/healthz") as health:
                assert health.status == 200
                assert await health.json() == {
                    "database": "ok", "channels": {"telegram": True, "slack": True},
                    "scheduler": "leader"}
            async with SlackSender(base, SECRET) as sender:
                await run_interview(app, tg, slack, slack_channel, sender)
            async with aiohttp.ClientSession() as http, http.get(base + "/metrics") as metrics:
                exposition = await metrics.text()
            assert 'interviewbot_answers_received_total{kind="voice",platform="telegram"} 1.0' \
                in exposition
            assert 'interviewbot_interviews{script="cross",state="completed"} 1.0' in exposition
        finally:
            stop.set()
            await server
    result = run_cli(tmp_path, "results", "cross", "--format", "csv",
                     DATABASE_URL=settings.database_url,
                     INTERVIEWBOT_SCRIPTS=str(tmp_path / "scripts"))
    assert result.returncode == 0, result.stderr
    (row,) = list(csv.DictReader(io.StringIO(result.stdout)))
    assert row["candidate"] == "Candidate #1" and row["reviewers"] == "2"
    assert row["story.empathy.mean"] == "4.5" and row["story.empathy.n"] == "2"
    assert row["story.clarity.mean"] == "3" and row["written.clarity.mean"] == "4"
    assert row["decision"] == "advance" and row["overall"] == "3.83"


async def run_interview(app: Any, tg: FakeTelegram, slack: FakeSlack, channel: SlackChannel,
                        sender: SlackSender) -> None:
    ada = tg.user(7001, "Ada", last_name="Lovelace", username="ada_l")
    _, token = app.engine.invite(CreateInvitation("cross", "Ada Lovelace", "telegram",
                                                  "Europe/London"))
    tg.send_command(ada, "/start", token)

    async def press(label: str, contains: str) -> None:
        message = await tg.wait_for_message(ada.id, contains, timeout=20)
        update = tg.press_button(ada, message, label=label)
        query_id = update["callback_query"]["id"]
        await tg.wait_for(lambda: any(a.callback_query_id == query_id
                                      for a in tg.callback_answers), timeout=20)

    await press("I agree", "90 days")
    await tg.wait_for_message(ada.id, "Question 1 of 2", timeout=20)
    tg.send_voice(ada, audio("voice.ogg"), duration=6)
    await press("Submit", "Got your voice answer")
    await tg.wait_for_message(ada.id, "Question 2 of 2", timeout=20, include_edits=True)
    tg.send_text(ada, "Urgency first, then impact, then age; I re-check the queue hourly.")
    await press("Submit", "Got your written answer")
    await tg.wait_for_message(ada.id, "That was the last question", timeout=20)

    # the review cards reach Slack, blind: nothing of Ada's identity in any payload
    await slack.wait_for(lambda: len([m for m in slack.messages(REVIEW)
                                      if "Candidate #1 ·" in m.all_text]) == 2, timeout=30)
    everything = repr([c.params for c in slack.calls]) + repr(slack.uploads)
    for leak in ("Ada", "Lovelace", "ada_l", "7001"):
        assert leak not in everything
    assert slack.uploads_in(REVIEW), "the voice answer is uploaded for reviewers"

    async def rate(user: str, question: str, criterion: str, score: int,
                   where: str = REVIEW) -> None:
        card = next(m for m in slack.messages(REVIEW) if question in m.all_text)
        row = next(b for b in card.blocks if b.get("type") == "actions"
                   and b["elements"][0]["text"]["text"] == f"{criterion} 1")
        button = row["elements"][score - 1]
        payload = ev.block_actions(user, action_id=button["action_id"], value=button["value"],
                                   block_id=row["block_id"], channel=where,
                                   message=card.as_slack(), trigger_id=slack.issue_trigger(user))
        reply = await sender.interaction(payload)
        assert reply.status == 200
        await channel.idle()

    # a press replayed from a channel that is not a review channel is refused, recording nothing
    slack.channel("COTHER", "random")
    await rate(OUTSIDER, "a customer you helped", "empathy", 1, where="COTHER")
    assert "Only the reviewers" in slack.ephemerals(user=OUTSIDER)[-1].text
    with app.services.uow() as uow:
        (interview,) = uow.interviews.for_script("cross")
        assert uow.reviews.ratings(interview.id) == []
    # two reviewers rate independently
    await rate(R1, "a customer you helped", "empathy", 4)
    await rate(R1, "a customer you helped", "clarity", 3)
    await rate(R1, "prioritise a queue", "clarity", 4)
    assert "You are the first." in slack.ephemerals(user=R1)[-1].text
    await rate(R2, "a customer you helped", "empathy", 5)
    # independent: until R2 rated every criterion of the answer, nothing of R1's is shown
    assert slack.ephemerals(user=R2)[-1].text.endswith("Still to rate: clarity.")
    shared = next(m for m in slack.messages(REVIEW) if "a customer you helped" in m.all_text)
    assert "4" not in shared.all_text.split("Scores stay hidden")[0].split("A:")[-1]
    await rate(R2, "a customer you helped", "clarity", 3)
    assert slack.ephemerals(user=R2)[-1].text.endswith(
        "Others so far: empathy 4.0 (1), clarity 3.0 (1).")
    await rate(R2, "prioritise a queue", "clarity", 4)
    summary = next(m for m in slack.messages(REVIEW) if "completed Support Engineer" in m.all_text)
    payload = ev.press(summary, "Advance", R1, channel=REVIEW, trigger_id=slack.issue_trigger(R1))
    await sender.interaction(payload)
    await channel.idle()
    assert slack.ephemerals(user=R1)[-1].text == "Your decision: Advance."
