"""Benchmark: 1, 2 and 4 `interviewbot run` processes on PostgreSQL behind a round-robin forwarder.

Run: .venv/bin/python -m bench.scale_out [--processes 1,2,4] [--candidates 60] [--answers 5]
                                         [--think 1.2] [--quick]

As in tests/e2e/test_scale_out.py (whose forwarder and process wrapper this uses): one
throwaway PostgreSQL, N processes started with the `interviewbot` command, Telegram in webhook
mode with the webhook URL pointing at a forwarder that sends request n to process n mod N. The
fake Bot API pushes updates like Telegram (chats concurrently, one chat's updates one at a
time) and enforces Telegram's flood limits (30 messages/s per bot token, about 1/s per private
chat with a burst of 3), answering 429 beyond them.

For each N, --candidates people (new ones) open their invitation, agree, then answer
--answers written questions. A written answer is a draft until submitted, so it is two steps,
each one update in and one Bot API call out in the person's chat: the text -> its receipt,
and Submit -> the receipt edited into the result with the next question (plus the press's
answerCallbackQuery, not a message). Each step comes after --think seconds: 60 people at
1.2 s offer ~50 steps/s, more than Telegram's 30 messages/s per bot. Measured per N: steps per
second, p50/p99 from the update being available to the bot's first call in that chat (a
message or an edit), calls per step in the chats, 429s, and each process's CPU use during the
answers (from /proc): when the steps/s stay at the platform's 30/s while the processes are
mostly idle, the platform, not the bot, is the ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import random
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import percentile, proc_cpu, summary, table

ROOT = Path(__file__).resolve().parent.parent
WEBHOOK_SECRET = "bench-scale-out-secret"
FIRST_USER = 3_100_000
PLATFORM_LIMIT = 30.0


@dataclass
class Run:
    processes: int
    steps: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    hits: int = 0
    failed: int = 0
    cpu: list[float] = field(default_factory=list)  # per process: share of one core
    calls: int = 0

    @property
    def rate(self) -> float:
        return self.steps / self.seconds if self.seconds else float("nan")

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    from tests.support.postgres import throwaway_postgres

    with throwaway_postgres() as url:
        yield url


def environment(tmp: Path, database_url: str, fake: Any, forwarder_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TELEGRAM_", "SLACK_", "INTERVIEWBOT_", "DATABASE_URL"))}
    env.update(
        DATABASE_URL=database_url,
        INTERVIEWBOT_DATA_DIR=str(tmp / "shared-disk"),
        INTERVIEWBOT_SCRIPTS=str(tmp / "scripts"),
        INTERVIEWBOT_LOG_LEVEL="WARNING",
        TELEGRAM_BOT_TOKEN=fake.token,
        TELEGRAM_API_URL=fake.api_url,
        TELEGRAM_FILE_URL=fake.file_url,
        TELEGRAM_WEBHOOK_URL=f"{forwarder_url}/telegram/webhook",
        TELEGRAM_WEBHOOK_SECRET=WEBHOOK_SECRET,
        PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p),
    )
    return env


async def run_with(n: int, fake: Any, args: argparse.Namespace, tmp: Path,
                   database_url: str) -> Run:
    import aiohttp

    from bench.driver import Driver, Phase, StepFailed, contains, has_button
    from bench.engine import SCRIPT_ID
    from bots.app import build
    from bots.settings import Settings
    from core.commands import CreateInvitation
    from tests.e2e.test_scale_out import BotProcess, Forwarder, free_port

    logs = tmp / "logs"
    logs.mkdir(exist_ok=True)
    ports = [free_port() for _ in range(n)]
    forwarder = Forwarder([f"http://127.0.0.1:{port}" for port in ports])
    await forwarder.start()
    env = environment(tmp, database_url, fake, forwarder.url)
    total = args.answers + 1
    values: dict[str, Any] = {k: v for k, v in env.items() if k.startswith(
        ("TELEGRAM_", "INTERVIEWBOT_", "DATABASE_URL"))}
    settings = Settings(_env_file=None, **values)
    app = build(settings)  # migrates the database on the first run
    try:
        tokens = [app.engine.invite(CreateInvitation(SCRIPT_ID, f"Scale {n}.{i}", "telegram",
                                                     "Europe/Lisbon"))[1]
                  for i in range(args.candidates)]
    finally:
        app.db.dispose()
    base = FIRST_USER + 10_000 * n
    users = [fake.user(base + i, f"Scale{i}") for i in range(args.candidates)]
    processes = [BotProcess(f"P{n}.{k}", dict(env, INTERVIEWBOT_HTTP_PORT=str(port),
                                              TELEGRAM_PROCESSES=str(n)), tmp, logs)
                 for k, port in enumerate(ports)]
    driver = Driver(fake)
    rng = random.Random(n)
    result = Run(n)
    try:
        async with aiohttp.ClientSession() as http:
            for process in processes:  # one after the other: the first leads the scheduler
                await process.start()
                await process.wait_until(http, lambda h: h["status"] == 200)

            async def onboard(user: Any, token: str) -> None:
                phase = Phase("ours", "onboarding")
                consent = await driver.step(
                    user.id, lambda: fake.send_command(user, "/start", token),
                    has_button("I agree"), phase)
                await driver.step(user.id, lambda: fake.press_button(user, consent,
                                                                      label="I agree"),
                                  contains(f"Question 1 of {total}"), phase)

            await asyncio.gather(*(onboard(u, t) for u, t in zip(users, tokens, strict=True)))
            await driver.quiet()
            await asyncio.sleep(3.5)  # every chat's burst refilled

            phase = Phase("ours", f"{n} processes")

            async def answer(user: Any) -> None:
                # two steps per written answer (it is a draft until Submit), each after
                # thinking: the text -> its receipt, Submit -> the receipt edited into the
                # result with the next question
                await asyncio.sleep(rng.uniform(0, args.think))
                with contextlib.suppress(StepFailed):
                    for q in range(1, args.answers + 1):
                        await asyncio.sleep(args.think)
                        text = f"My answer to question {q}: it depends, and here is why."
                        receipt = await driver.step(
                            user.id, functools.partial(fake.send_text, user, text),
                            has_button("Submit"), phase)
                        await asyncio.sleep(args.think)
                        await driver.step(
                            user.id, functools.partial(fake.press_button, user, receipt,
                                                       label="Submit"),
                            contains(f"Question {q + 1} of {total}"), phase)

            pids = [p.process.pid for p in processes if p.process is not None]
            cpu0 = [proc_cpu(pid).own for pid in pids]
            hits0, calls0 = fake.rate_limit_hits, len(fake.calls)
            loop = asyncio.get_running_loop()
            began = loop.time()
            await asyncio.gather(*(answer(u) for u in users))
            result.seconds = loop.time() - began
            result.cpu = [(proc_cpu(pid).own - c) / result.seconds
                          for pid, c in zip(pids, cpu0, strict=True)]
            await driver.quiet()
            chats = {u.id for u in users}
            result.calls = sum(1 for c in fake.calls[calls0:]
                               if c.params.get("chat_id") in chats)
            result.hits = fake.rate_limit_hits - hits0
            result.steps, result.latencies = phase.answers, phase.latencies
            result.failed = phase.failed
            for process in processes:
                await process.stop()
    finally:
        for process in processes:
            process.ensure_dead()
        await forwarder.stop()
    return result


async def amain(args: argparse.Namespace) -> list[Run]:
    sys.path.insert(0, str(ROOT))
    from bench.engine import SCRIPT_ID, bench_script
    from fakes.telegram import FakeTelegram, RateLimits

    limits = RateLimits(overall_per_second=PLATFORM_LIMIT, private_chat_per_second=1,
                        group_per_minute=20, private_chat_burst=3)
    tmp = Path(tempfile.mkdtemp(prefix="ib-bench-scale-"))
    (tmp / "scripts").mkdir()
    (tmp / "scripts" / f"{SCRIPT_ID}.yaml").write_text(bench_script(args.answers))
    runs = []
    try:
        with postgres() as url:
            async with FakeTelegram(rate_limits=limits, webhook_max_attempts=20,
                                    webhook_retry_delay=0.5, webhook_timeout=60.0) as fake:
                for n in args.processes:
                    runs.append(await run_with(n, fake, args, tmp, url))
                    print(f"  {n} process(es) done ({_load()})", flush=True)
        return runs
    except BaseException:
        kept = Path(tempfile.gettempdir()) / "interviewbot-bench-scale-out"
        shutil.rmtree(kept, ignore_errors=True)
        shutil.copytree(tmp / "logs", kept, dirs_exist_ok=True)
        print(f"  process logs kept in {kept}", file=sys.stderr)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _load() -> str:
    from bench.realistic import load

    return load()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", default="1,2,4")
    parser.add_argument("--candidates", type=int, default=60)
    parser.add_argument("--answers", type=int, default=None,
                        help="written answers per candidate, two steps each "
                             "(default 5; 3 with --quick)")
    parser.add_argument("--think", type=float, default=1.2)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    args.processes = [int(p) for p in args.processes.split(",")]
    if args.answers is None:
        args.answers = 3 if args.quick else 5
    offered = args.candidates / args.think
    print(f"{args.candidates} candidates, {args.answers} written answers each (2 steps each: "
          f"the text -> its receipt, Submit -> the receipt edited with the next question), "
          f"{args.think:g} s before every step (up to {offered:.0f} steps/s offered); "
          f"PostgreSQL; Telegram webhook via a round-robin forwarder; flood limits on; "
          f"{_load()}", flush=True)
    runs = asyncio.run(amain(args))
    rows = [(r.processes, r.steps, r.rate, r.p(50), r.p(99), r.calls / r.steps if r.steps
             else float("nan"), r.hits, r.failed,
             " ".join(f"{c * 100:.0f}%" for c in r.cpu)) for r in runs]
    print(table(["processes", "steps", "steps/s", "p50 ms", "p99 ms", "calls/step", "429s",
                 "failed", "CPU per process"], rows))
    print(f"  platform limit: {PLATFORM_LIMIT:g} messages/s per bot token; {_load()}")
    for r in runs:
        summary.add("scale-out", f"{r.processes} process(es): steps/s, p50/p99 ms, 429s",
                    f"{r.rate:.1f}, {r.p(50):.0f}/{r.p(99):.0f}, {r.hits}")


if __name__ == "__main__":
    main(sys.argv[1:])
