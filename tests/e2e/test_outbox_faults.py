"""The outbox under failures injected per destination, with the real python-telegram-bot
stack against the fake Bot API: the review group unreachable for a number of requests, the
group slower than the outbox's retry time, and one card whose step raises every time.

Every card reaches the group exactly once (the failing one never, and the group is told
once), the candidate sees every message once, the failing step stops at its cap, and
/metrics counts the failures.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from bots.metrics import Metrics
from core.capabilities import AudioFormat
from core.outbox_runner import STEP_ATTEMPTS
from tests.e2e.telegram_support import (
    REVIEW_GROUP,
    Session,
)

# a lease of 1 s, renewed every third of it; a sweep every 0.5 s
pytestmark = pytest.mark.telegram_session(env={"INTERVIEWBOT_OUTBOX_RETRY": 1})


def sample(session: Session, name: str, labels: dict[str, str]) -> float:
    metrics = session.app.services.observer
    assert isinstance(metrics, Metrics)
    return metrics.registry.get_sample_value(name, labels) or 0.0


async def test_cards_survive_an_unreachable_slow_and_failing_review_group(
        session: Session) -> None:
    fake = session.fake
    ada = fake.user(1001, "Ada")
    interview = await session.to_question(ada, question="testing")
    project_key = next(a.kept.media_key for a in session.interview(interview.id).answers
                       if a.question_id == "project" and a.kept)
    audio = session.app.services.audio
    review_copy = audio.review_copy
    broken: list[str] = []

    async def failing_copy(key: str, *, fmt: AudioFormat) -> tuple[str, str]:
        if key == project_key:  # a canonical file gone missing: this card's step raises
            broken.append(key)
            raise FileNotFoundError(key)
        return await review_copy(key, fmt=fmt)

    audio.review_copy = failing_copy  # type: ignore[method-assign]
    # the group: unreachable for 8 requests (502), then slower than the 1 s lease 3 times
    fake.fail_chat(REVIEW_GROUP, 502, times=8)
    fake.delay_chat(REVIEW_GROUP, 3.0, times=2)
    fake.send_text(ada, "Unit tests first, then end-to-end tests against fakes.")
    receipt = await session.reply(ada, "Got your written answer")
    assert await session.press(ada, receipt, "Submit") == "Submitted."
    await session.reply(ada, "That was the last question", timeout=30)

    def headers() -> Counter[str]:
        return Counter((m.text or "").splitlines()[0] for m in fake.messages(REVIEW_GROUP)
                       if m.text)

    def settled() -> bool:
        seen = headers()
        return ("Candidate #1 completed QA Engineer (Telegram)" in seen
                and "Candidate #1 · Question 2 of 3" in seen
                and "Candidate #1 · Question 3 of 3" in seen
                and any("could not be posted" in h for h in seen))

    await fake.wait_for(lambda: settled() or None, timeout=120)
    deadline = time.monotonic() + 120
    while True:  # every entry finished: none left to retry
        with session.app.services.uow() as uow:
            if not uow.outbox.due(session.app.services.clock.now().replace(year=2100), 5):
                break
        assert time.monotonic() < deadline, "the outbox never drained"
        await asyncio.sleep(0.1)
    seen = headers()
    assert all(count == 1 for count in seen.values()), seen  # every card once, none twice
    assert not any("Question 1 of 3" in h and "could not" not in h for h in seen)
    assert len(broken) == STEP_ATTEMPTS  # the raising step stopped at its cap
    candidate = Counter(m.text for m in fake.messages(ada.id))
    assert all(count == 1 for count in candidate.values()), candidate
    assert sample(session, "interviewbot_outbox_steps_given_up_total",
                  {"kind": "card", "platform": "telegram"}) == 1
    assert sample(session, "interviewbot_deliveries_failed_total",
                  {"platform": "telegram"}) >= STEP_ATTEMPTS
    assert fake.faults_served >= 10
