"""Files: the external upload flow and private downloads."""

from __future__ import annotations

import json

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from fakes.slack import FakeSlack

from .helpers import AUDIO, TOKEN


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
