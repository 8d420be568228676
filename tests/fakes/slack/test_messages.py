"""chat.* and response URLs, Block Kit validation, users and channels, views and triggers."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from fakes import slack as ev
from fakes.slack import FakeSlack, find_button, validate_blocks

from .helpers import TOKEN, rating_blocks


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
