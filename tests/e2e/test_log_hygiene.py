"""No secrets and no personal data in the logs.

A whole Telegram interview (python-telegram-bot against the fake Bot API) and a whole Slack
interview (Bolt in HTTP mode against the fake Web API, reviewers rating) run with our loggers
(`interviewbot.*`) at DEBUG and every library at INFO. Every record is captured raw, before any
handler's filter, and its message, arguments, extras, exception and stack text are searched for
the bot tokens, the Slack signing secret, the invitation tokens, the candidates' names and
usernames, and what they wrote (answers, questions for the team, follow-up replies). The same
run is also written through `configure_logging` (what `interviewbot run` installs) and that
output is searched too.
"""

from __future__ import annotations

import contextlib
import io
import logging
import traceback
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bots.logs import configure_logging
from bots.slack.invite import invite_slack_user
from bots.telegram.channel import TelegramChannel
from core.commands import CreateInvitation
from fakes.telegram import FakeTelegram
from tests.e2e.slack_support import GRACE, M4A, REV1, REVIEW, SECRET, TOKEN, slack_world
from tests.e2e.telegram_support import (
    FAST,
    REVIEW_GROUP,
    Session,
    audio,
    settings_for,
    start_bot,
)


class Capture(logging.Handler):
    """Keeps every record as it was emitted, with all the text it carries."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        parts = [str(record.msg), repr(record.args)]
        with contextlib.suppress(Exception):  # a broken format must not hide the arguments
            parts.append(record.getMessage())
        if record.exc_info and record.exc_info[1] is not None:
            parts.append("".join(traceback.format_exception(*record.exc_info)))
        parts += [record.exc_text or "", record.stack_info or ""]
        parts += [f"{k}={v!r}" for k, v in vars(record).items() if k not in STANDARD]
        self.records.append(record)
        self.texts.append(f"{record.levelname} {record.name}: " + "\n".join(parts))


STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName"}


@pytest.fixture
def captured() -> Iterator[tuple[Capture, io.StringIO]]:
    """Our loggers at DEBUG, libraries at INFO; raw records and `interviewbot run`'s output."""
    root = logging.getLogger()
    ours = logging.getLogger("interviewbot")
    saved = (root.level, ours.level, list(root.handlers))
    stream = io.StringIO()
    configure_logging("INFO", stream=stream, json_lines=True, secrets=(SECRET,))
    capture = Capture()
    root.addHandler(capture)
    ours.setLevel(logging.DEBUG)
    try:
        yield capture, stream
    finally:
        root.removeHandler(capture)
        for handler in [h for h in root.handlers if h.get_name() == "interviewbot"]:
            root.removeHandler(handler)
        root.setLevel(saved[0])
        ours.setLevel(saved[1])


def assert_clean(capture: Capture, output: str, secrets: dict[str, str]) -> None:
    assert len(capture.records) > 20, "the run logged almost nothing: is capturing working?"
    assert any(r.name.startswith("interviewbot") for r in capture.records)
    leaks = [(what, text[:300]) for what, secret in secrets.items() for text in capture.texts
             if secret.lower() in text.lower()]
    assert not leaks, f"logged: {leaks[:5]}"
    written = [what for what, secret in secrets.items() if secret.lower() in output.lower()]
    assert not written, f"written to the log stream: {written}"


# -- Telegram ---------------------------------------------------------------------------------

@pytest.fixture
async def telegram(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Session]:
    monkeypatch.setattr(TelegramChannel, "default_pacing", FAST)
    async with FakeTelegram() as fake:
        fake.group(REVIEW_GROUP, "Backend reviews")
        bot = await start_bot(settings_for(tmp_path, fake))
        try:
            yield Session(fake, bot, tmp_path)
        finally:
            await bot.stop()


async def test_a_telegram_interview_logs_no_secret_and_no_personal_data(
        captured: tuple[Capture, io.StringIO], telegram: Session) -> None:
    capture, stream = captured
    session, fake = telegram, telegram.fake
    ada = fake.user(7001, "Adelheidzq", last_name="Quorvaxlace", username="ada_qorvhandle")
    _, token = session.invite("Adelheidzq Quorvaxlace", "Europe/Lisbon")
    secrets = {
        "bot token": fake.token, "invitation token": token, "name": "Quorvaxlace",
        "first name": "Adelheidzq", "username": "ada_qorvhandle",
        "answer 1": "Zephyrwind tradeoff", "answer 2": "Marzipanloop testing",
        "question for the team": "Vorpalsnicker on-call", "wrong token": "Snarkbait0000",
    }
    fake.send_command(ada, "/start", "Snarkbait0000wrongtoken")  # a wrong link first
    await session.reply(ada, "isn't valid")
    fake.send_command(ada, "/start", token)
    consent = await session.reply(ada, "90 days")
    assert await session.press(ada, consent, "I agree") == "Thank you!"
    practice = await session.reply(ada, "Warm up")
    assert await session.press(ada, practice, "Skip practice") == "Skipped."
    await session.reply(ada, "Question 1 of 3")
    fake.send_text(ada, "Can I type this?")  # refused: voice only
    await session.reply(ada, "needs a voice note")
    fake.send_voice(ada, audio("voice.ogg"), duration=6)
    receipt = await session.reply(ada, "Got your voice answer")
    assert await session.press(ada, receipt, "Submit") == "Submitted."
    await session.reply(ada, "Question 2 of 3")
    fake.send_text(ada, "Zephyrwind tradeoff: I chose the boring database.")
    receipt = await session.reply(ada, "Got your written answer")
    assert await session.press(ada, receipt, "Submit") == "Submitted."
    await session.reply(ada, "Question 3 of 3")
    sent = fake.send_text(ada, "Marzipanloop testing, with property tests.")
    receipt = await session.reply(ada, "Got your written answer")
    fake.edit_text(ada, sent, "Marzipanloop edited")  # an edit: a polite note, not an answer
    await session.reply(ada, "edited")
    assert await session.press(ada, receipt, "Submit") == "Submitted."
    await session.reply(ada, "That was the last question")
    fake.send_text(ada, "Vorpalsnicker on-call: how does it work?")
    noted = await session.reply(ada, "Noted")
    assert await session.press(ada, noted, "Done") == "Done."
    feedback = await session.reply(ada, "how was this interview")
    assert await session.press(ada, feedback, "4") == "Thank you!"
    fake.send_command(ada, "/status")
    await session.reply(ada, "complete")
    # failures on the way out and in: logged (with tracebacks), still without personal data
    fake.fail_next("sendMessage", 500, times=4)
    fake.send_text(ada, "Vorpalsnicker second question, never acknowledged")
    await fake.wait_for(lambda: sum(c.status == 500 for c in fake.calls_to("sendMessage")) >= 4)
    fake.send_command(ada, "/help")
    await session.reply(ada, "Commands:")
    await session.app.engine.idle()
    assert any(r.levelno >= logging.ERROR for r in capture.records)
    assert_clean(capture, stream.getvalue(), secrets)


# -- Slack ------------------------------------------------------------------------------------

async def test_a_slack_interview_logs_no_secret_and_no_personal_data(
        captured: tuple[Capture, io.StringIO], tmp_path: Path) -> None:
    capture, stream = captured
    async with slack_world(tmp_path) as world:
        world.fake.user(GRACE, "Gracezq", "Asia/Kolkata", real_name="Gracezq Vbnmhopper")
        dm = world.dm(GRACE)
        _, token = world.app.engine.invite(CreateInvitation("referral", "Gracezq Vbnmhopper",
                                                            "slack"))
        await invite_slack_user(world.app, token, GRACE)
        await world.press(dm, "I agree", GRACE)
        await world.say(GRACE, "Quibblefrost billing service, in Go.")
        await world.press(dm, "Submit", GRACE)
        await world.say(GRACE, "Zorblax typed instead")  # voice only here: refused
        await world.share(GRACE, M4A, transcription={
            "status": "complete", "preview": {"content": "Wobblethorn transcript words",
                                              "has_more": False}})
        await world.press(dm, "Submit", GRACE)
        await world.say(GRACE, "Snollygoster written answer.")
        await world.press(dm, "Submit", GRACE)
        assert "That was the last question" in world.last(dm)
        await world.say(GRACE, "Frumious question about on-call")
        await world.press(dm, "Done", GRACE)
        await world.press(dm, "5", GRACE)
        card = next(c for c in world.fake.messages(REVIEW) if "Question 1 of 3" in c.text
                    and not c.files)
        await world.press(REVIEW, "4", REV1, message=card)
        await world.command(GRACE, "status")
        world.fake.fail_next("chat.postMessage", "internal_error", status=500, times=8)
        await world.say(GRACE, "Frumious second question, never acknowledged")
        assert any(r.levelno >= logging.WARNING for r in capture.records)
        # a forged request and an old one: refused (logged without the body)
        from fakes import slack as ev

        forged = ev.message(GRACE, "Jabberwock forged answer", channel=dm)
        assert (await world.deliver(forged, bad_signature=True)).status == 401
        assert (await world.deliver(forged, age=400)).status == 401
        await world.app.engine.idle()
        secrets = {
            "bot token": TOKEN, "signing secret": SECRET, "invitation token": token,
            "name": "Vbnmhopper", "display name": "Gracezq", "answer": "Quibblefrost",
            "refused text": "Zorblax", "answer 3": "Snollygoster", "transcript": "Wobblethorn",
            "question for the team": "Frumious", "forged text": "Jabberwock",
        }
        interview = world.interview()
        assert interview.state.value == "completed"
    assert_clean(capture, stream.getvalue(), secrets)


# -- secrets on every path of `interviewbot run` (a subprocess: stderr as an operator sees it) --

SHORT_TOKEN = "4242:ShortTok-Zq9"  # too short for the token pattern: redacted as configured


async def _run_bot(tmp_path: Path, fake: FakeTelegram, token: str, *, api_url: str,
                   level: str = "INFO", until: str | None = None,
                   **env: str) -> tuple[int | None, str]:
    """`interviewbot run` against the fake; stop at `until` in stderr (SIGTERM), or at exit."""
    import asyncio
    import os
    import signal

    from tests.e2e.telegram_support import free_port, migrated_database
    from tests.support.console import BIN, cli_env

    database = tmp_path / "ib.db"
    if not database.exists():
        migrated_database(database)
    environ = cli_env(tmp_path, TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_URL=api_url,
                      TELEGRAM_FILE_URL=f"{fake.url}/file/bot",
                      INTERVIEWBOT_HTTP_PORT=str(free_port()), INTERVIEWBOT_LOG_LEVEL=level,
                      **env)
    proc = await asyncio.create_subprocess_exec(
        str(BIN), "run", env=environ, cwd=tmp_path, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    assert proc.stderr is not None
    seen: list[str] = []

    async def read() -> None:
        assert proc.stderr is not None
        async for raw in proc.stderr:
            seen.append(raw.decode(errors="replace"))
            if until is not None and until in seen[-1] and proc.returncode is None:
                os.kill(proc.pid, signal.SIGTERM)

    await asyncio.wait_for(asyncio.gather(read(), proc.wait()), timeout=120)
    return proc.returncode, "".join(seen)


def _assert_no_secret(text: str, *secrets: str) -> None:
    from bots.logs import webhook_secret_for

    for secret in secrets:
        for form in (secret, webhook_secret_for(secret), secret.replace(":", "%3A")):
            assert form not in text, f"{form!r} printed in:\n{text[-2000:]}"


async def test_a_rejected_token_is_not_printed(tmp_path: Path) -> None:
    """Telegram answers 401 to getMe: PTB raises InvalidToken, whose message quotes the token."""
    async with FakeTelegram() as fake:
        code, stderr = await _run_bot(tmp_path, fake, SHORT_TOKEN, api_url=f"{fake.url}/bot")
    assert code == 1, stderr
    assert "InvalidToken" in stderr and "[redacted]" in stderr
    _assert_no_secret(stderr, SHORT_TOKEN)


async def test_a_wrong_api_url_404_prints_no_token(tmp_path: Path) -> None:
    async with FakeTelegram(token=SHORT_TOKEN) as fake:
        code, stderr = await _run_bot(tmp_path, fake, SHORT_TOKEN,
                                      api_url=f"{fake.url}/no/such/path/bot")
    assert code == 1, stderr
    _assert_no_secret(stderr, SHORT_TOKEN)


async def test_a_debug_run_in_webhook_mode_logs_no_token_and_no_derived_webhook_secret(
        tmp_path: Path) -> None:
    """At DEBUG, PTB logs every Bot API call with its parameters (setWebhook's secret_token,
    derived from the token when none is configured) and httpx logs URLs with the token."""
    from bots.logs import webhook_secret_for
    from bots.settings import Settings
    from bots.telegram.channel import webhook_secret

    # the derivation logs.py redacts is the one the channel uses
    assert webhook_secret_for(SHORT_TOKEN) == webhook_secret(Settings(
        _env_file=None, TELEGRAM_BOT_TOKEN=SHORT_TOKEN))
    async with FakeTelegram(token=SHORT_TOKEN) as fake:
        code, stderr = await _run_bot(
            tmp_path, fake, SHORT_TOKEN, api_url=f"{fake.url}/bot", level="DEBUG",
            until="channel telegram started",
            TELEGRAM_WEBHOOK_URL="http://127.0.0.1:9/telegram/webhook")
        assert fake.calls_to("setWebhook"), "the run never set its webhook"
    assert "setWebhook" in stderr and "[redacted]" in stderr, stderr[-3000:]
    assert code is not None
    _assert_no_secret(stderr, SHORT_TOKEN)
