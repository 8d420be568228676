"""The fake Slack server and signed sender, exercised with the real slack_sdk and slack_bolt."""

from __future__ import annotations

import asyncio
import json
import types
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_async_handlers
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from fakes import slack as ev
from fakes.slack import FakeSlack, find_button, validate_blocks

TOKEN = "xoxb-test"
SECRET = "shh-signing-secret"
AUDIO = b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00" + bytes(range(256)) * 8


def rating_blocks(prefix: str = "rate") -> list[dict[str, Any]]:
    return [
        {"type": "section", "block_id": "q1", "text": {"type": "mrkdwn", "text": "*Question 1*"}},
        {
            "type": "actions",
            "block_id": "r1",
            "elements": [
                {
                    "type": "button",
                    "action_id": f"{prefix}:{n}",
                    "text": {"type": "plain_text", "text": f"{n} ★"},
                    "value": f"ans-1:{n}",
                }
                for n in range(1, 6)
            ],
        },
        {
            "type": "actions",
            "block_id": "keep",
            "elements": [
                {
                    "type": "button",
                    "action_id": "keep",
                    "style": "primary",
                    "text": {"type": "plain_text", "text": "Keep"},
                    "value": "keep-1",
                },
                {
                    "type": "button",
                    "action_id": "rerecord",
                    "text": {"type": "plain_text", "text": "Re-record"},
                    "value": "redo-1",
                },
            ],
        },
    ]


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    # these check the fake's API from raw clients that post without pacing (pacing: own tests)
    async with FakeSlack(bot_token=TOKEN, enforce_pacing=False) as server:
        server.user("U0GRACE", "Grace", "America/New_York", real_name="Grace Hopper")
        server.user("U0ADA", "Ada", "Europe/London")
        server.channel("C0REVIEWS", "reviews", members=["U0ADA"])
        yield server


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=fake.api_url)


# ---------------------------------------------------------------------------------------------
# Web API with slack_sdk


async def test_post_update_ephemeral_and_buttons(fake: FakeSlack, client: AsyncWebClient) -> None:
    opened = await client.conversations_open(users="U0GRACE")
    dm = opened["channel"]["id"]
    assert dm == fake.dm_channel("U0GRACE")
    assert (await client.conversations_open(users=["U0GRACE"]))["channel"]["id"] == dm

    first = await client.chat_postMessage(channel=dm, text="Q1 of 7", blocks=rating_blocks())
    second = await client.chat_postMessage(channel=dm, text="Thanks")
    assert float(second["ts"]) > float(first["ts"])

    action_id, value, block_id = fake.find_button(dm, "Re-record", ts=first["ts"])
    assert (action_id, value, block_id) == ("rerecord", "redo-1", "keep")
    assert find_button(fake.message(dm, first["ts"]).blocks, "4").value == "ans-1:4"
    with pytest.raises(LookupError):
        find_button(rating_blocks(), "★")

    await client.chat_update(channel=dm, ts=first["ts"], text="Kept ✔")
    msg = fake.message(dm, first["ts"])
    assert msg.text == "Kept ✔" and msg.blocks and msg.edited
    await client.chat_update(channel=dm, ts=first["ts"], text="Kept", blocks=[])
    assert fake.message(dm, first["ts"]).blocks == []
    assert [m.text for m in fake.messages(dm)] == ["Kept", "Thanks"]

    with pytest.raises(SlackApiError) as err:
        await client.chat_update(channel=dm, ts="1.000001", text="x")
    assert err.value.response["error"] == "message_not_found"

    eph = await client.chat_postEphemeral(channel="C0REVIEWS", user="U0ADA", text="You rated 4")
    assert eph["message_ts"]
    assert [e.text for e in fake.ephemerals("C0REVIEWS", "U0ADA")] == ["You rated 4"]
    with pytest.raises(SlackApiError) as err:
        await client.chat_postEphemeral(channel="C0REVIEWS", user="U0GRACE", text="no")
    assert err.value.response["error"] == "user_not_in_channel"

    await client.chat_delete(channel=dm, ts=second["ts"])
    assert [m.text for m in fake.messages(dm)] == ["Kept"]
    await client.reactions_add(channel=dm, timestamp=first["ts"], name="white_check_mark")
    assert fake.message(dm, first["ts"]).reactions == {"white_check_mark": ["UBOT"]}

    found = await fake.wait_for_message(dm, contains="Kept")
    assert found.ts == first["ts"]
    assert [c.method for c in fake.calls][:2] == ["conversations.open", "conversations.open"]


@pytest.mark.filterwarnings("ignore:The top-level `text`:UserWarning")
async def test_auth_users_and_channels(fake: FakeSlack, client: AsyncWebClient) -> None:
    auth = await client.auth_test()
    assert (auth["user_id"], auth["team_id"], auth["bot_id"]) == ("UBOT", "T0TEST", "B0FAKEBOT")
    assert "chat:write" in auth.headers["x-oauth-scopes"]

    user = (await client.users_info(user="U0GRACE"))["user"]
    assert user["tz"] == "America/New_York"
    assert user["tz_offset"] in (-5 * 3600, -4 * 3600)
    assert user["tz_label"] in ("Eastern Standard Time", "Eastern Daylight Time")
    assert user["real_name"] == "Grace Hopper"
    assert user["profile"]["display_name"] == "Grace"

    info = await client.conversations_info(channel="C0REVIEWS")
    assert info["channel"]["name"] == "reviews"

    for call, error in [
        (client.users_info(user="U0NOBODY"), "user_not_found"),
        (client.chat_postMessage(channel="C0MISSING", text="hi"), "channel_not_found"),
        (client.chat_postMessage(channel="C0REVIEWS", text=""), "no_text"),
        (client.api_call("chat.frobnicate"), "unknown_method"),
        (AsyncWebClient(token="xoxb-wrong", base_url=fake.api_url).auth_test(), "invalid_auth"),
        (AsyncWebClient(base_url=fake.api_url).auth_test(), "not_authed"),
    ]:
        with pytest.raises(SlackApiError) as err:
            await call
        assert err.value.response["error"] == error

    form = await client.api_call("chat.postMessage", data={"channel": "C0REVIEWS", "text": "f"})
    assert form["ok"] and fake.messages("C0REVIEWS")[-1].text == "f"
    posted = await AsyncWebClient(base_url=fake.api_url).api_call(
        "chat.postMessage", data={"token": TOKEN, "channel": "U0ADA", "text": "to a user id"}
    )
    assert posted["channel"] == fake.dm_channel("U0ADA")


async def test_block_kit_validation(fake: FakeSlack, client: AsyncWebClient) -> None:
    too_long_value = rating_blocks()
    too_long_value[1]["elements"][0]["value"] = "x" * 2001
    duplicate = rating_blocks()
    duplicate[2]["elements"][1]["action_id"] = "keep"
    long_section = [{"type": "section", "text": {"type": "mrkdwn", "text": "y" * 3001}}]
    too_many = [{"type": "divider"}] * 51
    input_in_message = [
        {
            "type": "input",
            "label": {"type": "plain_text", "text": "Q"},
            "element": {"type": "plain_text_input", "action_id": "q"},
        }
    ]
    for blocks, fragment in [
        (too_long_value, "/blocks/1/elements/0/value"),
        (duplicate, "duplicate action_id"),
        (long_section, "/blocks/0/text/text"),
        (too_many, "at most 50"),
        (input_in_message, "only allowed in modals"),
    ]:
        with pytest.raises(SlackApiError) as err:
            await client.chat_postMessage(channel="C0REVIEWS", text="t", blocks=blocks)
        assert err.value.response["error"] == "invalid_blocks"
        assert any(fragment in e for e in err.value.response["errors"]), err.value.response
    assert fake.messages("C0REVIEWS") == []
    assert validate_blocks(rating_blocks()) == []


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")
async def test_files_upload_v2_round_trip(fake: FakeSlack, client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel="C0REVIEWS", text="Candidate #12")
    result = await client.files_upload_v2(
        channel="C0REVIEWS",
        content=AUDIO,
        filename="answer-1.m4a",
        title="Answer 1",
        initial_comment="Q1: Tell us about something you built",
        thread_ts=parent["ts"],
    )
    file_id = result["file"]["id"]
    (upload,) = fake.uploads_in("C0REVIEWS")
    assert (upload.file_id, upload.data, upload.title) == (file_id, AUDIO, "Answer 1")
    assert upload.initial_comment == "Q1: Tell us about something you built"
    assert upload.thread_ts == parent["ts"]
    shared = fake.message("C0REVIEWS", upload.message_ts or "")
    assert shared.thread_ts == parent["ts"] and shared.files[0]["id"] == file_id
    assert ("upload", {"filename": "answer-1.m4a", "title": "Answer 1"}) in fake.outbound()
    assert [c.method for c in fake.calls[-2:]] == [
        "files.getUploadURLExternal",
        "files.completeUploadExternal",
    ]

    info = (await client.files_info(file=file_id))["file"]
    assert info["size"] == len(AUDIO) and info["mimetype"] == "audio/mp4"
    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with http.get(info["url_private_download"], headers=headers) as resp:
            assert await resp.read() == AUDIO

    with pytest.raises(SlackApiError) as err:
        await client.files_upload(channels="C0REVIEWS", content=b"x", filename="a.txt")
    assert err.value.response["error"] == "method_deprecated"


async def test_upload_url_accepts_multipart_and_form_calls(fake: FakeSlack) -> None:
    client = AsyncWebClient(token=TOKEN, base_url=fake.api_url)
    ticket = await client.api_call(
        "files.getUploadURLExternal", data={"filename": "answer.webm", "length": len(AUDIO)}
    )
    form = aiohttp.FormData()
    form.add_field("filename", AUDIO, filename="answer.webm", content_type="audio/webm")
    async with aiohttp.ClientSession() as http, http.post(ticket["upload_url"], data=form) as r:
        assert r.status == 200
    done = await client.api_call(
        "files.completeUploadExternal",
        data={
            "files": json.dumps([{"id": ticket["file_id"], "title": "A1"}]),
            "channel_id": "C0REVIEWS",
            "initial_comment": "answer 1",
        },
    )
    assert done["files"] == [{"id": ticket["file_id"], "title": "A1"}]
    (upload,) = fake.uploads
    assert upload.data == AUDIO and upload.channels == ["C0REVIEWS"]
    assert fake.messages("C0REVIEWS")[0].text == "answer 1"
    assert fake.file_bytes(ticket["file_id"]) == AUDIO

    unsent = await client.files_getUploadURLExternal(filename="b.txt", length=1)
    with pytest.raises(SlackApiError) as err:
        await client.files_completeUploadExternal(
            files=[{"id": unsent["file_id"], "title": "b"}], channel_id="C0REVIEWS"
        )
    assert err.value.response["error"] == "file_upload_not_found"


async def test_private_download_needs_bearer(fake: FakeSlack) -> None:
    clip = fake.add_file(
        "U0GRACE",
        AUDIO,
        "audio_message.m4a",
        "audio/mp4",
        subtype="slack_audio",
        duration_ms=4200,
        transcription={"status": "complete", "preview": {"content": "I built a compiler"}},
    )
    assert clip["id"].startswith("F") and clip["filetype"] == "m4a"
    assert clip["size"] == len(AUDIO) and clip["subtype"] == "slack_audio"
    assert clip["transcription"]["preview"]["content"] == "I built a compiler"
    url = clip["url_private_download"]
    assert url.startswith(f"{fake.url}/files-pri/T0TEST-{clip['id']}/download/")

    async with aiohttp.ClientSession() as http:
        async with http.get(url, headers={"Authorization": f"Bearer {TOKEN}"}) as resp:
            assert resp.status == 200 and resp.content_type == "audio/mp4"
            assert await resp.read() == AUDIO
        for headers in ({}, {"Authorization": "Bearer xoxb-other"}):
            async with http.get(url, headers=headers) as resp:
                assert resp.status == 200
                assert resp.content_type == "text/html"
                assert "<!DOCTYPE html>" in await resp.text()
        async with http.get(clip["url_private"], headers={"Authorization": f"Bearer {TOKEN}"}) as r:
            assert await r.read() == AUDIO
    assert [d.authorized for d in fake.downloads] == [True, False, False, True]

    fake.set_transcription(clip["id"], {"status": "processing"})
    client = AsyncWebClient(token=TOKEN, base_url=fake.api_url)
    info = (await client.files_info(file=clip["id"]))["file"]
    assert info["transcription"]["status"] == "processing"


async def test_429_is_retried_after_retry_after(
    fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr(builtin_async_handlers, "asyncio", types.SimpleNamespace(sleep=fake_sleep))
    client = AsyncWebClient(
        token=TOKEN,
        base_url=fake.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    fake.fail_next("chat.postMessage", retry_after=30)
    resp = await client.chat_postMessage(channel="C0REVIEWS", text="after the limit")
    assert resp["ok"]
    assert len(slept) == 1 and 30 <= slept[0] < 31
    outcomes = [(c.status, c.error) for c in fake.calls if c.method == "chat.postMessage"]
    assert outcomes == [(429, "ratelimited"), (200, None)]
    assert [m.text for m in fake.messages("C0REVIEWS")] == ["after the limit"]

    fake.fail_next("chat.postMessage", retry_after=2, times=3)
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C0REVIEWS", text="gives up")
    assert err.value.response.status_code == 429
    assert len(slept) == 3


async def test_429_and_500_surface_without_a_retry_handler(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.fail_next("chat.postMessage", retry_after=5)
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C0REVIEWS", text="x")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "5"
    assert err.value.response["error"] == "ratelimited"

    fake.fail_next("users.info", "internal_error", status=500)
    with pytest.raises(SlackApiError) as err:
        await client.users_info(user="U0ADA")
    assert (err.value.response.status_code, err.value.response["error"]) == (500, "internal_error")
    assert (await client.users_info(user="U0ADA"))["ok"]


async def test_views_and_triggers(fake: FakeSlack, client: AsyncWebClient) -> None:
    modal = {
        "type": "modal",
        "callback_id": "follow_up",
        "title": {"type": "plain_text", "text": "Ask a follow-up"},
        "submit": {"type": "plain_text", "text": "Send"},
        "blocks": [
            {
                "type": "input",
                "block_id": "question",
                "label": {"type": "plain_text", "text": "Your question"},
                "element": {"type": "plain_text_input", "action_id": "text", "multiline": True},
            }
        ],
    }
    with pytest.raises(SlackApiError) as err:
        await client.views_open(trigger_id="12345.98765.abcdef", view=modal)
    assert err.value.response["error"] == "invalid_trigger_id"

    trigger = fake.issue_trigger("U0ADA")
    opened = (await client.views_open(trigger_id=trigger, view=modal))["view"]
    assert fake.modals("U0ADA")[0].id == opened["id"]
    with pytest.raises(SlackApiError) as err:
        await client.views_open(trigger_id=trigger, view=modal)
    assert err.value.response["error"] == "invalid_trigger_id"

    late = fake.issue_trigger("U0ADA")
    fake.advance(3.5)
    with pytest.raises(SlackApiError) as err:
        await client.views_open(trigger_id=late, view=modal)
    assert err.value.response["error"] == "expired_trigger_id"

    updated = dict(modal, title={"type": "plain_text", "text": "Sent"}, blocks=[])
    await client.views_update(view_id=opened["id"], view=updated, hash=opened["hash"])
    assert fake.modals("U0ADA")[0].view["title"]["text"] == "Sent"
    with pytest.raises(SlackApiError) as err:
        await client.views_update(view_id=opened["id"], view=updated, hash=opened["hash"])
    assert err.value.response["error"] == "hash_conflict"

    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*2 to review*"}}],
    }
    await client.views_publish(user_id="U0ADA", view=home)
    await client.views_publish(user_id="U0ADA", view=home)
    view = fake.home("U0ADA")
    assert view is not None and "2 to review" in view.all_text and len(view.history) == 1
    assert [v.type for v in fake.views] == ["modal", "home"]

    submission = ev.view_submission("U0ADA", opened, {"text": "Why Rust?"})
    state = submission["view"]["state"]["values"]
    assert state == {"question": {"text": {"type": "plain_text_input", "value": "Why Rust?"}}}


async def test_pacing_violations_are_recorded() -> None:
    now = [100.0]
    # pacing off to see violations recorded; enforced (the default) at the end
    async with FakeSlack(pacing_clock=lambda: now[0], enforce_pacing=False,
                         pace_burst=1) as fake:
        fake.channel("C1")
        client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
        await client.chat_postMessage(channel="C1", text="a")
        now[0] += 1.0
        await client.chat_postMessage(channel="C1", text="b")
        assert fake.pacing_violations == []
        now[0] += 0.4
        await client.chat_postMessage(channel="C1", text="c")
        (violation,) = fake.pacing_violations
        assert (violation.channel, violation.posts_in_window) == ("C1", 2)

        fake.enforce_pacing = True
        with pytest.raises(SlackApiError) as err:
            await client.chat_postMessage(channel="C1", text="d")
        assert err.value.response.status_code == 429
        assert [m.text for m in fake.messages("C1")] == ["a", "b", "c"]


async def test_response_url_posts_apply(fake: FakeSlack, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="C0REVIEWS", text="card", blocks=rating_blocks())
    url = fake.response_url("C0REVIEWS", "U0ADA", posted["ts"])
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"text": "only you see this"}) as resp:
            assert await resp.text() == "ok"
        async with http.post(url, json={"replace_original": True, "text": "rated"}) as resp:
            assert resp.status == 200
    assert fake.ephemerals("C0REVIEWS", "U0ADA")[0].text == "only you see this"
    assert fake.message("C0REVIEWS", posted["ts"]).text == "rated"
    assert len(fake.response_posts) == 2


# ---------------------------------------------------------------------------------------------
# Bolt in HTTP mode


@dataclass
class BoltHarness:
    app: AsyncApp
    sender: ev.SlackSender
    seen: list[dict[str, Any]]


def _bolt_web_app(app: AsyncApp) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", handle)
    return web_app


@pytest.fixture
async def bolt(fake: FakeSlack) -> AsyncIterator[BoltHarness]:
    app = AsyncApp(
        signing_secret=SECRET,
        client=AsyncWebClient(token=TOKEN, base_url=fake.api_url),
    )
    seen: list[dict[str, Any]] = []

    @app.event("message")
    async def on_message(event: dict[str, Any], say: Any, request: Any) -> None:
        seen.append({"event": event, "retry": request.headers.get("x-slack-retry-num", [None])[0]})
        if event.get("subtype") in (None, "file_share"):
            files = event.get("files") or []
            await say(f"Got: {event.get('text') or files[0]['subtype']}")

    @app.event("app_home_opened")
    async def on_home(event: dict[str, Any], client: AsyncWebClient) -> None:
        seen.append({"home": event["user"]})
        await client.views_publish(
            user_id=event["user"],
            view={
                "type": "home",
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": "Your interviews: none"}}
                ],
            },
        )

    @app.action("keep")
    async def on_keep(ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        await ack()
        seen.append({"action": body["actions"][0], "user": body["user"]["id"]})
        await respond(replace_original=True, text="Kept answer 1")

    @app.command("/interview")
    async def on_command(ack: Any, command: dict[str, Any]) -> None:
        await ack(f"status for {command['user_id']}: {command['text']}")

    @app.view("follow_up")
    async def on_submit(ack: Any, view: dict[str, Any]) -> None:
        await ack()
        seen.append({"submitted": view["state"]["values"]})

    runner = web.AppRunner(_bolt_web_app(app), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    async with ev.SlackSender(f"http://127.0.0.1:{port}", SECRET) as sender:
        yield BoltHarness(app, sender, seen)
    await runner.cleanup()


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


async def test_strict_by_default() -> None:
    async with FakeSlack() as fake:
        assert fake.enforce_pacing and fake.enforce_tiers


async def test_pacing_tolerates_a_burst_then_one_a_second() -> None:
    now = [100.0]
    async with FakeSlack(pacing_clock=lambda: now[0]) as fake:
        fake.channel("C1")
        client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url, retry_handlers=[])
        for n in range(4):
            await client.chat_postMessage(channel="C1", text=f"burst {n}")
        with pytest.raises(SlackApiError) as err:
            await client.chat_postMessage(channel="C1", text="too soon")
        assert err.value.response.status_code == 429
        assert err.value.response.headers["Retry-After"] == "1"
        now[0] += 1.0
        await client.chat_postMessage(channel="C1", text="a second later")
        with pytest.raises(SlackApiError):
            await client.chat_postMessage(channel="C1", text="too soon again")
        assert len(fake.messages("C1")) == 5


async def test_rate_tiers_answer_429_with_retry_after() -> None:
    now = [100.0]
    async with FakeSlack(pacing_clock=lambda: now[0]) as fake:
        client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url, retry_handlers=[])
        fake.user("U0ADA", "ada")
        for _ in range(100):  # Tier 4: a minute's worth at once
            await client.users_info(user="U0ADA")
        with pytest.raises(SlackApiError) as err:
            await client.users_info(user="U0ADA")
        assert err.value.response.status_code == 429
        assert err.value.response.headers["Retry-After"] == "1"
        assert fake.tier_limited == ["users.info"]
        now[0] += 0.61  # refills at 100 a minute
        await client.users_info(user="U0ADA")
        await client.auth_test()  # another method has its own budget


@dataclass
class SlowApp:
    """An HTTP endpoint that never answers the requests numbered in `stuck`, answers the
    others at once with `statuses[n]` (200 past the list)."""

    stuck: set[int]
    statuses: list[int]
    seen: list[dict[str, str]]
    never: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        n = len(self.seen)
        self.seen.append({k: v for k, v in request.headers.items() if k.startswith("X-Slack")})
        await request.read()
        if n in self.stuck:
            await self.never.wait()  # set only at cleanup: past any deadline
        status = self.statuses[n] if n < len(self.statuses) else 200
        headers = {"X-Slack-No-Retry": "1"} if status == 418 else {}
        return web.Response(status=status, headers=headers)


async def _serve(app: SlowApp) -> tuple[web.AppRunner, str]:
    web_app = web.Application()
    web_app.router.add_post("/slack/events", app.handle)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def test_an_event_not_acknowledged_in_time_is_redelivered_with_retry_headers() -> None:
    app = SlowApp(stuck={0}, statuses=[200, 500, 200], seen=[])
    runner, base = await _serve(app)
    try:
        async with ev.SlackSender(base, SECRET, ack_deadline=1.0) as sender:
            assert ev.ACK_DEADLINE == 3.0  # Slack's; shortened here to keep the test quick
            reply = await sender.event(ev.message("U0GRACE", "hello", channel="D1"))
            assert reply.status == 200
            assert sender.redeliveries == [(1, "http_timeout"), (2, "http_error")]
            assert [h.get("X-Slack-Retry-Num") for h in app.seen] == [None, "1", "2"]
            assert [h.get("X-Slack-Retry-Reason") for h in app.seen] == [
                None, "http_timeout", "http_error"]
            # at most three retries
            app.seen.clear()
            app.statuses, app.stuck = [503] * 5, set()
            assert (await sender.event(ev.message("U0GRACE", "again", channel="D1"))).status == 503
            assert len(app.seen) == 4
    finally:
        app.never.set()
        await runner.cleanup()


async def test_no_retry_when_asked_and_none_for_interactions() -> None:
    app = SlowApp(stuck={1}, statuses=[418], seen=[])
    runner, base = await _serve(app)
    try:
        async with ev.SlackSender(base, SECRET, ack_deadline=1.0) as sender:
            assert (await sender.event(ev.message("U0GRACE", "x", channel="D1"))).status == 418
            late = await sender.interaction({"type": "block_actions", "actions": []})
            assert late.status == 0 and len(sender.timeouts) == 1
            assert len(app.seen) == 2 and sender.redeliveries == []
    finally:
        app.never.set()
        await runner.cleanup()
