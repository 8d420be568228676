"""Adding a channel is one package plus one registration line: the example channel
(tests/example_channel/) is registered with one line and everything that differs by channel
follows from its declaration: settings enable it, the composition root builds it, scripts
list its ids, logs redact its credential, and the engine asks its capabilities (time zone,
command syntax, how to record, review audio format) through a whole interview on real
SQLite and real ffmpeg."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bots import channels as registry
from bots.app import build, make_channels
from bots.logs import REDACTED, redact
from bots.scripts import ScriptFileInvalid, parse_yaml
from bots.settings import Settings
from core.capabilities import CHANNELS
from core.commands import CreateInvitation
from core.refs import ChatRef
from tests.example_channel import TOKEN_VARIABLE
from tests.example_channel.channel import ExampleChannel, ExampleMessenger

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "example"
TOKEN = "exm-0123456789abcdefXYZ"
ROOM = ChatRef("example", "room-reviews")
DM = ChatRef("example", "dm-ada")
SCRIPT = """\
id: example-qa
title: QA Engineer
intro: "Hi {name}! {questions} questions, due {deadline}."
consent: "We keep your answers for 90 days. OK?"
deadline: 7d
answer: {kinds: [voice, text], max_seconds: 60, retakes: 1}
questions:
  - {id: bug, text: "Tell us about a bug you found."}
  - {id: why, text: "Why testing?", answer: {kinds: [voice]}}
rubric: {depth: "Technical depth", scale: [1, 2, 3, 4, 5]}
review: {reviewers: [example:room-reviews], blind: true, deciders: [example:team-leads]}
"""


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The one registration line (`REGISTERED` in bots/channels.py), for this test only."""
    monkeypatch.setattr(registry, "REGISTERED", [*registry.REGISTERED, "tests.example_channel"])
    yield
    CHANNELS.unregister("example")


def settings_for(tmp_path: Path) -> Settings:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "example-qa.yaml").write_text(SCRIPT)
    return Settings(_env_file=None, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite'}",
                    INTERVIEWBOT_DATA_DIR=tmp_path / "data", INTERVIEWBOT_SCRIPTS=scripts,
                    TELEGRAM_BOT_TOKEN=None, SLACK_BOT_TOKEN=None)


def payload(name: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return {**data, **changes}


async def until(check: Callable[[], bool], what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def test_without_the_line_the_channel_is_unknown(tmp_path: Path) -> None:
    assert "example" not in CHANNELS
    with pytest.raises(ScriptFileInvalid, match="example:room-reviews"):
        parse_yaml(SCRIPT, "example-qa.yaml")


def test_settings_wiring_and_logs_follow_the_declaration(
        registered: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(tmp_path)
    assert not settings.has_chat_channels  # no credential: `run` would start the console
    monkeypatch.setenv(TOKEN_VARIABLE, TOKEN)
    assert settings.has_chat_channels
    app = build(settings)
    try:
        (channel,) = make_channels(settings, app)
        assert isinstance(channel, ExampleChannel)
        assert app.services.messengers["example"] is channel.messenger
    finally:
        app.db.dispose()
    assert redact(f"calling with {TOKEN} now") == f"calling with {REDACTED} now"
    script = parse_yaml(SCRIPT, "example-qa.yaml")
    assert script.review.groups == ("example:team-leads",)  # its user-group syntax
    with pytest.raises(ScriptFileInvalid, match="is not a person"):
        parse_yaml(SCRIPT.replace("example:team-leads", "example:room-x"), "x.yaml")


async def test_an_interview_runs_on_the_declared_capabilities(
        registered: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_VARIABLE, TOKEN)
    settings = settings_for(tmp_path)
    app = build(settings)
    try:
        (channel,) = make_channels(settings, app)
        assert isinstance(channel, ExampleChannel)
        await walk(app.engine.invite, channel, channel.messenger)
    finally:
        app.db.dispose()


async def walk(invite: Callable[[CreateInvitation], tuple[Any, str]], channel: ExampleChannel,
               out: ExampleMessenger) -> None:
    def texts(chat: ChatRef = DM) -> list[str]:
        return [s.message.text for s in out.chat(chat)]

    async def press(label: str, n: int) -> str | None:
        for sent in reversed(out.chat(DM)):
            for button in (b for row in sent.message.buttons for b in row):
                if button.label.startswith(label):
                    return await channel.receive(payload(
                        "press", id=f"press-{n}", message=sent.ref.id, data=button.payload))
        raise AssertionError(f"no {label!r} button in {texts()}")

    _, token = invite(CreateInvitation("example-qa", "Ada", "example"))
    await channel.receive(payload("open", token=token))
    # the zone came with the payload (TimeZoneSource.PROFILE): no question, straight to consent
    assert "Europe/Lisbon" in texts()[-2] and texts()[-1].startswith("We keep your answers")
    # and without one the channel is not asked either (a channel declaring ASK would be)
    _, other = invite(CreateInvitation("example-qa", "Bo", "example"))
    await channel.receive(payload("open", id="ev-bo", user="u-bo", chat="dm-bo", token=other,
                                  tz=None))
    bo = [s.message.text for s in out.chat(ChatRef("example", "dm-bo"))]
    assert "(UTC)" in bo[-2] and bo[-1].startswith("We keep your answers")
    await channel.receive(payload("status"))
    await channel.receive(payload("unknown_command"))
    assert "!status - your progress and deadline" in texts()[-1]  # the declared syntax
    await press("I agree", 1)
    assert texts()[-1].startswith("Question 1 of 2")
    await channel.receive(payload("text"))
    await press("Submit", 2)
    assert "\n\nQuestion 2 of 2" in texts()[-1]  # the Submit edit carries the next question
    await channel.receive(payload("text", id="ev-9", text="Can I type?"))
    assert texts()[-1].endswith("(tap Record).")  # how to record, as declared
    await channel.receive(payload("audio", file=str(ROOT / "tests/fixtures/audio/voice.ogg")))
    await press("Submit", 3)
    await until(lambda: any(s.message.audio for s in out.chat(ROOM)), "the review cards")
    audio = next(s.message.audio for s in out.chat(ROOM) if s.message.audio)
    assert audio.mime == "audio/mp4" and audio.path.endswith(".m4a")  # inline_audio: M4A/AAC
    assert Path(audio.path).read_bytes()[4:8] == b"ftyp"
    assert any(t.startswith("Candidate #1 completed QA Engineer") for t in texts(ROOM))
