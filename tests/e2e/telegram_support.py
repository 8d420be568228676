"""The composed interviewbot (bots.app.build + make_channels + serve) against FakeTelegram."""

from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bots.app import App, build, make_channels, serve
from bots.settings import Settings
from bots.telegram.channel import TelegramChannel
from bots.telegram.pacing import Pacing
from core.commands import CreateInvitation
from core.model import Interview
from fakes.telegram import BotMessage, FakeTelegram, FakeUser

AUDIO = Path(__file__).resolve().parents[1] / "fixtures" / "audio"
SCRIPT_ID = "qa-telegram"
REVIEW_GROUP = -100200
# Fast pacing for functional tests; test_pacing_* run with Telegram's real limits.
FAST = Pacing(private_per_second=1000.0, private_burst=100, group_per_minute=100_000.0,
              backoff=0.05)

SCRIPT = f"""\
id: {SCRIPT_ID}
title: QA Engineer (Telegram)
intro: "Hi {{name}}! {{questions}} questions, about {{minutes}} minutes. Due {{deadline}}."
consent: "We keep your answers for 90 days, seen only by the hiring team. OK?"
deadline: 7d
answer: {{kinds: [voice, text], max_seconds: 30, retakes: 1}}
questions:
  - id: warmup
    text: "Warm up: say hello."
    practice: true
  - id: project
    text: "Tell us about a project you are proud of."
    answer: {{kinds: [voice], max_seconds: 30, retakes: 2}}
  - id: tradeoff
    text: "Describe a trade-off you made."
    answer: {{kinds: [text], retakes: 0}}
  - id: testing
    text: "How do you test your code?"
rubric:
  depth: "Technical depth"
  clarity: "Clear and concise"
  scale: [1, 2, 3, 4, 5]
review: {{reviewers: ["telegram:{REVIEW_GROUP}"], blind: true, independent: true}}
"""


def audio(name: str) -> bytes:
    return (AUDIO / name).read_bytes()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_TEMPLATE: list[Path] = []


def migrated_database(target: Path) -> None:
    """Copy a database migrated once per test run (build() then finds nothing to upgrade)."""
    if not _TEMPLATE:
        from storage.db import make_engine
        from storage.migrate import upgrade

        path = Path(tempfile.mkdtemp(prefix="interviewbot-template-")) / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        engine.dispose()
        _TEMPLATE.append(path)
    shutil.copyfile(_TEMPLATE[0], target)


def settings_for(tmp: Path, fake: FakeTelegram, **env: Any) -> Settings:
    """Settings as `interviewbot run` would read them, pointed at the fake and a temp dir."""
    database = tmp / "interviewbot.db"
    if not database.exists():
        migrated_database(database)
    scripts = tmp / "scripts"
    scripts.mkdir(exist_ok=True)
    (scripts / f"{SCRIPT_ID}.yaml").write_text(SCRIPT)
    values: dict[str, Any] = {
        "DATABASE_URL": f"sqlite:///{database}",
        "INTERVIEWBOT_DATA_DIR": str(tmp / "data"),
        "INTERVIEWBOT_SCRIPTS": str(scripts),
        "INTERVIEWBOT_HTTP_PORT": free_port(),
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_URL": f"{fake.url}/bot",
        "TELEGRAM_FILE_URL": f"{fake.url}/file/bot",
        "TELEGRAM_WEBHOOK_URL": None,
        "TELEGRAM_WEBHOOK_SECRET": None,
        "SLACK_BOT_TOKEN": None,
    }
    values.update(env)
    return Settings(_env_file=None, **values)


@dataclass
class RunningBot:
    """`serve()` in a background task, as `interviewbot run` runs it."""

    settings: Settings
    app: App
    channel: TelegramChannel
    stop_event: asyncio.Event
    task: asyncio.Task[None]

    async def stop(self) -> None:
        self.stop_event.set()
        await asyncio.wait_for(self.task, 30)


async def start_bot(settings: Settings) -> RunningBot:
    app = build(settings)
    channels = make_channels(settings, app)
    (channel,) = channels
    assert isinstance(channel, TelegramChannel)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, channels, stop))
    ready = asyncio.create_task(channel.ready.wait())
    done, _ = await asyncio.wait({ready, task}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        ready.cancel()
        task.result()
        raise RuntimeError("serve() ended before the channel was ready")
    if ready not in done:
        raise TimeoutError("the Telegram channel did not start")
    return RunningBot(settings, app, channel, stop, task)


@dataclass
class Session:
    """A fake Telegram, the running bot, and helpers to drive candidates and check records."""

    fake: FakeTelegram
    bot: RunningBot
    tmp: Path
    users: dict[int, FakeUser] = field(default_factory=dict)

    @property
    def app(self) -> App:
        return self.bot.app

    def invite(self, name: str = "Ada", tz: str | None = None) -> tuple[Interview, str]:
        """`interviewbot invite qa-telegram --name NAME --telegram [--tz TZ]`."""
        return self.app.engine.invite(CreateInvitation(SCRIPT_ID, name, "telegram", tz))

    def interview(self, interview_id: str) -> Interview:
        with self.app.services.uow() as uow:
            found = uow.interviews.get(interview_id)
        assert found is not None
        return found

    def recorded(self, interview_id: str) -> tuple[object, ...]:
        """Everything an input could have changed: answers, takes, media files."""
        interview = self.interview(interview_id)
        takes = tuple((a.question_id, a.kept_take_id, tuple(
            (t.id, t.kind, t.text, t.media_key) for t in a.takes)) for a in interview.answers)
        return (interview.state, interview.awaiting_redo, takes,
                tuple(q.text for q in interview.candidate_questions), self.media_files())

    def media_files(self) -> tuple[str, ...]:
        root = self.app.settings.media_dir
        if not root.exists():
            return ()
        return tuple(sorted(str(p.relative_to(root)) for p in root.rglob("*")
                            if p.is_file() and ".staging" not in p.parts))

    async def press(self, user: FakeUser, message: BotMessage, label: str) -> str | None:
        """Tap a button and return the callback answer's text."""
        update = self.fake.press_button(user, message, label=label)
        query_id = update["callback_query"]["id"]
        answer = await self.fake.wait_for(lambda: next(
            (a for a in self.fake.callback_answers if a.callback_query_id == query_id), None),
            timeout=20)
        return answer.text

    async def reply(self, user: FakeUser, contains: str | None = None,
                    timeout: float = 20) -> BotMessage:
        """The bot's answer to the person's latest action: a new message, or a message edited
        since (a pressed button's message, edited into its result and the next question)."""
        return await self.fake.wait_for_message(user.id, contains, timeout=timeout,
                                                include_edits=True)

    async def begin(self, user: FakeUser, name: str = "Ada") -> Interview:
        """Invite (time zone known), open the link, agree: the candidate is at the practice
        question."""
        interview, token = self.invite(name, "Europe/Lisbon")
        self.fake.send_command(user, "/start", token)
        consent = await self.reply(user, "90 days")
        assert await self.press(user, consent, "I agree") == "Thank you!"
        await self.reply(user, "Warm up: say hello.")
        return interview

    async def to_question(self, user: FakeUser, name: str = "Ada", *,
                          question: str = "project") -> Interview:
        """Begin and answer quickly up to `question` (project, tradeoff or testing)."""
        interview = await self.begin(user, name)
        practice = await self.reply(user, "Warm up")
        assert await self.press(user, practice, "Skip practice") == "Skipped."
        await self.reply(user, "Question 1 of 3")
        if question == "project":
            return interview
        self.fake.send_voice(user, audio("voice.ogg"), duration=6)
        receipt = await self.reply(user, "Got your voice answer")
        assert await self.press(user, receipt, "Submit") == "Submitted."
        await self.reply(user, "Question 2 of 3")
        if question == "tradeoff":
            return interview
        self.fake.send_text(user, "I chose SQLite over PostgreSQL for a single-user tool.")
        receipt = await self.reply(user, "Got your written answer")
        assert await self.press(user, receipt, "Submit") == "Submitted."
        await self.reply(user, "Question 3 of 3")
        return interview


def expire(session: Session, interview_id: str) -> None:
    """Move an interview's deadline into the past, as if days had gone by."""
    from datetime import UTC, datetime, timedelta

    with session.app.services.uow() as uow:
        found = uow.interviews.get(interview_id)
        assert found is not None
        found.deadline = datetime.now(UTC) - timedelta(minutes=1)
        uow.commit()


class HoldingTelegram(FakeTelegram):
    """FakeTelegram that can hold the bot's sendMessage calls to chosen chats until released."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gates: dict[int, asyncio.Event] = {}
        self.held: list[int] = []

    def hold(self, chat_id: int) -> asyncio.Event:
        gate = self.gates[chat_id] = asyncio.Event()
        return gate

    async def _send_message(self, params: dict[str, Any], uploads: dict[str, Any]) -> Any:
        gate = self.gates.get(params.get("chat_id"))  # type: ignore[arg-type]
        if gate is not None and not gate.is_set():
            self.held.append(int(params["chat_id"]))
            self._signal()
            await gate.wait()
        return await super()._send_message(params, uploads)
