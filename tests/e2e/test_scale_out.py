"""Scale-out: two `interviewbot run` processes on one PostgreSQL behind a round-robin forwarder.

Both processes share one throwaway PostgreSQL (`DATABASE_URL`) and one media folder
(`INTERVIEWBOT_DATA_DIR`, the shared disk voice notes are kept on). Telegram runs in webhook mode
and Slack in HTTP mode; the webhook URL and the Slack request URL point at a tiny HTTP forwarder
on 127.0.0.1 that sends each request to the next process in turn (A, B, A, B, ...), passing
headers and bodies through, like a load balancer without stickiness. So one candidate's answer
is often handled by one process and their Keep press by the other.

The fake Telegram pushes updates to the webhook as Telegram does: updates of different chats
concurrently, those of one chat one at a time, each after the previous was answered (retrying
a non-2xx answer); it enforces Telegram's flood limits (1 message/s per chat), answering 429
beyond them. Slack requests are signed (`fakes/slack/sender.py`).

Telegram and Slack candidates take a three-question interview at once, answering by text and
by real voice notes / audio clips, pressing Keep after each answer, then asking the team a
question (some of them), tapping Done and rating the interview. Some tap Keep twice at once,
as people do when a reply is slow: the second tap must be told the button is no longer active
and change nothing. (Slack requests are acknowledged first and handled after, so two taps, or a
tap and the next answer, can be handled at the same time by the two processes.) Afterwards,
from the database: every interview is complete, with exactly one take per question, each text
take is the text sent and each voice take's file is on the shared disk with its checksum; every
update and Slack request sent was recorded, once; every chat saw each step once, in order;
nobody got an apology and no process logged an error.

Reminders once: both processes run the scheduler, and a PostgreSQL advisory lock lets only one
(the leader, A here) fire timers. Two more candidates open their invitation of a script whose
`not_started` reminder is due one second after the invitation and then do nothing: one of them
is handled by A, the other by B. Each gets the reminder exactly once. (B does not plan timers;
the leader picks up what B changed when it next reconciles the job store with the database,
which it does every minute, so that reminder takes up to a minute.)

Nothing depends on the machine's speed: people wait for replies, and the bounds only limit a
failing run. The figures are printed (run pytest with -s); each process's log is kept in the
test's temp folder (`logs/A.log`, `logs/B.log`) and quoted when something fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import os
import re
import signal
import socket
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import aiohttp
from aiohttp import web
from sqlalchemy import text as sql

from bots.app import build, slack_outbound
from bots.settings import Settings
from bots.slack.invite import invite_slack_user
from bots.telegram.channel import SORRY
from core import texts
from core.commands import CreateInvitation
from core.states import State
from fakes import slack as ev
from fakes.slack import FakeSlack, PostedMessage, SlackSender, iter_buttons
from fakes.telegram import BotMessage, FakeTelegram, FakeUser, RateLimits
from tests.conftest import _fresh_postgres

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent / "interviewbot"
AUDIO = ROOT / "tests" / "fixtures" / "audio"
TELEGRAM_PEOPLE = 8
SLACK_PEOPLE = 3
PROCESSES = ("A", "B")
BOUND = 120.0  # seconds for the interviews; only a failing run gets near this
RECONCILE = 60.0  # seconds between the leader's reconciliations (bots.scheduler)
TELEGRAM_VOICES = (("voice.ogg", "audio/ogg"), ("quiet.ogg", "audio/ogg"))
SLACK_CLIPS = (("voice.m4a", "audio/mp4"), ("clip.webm", "audio/webm"))
VOICE_SECONDS = 6
WEBHOOK_SECRET = "scale-out-webhook-secret"
SLACK_TOKEN = "xoxb-scale-out"
SLACK_SECRET = "scale-out-signing-secret"
TZ = "Europe/Lisbon"

SCRIPT_ID = "scale"
CONSENT = "We keep your answers for 90 days. OK?"
QUESTIONS = ("first", "second", "third")
SCRIPT = f"""\
id: {SCRIPT_ID}
title: Scale-out engineer
intro: "Hi {{name}}! {{questions}} questions. Due {{deadline}}."
consent: "{CONSENT}"
deadline: 7d
answer: {{kinds: [voice, text], max_seconds: 60, retakes: 1}}
questions:
  - {{id: first, text: "Tell us about yourself."}}
  - {{id: second, text: "Tell us about a project you are proud of."}}
  - {{id: third, text: "Describe a trade-off you made."}}
rubric:
  depth: "Technical depth"
  scale: [1, 2, 3, 4, 5]
review: {{reviewers: []}}
outro: "Any questions for the team? Send them as text, or tap Done."
"""
STALL_ID = "stall"
STALL_CONSENT = "Shall we begin? Your answers are kept for 90 days."
STALL_SCRIPT = f"""\
id: {STALL_ID}
title: Stalled engineer
intro: "Hi {{name}}! {{questions}} question. Due {{deadline}}."
consent: "{STALL_CONSENT}"
deadline: 7d
reminders: {{not_started: [1s], idle: "off", before_deadline: "off", reviewers: "off"}}
questions:
  - {{id: only, text: "Anything to add?"}}
rubric:
  depth: "Technical depth"
  scale: [1, 2, 3, 4, 5]
review: {{reviewers: []}}
"""
REMINDER = "A reminder:"

# Steps of the interview, as the bot's messages show them: consent 0, question k 2k-1,
# the receipt (Keep / Re-record) of question k 2k, the end of the questions DONE.
DONE = 2 * len(QUESTIONS) + 1
NOTED = "Noted, the team will see your question."
FEEDBACK = "One last thing: how was this interview for you?"
THANKS = "Thank you for your time!"
TRY_AGAIN = (SORRY, texts.DOWNLOAD_FAILED, texts.PROCESSING)


def carried(text: str) -> bool:
    """A submitted receipt, edited into the result with the next question below it."""
    return text.startswith("Submitted your answer") and "\n\nQuestion " in text


def step_of(text: str, labels: list[str]) -> int | None:
    """The interview step a bot message asks for, None if it asks for nothing."""
    if m := re.match(r"Question (\d) of 3 ·", text):
        return 2 * int(m[1]) - 1
    if carried(text) and (m := re.search(r"\n\nQuestion (\d) of 3 ·", text)):
        return 2 * int(m[1]) - 1
    if text.startswith("Got your") and (m := re.search(r" to Question (\d) of 3\.", text)):
        return 2 * int(m[1])
    if CONSENT in text and "I agree" in labels:
        return 0
    if text.startswith("That was the last question"):
        return DONE
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the forwarder ----------------------------------------------------------------------------

HOP_BY_HOP = frozenset({"host", "content-length", "transfer-encoding", "connection",
                        "keep-alive", "content-encoding", "upgrade", "te", "trailer"})


@dataclass
class Forwarded:
    """One request passed on: to which process, what, and the answer."""

    backend: int
    path: str
    body: bytes
    status: int


class Forwarder:
    """A round-robin HTTP forwarder: request n goes to backend n mod len(backends)."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.log: list[Forwarded] = []
        self._next = 0
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self._session = aiohttp.ClientSession(auto_decompress=False)

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        index = self._next % len(self.backends)
        self._next += 1
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        assert self._session is not None
        try:
            async with self._session.request(
                    request.method, self.backends[index] + request.rel_url.path_qs, data=body,
                    headers=headers, allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=None)) as answer:
                payload = await answer.read()
                status = answer.status
                back = {k: v for k, v in answer.headers.items()
                        if k.lower() not in HOP_BY_HOP}
        except (aiohttp.ClientError, OSError) as exc:
            self.log.append(Forwarded(index, request.path, body, 502))
            return web.Response(status=502, text=f"bad gateway: {type(exc).__name__}")
        self.log.append(Forwarded(index, request.path, body, status))
        return web.Response(status=status, body=payload, headers=back)

    def counts(self) -> list[int]:
        found = Counter(f.backend for f in self.log)
        return [found[i] for i in range(len(self.backends))]


def requester(forwarded: Forwarded) -> tuple[str, str | None] | None:
    """Who sent a forwarded request (`telegram:<chat>` or `slack:<user>`) and, for a button
    press, the button's payload."""
    try:
        if forwarded.path.startswith("/telegram/"):
            update = json.loads(forwarded.body)
            for kind, payload in update.items():
                if kind == "update_id" or not isinstance(payload, dict):
                    continue
                message = payload.get("message") if kind == "callback_query" else payload
                if isinstance(message, dict) and isinstance(message.get("chat"), dict):
                    return f"telegram:{message['chat']['id']}", payload.get("data")
            return None
        if forwarded.path.startswith("/slack/"):
            if forwarded.body.startswith(b"{"):
                body = json.loads(forwarded.body)
                return f"slack:{body.get('event', {}).get('user')}", None
            payload = json.loads(parse_qs(forwarded.body.decode())["payload"][0])
            return f"slack:{payload['user']['id']}", str(payload["actions"][0].get("value"))
    except (ValueError, KeyError, TypeError, IndexError):
        return None
    return None


# -- the processes ----------------------------------------------------------------------------

class BotProcess:
    """One `interviewbot run` with its own HTTP port; stderr goes to `logs/<name>.log`."""

    def __init__(self, name: str, env: dict[str, str], cwd: Path, logs: Path) -> None:
        self.name = name
        self.port = int(env["INTERVIEWBOT_HTTP_PORT"])
        self.env = env
        self.cwd = cwd
        self.log_path = logs / f"{name}.log"
        self.process: asyncio.subprocess.Process | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                str(BIN), "run", env=self.env, cwd=str(self.cwd),
                stdout=asyncio.subprocess.DEVNULL, stderr=log, start_new_session=True)

    async def get(self, session: aiohttp.ClientSession, path: str) -> tuple[int, str]:
        async with session.get(self.base + path) as response:
            return response.status, await response.text()

    async def health(self, session: aiohttp.ClientSession) -> dict[str, Any] | None:
        """/healthz, or None while the process does not answer yet."""
        try:
            status, body = await self.get(session, "/healthz")
        except aiohttp.ClientError:
            return None
        return dict(json.loads(body), status=status)

    async def wait_until(self, session: aiohttp.ClientSession,
                         ready: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """Poll /healthz until `ready`; fails at once if the process exits."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 90
        last: dict[str, Any] | None = None
        while loop.time() < deadline:
            assert self.process is not None
            if self.process.returncode is not None:
                raise AssertionError(f"process {self.name} exited with "
                                     f"{self.process.returncode}:\n{self.log_text()[-3000:]}")
            last = await self.health(session)
            if last is not None and ready(last):
                return last
            await asyncio.sleep(0.1)
        raise AssertionError(f"process {self.name} not ready: {last}\n{self.log_text()[-3000:]}")

    async def stop(self) -> int:
        """SIGTERM, a clean shutdown: the exit status."""
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 60)

    def ensure_dead(self) -> None:
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


RATE_LIMITED = "still rate limited after retries"


def log_problems(text: str) -> list[str]:
    """Error lines, but not a send given up after repeated 429s: Telegram may answer 429 any
    number of times in a row, and such a send stays in the outbox for a later sweep (that it
    arrives, once, is checked on the chats)."""
    problems: list[str] = []
    skip = False
    for line in text.splitlines():
        if '"level": "error"' in line or '"level": "critical"' in line:
            skip = RATE_LIMITED in line
            if not skip:
                problems.append(line)
        elif "Traceback" in line and not skip:
            problems.append(line)
    return problems


def rate_limited_sends(text: str) -> int:
    """Sends a process gave up after repeated 429s (left in the outbox for the next sweep)."""
    return sum(RATE_LIMITED in line for line in text.splitlines())


def metric(body: str, name: str) -> float:
    """The sum of a Prometheus counter's samples."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in body.splitlines()
               if line.startswith(name) and not line.startswith("#"))


# -- the people -------------------------------------------------------------------------------

def reminded(person: Person) -> int:
    """How many reminders a person got."""
    return sum(m.text.startswith(REMINDER) for m in person.shown())


class Stuck(AssertionError):
    """A person waited in vain for the bot (only a failing run gets there)."""


@dataclass(frozen=True)
class Shown:
    """A bot message in a person's chat, as first sent (before any edit)."""

    text: str
    labels: list[str]
    handle: Any  # the platform's message object, to press its buttons

    @property
    def step(self) -> int | None:
        return step_of(self.text, self.labels)


@dataclass
class Person:
    """A candidate who answers every question, keeps each answer and wraps up."""

    number: int
    interview_id: str
    deadline: float
    kinds: dict[str, str] = field(default_factory=dict)
    asks: bool = False
    rating: int = 4
    double_tap: int | None = None  # the question whose Keep this person taps twice at once
    problems: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # delivery keys of everything sent
    name: str = ""

    # platform specifics ------------------------------------------------------------------------
    @property
    def who(self) -> str:
        """`telegram:<chat>` or `slack:<user>`, as `requester` names them."""
        raise NotImplementedError

    def shown(self) -> list[Shown]:
        raise NotImplementedError

    async def wait(self, check: Callable[[], Any]) -> None:
        raise NotImplementedError

    async def open_invitation(self) -> None:
        raise NotImplementedError

    async def say(self, words: str) -> None:
        raise NotImplementedError

    async def voice(self, question: str) -> None:
        raise NotImplementedError

    async def press(self, message: Shown, label: str) -> None:
        raise NotImplementedError

    # the interview --------------------------------------------------------------------------
    def answer_text(self, question: str) -> str:
        return f"{self.name} answering {question}: it was an interesting problem."

    def question_for_team(self) -> str:
        return f"{self.name} asks: what does on-call look like?"

    async def _until(self, mark: int, want: Callable[[Shown], bool], what: str,
                     act: Callable[[], Awaitable[None]]) -> Shown:
        """Do `act`, then wait for a message after `mark` that `want`s; a please-try-again
        reply is noted as a problem and the person tries again (three times at most)."""
        await act()
        tries = 1
        loop = asyncio.get_running_loop()
        while True:
            def reply(mark: int = mark) -> Shown | str | None:
                for message in self.shown()[mark:]:
                    if want(message):
                        return message
                    if message.text in TRY_AGAIN:
                        return message.text
                return None

            while (result := reply()) is None:
                if loop.time() > self.deadline:
                    recent = [m.text[:70] for m in self.shown()[-4:]]
                    raise Stuck(f"{self.name} waited in vain for {what}; last messages: "
                                f"{recent}")
                await self.wait(lambda: reply() is not None)
            if isinstance(result, Shown):
                return result
            self.problems.append(f"{self.name}: {result!r} while waiting for {what}")
            if tries >= 3:
                raise AssertionError(f"{self.name}: the bot kept failing: {self.problems}")
            mark = len(self.shown())
            tries += 1
            await act()

    async def step(self, act: Callable[[], Awaitable[None]], expected: int,
                   mark: int | None = None) -> Shown:
        """Do `act`; the next step the bot shows must be `expected`."""
        mark = len(self.shown()) if mark is None else mark
        got = await self._until(mark, lambda m: m.step is not None, f"step {expected}", act)
        if got.step != expected:
            raise AssertionError(f"{self.name}: step {got.step} shown while waiting for "
                                 f"step {expected}: {got.text[:80]!r}")
        return got

    async def expect(self, act: Callable[[], Awaitable[None]], start: str) -> Shown:
        """Do `act`; wait for a message starting with `start`."""
        mark = len(self.shown())
        return await self._until(mark, lambda m: m.text.startswith(start), repr(start), act)

    async def run(self) -> None:
        # a Slack invitation is already in the DM: look from its start
        consent = await self.step(self.open_invitation, 0,
                                   0 if isinstance(self, SlackPerson) else None)
        prompt = await self.step(lambda: self.press(consent, "I agree"), 1)
        for k, question in enumerate(QUESTIONS, start=1):
            assert prompt.step == 2 * k - 1

            async def answer(question: str = question) -> None:
                if self.kinds[question] == "voice":
                    await self.voice(question)
                else:
                    await self.say(self.answer_text(question))

            receipt = await self.step(answer, 2 * k)
            expected = DONE if k == len(QUESTIONS) else 2 * k + 1
            taps = 2 if self.double_tap == k else 1

            async def keep(receipt: Shown = receipt, taps: int = taps) -> None:
                await asyncio.gather(*(self.press(receipt, "Submit") for _ in range(taps)))

            prompt = await self.step(keep, expected)
        last = prompt
        if self.asks:
            last = await self.expect(lambda: self.say(self.question_for_team()), NOTED)
        feedback = await self.expect(lambda: self.press(last, "Done"), FEEDBACK)
        await self.expect(lambda: self.press(feedback, str(self.rating)), THANKS)


@dataclass
class TelegramPerson(Person):
    fake: FakeTelegram | None = None
    user: FakeUser | None = None
    token: str = ""

    @property
    def tg(self) -> FakeTelegram:
        assert self.fake is not None
        return self.fake

    @property
    def chat(self) -> int:
        assert self.user is not None
        return self.user.id

    @property
    def who(self) -> str:
        return f"telegram:{self.chat}"

    def shown(self) -> list[Shown]:
        """Each message as first sent, and a receipt's edit carrying the next question, in
        the order they appeared."""
        entries = []
        for m in self.tg.messages(self.chat):
            entries.append((m.seq, Shown(original_text(m), original_labels(m), m)))
            if m.updated_seq > m.seq and carried(m.text or ""):
                entries.append((m.updated_seq, Shown(m.text or "", m.button_labels, m)))
        return [shown for _, shown in sorted(entries, key=lambda e: e[0])]

    async def wait(self, check: Callable[[], Any]) -> None:
        with contextlib.suppress(TimeoutError):
            await self.tg.wait_for(check, timeout=1.0)

    def _sent(self, update: dict[str, Any]) -> None:
        if "callback_query" in update:
            self.keys.append(f"telegram:cbq:{update['callback_query']['id']}")
        else:
            self.keys.append(f"telegram:update:{update['update_id']}")

    async def open_invitation(self) -> None:
        assert self.user is not None
        self._sent(self.tg.send_command(self.user, "/start", self.token))

    async def say(self, words: str) -> None:
        assert self.user is not None
        self._sent(self.tg.send_text(self.user, words))

    async def voice(self, question: str) -> None:
        assert self.user is not None
        name, _mime = TELEGRAM_VOICES[(self.number + QUESTIONS.index(question)) % 2]
        self._sent(self.tg.send_voice(self.user, (AUDIO / name).read_bytes(),
                                      duration=VOICE_SECONDS))

    async def press(self, message: Shown, label: str) -> None:
        assert self.user is not None
        self._sent(self.tg.press_button(self.user, message.handle, label=label))


def original_text(message: BotMessage) -> str:
    first = message.history[0] if message.history else message.payload
    value = first.get("text", first.get("caption"))
    return value if isinstance(value, str) else ""


def original_labels(message: BotMessage) -> list[str]:
    first = message.history[0] if message.history else message.payload
    markup = first.get("reply_markup") or {}
    return [str(b.get("text", "")) for row in markup.get("inline_keyboard", []) for b in row]


@dataclass
class SlackPerson(Person):
    fake: FakeSlack | None = None
    sender: SlackSender | None = None
    user: str = ""
    answers_sent: list[dict[str, Any]] = field(default_factory=list)

    @property
    def slack(self) -> FakeSlack:
        assert self.fake is not None
        return self.fake

    @property
    def dm(self) -> str:
        return self.slack.dm_channel(self.user)

    @property
    def who(self) -> str:
        return f"slack:{self.user}"

    def shown(self) -> list[Shown]:
        out: list[tuple[float, Shown]] = []
        for message in self.slack.messages(self.dm):
            first: dict[str, Any] = (message.versions[0] if message.versions
                                     else {"text": message.text, "blocks": message.blocks})
            labels = [label for label, _ref, _el in iter_buttons(first["blocks"] or [])]
            out.append((float(message.ts), Shown(str(first["text"]), labels, message)))
            if message.edited and message.edited_ts and carried(message.text):
                now = [label for label, _ref, _el in iter_buttons(message.blocks or [])]
                out.append((float(message.edited_ts), Shown(message.text, now, message)))
        return [shown for _, shown in sorted(out, key=lambda e: e[0])]

    async def wait(self, check: Callable[[], Any]) -> None:
        with contextlib.suppress(TimeoutError):
            await self.slack.wait_for(check, timeout=1.0)

    async def _post(self, envelope: dict[str, Any]) -> None:
        assert self.sender is not None
        reply = await self.sender.event(envelope)
        if reply.status != 200:
            self.problems.append(f"{self.name}: Slack event answered {reply.status}")
        self.keys.append(f"slack:event:{envelope['event_id']}")

    async def open_invitation(self) -> None:
        """Slack invitations arrive as a DM (sent by `interviewbot invite --slack-user`)."""

    async def say(self, words: str) -> None:
        await self._post(ev.message(self.user, words, channel=self.dm))

    async def voice(self, question: str) -> None:
        name, mime = SLACK_CLIPS[(self.number + QUESTIONS.index(question)) % 2]
        file = self.slack.add_file(self.user, (AUDIO / name).read_bytes(), name, mime,
                                   subtype="slack_audio", duration_ms=VOICE_SECONDS * 1000)
        await self._post(ev.file_share(self.user, [file], channel=self.dm))

    async def press(self, message: Shown, label: str) -> None:
        assert self.sender is not None
        handle = message.handle
        assert isinstance(handle, PostedMessage)
        payload = ev.press(handle, label, self.user, channel=self.dm,
                           trigger_id=self.slack.issue_trigger(self.user))
        reply = await self.sender.interaction(payload)
        if reply.status != 200:
            self.problems.append(f"{self.name}: Slack press answered {reply.status}")
        self.keys.append(f"slack:action:{payload['actions'][0]['action_ts']}:{self.user}")


# -- the test ---------------------------------------------------------------------------------

def _environment(tmp: Path, database_url: str, telegram: FakeTelegram, slack: FakeSlack,
                 forwarder_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TELEGRAM_", "SLACK_", "INTERVIEWBOT_", "DATABASE_URL"))}
    scripts = tmp / "scripts"
    scripts.mkdir()
    (scripts / f"{SCRIPT_ID}.yaml").write_text(SCRIPT)
    (scripts / f"{STALL_ID}.yaml").write_text(STALL_SCRIPT)
    env.update(
        DATABASE_URL=database_url,
        INTERVIEWBOT_DATA_DIR=str(tmp / "shared-disk"),
        INTERVIEWBOT_SCRIPTS=str(scripts),
        INTERVIEWBOT_LOG_LEVEL="INFO",
        TELEGRAM_BOT_TOKEN=telegram.token,
        TELEGRAM_API_URL=telegram.api_url,
        TELEGRAM_FILE_URL=telegram.file_url,
        TELEGRAM_WEBHOOK_URL=f"{forwarder_url}/telegram/webhook",
        TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
        SLACK_BOT_TOKEN=SLACK_TOKEN,
        SLACK_SIGNING_SECRET=SLACK_SECRET,
        SLACK_API_URL=slack.api_url,
        PYTHONUNBUFFERED="1",
        # the processes run the code this test belongs to
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    )
    return env


async def until_no_reminder_jobs(settings: Settings, interview_ids: list[str],
                                 timeout: float = 120.0) -> None:
    """Wait until the shared job store holds no not-started reminder of these interviews."""
    app = build(settings, migrate=False)
    patterns = [f"{i}:not_started:%" for i in interview_ids]
    query = sql("SELECT count(*) FROM apscheduler_jobs WHERE " +
                " OR ".join(f"id LIKE :p{n}" for n in range(len(patterns))))
    try:
        async with asyncio.timeout(timeout):
            while True:
                with app.db.connect() as conn:
                    left = conn.execute(query, {f"p{n}": p for n, p in enumerate(patterns)})
                    if not left.scalar():
                        return
                await asyncio.sleep(0.1)
    finally:
        app.db.dispose()


def _settings(env: dict[str, str]) -> Settings:
    values: dict[str, Any] = {k: v for k, v in env.items()
                              if k.startswith(("TELEGRAM_", "SLACK_", "INTERVIEWBOT_",
                                               "DATABASE_URL"))}
    return Settings(_env_file=None, **values)


async def test_two_processes_behind_a_round_robin_forwarder(tmp_path: Path,
                                                            postgres_url: str) -> None:
    started = time.monotonic()
    _fresh_postgres(postgres_url).dispose()
    logs = tmp_path / "logs"
    logs.mkdir()
    ports = [free_port() for _ in PROCESSES]
    forwarder = Forwarder([f"http://127.0.0.1:{port}" for port in ports])
    async with (
        FakeTelegram(rate_limits=RateLimits(), webhook_max_attempts=20,
                     webhook_retry_delay=0.5, webhook_timeout=60.0) as telegram,
        FakeSlack(bot_token=SLACK_TOKEN) as slack,
        aiohttp.ClientSession() as http,
    ):
        await forwarder.start()
        env = _environment(tmp_path, postgres_url, telegram, slack, forwarder.url)
        settings = _settings(env)

        # -- invitations, as `interviewbot invite` makes them ------------------------------
        app = build(settings)  # migrates the database
        try:
            telegram_invites = [
                app.engine.invite(CreateInvitation(SCRIPT_ID, f"Tg {n}", "telegram", TZ))
                for n in range(TELEGRAM_PEOPLE)]
            stall_invites = [
                app.engine.invite(CreateInvitation(STALL_ID, f"Stall {n}", "telegram", TZ))
                for n in range(2)]
            slack_users = [f"U0SCALE{n}" for n in range(SLACK_PEOPLE)]
            slack_interviews = []
            async with slack_outbound(app):  # as the CLI sends: Slack's messenger alone
                for n, user in enumerate(slack_users):
                    slack.user(user, f"Slacker{n}", TZ, real_name=f"Slack Person {n}")
                    interview, token = app.engine.invite(
                        CreateInvitation(SCRIPT_ID, f"Sl {n}", "slack"))
                    await invite_slack_user(app, token, user)
                    slack_interviews.append(interview)
        finally:
            app.db.dispose()

        processes = [BotProcess(name, dict(env, INTERVIEWBOT_HTTP_PORT=str(port)), tmp_path,
                                logs) for name, port in zip(PROCESSES, ports, strict=True)]
        a, b = processes
        loop = asyncio.get_running_loop()
        people: list[Person] = []
        outcomes: list[BaseException | None] = []
        try:
            # -- A first, so that it leads the scheduler; then B ----------------------------
            await a.start()
            await a.wait_until(http, lambda h: h["status"] == 200 and h["scheduler"] == "leader")
            await b.start()
            await b.wait_until(http, lambda h: h["status"] == 200)
            up = time.monotonic()
            deadline = loop.time() + BOUND  # for the people, from when both processes are up
            # the leader reconciles every minute: B's staller is reminded within about one
            reminders_due = loop.time() + 2 * RECONCILE

            # -- two people open a link and stall: the forwarder's request 0 goes to A, 1 to B
            stallers = [
                TelegramPerson(number=100 + n, interview_id=interview.id, deadline=deadline,
                               name=f"Stall {n}", fake=telegram,
                               user=telegram.user(7000 + n, f"Stall{n}"), token=token)
                for n, (interview, token) in enumerate(stall_invites)]
            for staller in stallers:
                await staller.expect(staller.open_invitation, STALL_CONSENT)

            # -- the candidates --------------------------------------------------------------
            async with SlackSender(forwarder.url, SLACK_SECRET) as sender:
                for n, (interview, token) in enumerate(telegram_invites):
                    people.append(TelegramPerson(
                        number=n, interview_id=interview.id, deadline=deadline, name=f"Tg {n}",
                        fake=telegram, user=telegram.user(6000 + n, f"Person{n}"), token=token))
                for n, (interview, user) in enumerate(zip(slack_interviews, slack_users,
                                                          strict=True)):
                    people.append(SlackPerson(
                        number=TELEGRAM_PEOPLE + n, interview_id=interview.id,
                        deadline=deadline, name=f"Sl {n}", fake=slack, sender=sender,
                        user=user))
                for person in people:
                    person.kinds = {q: "voice" if (person.number + i) % 2 == 0 else "text"
                                    for i, q in enumerate(QUESTIONS)}
                    person.asks = person.number % 2 == 0
                    person.rating = person.number % 5 + 1
                    # people tap twice when a reply is slow: every Slack person once (Slack
                    # requests are handled after the ack, so both taps may run at once, one
                    # on each process), every third Telegram person once
                    if isinstance(person, SlackPerson):
                        person.double_tap = person.number % len(QUESTIONS) + 1
                    elif person.number % 3 == 1:
                        person.double_tap = 2

                async def take_part(person: Person) -> None:
                    await asyncio.sleep(0.15 * person.number)  # not all at the same moment
                    await person.run()

                outcomes = list(await asyncio.gather(*(take_part(p) for p in people),
                                                     return_exceptions=True))
            finished = time.monotonic()

            # -- the stalled two get their reminder (B's at A's next reconcile) -------------
            with contextlib.suppress(TimeoutError):
                await telegram.wait_for(lambda: all(reminded(s) for s in stallers),
                                        timeout=max(1.0, reminders_due - loop.time()))
            # a second reminder could only come from a job still in the job store: wait until
            # the stallers have none left (a date job is deleted when it fires)
            await until_no_reminder_jobs(settings, [i.id for i, _ in stall_invites])
            healths = [await p.health(http) for p in processes]
            metrics = [(await p.get(http, "/metrics"))[1] for p in processes]
            statuses = [await p.stop() for p in processes]
        finally:
            for process in processes:
                process.ensure_dead()
            await forwarder.stop()
        elapsed = time.monotonic() - started
        log_texts = {p.name: p.log_text() for p in processes}

    # -- what happened --------------------------------------------------------------------
    failures: list[str] = []
    for person, outcome in zip(people, outcomes, strict=True):
        if outcome is not None:
            failures.append(f"{person.name}: {type(outcome).__name__}: {outcome}")
        failures.extend(person.problems)
        if reminded(person):
            failures.append(f"{person.name} got {reminded(person)} reminders while answering")
    for staller in stallers:
        if reminded(staller) != 1:
            failures.append(f"{staller.name} got {reminded(staller)} reminders (want 1)")
    for name, text in log_texts.items():
        failures.extend(f"log {name}: {line[:300]}" for line in log_problems(text)[:10])
    failures.extend(f"process {p.name} exited with {s}"
                    for p, s in zip(processes, statuses, strict=True) if s != 0)
    apologies = [(m.chat_id, m.text) for m in telegram.messages() if m.text in TRY_AGAIN]
    apologies += [(a.user_id, a.text) for a in telegram.callback_answers if a.text in TRY_AGAIN]
    failures.extend(f"apology to {who}: {what!r}" for who, what in apologies)
    failures.extend(f"Slack ephemeral to {e.user}: {e.text!r}" for e in slack.ephemerals()
                    if e.text in TRY_AGAIN)
    # a second tap on Keep is told the button is no longer active; nothing else is stale
    stale: Counter[str] = Counter(f"telegram:{a.user_id}" for a in telegram.callback_answers
                                  if a.text == texts.STALE_BUTTON)
    stale.update(f"slack:{e.user}" for e in slack.ephemerals() if e.text == texts.STALE_BUTTON)
    for person in [*people, *stallers]:
        who = person.who
        want_stale = 1 if person.double_tap else 0
        if stale[who] != want_stale:
            failures.append(f"{person.name}: {stale[who]} 'no longer active' answers, "
                            f"want {want_stale}")
    answered = {a.callback_query_id for a in telegram.callback_answers}
    failures.extend(f"callback query {key} never answered" for p in people for key in p.keys
                    if key.startswith("telegram:cbq:") and key.split(":")[2] not in answered)
    undelivered = [d for d in telegram.webhook_deliveries if not d.ok]
    pushed = {d.update_id for d in telegram.webhook_deliveries if d.ok}
    failures.extend(f"update {n} never answered 2xx by the webhook"
                    for n in range(1, max(pushed, default=0) + 1) if n not in pushed)

    # -- from the database ----------------------------------------------------------------
    app = build(settings, migrate=False)
    try:
        with app.db.connect() as conn:
            recorded = Counter(row[0] for row in conn.execute(sql("SELECT key FROM delivery")))
        with app.services.uow() as uow:
            interviews = {p.name: uow.interviews.get(p.interview_id) for p in people}
    finally:
        app.db.dispose()
    media_root = settings.media_dir
    answers = voice_answers = 0
    for person in [*stallers, *people]:
        failures.extend(f"{person.name}: {key} sent, never recorded (lost)"
                        for key in person.keys if key not in recorded)
    for person in people:
        found = interviews[person.name]
        if found is None:
            failures.append(f"{person.name}: no interview")
            continue
        interview = found
        where = f"{person.name} ({interview.id})"
        if interview.state is not State.COMPLETED:
            failures.append(f"{where}: {interview.state.value}, not completed")
        if [a.question_id for a in interview.answers] != list(QUESTIONS):
            failures.append(f"{where}: answers {[a.question_id for a in interview.answers]}")
        for answer in interview.answers:
            takes = [(t.kind, t.text or t.media_key) for t in answer.takes]
            if len(answer.takes) != 1:
                failures.append(f"{where} {answer.question_id}: {len(answer.takes)} takes "
                                f"(want 1): {takes}")
                continue
            take = answer.takes[0]
            answers += 1
            if answer.kept_take_id != take.id:
                failures.append(f"{where} {answer.question_id}: take not kept")
            if take.kind != person.kinds[answer.question_id]:
                failures.append(f"{where} {answer.question_id}: a {take.kind} take, "
                                f"{person.kinds[answer.question_id]} sent")
            elif take.kind == "text":
                if take.text != person.answer_text(answer.question_id):
                    failures.append(f"{where} {answer.question_id}: text {take.text!r}")
            else:
                voice_answers += 1
                path = media_root / f"{take.media_key}.ogg"
                if not path.is_file():
                    failures.append(f"{where} {answer.question_id}: {path} missing")
                elif hashlib.sha256(path.read_bytes()).hexdigest() != take.checksum:
                    failures.append(f"{where} {answer.question_id}: checksum differs")
                if take.duration is None or not VOICE_SECONDS - 1 < take.duration < 7.5:
                    failures.append(f"{where} {answer.question_id}: {take.duration} s")
        asked = [q.text for q in interview.candidate_questions]
        if asked != ([person.question_for_team()] if person.asks else []):
            failures.append(f"{where}: questions for the team {asked}")
        if interview.experience_rating != person.rating:
            failures.append(f"{where}: rated {interview.experience_rating}, "
                            f"pressed {person.rating}")
        # every step shown once, in order: a step twice would be a duplicate, a gap a loss
        shown = [m.step for m in person.shown() if m.step is not None]
        if shown != list(range(DONE + 1)):
            failures.append(f"{where}: steps shown {shown}")
        wrap = Counter(start for m in person.shown()
                       for start in (NOTED, FEEDBACK, THANKS) if m.text.startswith(start))
        want = Counter({NOTED: int(person.asks), FEEDBACK: 1, THANKS: 1})
        if +wrap != +want:
            failures.append(f"{where}: wrap-up messages {dict(wrap)}")
    doubled = {key: n for key, n in recorded.items() if n > 1}
    failures.extend(f"delivery {key} recorded {n} times" for key, n in doubled.items())

    # -- figures --------------------------------------------------------------------------
    per_person: dict[str, list[int]] = {}
    presses: dict[tuple[str, str], list[int]] = {}
    for forwarded in forwarder.log:
        origin = requester(forwarded)
        if origin is not None:
            who, pressed = origin
            per_person.setdefault(who, []).append(forwarded.backend)
            if pressed is not None:
                presses.setdefault((who, pressed), []).append(forwarded.backend)
    double_taps = [backends for backends in presses.values() if len(backends) > 1]
    split_taps = sum(1 for backends in double_taps if len(set(backends)) > 1)
    switches = {who: sum(x != y for x, y in itertools.pairwise(seq))
                for who, seq in per_person.items()}
    mixed = sum(1 for seq in per_person.values() if len(set(seq)) > 1)
    counts = forwarder.counts()
    stall_routes = [per_person.get(s.who, []) for s in stallers]
    reminder_counts = [metric(body, "interviewbot_reminders_sent_total") for body in metrics]
    retried = [metric(body, "interviewbot_deliveries_retried_total") for body in metrics]
    reruns = [sum('"event": "concurrent update' in line for line in text.splitlines())
              for text in log_texts.values()]
    print(
        f"\nscale-out: {len(processes)} processes ({', '.join(PROCESSES)}) on one PostgreSQL, "
        f"{len(people)} candidates ({TELEGRAM_PEOPLE} Telegram webhook, {SLACK_PEOPLE} Slack "
        f"HTTP) + {len(stallers)} stalled, in {elapsed:.1f} s (up {up - started:.1f} s, "
        f"interviews {finished - up:.1f} s)\n"
        f"  answers stored: {answers} ({voice_answers} voice, {answers - voice_answers} text); "
        f"deliveries recorded: {sum(recorded.values())}\n"
        f"  requests through the forwarder: {sum(counts)} = "
        + " + ".join(f"{n} to {name}" for name, n in zip(PROCESSES, counts, strict=True))
        + f" ({sum(1 for f in forwarder.log if f.path.startswith('/telegram/'))} Telegram "
        f"updates, {sum(1 for f in forwarder.log if f.path.startswith('/slack/'))} Slack "
        f"requests; non-2xx: {sum(1 for f in forwarder.log if not 200 <= f.status < 300)})\n"
        f"  candidates handled by both processes: {mixed} of {len(per_person)}; "
        f"hand-overs between processes within one conversation: {sum(switches.values())}\n"
        f"  Keep tapped twice at once: {len(double_taps)} times, {split_taps} of them with "
        f"one tap on each process\n"
        f"  stalled: link opened on {[PROCESSES[r[0]] if r else '-' for r in stall_routes]}, "
        f"reminders received {[reminded(s) for s in stallers]}; reminders sent per process "
        f"(metrics) {reminder_counts}; scheduler roles "
        f"{[h.get('scheduler') if h else None for h in healths]}\n"
        f"  commands run again after a concurrent update, per process: {reruns}\n"
        f"  Telegram 429s (flood limits, 1 message/s per chat; retried): "
        f"{telegram.rate_limit_hits}; outbound retries per process (metrics): {retried}; "
        f"sends left to the outbox after repeated 429s: "
        f"{sum(rate_limited_sends(t) for t in log_texts.values())}; "
        f"webhook pushes not answered 2xx (retried): "
        f"{len(undelivered)}; "
        f"apologies: {len(apologies)}; problems: {len(failures)}"
    )
    for line in failures[:40]:
        print("  !", line)

    assert not failures, f"process logs in {logs}:\n" + "\n".join(failures[:40])
    assert all(counts), counts  # both processes served
    assert [r[:1] for r in stall_routes] == [[0], [1]], stall_routes
    assert [h.get("scheduler") if h else None for h in healths] == ["leader", "follower"]
    assert reminder_counts == [2.0, 0.0], reminder_counts  # only the leader fired
    assert mixed > len(per_person) // 2, per_person  # conversations did cross processes
    # every planned double tap reached the processes as two presses, and round-robin put the
    # two taps of at least one on different processes (the split taps the README states)
    assert len(double_taps) == sum(p.double_tap is not None for p in people), presses
    assert split_taps >= 1, double_taps
