"""Benchmark: a burst of outbound messages through our pacing, against Telegram's flood limits.

Run: .venv/bin/python -m bench.pacing [--messages 1000] [--chats 50]

The fake Bot API server enforces token buckets like Telegram's (30 messages/s overall with a
burst of 30, 1 message/s per private chat with a burst of 3) and answers 429 + retry_after
beyond them. The bot
side is what `interviewbot run` and the CLI use: `TelegramChannel` (python-telegram-bot with
`ChatPacedRateLimiter`, Telegram's default `Pacing`) and its `TelegramMessenger`. All messages
are handed to the messenger at once (one task each, in order); the run counts 429s, checks
every chat got all its messages in order, and compares the time taken with the least the limits
allow: max(messages / 30 per second, messages per chat at 1 per second).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.common import summary, table

ROOT = Path(__file__).resolve().parent.parent
FIRST_CHAT = 3_000_000
RATIO_TARGET = 1.15  # "close to the theoretical minimum"


async def run(messages: int, chats: int) -> dict[str, float]:
    sys.path.insert(0, str(ROOT))
    from bots.app import build
    from bots.settings import Settings
    from bots.telegram.channel import TelegramChannel
    from core.messages import OutMessage
    from core.refs import ChatRef
    from fakes.telegram import FakeTelegram, RateLimits

    tmp = Path(tempfile.mkdtemp(prefix="ib-bench-pacing-"))
    limits = RateLimits(overall_per_second=30, private_chat_per_second=1, private_chat_burst=3)
    try:
        async with FakeTelegram(rate_limits=limits) as fake:
            settings = Settings(
                _env_file=None, DATABASE_URL=f"sqlite:///{tmp / 'db.sqlite'}",
                INTERVIEWBOT_DATA_DIR=str(tmp / "data"), TELEGRAM_BOT_TOKEN=fake.token,
                TELEGRAM_API_URL=fake.api_url, TELEGRAM_FILE_URL=fake.file_url)
            app = build(settings)
            channel = TelegramChannel(settings, app.engine)  # Telegram's default pacing
            await channel.open_outbound()
            try:
                users = [fake.user(FIRST_CHAT + n, started=True) for n in range(chats)]
                plan = [(users[i % chats].id, f"message {i // chats + 1} to this chat")
                        for i in range(messages)]
                calls_before = len(fake.calls)
                started = time.perf_counter()
                results = await asyncio.gather(
                    *(channel.messenger.send(ChatRef("telegram", str(chat)), OutMessage(text))
                      for chat, text in plan), return_exceptions=True)
                elapsed = time.perf_counter() - started
            finally:
                await channel.close_outbound()
                app.db.dispose()
            failed = sum(1 for r in results if isinstance(r, BaseException))
            delivered = in_order = 0
            for user in users:
                texts = [m.text for m in fake.messages(user.id)]
                expected = [text for chat, text in plan if chat == user.id]
                delivered += len(texts)
                in_order += texts == expected
            sends = sum(1 for c in fake.calls[calls_before:] if c.method == "sendMessage")
            return {"elapsed": elapsed, "hits": fake.rate_limit_hits, "failed": failed,
                    "delivered": delivered, "in_order": in_order, "requests": sends}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="no effect: the burst is ~35 s")
    args = parser.parse_args(argv)
    per_chat = -(-args.messages // args.chats)
    bound = max(args.messages / 30, per_chat / 1.0)
    print(f"{args.messages} messages to {args.chats} chats at once; limits 30/s overall, "
          f"1/s per chat; least possible time {bound:.1f} s", flush=True)
    r = asyncio.run(run(args.messages, args.chats))
    ratio = r["elapsed"] / bound
    rows = [
        ("total time", f"{r['elapsed']:.1f} s", f"bound {bound:.1f} s"),
        ("time / least possible", f"{ratio:.2f}", f"<= {RATIO_TARGET}"),
        ("429 answers provoked", f"{r['hits']:.0f}", "<= 1"),
        ("sendMessage requests", f"{r['requests']:.0f}", f"{args.messages} + 429 retries"),
        ("messages delivered", f"{r['delivered']:.0f}", f"{args.messages}"),
        ("chats with every message, in order", f"{r['in_order']:.0f}", f"{args.chats}"),
        ("sends failed", f"{r['failed']:.0f}", "0"),
    ]
    print(table(["", "value", "expected"], rows))
    lost = args.messages - r["delivered"] + r["failed"]
    summary.add("pacing", f"{args.messages} msgs to {args.chats} chats: time / least possible",
                f"{r['elapsed']:.1f} s / {bound:.1f} s = {ratio:.2f}", f"<= {RATIO_TARGET}",
                ratio <= RATIO_TARGET)
    summary.add("pacing", "429s provoked, messages lost or out of order",
                f"{r['hits']:.0f}, {lost:.0f}, {args.chats - r['in_order']:.0f}", "<= 1, 0, 0",
                r["hits"] <= 1 and lost == 0 and r["in_order"] == args.chats)


if __name__ == "__main__":
    main(sys.argv[1:])
