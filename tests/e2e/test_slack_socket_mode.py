"""Socket Mode end to end: the shipped default (`socket_mode_enabled: true` in the manifest).

The real slack-bolt `AsyncSocketModeHandler` (slack_sdk's aiohttp Socket Mode client) connects
with `SLACK_APP_TOKEN` to the fake's `apps.connections.open` and WebSocket endpoint
(fakes/slack/socket_mode.py). A whole referral interview and a review over it run through
envelopes (`events_api`, `interactive`, `slash_commands`), each acknowledged by its
`envelope_id`. In the middle Slack asks for a refresh (`disconnect`, `refresh_requested`):
the app reconnects on a new URL, an event is then redelivered (Slack's retry, same event_id)
and is handled once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bots.app import build, make_channels, serve
from bots.slack.channel import SlackChannel
from fakes.slack import FakeSlack, PostedMessage, SocketSender
from tests.e2e.slack_support import (
    GRACE,
    M4A,
    REV1,
    REV2,
    REVIEW,
    TOKEN,
    WEBM,
    SlackWorld,
    free_port,
    settings_for,
    workspace,
)

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
APP_TOKEN = "xapp-1-A0FAKE-1234567890-socketmodeapptokenfortests"


@asynccontextmanager
async def socket_world(tmp: Path) -> AsyncIterator[tuple[SlackWorld, SocketSender]]:
    async with FakeSlack(bot_token=TOKEN, app_token=APP_TOKEN) as fake:
        workspace(fake)
        settings = settings_for(tmp, fake, free_port()).model_copy(
            update={"slack_app_token": APP_TOKEN, "slack_signing_secret": None})
        app = build(settings)
        channels = make_channels(settings, app)
        (channel,) = channels
        assert isinstance(channel, SlackChannel) and channel.socket_mode
        channel.processing_wait = 0.0
        channel.slack.rate, channel.slack.burst = 1000.0, 1000
        stop = asyncio.Event()
        server = asyncio.create_task(serve(app, channels, stop))
        assert fake.socket is not None
        try:
            await fake.socket.wait_connected(1)
            sender = SocketSender(fake.socket)
            yield SlackWorld(fake, sender, app, channel, settings), sender  # type: ignore[arg-type]
        finally:
            stop.set()
            await server


async def test_referral_interview_and_review_over_socket_mode_with_a_refresh(
        tmp_path: Path) -> None:
    async with socket_world(tmp_path) as (world, sender):
        fake, socket = world.fake, world.fake.socket
        assert socket is not None
        assert fake.calls_to("apps.connections.open"), "connected through apps.connections.open"
        assert not fake.calls_to("apps.connections.open", ok=False)
        await world.start()  # invitation DM, "I agree" (an interactive envelope)
        dm = world.dm(GRACE)
        await world.share(GRACE, M4A, transcription={
            "status": "complete", "preview": {"content": "I built a billing service.",
                                              "has_more": False}})
        await world.press(dm, "Submit", GRACE)
        assert "\n\nQuestion 2 of 3" in world.last(dm)

        # Slack rotates the connection: the app opens a new URL and carries on
        await socket.refresh()
        await socket.wait_connected(2)
        assert socket.opened == 2 and len(fake.calls_to("apps.connections.open")) == 2
        envelope = await world.share(GRACE, WEBM)
        first = sender.last
        assert first.connection == 2, "delivered on the new connection"
        receipts = [m for m in fake.messages(dm) if "Got your voice answer" in m.text]
        # Slack did not see the ack in time and sends the same event again (same event_id)
        again = await socket.redeliver(first)
        await socket.wait_ack(again)
        await world.channel.idle()
        await world.app.engine.idle()
        assert again.payload["event_id"] == envelope["event_id"]
        assert [m for m in fake.messages(dm) if "Got your voice answer" in m.text] == receipts
        clip = next(a for a in world.interview().answers if a.question_id != "built"
                    and a.takes and a.takes[0].kind == "voice")
        assert len(clip.takes) == 1, "the redelivered clip was recorded once"
        await world.press(dm, "Submit", GRACE)
        await world.say(GRACE, "Fewer meetings, more written design reviews.")
        await world.press(dm, "Submit", GRACE)
        assert "That was the last question" in world.last(dm)
        await world.press(dm, "Done", GRACE)
        await world.press(dm, "5", GRACE)

        # a slash command over the socket: acknowledged with its text, answered in the DM
        mark = fake.messages(dm)[-1].ts
        await world.command(GRACE, "status")
        await fake.wait_for_message(
            dm, "Your interview is complete and with the hiring team. Thank you!", after=mark)

        # the review, over interactive envelopes
        assert world.interview().state.value == "completed"
        rows = {"Question 1 of 3": ("depth", "clarity"), "Question 2 of 3": ("depth",),
                "Question 3 of 3": ("clarity",)}
        cards = {label: next(m for m in fake.messages(REVIEW)
                             if m.text.startswith(f"Candidate #1 · {label}") and not m.files)
                 for label in rows}
        for reviewer, score in ((REV1, 4), (REV2, 2)):
            for label, criteria in rows.items():
                for criterion in criteria:
                    await _press_row(world, reviewer, cards[label], criterion, score)
        await world.press(REVIEW, "Advance", REV1)
        assert world.whispers(REV1)[-1] == "Your decision: Advance."
        await world.press(REVIEW, "Reject", REV2)
        assert world.whispers(REV2)[-1] == "Your decision: Reject. Others decided: Advance 1."
        summary = world.texts(REVIEW)[0]
        assert "Rated by 2 · decided by 2." in summary and "Advance 1" not in summary
        with world.app.services.uow() as uow:
            ratings = uow.reviews.ratings(world.interview().id)
            assert {r.reviewer.id for r in ratings} == {REV1, REV2}

        # every envelope was acknowledged, by its own envelope_id, exactly once
        assert socket.envelopes
        assert all(len(e.acks) == 1 and e.acks[0]["envelope_id"] == e.envelope_id
                   for e in socket.envelopes.values())
        assert socket.disconnects_sent == 1


async def _press_row(world: SlackWorld, user: str, card: PostedMessage, criterion: str,
                     score: int) -> None:
    """Press `score` in the row of `criterion` on a card with several rating rows."""
    import json

    from fakes import slack as ev

    blocks = card.blocks
    row = next(b for b in blocks if b["type"] == "actions" and criterion in json.dumps(b))
    button = next(e for e in row["elements"]
                  if e["text"]["text"] in (str(score), f"{criterion} {score}"))
    await world.interact(ev.block_actions(user, action_id=button["action_id"],
                                          value=button["value"], channel=REVIEW,
                                          message=card.as_slack(),
                                          trigger_id=world.fake.issue_trigger(user)))
