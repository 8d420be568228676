"""Flood limits (429 with retry_after), injected faults, strict defaults."""

from __future__ import annotations

import datetime as dtm

import pytest
from telegram import Bot
from telegram.error import NetworkError, RetryAfter

from fakes.telegram import FakeTelegram, RateLimits

from .helpers import raw_post


async def test_injected_429_surfaces_as_retry_after(fake: FakeTelegram, bot: Bot) -> None:
    ada = fake.user(1001, started=True)
    fake.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(ada.id, "hi")
    assert caught.value.retry_after == dtm.timedelta(seconds=3)
    await bot.send_message(ada.id, "hi")
    assert [call.status for call in fake.calls_to("sendMessage")] == [429, 200]
    assert len(fake.messages(ada.id)) == 1


async def test_server_errors_and_dropped_connections_are_network_errors(
    fake: FakeTelegram, bot: Bot
) -> None:
    ada = fake.user(1001, started=True)
    fake.fail_next("sendMessage", status=502)
    with pytest.raises(NetworkError, match=r"(?i)Bad Gateway"):
        await bot.send_message(ada.id, "one")
    fake.drop_next("sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(ada.id, "two")
    await bot.send_message(ada.id, "three")
    assert [m.text for m in fake.messages(ada.id)] == ["three"]


async def test_token_bucket_counts_429s() -> None:
    now = [1000.0]
    limits = RateLimits(overall_per_second=30, private_chat_per_second=1, group_per_minute=20)
    async with (
        FakeTelegram(rate_limits=limits, clock=lambda: now[0]) as fake,
        Bot(fake.token, base_url=fake.api_url) as client,
    ):
        ada = fake.user(1001, started=True)
        group = fake.group(-100123, "Reviewers")
        for word in ("one", "two", "three"):  # a private chat tolerates a short burst
            await client.send_message(ada.id, word)
        for _ in range(2):
            with pytest.raises(RetryAfter):
                await client.send_message(ada.id, "too soon")
        for n in range(20):
            await client.send_message(group.id, f"review {n}")
        with pytest.raises(RetryAfter):
            await client.send_message(group.id, "21st in a minute")
        now[0] += 1.0
        await client.send_message(ada.id, "four")  # then about one a second
        with pytest.raises(RetryAfter):
            await client.send_message(ada.id, "five")
        assert fake.rate_limit_hits == 4
        assert len(fake.messages(ada.id)) == 4
        assert len(fake.messages(group.id)) == 20


async def test_strict_by_default() -> None:
    async with FakeTelegram() as fake:
        assert fake.rate_limits == RateLimits()
        assert fake.callback_query_ttl == 15.0
        assert fake.privacy_mode


async def test_overall_bucket_spans_chats() -> None:
    now = [0.0]
    limits = RateLimits(overall_per_second=5)
    async with FakeTelegram(rate_limits=limits, clock=lambda: now[0]) as fake:
        people = [fake.user(2000 + n, started=True) for n in range(6)]
        statuses = [
            (await raw_post(fake, "sendMessage", chat_id=person.id, text="hi"))[0]
            for person in people
        ]
        assert statuses == [200] * 5 + [429]
        status, headers, body = await raw_post(fake, "sendMessage", chat_id=people[5].id, text="x")
        assert status == 429
        assert headers["Retry-After"] == str(body["parameters"]["retry_after"])
        assert fake.rate_limit_hits == 2


async def test_injected_429_has_retry_after_header(fake: FakeTelegram) -> None:
    fake.fail_next("getMe", retry_after=7, times=2)
    for _ in range(2):
        status, headers, body = await raw_post(fake, "getMe")
        assert status == 429 and headers["Retry-After"] == "7"
        assert body == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        }
    assert (await raw_post(fake, "getMe"))[0] == 200
