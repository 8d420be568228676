"""An ATS stand-in drives the whole flow through the HTTP API and the webhooks.

The real stacks run (`build` + `make_channels` + `serve`): python-telegram-bot against the fake
Bot API for the candidate, Bolt in HTTP mode against the fake Slack for the reviewers. The ATS
creates the invitation with an API key, the candidate answers on Telegram, a reviewer rates and
decides in Slack, and the ATS receives signed `interview.completed` and `decision.made` events
(verified with the `standardwebhooks` package) exactly once each although it answered 500 to
the first two requests.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bots.api.keys import create_key
from bots.app import build, make_channels, serve
from bots.settings import Settings
from bots.slack.channel import SlackChannel
from bots.telegram.channel import TelegramChannel
from fakes import slack as ev
from fakes.slack import FakeSlack, SlackSender
from fakes.telegram import FakeTelegram
from tests.e2e.ats_support import SECRET, AtsStandIn
from tests.e2e.slack_support import _wait_until_up
from tests.e2e.telegram_support import FAST, audio, free_port, migrated_database

SIGNING = "ats-signing-secret"
TOKEN = "xoxb-ats"
REVIEW = "CREVIEW"
R1 = "U0REV1"
SCRIPT = """\
id: ats
title: Support Engineer
consent: "We keep your answers for 90 days. OK?"
deadline: 7d
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
review: {reviewers: ["slack:CREVIEW"], blind: true}
"""


@pytest.fixture(autouse=True)
def fast_telegram(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TelegramChannel, "default_pacing", FAST)


def settings_for(tmp: Path, tg: FakeTelegram, slack: FakeSlack | None, port: int,
                 webhook_url: str | None) -> Settings:
    database = tmp / "ib.db"
    migrated_database(database)
    scripts = tmp / "scripts"
    scripts.mkdir(exist_ok=True)
    (scripts / "ats.yaml").write_text(SCRIPT)
    values: dict[str, Any] = {
        "DATABASE_URL": f"sqlite:///{database}", "INTERVIEWBOT_DATA_DIR": str(tmp / "data"),
        "INTERVIEWBOT_SCRIPTS": str(scripts), "INTERVIEWBOT_HTTP_PORT": port,
        "TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_URL": f"{tg.url}/bot",
        "TELEGRAM_FILE_URL": f"{tg.url}/file/bot", "TELEGRAM_WEBHOOK_URL": None,
        "SLACK_BOT_TOKEN": None, "SLACK_APP_TOKEN": None,
        "INTERVIEWBOT_WEBHOOK_URL": webhook_url, "INTERVIEWBOT_WEBHOOK_SECRET": SECRET,
        "INTERVIEWBOT_WEBHOOK_RETRY": 0.05,
    }
    if slack is not None:
        values.update(SLACK_BOT_TOKEN=TOKEN, SLACK_SIGNING_SECRET=SIGNING,
                      SLACK_API_URL=slack.api_url)
    return Settings(_env_file=None, **values)


async def test_ats_invites_through_the_api_and_receives_signed_webhooks_once(
        tmp_path: Path) -> None:
    async with FakeTelegram() as tg, FakeSlack(bot_token=TOKEN) as slack, \
            AtsStandIn(fail_first=2) as ats:
        slack.user(R1, "reviewer")
        slack.channel(REVIEW, "support-reviews", is_private=True)
        port = free_port()
        settings = settings_for(tmp_path, tg, slack, port, ats.url)
        app = build(settings)
        key = create_key(app.db, "greenhouse")
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
            headers = {"Authorization": f"Bearer {key}"}
            async with aiohttp.ClientSession(headers=headers) as http:
                async with http.post(base + "/api/v1/invitations", json={
                        "script_id": "ats", "name": "Ada Lovelace", "channel": "telegram",
                        "tz": "Europe/London", "external_ref": "gh-app-4412"}) as created:
                    assert created.status == 201, await created.text()
                    invitation = await created.json()
                assert invitation["number"] == 1 and invitation["state"] == "invited"
                assert invitation["external_ref"] == "gh-app-4412"
                link = invitation["delivery"]["link"]
                assert link.startswith(f"https://t.me/{tg.bot_username}?start=")
                interview_id = invitation["interview_id"]

                await candidate_answers(tg, link.partition("?start=")[2])
                (completed,) = await ats.wait_for("interview.completed")
                data = completed.event["data"]
                assert data["interview_id"] == interview_id
                assert data["external_ref"] == "gh-app-4412"
                assert data["candidate_number"] == 1 and data["state"] == "completed"
                assert "candidate_name" not in data  # blind script
                assert data["scorecard"]["questions"] == {
                    "story": {"empathy": None, "clarity": None}, "written": {"clarity": None}}

                async with SlackSender(base, SIGNING) as sender:
                    await review_and_decide(slack, slack_channel, sender)
                (decided,) = await ats.wait_for("decision.made")
                card = decided.event["data"]["scorecard"]
                assert decided.event["data"]["decision"] == "advance"
                assert decided.event["data"]["decided_by"] == f"slack:{R1}"
                assert card["questions"] == {"story": {"empathy": 4.0, "clarity": 3.0},
                                             "written": {"clarity": 5.0}}
                assert card["criteria"] == {"empathy": 4.0, "clarity": 4.0}
                assert card["overall"] == 4.0

                async with http.get(f"{base}/api/v1/interviews/{interview_id}") as got:
                    assert got.status == 200
                    assert (await got.json())["state"] == "completed"
                async with http.get(f"{base}/api/v1/scripts/ats/results") as results:
                    (row,) = (await results.json())["items"]
                    assert row["candidate"] == "Candidate #1" and row["decision"] == "advance"
                    assert row["scores"]["story.empathy"] == 4.0
                # a Slack referral: the bot DMs them; an unknown user is reported, not hidden
                slack.user("U0GRACE", "grace", "Asia/Kolkata", real_name="Grace Hopper")
                async with http.post(base + "/api/v1/invitations", json={
                        "script_id": "ats", "name": "Grace Hopper", "channel": "slack",
                        "slack_user": "U0GRACE", "external_ref": "gh-app-4413"}) as created:
                    assert created.status == 201, await created.text()
                    referral = await created.json()
                assert referral["delivery"]["status"] == "sent" and referral["number"] == 2
                assert "time zone Asia/Kolkata" in referral["delivery"]["detail"]
                await slack.wait_for(lambda: slack.messages(slack.dm_channel("U0GRACE")),
                                     timeout=30)
                async with http.post(base + "/api/v1/invitations", json={
                        "script_id": "ats", "name": "Nobody", "channel": "slack",
                        "slack_user": "U0NOBODY"}) as created:
                    assert created.status == 201
                    lost = await created.json()
                assert lost["delivery"]["status"] == "failed"
                assert "U0NOBODY" in lost["delivery"]["detail"]
                async with http.get(f"{base}/metrics") as metrics:
                    exposition = await metrics.text()
            await ats.wait_for("review.completed")
            await ats.wait_for("interview.invited", 3)
            expected = ["interview.invited", "interview.started", "interview.completed",
                        "review.completed", "decision.made", "interview.invited",
                        "interview.invited"]
            assert sorted(r.event["type"] for r in ats.events.values()) == sorted(expected)
            assert ats.rejected == []
            # the two 500s were retried with the same webhook-id: nothing delivered twice
            retried = {i for i in ats.attempts if ats.attempts.count(i) > 1}
            assert retried and retried <= set(ats.events)
            assert len(ats.attempts) == len(expected) + 2
            assert 'interviewbot_webhooks_delivered_total{type="decision.made"} 1.0' in exposition
            assert 'interviewbot_webhooks_retried_total{type="interview.invited"}' in exposition
            # every API read of candidate data is in the audit log, with the key's name
            with app.services.uow() as uow:
                actions = [(a.actor, a.action) for a in uow.reviews.audit_log(interview_id)]
            assert ("api:greenhouse", "api invite") in actions
            assert ("api:greenhouse", "api read") in actions
            assert ("api:greenhouse", "api results") in actions
        finally:
            stop.set()
            await server


async def candidate_answers(tg: FakeTelegram, token: str) -> None:
    ada = tg.user(7001, "Ada", last_name="Lovelace", username="ada_l")
    tg.send_command(ada, "/start", token)

    async def press(label: str, contains: str) -> None:
        message = await tg.wait_for_message(ada.id, contains, timeout=30)
        update = tg.press_button(ada, message, label=label)
        query_id = update["callback_query"]["id"]
        await tg.wait_for(lambda: any(a.callback_query_id == query_id
                                      for a in tg.callback_answers), timeout=30)

    await press("I agree", "90 days")
    await tg.wait_for_message(ada.id, "Question 1 of 2", timeout=30)
    tg.send_voice(ada, audio("voice.ogg"), duration=6)
    await press("Submit", "Got your voice answer")
    await tg.wait_for_message(ada.id, "Question 2 of 2", timeout=30, include_edits=True)
    tg.send_text(ada, "Urgency first, then impact, then age.")
    await press("Submit", "Got your written answer")


async def review_and_decide(slack: FakeSlack, channel: SlackChannel, sender: SlackSender
                            ) -> None:
    await slack.wait_for(lambda: len([m for m in slack.messages(REVIEW)
                                      if "Q: " in m.all_text]) == 2, timeout=30)

    async def rate(question: str, criterion: str, score: int) -> None:
        card = next(m for m in slack.messages(REVIEW) if question in m.all_text)
        row = next(b for b in card.blocks if b.get("type") == "actions"
                   and b["elements"][0]["text"]["text"] == f"{criterion} 1")
        button = row["elements"][score - 1]
        payload = ev.block_actions(R1, action_id=button["action_id"], value=button["value"],
                                   block_id=row["block_id"], channel=REVIEW,
                                   message=card.as_slack(), trigger_id=slack.issue_trigger(R1))
        assert (await sender.interaction(payload)).status == 200
        await channel.idle()

    await rate("a customer you helped", "empathy", 4)
    await rate("a customer you helped", "clarity", 3)
    await rate("prioritise a queue", "clarity", 5)
    summary = next(m for m in slack.messages(REVIEW) if "completed Support Engineer" in m.all_text)
    await sender.interaction(ev.press(summary, "Advance", R1, channel=REVIEW,
                                      trigger_id=slack.issue_trigger(R1)))
    await channel.idle()
    assert slack.ephemerals(user=R1)[-1].text.startswith("Your decision: Advance.")
