"""Signed requests to a real Bolt app: DMs, signatures, retries, actions, commands, views."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from fakes import slack as ev
from fakes.slack import FakeSlack

from .helpers import AUDIO, BoltHarness, rating_blocks


async def test_bolt_receives_signed_dm_and_replies(fake: FakeSlack, bolt: BoltHarness) -> None:
    dm = fake.dm_channel("U0GRACE")
    reply = await bolt.sender.event(ev.message("U0GRACE", "hello bot", channel=dm))
    assert reply.status == 200
    msg = await fake.wait_for_message(dm, contains="Got: hello bot")
    assert msg.user == "UBOT"
    assert fake.calls[0].method == "auth.test"

    clip = fake.add_file(
        "U0GRACE",
        AUDIO,
        "audio_message.webm",
        "audio/webm",
        subtype="slack_audio",
        duration_ms=3000,
    )
    assert (await bolt.sender.event(ev.file_share("U0GRACE", [clip], channel=dm))).status == 200
    await fake.wait_for_message(dm, contains="Got: slack_audio")

    challenge = await bolt.sender.event(ev.url_verification("abc123"))
    assert (challenge.status, challenge.json()) == (200, {"challenge": "abc123"})


async def test_bolt_rejects_bad_signatures_and_old_requests(
    fake: FakeSlack, bolt: BoltHarness
) -> None:
    dm = fake.dm_channel("U0GRACE")
    envelope = ev.message("U0GRACE", "forged", channel=dm)
    assert (await bolt.sender.event(envelope, bad_signature=True)).status == 401
    assert (await bolt.sender.event(envelope, age=301)).status == 401
    assert (await bolt.sender.event(envelope, unsigned=True)).status == 401
    assert (await bolt.sender.event(envelope, age=200)).status == 200
    await fake.wait_for(lambda: len(bolt.seen) == 1)


async def test_bolt_does_not_deduplicate_retries(fake: FakeSlack, bolt: BoltHarness) -> None:
    dm = fake.dm_channel("U0GRACE")
    envelope = ev.message("U0GRACE", "same", channel=dm)
    assert (await bolt.sender.event(envelope)).status == 200
    assert (await bolt.sender.event(envelope, retry_num=1)).status == 200
    await fake.wait_for(lambda: len(bolt.seen) == 2)
    assert {s["event"]["ts"] for s in bolt.seen} == {envelope["event"]["ts"]}
    assert sorted(str(s["retry"]) for s in bolt.seen) == ["1", "None"]


async def test_bolt_block_actions_command_and_view(
    fake: FakeSlack, client: AsyncWebClient, bolt: BoltHarness
) -> None:
    dm = fake.dm_channel("U0GRACE")
    posted = await client.chat_postMessage(channel=dm, text="Answer 1", blocks=rating_blocks())
    message = fake.message(dm, posted["ts"])
    payload = ev.press(
        message,
        "Keep",
        "U0GRACE",
        trigger_id=fake.issue_trigger("U0GRACE"),
        response_url=fake.response_url(dm, "U0GRACE", message.ts),
    )
    assert payload["container"] == {
        "type": "message",
        "message_ts": message.ts,
        "channel_id": dm,
        "is_ephemeral": False,
    }
    reply = await bolt.sender.interaction(payload)
    assert reply.status == 200
    await fake.wait_for(lambda: fake.message(dm, message.ts).text == "Kept answer 1")
    assert bolt.seen[0]["action"]["value"] == "keep-1"
    assert bolt.seen[0]["action"]["block_id"] == "keep"

    fields = ev.slash_command("U0GRACE", "status", channel=dm)
    reply = await bolt.sender.command(fields)
    assert (reply.status, reply.body) == (200, "status for U0GRACE: status")
    assert (await bolt.sender.command(fields, bad_signature=True)).status == 401

    view = {
        "id": "V0FOLLOW",
        "type": "modal",
        "callback_id": "follow_up",
        "blocks": [
            {
                "type": "input",
                "block_id": "question",
                "label": {"type": "plain_text", "text": "Q"},
                "element": {"type": "plain_text_input", "action_id": "text"},
            }
        ],
    }
    reply = await bolt.sender.interaction(ev.view_submission("U0ADA", view, {"text": "Why?"}))
    assert reply.status == 200
    assert bolt.seen[-1]["submitted"]["question"]["text"]["value"] == "Why?"


async def test_bolt_sees_edits_deletions_home_and_skips_itself(
    fake: FakeSlack, bolt: BoltHarness
) -> None:
    dm = fake.dm_channel("U0GRACE")
    original = ev.message("U0GRACE", "first answer", channel=dm)
    edited = ev.message_changed(
        "U0GRACE", channel=dm, ts=original["event"]["ts"], new_text="edited", old_text="first"
    )
    deleted = ev.message_deleted("U0GRACE", channel=dm, ts=original["event"]["ts"])
    assert edited["event_id"] != deleted["event_id"]
    for envelope in (edited, deleted):
        assert (await bolt.sender.event(envelope)).status == 200
    assert (await bolt.sender.event(ev.message("UBOT", "my own", channel=dm))).status == 200
    assert (await bolt.sender.event(ev.app_home_opened("U0GRACE", channel=dm))).status == 200
    await fake.wait_for(lambda: fake.home("U0GRACE"))
    subtypes = [s["event"].get("subtype") for s in bolt.seen if "event" in s]
    assert subtypes == ["message_changed", "message_deleted"]
    assert edited["event"]["message"]["ts"] == original["event"]["ts"]
    assert fake.messages(dm) == []
