"""Log lines: JSON off a terminal, text on one, and no bot tokens or secrets in either."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bots.logs import QUIET_LOGGERS, REDACTED, configure_logging, redact

TELEGRAM = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"
SLACK_BOT = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_APP = "xapp-1-A0123456789-1234567890123-0123456789abcdef0123456789abcdef"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def log() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    yield logging.getLogger("interviewbot.test")
    for handler in [h for h in root.handlers if h.get_name() == "interviewbot"]:
        root.removeHandler(handler)
    root.setLevel(before[0])
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_json_lines_off_a_terminal(log: logging.Logger) -> None:
    stream = io.StringIO()
    configure_logging("info", stream=stream)
    log.info("answer stored", extra={"interview_id": "i1", "answer_id": "a1"})
    log.debug("not shown")
    try:
        raise ValueError("bad\nthing")
    except ValueError:
        log.exception("handler failed for %s", "i1")
    first, second = lines(stream)
    event = json.loads(first)
    assert event["level"] == "info" and event["logger"] == "interviewbot.test"
    assert event["event"] == "answer stored"
    assert (event["interview_id"], event["answer_id"]) == ("i1", "a1")
    assert event["ts"].endswith("+00:00")
    error = json.loads(second)
    assert error["event"] == "handler failed for i1"
    assert error["exc"].startswith("Traceback") and "ValueError: bad\nthing" in error["exc"]


def test_text_on_a_terminal(log: logging.Logger) -> None:
    stream = Terminal()
    configure_logging("DEBUG", stream=stream)
    log.debug("timer fired", extra={"interview_id": "i9"})
    (line,) = lines(stream)
    assert line.endswith("DEBUG   interviewbot.test: timer fired interview_id=i9")


@pytest.mark.parametrize("json_lines", [True, False])
def test_tokens_are_redacted_everywhere(log: logging.Logger, json_lines: bool) -> None:
    stream = io.StringIO()
    configure_logging("info", stream=stream, json_lines=json_lines,
                      secrets=["signing-secret-0123456789", None])
    logging.getLogger("httpx").warning(
        "HTTP Request: POST https://api.telegram.org/bot%s/getUpdates", TELEGRAM)
    log.info("slack %s and %s", SLACK_BOT, SLACK_APP, extra={"url": f"wss://x?t={SLACK_APP}"})
    log.info("secret signing-secret-0123456789 seen")
    try:
        raise RuntimeError(f"auth failed for {SLACK_BOT}")
    except RuntimeError:
        log.exception("call failed")
    text = stream.getvalue()
    for secret in (TELEGRAM, SLACK_BOT, SLACK_APP, "signing-secret-0123456789", "AAHdqTc",
                   "AbCdEf"):
        assert secret not in text
    assert text.count(REDACTED) == 6
    assert "https://api.telegram.org/bot[redacted]/getUpdates" in text


def test_redact_leaves_ordinary_text_alone() -> None:
    ordinary = "interview 4f2a9c1d0b3e5a77 at 12:30:45, answer a1, 2 of 4 done"
    assert redact(ordinary) == ordinary
    assert redact(f"token={TELEGRAM}.") == f"token={REDACTED}."


def test_reconfiguring_replaces_the_handler_and_quiets_http_logs(log: logging.Logger) -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging("info", stream=first)
    configure_logging("info", stream=second)
    log.info("once")
    logging.getLogger("httpx").info("HTTP Request: GET /getMe")
    assert (lines(first), len(lines(second))) == ([], 1)
    configure_logging("debug", stream=second)
    logging.getLogger("httpx").debug("now shown")
    assert "now shown" in second.getvalue()
