"""Raw Slack payloads (tests/fixtures/slack/*.json) → core commands, and Block Kit rendering."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bots.slack import render
from bots.slack import translate as tr
from core.capabilities import with_commands
from core.commands import (
    ButtonPressed,
    MediaReceived,
    ReviewerText,
    TextReceived,
    UnsupportedReceived,
    UserCommand,
)
from core.i18n import t
from core.messages import Audio, Button, OutMessage
from core.refs import TRANSCRIPT_PENDING, ChatRef, MediaRef, MessageRef, UserRef
from core.vocabulary import Verb
from fakes.slack import validate_blocks

FIXTURES = Path(__file__).parents[1] / "fixtures" / "slack"
GRACE = UserRef("slack", "U0GRACE")
DM = ChatRef("slack", "D07GRACE")
BOT = "U07BOT"


def load(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return payload


def event(name: str) -> tr.Inbound:
    body = load(name)
    return tr.message_event(body["event"], event_id=body["event_id"], bot_user_id=BOT)


def test_dm_text_becomes_text_received_with_the_event_id_as_delivery_key() -> None:
    assert event("dm_text") == TextReceived(
        GRACE, DM, "I led the migration of our billing jobs to a queue & it cut failures "
        "<by half>.", "slack:event:Ev081TEXT01")


def test_mobile_audio_clip_carries_duration_and_slacks_transcript() -> None:
    assert event("dm_audio_clip_mobile") == MediaReceived(GRACE, DM, MediaRef(
        platform="slack", file_id="F081CLIPM4A", kind="voice", mime="audio/mp4", size=39091,
        duration=6.034, name="audio_message.m4a",
        transcript="I built a small billing service that handles thousands of payments every "
                   "day.",
        url="https://files.slack.com/files-pri/T0EXAMPLE-F081CLIPM4A/download/"
            "audio_message.m4a"), "slack:event:Ev081CLIP01")


def test_desktop_clip_still_processing_is_marked_for_the_engine() -> None:
    cmd = event("dm_audio_clip_desktop_processing")
    assert isinstance(cmd, MediaReceived)
    assert (cmd.media.kind, cmd.media.mime, cmd.media.duration) == ("voice", "audio/webm", 5.98)
    assert cmd.media.transcript == TRANSCRIPT_PENDING


def test_video_clip_and_uploaded_audio_file_are_answers() -> None:
    video = event("dm_video_clip")
    assert isinstance(video, MediaReceived)
    assert (video.media.kind, video.media.mime, video.media.transcript) == (
        "voice", "video/mp4", None)
    upload = event("dm_uploaded_mp3")
    assert isinstance(upload, MediaReceived)
    assert (upload.media.kind, upload.media.mime, upload.media.duration, upload.media.name) == (
        "audio", "audio/mpeg", None, "my answer.mp3")


@pytest.mark.parametrize(("name", "what"), [("dm_image", "picture"), ("dm_pdf", "document")])
def test_images_and_other_files_are_unsupported(name: str, what: str) -> None:
    assert event(name) == UnsupportedReceived(GRACE, DM, what)


def test_file_stub_needs_files_info_first() -> None:
    body = load("dm_file_stub")
    assert tr.needs_file_info(body["event"]["files"][0])
    assert not tr.needs_file_info(load("dm_audio_clip_mobile")["event"]["files"][0])


def test_a_persons_edit_and_deletion_get_a_polite_reply() -> None:
    assert event("dm_message_changed_by_user") == tr.Reply(DM, tr.EDITED, GRACE)
    assert event("dm_message_deleted_by_user") == tr.Reply(DM, tr.DELETED, GRACE)


@pytest.mark.parametrize("name", [
    "dm_message_changed_transcribed",  # Slack finished a transcript: not an edit
    "dm_message_changed_by_app",  # our own chat.update echoed back
    "dm_message_deleted_by_app",
    "dm_own_bot_message",
    "channel_message",  # only DMs are interviews
])
def test_ignored_events(name: str) -> None:
    assert event(name) is None


def test_block_action_keep_in_a_dm() -> None:
    assert tr.block_action(load("block_actions_keep")) == ButtonPressed(
        GRACE, DM, "kp:9f2c4e1a7b3d5f60:1a2b3c4d5e6f7081",
        MessageRef(DM, "1732382590.000100"), "slack:action:1732382605.120034:U0GRACE")


def test_block_action_rating_in_the_review_channel() -> None:
    cmd = tr.block_action(load("block_actions_rate_in_channel"))
    assert cmd is not None
    assert (cmd.user, cmd.chat, cmd.payload) == (
        UserRef("slack", "U0REV1"), ChatRef("slack", "C07REVIEW"),
        "rt:9f2c4e1a7b3d5f60:77aa88bb99cc0011:1:4")
    assert cmd.message == MessageRef(ChatRef("slack", "C07REVIEW"), "1732383000.000400")


def test_follow_up_modal_submission_becomes_reviewer_text() -> None:
    assert tr.view_submission(load("view_submission_follow_up")) == ReviewerText(
        UserRef("slack", "U0REV1"), ChatRef("slack", "C07REVIEW"),
        "fu:9f2c4e1a7b3d5f60:77aa88bb99cc0011", "How did you test the queue under load?",
        "slack:view:V081FOLLOW1:1732383100.Kx2Zq9rT")


def test_modal_submission_with_tampered_metadata_is_dropped() -> None:
    body = load("view_submission_follow_up")
    body["view"]["private_metadata"] = "fu:not-json"
    assert tr.view_submission(body) is None


def test_slash_command_is_answered_in_the_dm() -> None:
    body = load("slash_command_status")
    assert tr.slash_command(body, DM) == UserCommand(
        GRACE, DM, Verb.STATUS,
        "slack:command:8104583300777.7601234567890.0f1e2d3c4b5a69788796a5b4c3d2e1f0")
    for text in ("", "help", "frobnicate"):
        assert tr.slash_command({**body, "text": text}, DM) is None


# -- rendering -------------------------------------------------------------------------------
def review_card() -> OutMessage:
    rows = (
        tuple(Button("competency 1" if s == 1 else str(s), f"rt:9f2c4e1a7b3d5f60:aa:0:{s}")
              for s in range(1, 6)),
        tuple(Button("communication 1" if s == 1 else str(s), f"rt:9f2c4e1a7b3d5f60:aa:1:{s}")
              for s in range(1, 6)),
        (Button("Ask a follow-up", "fu:9f2c4e1a7b3d5f60:aa"),),
    )
    text = ("Candidate #3 · Question 1 of 3\nQ: Tell us about something you built.\n"
            "A: voice answer, 0:06\nTranscript: I built a <small> billing service & more\n"
            "0 reviewers rated this answer. Scores stay hidden until you have rated it yourself.")
    return OutMessage(text, rows, Audio("/tmp/x.m4a", "audio/mp4", "Question 1 of 3", 6.0))


def test_review_card_blocks_are_valid_and_escaped() -> None:
    blocks = render.blocks(review_card())
    assert validate_blocks(blocks) == []
    assert render.as_text(blocks).splitlines() == [
        "Candidate #3 · Question 1 of 3",
        "Q: Tell us about something you built.",
        "A: voice answer, 0:06",
        "Transcript: I built a &lt;small&gt; billing service &amp; more",
        "0 reviewers rated this answer. Scores stay hidden until you have rated it yourself.",
        "[competency 1]  [2]  [3]  [4]  [5]",
        "[communication 1]  [2]  [3]  [4]  [5]",
        "[Ask a follow-up]",
    ]
    ids = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert ids == [f"ib-{n}" for n in range(11)]
    assert blocks[1]["elements"][3]["value"] == "rt:9f2c4e1a7b3d5f60:aa:0:4"


def test_styles_title_fallback_and_command_names() -> None:
    message = OutMessage(with_commands("Use {delete} to erase. <!channel>", "slack"), ((
        Button("Yes, erase everything", "er:1", "danger"), Button("Cancel", "cx:1")),),
        title="Backend Engineer")
    blocks = render.blocks(message)
    assert validate_blocks(blocks) == []
    assert render.as_text(blocks).splitlines() == [
        "# Backend Engineer",
        "Use /interview delete to erase. &lt;!channel&gt;",
        "[Yes, erase everything!]  [Cancel]",
    ]
    assert render.fallback(message) == "Use /interview delete to erase. &lt;!channel&gt;"
    assert render.fallback(OutMessage("", title="T")) == "T"


def test_long_text_is_split_into_sections_and_modal_is_valid() -> None:
    blocks = render.blocks(OutMessage("\n".join(["x" * 1000] * 7)))
    assert [len(b["text"]["text"]) for b in blocks] == [2001, 2001, 2001, 1000]
    assert validate_blocks(blocks) == []
    modal = render.reply_modal("fu:9f2c4e1a7b3d5f60:aa", "C07REVIEW", "Follow-up for #3")
    assert validate_blocks(modal["blocks"], "modal") == []
    assert json.loads(modal["private_metadata"]) == {"target": "fu:9f2c4e1a7b3d5f60:aa",
                                                     "channel": "C07REVIEW"}
    ask = render.blocks(OutMessage("Reply with your question", ask_reply="rq:1:2"))
    assert render.as_text(ask).splitlines()[-1] == f"[{render.REPLY_LABEL}*]"


def test_the_reply_modal_speaks_the_team_language() -> None:
    english = render.reply_modal("fu:9f2c4e1a7b3d5f60:aa", "C07REVIEW", "Follow-up for #3")
    german = render.reply_modal("fu:9f2c4e1a7b3d5f60:aa", "C07REVIEW", "Nachfrage", "de")
    assert english["submit"]["text"] == "Send" and english["close"]["text"] == "Cancel"
    for key in ("title", "submit", "close"):
        assert german[key]["text"] != english[key]["text"]
        assert len(german[key]["text"]) <= 24  # Slack's limit for these
    assert german["blocks"][1]["label"]["text"] == t("de", "Your question")
    assert validate_blocks(german["blocks"], "modal") == []


def test_slash_command_adjust_asks_for_an_adjustment() -> None:
    body = load("slash_command_status")
    command = tr.slash_command({**body, "text": "adjust"}, DM)
    assert command is not None and command.name == "adjust" and command.chat == DM
    assert with_commands("send {adjust} at any time", "slack") == (
        "send /interview adjust at any time")
    assert render.slack_text("/adjust") == "/adjust"  # the engine's words are not rewritten


def test_block_action_on_an_option_of_a_choice_question() -> None:
    assert tr.block_action(load("block_actions_option")) == ButtonPressed(
        GRACE, DM, "ch:9f2c4e1a7b3d5f60:0:1",
        MessageRef(DM, "1732382590.000100"), "slack:action:1732382605.120034:U0GRACE")
