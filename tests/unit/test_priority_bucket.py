"""The overall Telegram limit's bucket: tokens held while requests are in flight, charged when
they finish, and handed out by priority."""

from __future__ import annotations

import asyncio

from bots.telegram.pacing import PriorityBucket

SLOW = 0.001  # tokens per second: nothing refills within a test
FAST = 1e9  # refilled at once


async def _pending(task: asyncio.Task[float]) -> bool:
    for _ in range(5):  # let the loop run whatever was ready
        await asyncio.sleep(0)
    return not task.done()


async def test_requests_in_flight_hold_their_tokens_until_settled() -> None:
    bucket = PriorityBucket(SLOW, 2)
    assert await bucket.acquire(0) == 0.0
    assert await bucket.acquire(0) == 0.0
    third = asyncio.create_task(bucket.acquire(0))
    assert await _pending(third)  # both tokens in flight
    bucket.settle()  # the first finished: its token is spent, not returned
    assert await _pending(third)
    third.cancel()


async def test_a_finished_request_frees_room_once_the_bucket_refills() -> None:
    bucket = PriorityBucket(FAST, 2)
    await bucket.acquire(0)
    await bucket.acquire(0)
    third = asyncio.create_task(bucket.acquire(0))
    assert await _pending(third)  # the whole burst in flight: no refill helps
    bucket.settle()
    await asyncio.wait_for(third, 30)


async def test_waiting_requests_are_served_by_priority_then_arrival() -> None:
    bucket = PriorityBucket(FAST, 1)
    await bucket.acquire(1)
    served: list[str] = []

    async def wait(name: str, priority: int) -> None:
        await bucket.acquire(priority)
        served.append(name)
        bucket.settle()

    waiting = [asyncio.create_task(wait(name, priority))
               for name, priority in (("card 1", 1), ("reply 1", 0), ("card 2", 1),
                                      ("reply 2", 0))]
    for _ in range(5):
        await asyncio.sleep(0)
    bucket.settle()
    await asyncio.wait_for(asyncio.gather(*waiting), 30)
    assert served == ["reply 1", "reply 2", "card 1", "card 2"]


async def test_a_waiter_cancelled_after_its_grant_gives_the_token_back() -> None:
    bucket = PriorityBucket(FAST, 1)
    await bucket.acquire(0)
    granted = asyncio.create_task(bucket.acquire(0))
    assert await _pending(granted)
    bucket.settle()
    bucket._grant(asyncio.get_running_loop())  # the waiter is granted (the bucket refilled) ...
    granted.cancel()  # ... and cancelled before it ran
    await asyncio.gather(granted, return_exceptions=True)
    # its token is free again: the next request goes at once
    assert await asyncio.wait_for(bucket.acquire(0), 10) == 0.0
