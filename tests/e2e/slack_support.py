"""The composed app (real Bolt in HTTP mode) against the fake Slack Web API, for e2e tests.

`slack_world` builds the app with `bots.app.build` + `make_channels`, runs `serve` on a free
port until the test ends, and drives it with correctly signed requests. Every request helper
waits for the channel to finish the work it acknowledged (`SlackChannel.idle`), so no test
depends on how fast the machine is.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bots.app import App, build, make_channels, serve
from bots.settings import Settings
from bots.slack.channel import SlackChannel
from bots.slack.invite import invite_slack_user
from core.commands import CreateInvitation
from core.model import Interview
from fakes import slack as ev
from fakes.slack import FakeSlack, PostedMessage, SlackReply, SlackSender

TOKEN = "xoxb-interviewbot-e2e"
SECRET = "e2e-signing-secret"
GRACE = "U0GRACE"  # the referral (candidate)
REV1 = "U0REV1"
REV2 = "U0REV2"
EVE = "U0EVE"  # someone else in the workspace
REVIEW = "CREVIEW"
GRACE_TZ = "Asia/Kolkata"
AUDIO = Path(__file__).parents[1] / "fixtures" / "audio"

SCRIPT = """\
id: referral
title: Platform Engineer (referral)
intro: "Hi {name}! {questions} questions, about {minutes} minutes. Deadline: {deadline}."
consent: "We keep your answers for 90 days; only the hiring team sees them. OK?"
deadline: 7d
answer: {kinds: [voice, text], max_seconds: 60, retakes: 1}
questions:
  - id: built
    text: "Tell us about something you built."
    rubric: [depth, clarity]
  - id: bug
    text: "Walk us through a hard bug, out loud."
    answer: {kinds: [voice]}
    rubric: [depth]
  - id: written
    text: "In writing: what would you change in your last team?"
    answer: {kinds: [text]}
    rubric: [clarity]
rubric:
  depth: "Technical depth"
  clarity: "Clear and structured"
  scale: [1, 2, 3, 4, 5]
review: {reviewers: ["slack:CREVIEW"], blind: true, independent: true}
outro: "Any questions for the team? Send them as text, or tap Done."
"""

# (file name, mimetype) of the Slack clips the tests share
M4A = ("voice.m4a", "audio/mp4")
WEBM = ("clip.webm", "audio/webm")


MANIFEST = Path(__file__).parents[2] / "deploy" / "slack-manifest.yaml"
# The bot scope each Web API method needs (None: no scope), from Slack's method reference.
METHOD_SCOPES: dict[str, str | None] = {
    "auth.test": None, "views.open": None, "views.publish": None,
    "conversations.open": "im:write", "users.info": "users:read",
    "chat.postMessage": "chat:write", "chat.update": "chat:write",
    "chat.postEphemeral": "chat:write", "files.info": "files:read",
    "files.getUploadURLExternal": "files:write", "files.completeUploadExternal": "files:write",
    "conversations.info": "groups:read", "conversations.members": "channels:read",
    "usergroups.users.list": "usergroups:read",
}


def manifest() -> dict[str, Any]:
    return dict(yaml.safe_load(MANIFEST.read_text()))


def assert_scopes_cover(fake: FakeSlack) -> None:
    """Every Web API method the app called is allowed by the manifest's bot scopes."""
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    for call in fake.calls:
        assert call.method in METHOD_SCOPES, f"unexpected Web API method {call.method}"
        needed = METHOD_SCOPES[call.method]
        assert needed is None or needed in scopes, f"{call.method} needs {needed}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Snapshot:
    """What an interview has recorded, to prove a bad input changed nothing."""

    rows: tuple[Any, ...]
    media_files: int


class SlackWorld:
    """The running app, the fake workspace and a signed sender, with helpers for tests."""

    def __init__(self, fake: FakeSlack, sender: SlackSender, app: App, channel: SlackChannel,
                 settings: Settings) -> None:
        self.fake = fake
        self.sender = sender
        self.app = app
        self.channel = channel
        self.settings = settings

    # -- sending -----------------------------------------------------------------------------
    async def deliver(self, envelope: dict[str, Any], **options: Any) -> SlackReply:
        """POST a signed event and wait until the app has handled it."""
        reply = await self.sender.event(envelope, **options)
        await self.channel.idle()
        return reply

    async def interact(self, payload: dict[str, Any], **options: Any) -> SlackReply:
        reply = await self.sender.interaction(payload, **options)
        await self.channel.idle()
        return reply

    async def command(self, user: str, text: str, channel: str | None = None) -> SlackReply:
        fields = ev.slash_command(user, text, channel=channel or self.dm(user),
                                  channel_name="directmessage" if channel is None else "general",
                                  trigger_id=self.fake.issue_trigger(user))
        reply = await self.sender.command(fields)
        await self.channel.idle()
        return reply

    async def say(self, user: str, text: str) -> dict[str, Any]:
        """The person sends a DM; returns the envelope (to edit, delete or redeliver it)."""
        envelope = ev.message(user, text, channel=self.dm(user))
        await self.deliver(envelope)
        return envelope

    async def share(self, user: str, fixture: tuple[str, str] | str, *, mime: str | None = None,
                    subtype: str | None = "slack_audio", duration_ms: int | None = 6000,
                    transcription: dict[str, Any] | None = None, name: str | None = None,
                    data: bytes | None = None) -> dict[str, Any]:
        """The person shares a file in the DM (a Slack audio clip by default)."""
        if isinstance(fixture, tuple):
            fixture, mime = fixture
        payload = data if data is not None else (AUDIO / fixture).read_bytes()
        file = self.fake.add_file(user, payload, name or fixture, mime, subtype=subtype,
                                  duration_ms=duration_ms, transcription=transcription)
        envelope = ev.file_share(user, [file], channel=self.dm(user))
        await self.deliver(envelope)
        return envelope

    async def press(self, channel: str, label: str, user: str, *,
                    message: PostedMessage | dict[str, Any] | None = None) -> SlackReply:
        """Press the newest button labelled `label` in `channel` (or on `message`)."""
        if message is None:
            ts = None
            for msg in reversed(self.fake.messages(channel)):
                try:
                    msg.button(label)
                except LookupError:
                    continue
                ts = msg.ts
                break
            assert ts is not None, f"no {label!r} button in {channel}: {self.texts(channel)}"
            message = self.fake.message(channel, ts)
        payload = ev.press(message, label, user, channel=channel,
                           trigger_id=self.fake.issue_trigger(user))
        return await self.interact(payload)

    # -- reading -----------------------------------------------------------------------------
    def dm(self, user: str) -> str:
        return self.fake.dm_channel(user)

    def texts(self, channel: str) -> list[str]:
        return [m.all_text for m in self.fake.messages(channel)]

    def last(self, channel: str) -> str:
        messages = self.fake.messages(channel)
        return messages[-1].text if messages else ""

    def whispers(self, user: str) -> list[str]:
        """Ephemeral messages `user` was shown, oldest first."""
        return [e.text for e in self.fake.ephemerals(user=user)]

    def interviews(self) -> list[Interview]:
        with self.app.services.uow() as uow:
            return uow.interviews.for_script("referral")

    def interview(self) -> Interview:
        (found,) = self.interviews()
        return found

    def snapshot(self) -> Snapshot:
        rows = []
        with self.app.services.uow() as uow:
            for i in uow.interviews.for_script("referral"):
                answers = tuple(sorted((a.question_id, len(a.takes), a.kept_take_id)
                                       for a in i.answers))
                replies = tuple(f.reply is not None for f in i.follow_ups)
                rows.append((i.id, i.state, i.awaiting_redo, answers, replies,
                             len(i.candidate_questions), len(uow.reviews.ratings(i.id))))
        media = self.settings.media_dir
        files = sum(1 for p in media.rglob("*") if p.is_file()) if media.exists() else 0
        return Snapshot(tuple(rows), files)

    # -- flows -------------------------------------------------------------------------------
    async def invite(self, name: str = "Grace Hopper", user: str = GRACE) -> Interview:
        interview, token = self.app.engine.invite(CreateInvitation("referral", name, "slack"))
        await invite_slack_user(self.app, token, user)
        return interview

    async def start(self) -> None:
        """Invite Grace and agree to the terms: Question 1 is waiting."""
        await self.invite()
        await self.press(self.dm(GRACE), "I agree", GRACE)
        assert self.last(self.dm(GRACE)).startswith("Question 1 of 3")

    async def complete(self) -> None:
        """Answer all three questions (m4a clip, webm clip, text) and keep each."""
        await self.start()
        dm = self.dm(GRACE)
        await self.share(GRACE, M4A, transcription={
            "status": "complete", "preview": {"content": "I built a billing service.",
                                              "has_more": False}})
        await self.press(dm, "Submit", GRACE)
        await self.share(GRACE, WEBM)
        await self.press(dm, "Submit", GRACE)
        await self.say(GRACE, "Fewer meetings, more written design reviews.")
        await self.press(dm, "Submit", GRACE)
        assert "That was the last question" in self.last(dm)


def settings_for(tmp: Path, fake: FakeSlack, port: int) -> Settings:
    scripts = tmp / "scripts"
    scripts.mkdir(exist_ok=True)
    (scripts / "referral.yaml").write_text(SCRIPT)
    values: dict[str, Any] = {
        "DATABASE_URL": f"sqlite:///{tmp / 'ib.db'}",
        "INTERVIEWBOT_DATA_DIR": str(tmp / "data"),
        "INTERVIEWBOT_SCRIPTS": str(scripts),
        "INTERVIEWBOT_HTTP_PORT": port,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_APP_TOKEN": None,
        "SLACK_API_URL": fake.api_url,
        "TELEGRAM_BOT_TOKEN": None,
    }
    return Settings(_env_file=None, **values)


def workspace(fake: FakeSlack) -> None:
    fake.user(GRACE, "Grace", GRACE_TZ, real_name="Grace Hopper")
    fake.user(REV1, "Linus", "Europe/Helsinki")
    fake.user(REV2, "Barbara", "America/New_York")
    fake.user(EVE, "Eve", "Europe/Paris")
    fake.channel(REVIEW, "hiring-reviews", is_private=True)


@asynccontextmanager
async def slack_world(tmp: Path, *, fast: bool = True) -> AsyncIterator[SlackWorld]:
    """The composed app serving /slack/events, its Web API pointed at a fresh fake."""
    async with FakeSlack(bot_token=TOKEN) as fake:
        workspace(fake)
        port = free_port()
        settings = settings_for(tmp, fake, port)
        app = build(settings)
        channels = make_channels(settings, app)
        (channel,) = channels
        assert isinstance(channel, SlackChannel)
        channel.processing_wait = 0.0
        if fast:  # pacing has its own test; here it would only make the suite slow
            channel.slack.rate, channel.slack.burst = 1000.0, 1000
        stop = asyncio.Event()
        server = asyncio.create_task(serve(app, channels, stop))
        base = f"http://127.0.0.1:{port}"
        try:
            await _wait_until_up(base, server)
            async with SlackSender(base, SECRET) as sender:
                yield SlackWorld(fake, sender, app, channel, settings)
        finally:
            stop.set()
            await server


async def _wait_until_up(base: str, server: asyncio.Task[None]) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(500):
            if server.done():
                server.result()
            try:
                async with session.get(base + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.02)
    raise TimeoutError("the app did not start serving")
