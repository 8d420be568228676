"""Helpers for the fake Telegram's own tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from telegram.ext import (
    Application,
    ApplicationBuilder,
)

from fakes.telegram import FakeTelegram

VOICE = Path(__file__).resolve().parents[2] / "fixtures" / "audio" / "voice.ogg"


def build_app(fake: FakeTelegram) -> Application[Any, Any, Any, Any, Any, Any]:
    return (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.api_url)
        .base_file_url(fake.file_url)
        .job_queue(None)
        .build()
    )


@contextlib.asynccontextmanager
async def running(app: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[None]:
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(timeout=5)
        try:
            yield
        finally:
            await app.updater.stop()
            await app.stop()


async def raw_post(
    fake: FakeTelegram, method: str, token: str | None = None, **data: Any
) -> tuple[int, dict[str, Any], Any]:
    url = f"{fake.api_url}{token or fake.token}/{method}"
    async with aiohttp.ClientSession() as session, session.post(url, json=data) as response:
        return response.status, dict(response.headers), await response.json()
