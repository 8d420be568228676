"""Pacing against Telegram's flood limits (bots/telegram/pacing.py), real PTB over HTTP.

The fake Bot API enforces Telegram's limits with token buckets and answers 429 beyond them:
30 messages/s overall, 20/min per group, and per private chat about 1/s with a short burst of
3 tolerated. The bot runs with its default pacing (`Pacing()`), unless a test says otherwise.

Nothing here depends on the machine's speed: the checks are on the order in which the fake saw
messages, on 429 counts, on lower bounds of time (pacing can only make things later), and on
what the rate limiter reports it held each request for.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bots.app import build
from bots.telegram.channel import TelegramChannel
from bots.telegram.pacing import ChatPacedRateLimiter, Pacing
from core.messages import OutMessage
from core.refs import ChatRef
from fakes.telegram import FakeTelegram, RateLimits
from tests.e2e.telegram_support import REVIEW_GROUP, Session, settings_for, start_bot

TELEGRAM = RateLimits(private_chat_burst=3)  # Telegram's limits, with its per-chat burst


def limiter_of(channel: TelegramChannel) -> ChatPacedRateLimiter:
    limiter = channel.application.bot.rate_limiter
    assert isinstance(limiter, ChatPacedRateLimiter)
    return limiter


async def refilled(limiter: ChatPacedRateLimiter, chat_id: int) -> None:
    """Until the chat's bucket is full again (a candidate reading and thinking): it refills
    with time, so poll it; the deadline only bounds a failing run."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while limiter.tokens(chat_id) < limiter.burst:
        assert loop.time() < deadline, limiter.tokens(chat_id)
        await asyncio.sleep(0.05)


async def test_a_private_chat_gets_a_burst_of_three_then_one_message_per_second(
        tmp_path: Path) -> None:
    async with FakeTelegram(rate_limits=TELEGRAM) as fake:
        settings = settings_for(tmp_path, fake)
        app = build(settings)
        channel = TelegramChannel(settings, app.engine)  # Telegram's default pacing
        await channel.open_outbound()
        try:
            ada = fake.user(1001, "Ada", started=True)
            chat = ChatRef("telegram", str(ada.id))
            limiter = limiter_of(channel)
            await asyncio.gather(*(channel.messenger.send(chat, OutMessage(f"burst {n}"))
                                   for n in range(3)))
            assert limiter.held(ada.id) == [0.0, 0.0, 0.0]  # a burst is never held back
            await asyncio.gather(*(channel.messenger.send(chat, OutMessage(f"paced {n}"))
                                   for n in range(3)))
        finally:
            await channel.close_outbound()
            app.db.dispose()
        sent = fake.messages(ada.id)
        assert [m.text for m in sent] == [f"burst {n}" for n in range(3)] + [
            f"paced {n}" for n in range(3)]
        assert fake.rate_limit_hits == 0
        held = limiter.held(ada.id)
        assert all(h > 0 for h in held[3:]), held  # the bucket is empty: 1/s from here on
        for n in range(3, 6):  # the n-th message no sooner than (n - 2) s after the first
            assert sent[n].at - sent[0].at >= (n - 2) * 0.95, [m.at for m in sent]


async def test_a_quick_answer_is_not_held_back_by_the_chat_pacing(tmp_path: Path) -> None:
    """A candidate who read the question for a while answers; the next question arrives; they
    answer that one the moment it arrives. Neither reply is held by the per-chat pacing."""
    async with FakeTelegram(rate_limits=TELEGRAM) as fake:
        fake.group(REVIEW_GROUP)
        bot = await start_bot(settings_for(tmp_path, fake))  # default pacing
        session = Session(fake, bot, tmp_path)
        limiter = limiter_of(bot.channel)
        try:
            ada = fake.user(1001, "Ada")
            await session.to_question(ada, question="tradeoff")
            # thinking: the chat's bucket fills up again
            await refilled(limiter, ada.id)
            before = len(limiter.held(ada.id))
            mark = fake.mark()
            fake.send_text(ada, "I chose SQLite over PostgreSQL for a single-user tool.")
            # an answer is a draft: the reply is its receipt; the quick second message below
            # is added to the draft and gets a second receipt
            question = await fake.wait_for_message(ada.id, "Got your written answer", since=mark,
                                                   timeout=20)
            first_reply = len([m for m in fake.messages(ada.id) if m.seq > mark])
            mark = fake.mark()
            fake.send_text(ada, "Unit tests first, then an end-to-end test per feature.")
            await fake.wait_for(lambda: [m for m in fake.messages(ada.id) if m.seq > mark]
                                or None, timeout=20)
            held = limiter.held(ada.id)[before:]
            # the replies to the first answer, then the first reply to the quick one
            assert held[:first_reply + 1] == [0.0] * (first_reply + 1), held
            assert question.seq < max(m.seq for m in fake.messages(ada.id))
            assert fake.rate_limit_hits == 0
        finally:
            await bot.stop()


async def test_a_reply_does_not_wait_behind_a_review_card_burst(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """30 cards go to the review group at once while a candidate answers: the reply takes the
    next free overall slot instead of queueing behind the cards. The overall limit is scaled
    down to 5/s (same limiter, same fake) so that the cards are still queued while the engine
    handles the answer however busy the machine is."""
    overall, group_limit = 5.0, 60.0  # all 30 cards queue for the overall limit at once
    monkeypatch.setattr(TelegramChannel, "default_pacing",
                        Pacing(overall_per_second=overall, overall_burst=1,
                               group_per_minute=group_limit))
    limits = RateLimits(overall_per_second=overall, group_per_minute=group_limit,
                        private_chat_burst=3)
    async with FakeTelegram(rate_limits=limits) as fake:
        group = fake.group(REVIEW_GROUP)
        bot = await start_bot(settings_for(tmp_path, fake))
        session = Session(fake, bot, tmp_path)
        limiter = limiter_of(bot.channel)
        try:
            ada = fake.user(1001, "Ada")
            await session.to_question(ada, question="tradeoff")
            await refilled(limiter, ada.id)
            cards = [asyncio.create_task(bot.channel.messenger.send(
                ChatRef("telegram", str(group.id)), OutMessage(f"Review card {n}")))
                for n in range(30)]
            await fake.wait_for_message(group.id, "Review card 0", timeout=20)
            queued_before = limiter.waited(ada.id)[1]
            mark = fake.mark()
            fake.send_text(ada, "I chose SQLite over PostgreSQL for a single-user tool.")
            reply = await fake.wait_for(lambda: next(
                (m for m in fake.messages(ada.id) if m.seq > mark), None), timeout=30)
            cards_before = sum(1 for m in fake.messages(group.id) if m.seq < reply.seq)
            queued = limiter.waited(ada.id)[1] - queued_before
            latency = reply.at - fake.update_times[max(fake.update_times)]
            print(f"\nreply after {latency * 1000:.0f} ms, {cards_before} cards before it, "
                  f"{queued * 1000:.0f} ms waiting for overall slots")
            # all 30 cards were queued for the overall limit before the answer came in: first
            # come first served, the reply would be the 31st message, 6 s later
            assert cards_before < 20, cards_before
            assert queued < 5 * 1.05 / overall  # at most a few slots, not the cards' 6 s
            await asyncio.wait_for(asyncio.gather(*cards), 60)
            assert len(fake.messages(group.id)) == 30
            assert fake.rate_limit_hits == 0
        finally:
            await bot.stop()


async def test_processes_sharing_a_bot_token_each_pace_to_their_share(tmp_path: Path) -> None:
    """TELEGRAM_PROCESSES=4 (scale-out): Telegram's 30/s and 20/min per group are per bot
    token, so each process paces to a quarter (bench.scale_out: without it, 2 and 4 processes
    provoked 40-46 429s where 1 provoked none)."""
    async with FakeTelegram() as fake:
        for processes, overall in ((1, 30.0), (4, 7.5)):
            settings = settings_for(tmp_path, fake, TELEGRAM_PROCESSES=processes)
            app = build(settings)
            try:
                channel = TelegramChannel(settings, app.engine)
                limiter = limiter_of(channel)
                assert limiter.overall is not None
                assert limiter.overall.rate == overall
                assert limiter.overall.burst == 30 // processes
                assert channel.pacing.group_per_minute == 20 / processes
                assert channel.pacing.private_per_second == 1.0
            finally:
                app.db.dispose()
