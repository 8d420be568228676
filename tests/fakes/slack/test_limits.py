"""Pacing, rate tiers and 429s with Retry-After, strict defaults."""

from __future__ import annotations

import asyncio
import types

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import builtin_async_handlers
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from fakes.slack import FakeSlack

from .helpers import TOKEN


async def test_429_is_retried_after_retry_after(
    fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr(builtin_async_handlers, "asyncio", types.SimpleNamespace(sleep=fake_sleep))
    client = AsyncWebClient(
        token=TOKEN,
        base_url=fake.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    fake.fail_next("chat.postMessage", retry_after=30)
    resp = await client.chat_postMessage(channel="C0REVIEWS", text="after the limit")
    assert resp["ok"]
    assert len(slept) == 1 and 30 <= slept[0] < 31
    outcomes = [(c.status, c.error) for c in fake.calls if c.method == "chat.postMessage"]
    assert outcomes == [(429, "ratelimited"), (200, None)]
    assert [m.text for m in fake.messages("C0REVIEWS")] == ["after the limit"]

    fake.fail_next("chat.postMessage", retry_after=2, times=3)
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C0REVIEWS", text="gives up")
    assert err.value.response.status_code == 429
    assert len(slept) == 3


async def test_429_and_500_surface_without_a_retry_handler(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.fail_next("chat.postMessage", retry_after=5)
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C0REVIEWS", text="x")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "5"
    assert err.value.response["error"] == "ratelimited"

    fake.fail_next("users.info", "internal_error", status=500)
    with pytest.raises(SlackApiError) as err:
        await client.users_info(user="U0ADA")
    assert (err.value.response.status_code, err.value.response["error"]) == (500, "internal_error")
    assert (await client.users_info(user="U0ADA"))["ok"]


async def test_pacing_violations_are_recorded() -> None:
    now = [100.0]
    # pacing off to see violations recorded; enforced (the default) at the end
    async with FakeSlack(pacing_clock=lambda: now[0], enforce_pacing=False,
                         pace_burst=1) as fake:
        fake.channel("C1")
        client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
        await client.chat_postMessage(channel="C1", text="a")
        now[0] += 1.0
        await client.chat_postMessage(channel="C1", text="b")
        assert fake.pacing_violations == []
        now[0] += 0.4
        await client.chat_postMessage(channel="C1", text="c")
        (violation,) = fake.pacing_violations
        assert (violation.channel, violation.posts_in_window) == ("C1", 2)

        fake.enforce_pacing = True
        with pytest.raises(SlackApiError) as err:
            await client.chat_postMessage(channel="C1", text="d")
        assert err.value.response.status_code == 429
        assert [m.text for m in fake.messages("C1")] == ["a", "b", "c"]


async def test_strict_by_default() -> None:
    async with FakeSlack() as fake:
        assert fake.enforce_pacing and fake.enforce_tiers


async def test_pacing_tolerates_a_burst_then_one_a_second() -> None:
    now = [100.0]
    async with FakeSlack(pacing_clock=lambda: now[0]) as fake:
        fake.channel("C1")
        client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url, retry_handlers=[])
        for n in range(4):
            await client.chat_postMessage(channel="C1", text=f"burst {n}")
        with pytest.raises(SlackApiError) as err:
            await client.chat_postMessage(channel="C1", text="too soon")
        assert err.value.response.status_code == 429
        assert err.value.response.headers["Retry-After"] == "1"
        now[0] += 1.0
        await client.chat_postMessage(channel="C1", text="a second later")
        with pytest.raises(SlackApiError):
            await client.chat_postMessage(channel="C1", text="too soon again")
        assert len(fake.messages("C1")) == 5


async def test_rate_tiers_answer_429_with_retry_after() -> None:
    now = [100.0]
    async with FakeSlack(pacing_clock=lambda: now[0]) as fake:
        client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url, retry_handlers=[])
        fake.user("U0ADA", "ada")
        for _ in range(100):  # Tier 4: a minute's worth at once
            await client.users_info(user="U0ADA")
        with pytest.raises(SlackApiError) as err:
            await client.users_info(user="U0ADA")
        assert err.value.response.status_code == 429
        assert err.value.response.headers["Retry-After"] == "1"
        assert fake.tier_limited == ["users.info"]
        now[0] += 0.61  # refills at 100 a minute
        await client.users_info(user="U0ADA")
        await client.auth_test()  # another method has its own budget
