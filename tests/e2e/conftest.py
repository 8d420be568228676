"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.telegram.channel import TelegramChannel
from fakes.telegram import FakeTelegram
from tests.e2e.telegram_support import FAST, REVIEW_GROUP, Session, settings_for, start_bot


@pytest.fixture
async def session(request: pytest.FixtureRequest, tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Session]:
    """The real bot (`interviewbot`'s app, python-telegram-bot) on a strict fake Telegram with
    the review group `REVIEW_GROUP`, the bundled sample scripts and fast pacing.

    A module configures it with a marker::

        pytestmark = pytest.mark.telegram_session(
            groups={-100300: "Hiring managers"},   # more groups the bot is a member of
            scripts={"qa-choice": YAML},            # more scripts, by id
            env={"INTERVIEWBOT_OUTBOX_RETRY": 1},   # settings, as environment variables
            ptb_timedelta=True)                     # PTB's timedelta periods (PTB_TIMEDELTA)
    """
    marker = request.node.get_closest_marker("telegram_session")
    options = marker.kwargs if marker is not None else {}
    if options.get("ptb_timedelta"):
        monkeypatch.setenv("PTB_TIMEDELTA", "true")
    monkeypatch.setattr(TelegramChannel, "default_pacing", FAST)
    async with FakeTelegram() as fake:
        fake.group(REVIEW_GROUP, "Backend reviews")
        for group_id, title in options.get("groups", {}).items():
            fake.group(group_id, title)
        settings = settings_for(tmp_path, fake, **options.get("env", {}))
        for script_id, text in options.get("scripts", {}).items():
            (tmp_path / "scripts" / f"{script_id}.yaml").write_text(text)
        bot = await start_bot(settings)
        try:
            yield Session(fake, bot, tmp_path)
        finally:
            await bot.stop()
