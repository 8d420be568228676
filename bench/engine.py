"""Benchmark: the full Telegram stack vs a bare python-telegram-bot echo bot, same fake Bot API.

Run: .venv/bin/python -m bench.engine [--candidates 200] [--answers 4] [--think 2]
                                      [--db sqlite|postgres] [--quick]

One run, two bots, one fake server (fakes/telegram/) on 127.0.0.1:

* echo: the python-telegram-bot tutorial echo bot (defaults: updates handled one at a time).
* ours: `interviewbot run` as composed by bots.app (build + make_channels + serve): PTB with
  our update processor and rate limiter -> translate -> engine -> SQLite/PostgreSQL ->
  messenger, plus the reminder scheduler with its job store. Flood pacing is off (the fake
  enforces no limits here; bench.pacing measures pacing), so this is engine overhead.

Each bot runs in its own process; the fake and the simulated candidates run in this one, so
the bot's CPU time is its own (read from /proc). Every candidate is a task that takes one step
at a time and waits for the bot's reply. A step is one update in and the bot's reply out: for
the echo bot a message and its echo; for ours a written answer and its receipt (with Submit),
or the Submit press and the receipt edited into the result with the next question (plus the
press's answerCallbackQuery, not a message). An answer is a draft until submitted, so each
written answer of ours is two steps; figures are per step unless they say otherwise.
Phases, each finished by every candidate before the next starts:

  onboarding   /start <invite token>, then "I agree" (ours only)
  saturated    --answers text answers each (echo: messages; ours: written answers, 2 steps
               each), no pause: capacity (steps/s) and CPU per step
  paced        the same after a random think time (mean --think s) before every step:
               latency at a steady load of candidates/think steps/s, the same for both bots
  voice+review one voice note each (download, ffmpeg to OGG/Opus, store) and Submit: the
               last question, so it also completes the interview and posts the review cards
               with audio (ours only; --voices of the candidates)

Latency is from when the fake made the update available to the bot's first successful call
in that chat afterwards (a message, or the edit of the pressed message), on the fake's clock.
Calls per step count the calls naming a candidate's chat; callback answers are counted apart.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import os
import random
import shutil
import signal
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.common import MISSED, summary, table
from bench.driver import Done, Driver, Phase, contains, has_button, pause, text_is
from bench.processes import bot_process, child_logging, loopback_sites, until_terminated

if TYPE_CHECKING:
    from bench.engine_alone import EngineOnly

ROOT = Path(__file__).resolve().parent.parent
VOICE = ROOT / "tests" / "fixtures" / "audio" / "voice.ogg"
SCRIPT_ID = "bench"
REVIEW_GROUP = -100900
ECHO_USERS = 1_000_000
OUR_USERS = 2_000_000

# A step is one update in and the bot's reply out. Echo: a message and its echo. Ours: a
# written answer (-> its receipt, with Submit) or the Submit press (-> the receipt edited into
# the result with the next question, plus the press's answerCallbackQuery, which is not a
# message); so one written answer takes two steps.
STEPS_PER_ANSWER = 2
STEPS_SAID = ("a step: one update in, the bot's reply out. echo: a message -> its echo; "
              "ours: a written answer -> its receipt, or Submit -> the receipt edited into the "
              "result with the next question (+ answerCallbackQuery, not a message); a written "
              "answer is 2 steps")

# Targets: steps/s and CPU per step against the echo bot's (issue 20), p99 when paced (issue 10)
RATIO_TARGET = 0.8
P99_TARGET_MS = 50.0


def bench_script(text_questions: int) -> str:
    questions = "\n".join(
        f'  - {{id: t{n}, text: "Text question number {n}: describe something.",'
        f" answer: {{kinds: [text], retakes: 0}}}}"
        for n in range(1, text_questions + 1))
    return f"""\
id: {SCRIPT_ID}
title: Benchmark interview
intro: "Hi {{name}}! {{questions}} questions, about {{minutes}} minutes. Due {{deadline}}."
consent: "We keep your answers for 90 days, seen only by the hiring team. OK?"
deadline: 7d
answer: {{kinds: [text], max_seconds: 60, retakes: 0}}
reminders: {{not_started: [24h, 72h], idle: 24h, before_deadline: 24h}}
questions:
{questions}
  - {{id: voice, text: "Last one: say hello by voice.", answer: {{kinds: [voice], retakes: 0}}}}
rubric: {{depth: "Technical depth", scale: [1, 2, 3, 4, 5]}}
review: {{reviewers: ["telegram:{REVIEW_GROUP}"], blind: true, independent: true}}
"""


# --------------------------------------------------------------------------- bot processes


def echo_bot(api_url: str, file_url: str, token: str, log_file: str, ready: Any) -> None:
    """The python-telegram-bot tutorial echo bot, run inside an asyncio loop."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    child_logging(log_file)
    logging.getLogger("httpx").setLevel(logging.WARNING)

    async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    async def run() -> None:
        app = ApplicationBuilder().token(token).base_url(api_url).base_file_url(file_url).build()
        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
        stopping = asyncio.create_task(until_terminated())
        async with app:
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling()
            ready.put(os.getpid())
            await stopping
            await app.updater.stop()
            await app.stop()

    asyncio.run(run())


def our_bot(env: dict[str, Any], log_file: str, ready: Any) -> None:
    """`interviewbot run`: bots.app.build + make_channels + serve, flood pacing off."""
    from bots.app import build, make_channels, serve
    from bots.settings import Settings
    from bots.telegram.channel import TelegramChannel
    from bots.telegram.pacing import Pacing

    child_logging(log_file)
    loopback_sites()
    TelegramChannel.default_pacing = Pacing(overall_per_second=0, group_per_minute=0,
                                            private_per_second=0)

    async def run() -> None:
        settings = Settings(_env_file=None, **env)
        app = build(settings)
        child_logging(log_file)  # again: the migrations' logging config replaced it
        channels = make_channels(settings, app)
        (channel,) = channels
        assert isinstance(channel, TelegramChannel)
        stop = asyncio.Event()
        serving = asyncio.create_task(serve(app, channels, stop))
        await channel.ready.wait()
        while app.engine.scheduler is None:  # serve() starts the scheduler after the channels
            await asyncio.sleep(0.01)
        ready.put(os.getpid())
        # BENCH_PROFILE=<file>: cProfile the bot while it serves; with BENCH_PROFILE_PHASE=<name>
        # only during that phase (the bench sends SIGUSR1 at its start, SIGUSR2 at its end)
        profile = os.environ.get("BENCH_PROFILE")
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            if os.environ.get("BENCH_PROFILE_PHASE"):
                loop = asyncio.get_running_loop()
                loop.add_signal_handler(signal.SIGUSR1, profiler.enable)
                loop.add_signal_handler(signal.SIGUSR2, profiler.disable)
            else:
                profiler.enable()
        await until_terminated()
        if profile:
            profiler.disable()
            profiler.dump_stats(profile)
        stop.set()
        await serving

    asyncio.run(run())


# --------------------------------------------------------------------------- measuring


async def bench_echo(fake: Any, args: argparse.Namespace, tmp: Path) -> list[Phase]:
    driver = Driver(fake)
    users = [fake.user(ECHO_USERS + i, f"Echo{i}") for i in range(args.candidates)]
    rng = random.Random(1)
    phases = []
    async with bot_process(echo_bot, fake.api_url, fake.file_url, fake.token,
                           str(tmp / "echo.log"), module="bench.engine") as bot:
        await asyncio.sleep(0.2)
        for name, think in (("saturated", 0.0), ("paced", args.think)):
            def work(user: Any, think: float = think, name: str = name
                     ) -> Callable[[Phase], Awaitable[None]]:
                async def run(phase: Phase) -> None:
                    for n in range(args.answers):
                        await pause(rng, think)
                        text = f"{name} answer {n} from {user.id}"
                        await driver.step(user.id, functools.partial(fake.send_text, user, text),
                                          text_is(text), phase)
                return run
            measured = Phase("echo", name, offered=args.candidates / think if think else None)
            phases.append(await driver.run_phase(measured, bot, [work(u) for u in users],
                                                 {u.id for u in users}))
    return phases


def our_env_files(tmp: Path, database_url: str) -> dict[str, Any]:
    scripts = tmp / "scripts"
    scripts.mkdir(exist_ok=True)
    return {
        "DATABASE_URL": database_url,
        "INTERVIEWBOT_DATA_DIR": str(tmp / "data"),
        "INTERVIEWBOT_SCRIPTS": str(scripts),
    }


def our_env(fake: Any, tmp: Path, database_url: str) -> dict[str, Any]:
    return {
        **our_env_files(tmp, database_url),
        "INTERVIEWBOT_HTTP_PORT": _free_port(),
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_URL": fake.api_url,
        "TELEGRAM_FILE_URL": fake.file_url,
        "TELEGRAM_WEBHOOK_URL": None,
        "TELEGRAM_WEBHOOK_SECRET": None,
        "SLACK_BOT_TOKEN": None,
    }


def invite_all(env: dict[str, Any], count: int) -> list[str]:
    """Create the invitations as `interviewbot invite` does (migrating the database first)."""
    from bots.app import build
    from bots.settings import Settings
    from core.commands import CreateInvitation

    app = build(Settings(_env_file=None, **env))
    try:
        return [app.engine.invite(CreateInvitation(SCRIPT_ID, f"Candidate {i}", "telegram",
                                                   "Europe/Lisbon"))[1] for i in range(count)]
    finally:
        app.db.dispose()


async def bench_ours(fake: Any, args: argparse.Namespace, tmp: Path,
                     database_url: str) -> list[Phase]:
    driver = Driver(fake)
    text_questions = 2 * args.answers
    env = our_env(fake, tmp, database_url)
    (Path(env["INTERVIEWBOT_SCRIPTS"]) / f"{SCRIPT_ID}.yaml").write_text(
        bench_script(text_questions))
    tokens = invite_all(env, args.candidates)
    fake.group(REVIEW_GROUP)
    users = [fake.user(OUR_USERS + i, f"Cand{i}") for i in range(args.candidates)]
    voice = VOICE.read_bytes()
    rng = random.Random(2)
    total = text_questions + 1

    def question(n: int) -> Done:
        return contains(f"Question {n} of {total}")

    def onboard(user: Any, token: str) -> Callable[[Phase], Awaitable[None]]:
        async def run(phase: Phase) -> None:
            consent = await driver.step(user.id, lambda: fake.send_command(user, "/start", token),
                                        has_button("I agree"), phase)
            await driver.step(user.id, lambda: fake.press_button(user, consent, label="I agree"),
                              question(1), phase)
        return run

    def answer(user: Any, first: int, think: float) -> Callable[[Phase], Awaitable[None]]:
        async def run(phase: Phase) -> None:
            for n in range(first, first + args.answers):
                await pause(rng, think)
                text = f"My answer to question {n}: it depends, and here is why."
                # an answer is a draft until Submit: two steps (text -> receipt, Submit ->
                # the receipt edited into the result with the next question), each timed and
                # each after its own think time, so the paced phase offers steps at the echo
                # bot's rate
                receipt = await driver.step(user.id, functools.partial(fake.send_text, user, text),
                                            has_button("Submit"), phase)
                await pause(rng, think)
                await driver.step(
                    user.id, functools.partial(fake.press_button, user, receipt, label="Submit"),
                    question(n + 1), phase)
        return run

    def speak(user: Any) -> Callable[[Phase], Awaitable[None]]:
        async def run(phase: Phase) -> None:
            receipt = await driver.step(user.id,
                                        lambda: fake.send_voice(user, voice, duration=6),
                                        has_button("Submit"), phase)
            await driver.step(user.id, lambda: fake.press_button(user, receipt, label="Submit"),
                              contains("That was the last question"), phase)
        return run

    phases = []
    chats = {u.id for u in users}
    async with bot_process(our_bot, env, str(tmp / "ours.log"), module="bench.engine") as bot:
        await asyncio.sleep(0.2)
        phases.append(await driver.run_phase(
            Phase("ours", "onboarding"), bot,
            [onboard(u, t) for u, t in zip(users, tokens, strict=True)], chats))
        phases.append(await driver.run_phase(
            Phase("ours", "saturated"), bot, [answer(u, 1, 0.0) for u in users], chats))
        phases.append(await driver.run_phase(
            Phase("ours", "paced", offered=args.candidates / args.think if args.think else None),
            bot, [answer(u, 1 + args.answers, args.think) for u in users], chats))
        phases.append(await driver.run_phase(
            Phase("ours", "voice+review"), bot, [speak(u) for u in users[:args.voices]],
            {u.id for u in users[:args.voices]}))
        cards = len(fake.messages(REVIEW_GROUP))
    expected = args.voices * (total + 1)
    if cards < expected:
        print(f"  warning: {cards} review cards posted, expected {expected}", file=sys.stderr)
    return phases


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- report


def report(args: argparse.Namespace, phases: list[Phase]) -> None:
    rows = []
    for p in phases:
        load = "closed loop" if p.offered is None else f"{p.offered:.0f}/s offered"
        rate = p.rate if p.offered is None else float("nan")  # paced: set by the think time
        rows.append((p.bot, p.name, load, p.answers, p.failed, rate, p.p(50), p.p(99),
                     p.cpu_ms, p.cpu_with_children_ms, p.calls_per_answer,
                     p.callbacks, p.fake_cpu / p.seconds * 100))
    print(table(["bot", "phase", "load", "steps", "failed", "steps/s", "p50 ms", "p99 ms",
                 "CPU ms/step", "+children", "calls/step", "callback answers", "fake CPU %"],
                rows))
    print(f"  {STEPS_SAID}")
    failed = sum(p.failed for p in phases)
    if failed:
        summary.add(f"engine/{args.db}", "steps the bot failed (apologised)", str(failed),
                    "0", False)
    solos: list[EngineOnly] = getattr(args, "engine_only", [])
    for solo in solos:
        print(f"  engine alone (Engine.handle, scheduler on, no PTB/HTTP): {solo.describe()}")
    if solos:
        alone, together = solos[0], solos[-1]
        summary.add(f"engine/{args.db}",
                    "engine alone: CPU ms, SQL statements, transactions per written answer "
                    "(text + Submit)",
                    f"{alone.cpu_ms:.2f}, {sum(alone.statements.values()):.0f}, "
                    f"{alone.transactions:.2f} (all at once: {together.cpu_ms:.2f}, "
                    f"{sum(together.statements.values()):.0f}, {together.transactions:.2f})")
    by = {(p.bot, p.name): p for p in phases}
    echo, ours = by.get(("echo", "saturated")), by.get(("ours", "saturated"))
    paced = by.get(("ours", "paced"))
    db = args.db
    if echo and ours:
        ratio = ours.rate / echo.rate
        per_answer = STEPS_PER_ANSWER * ours.cpu_ms
        print(f"  throughput ratio ours/echo (steps/s, closed loop): {ratio:.2f}  "
              f"(target >= {RATIO_TARGET}); ours answers {ours.rate / STEPS_PER_ANSWER:.0f} "
              f"written questions/s")
        print(f"  CPU per step, echo/ours: {echo.cpu_ms / ours.cpu_ms:.2f}; ours per written "
              f"answer ({STEPS_PER_ANSWER} steps): {per_answer:.2f} ms")
        summary.add(f"engine/{db}", "steps/s ours vs echo (step: one update in, one call out)",
                    f"{ours.rate:.0f} vs {echo.rate:.0f} = {ratio:.2f}",
                    f">= {RATIO_TARGET}", ratio >= RATIO_TARGET)
        summary.add(f"engine/{db}", "Bot API calls per step in the chat (ours, echo)",
                    f"{ours.calls_per_answer:.2f}, {echo.calls_per_answer:.2f}", "<= 1",
                    ours.calls_per_answer <= 1.005)
        cpu_ratio = echo.cpu_ms / ours.cpu_ms
        summary.add(f"engine/{db}", "CPU ms per step echo / ours (ours per written answer)",
                    f"{echo.cpu_ms:.2f} / {ours.cpu_ms:.2f} = {cpu_ratio:.2f} ({per_answer:.2f})",
                    f">= {RATIO_TARGET}", cpu_ratio >= RATIO_TARGET)
        if solos and getattr(args, "round_trip_us", None):
            database_floor(args.round_trip_us, solos[0], echo.cpu_ms, db)
    if paced:
        echo_paced = by.get(("echo", "paced"))
        extra = f" (echo {echo_paced.p(99):.0f})" if echo_paced else ""
        summary.add(f"engine/{db}",
                    f"p50/p99 ms per step, {args.candidates} candidates, "
                    f"{paced.offered:.0f} steps/s",
                    f"{paced.p(50):.0f}/{paced.p(99):.0f}{extra}", f"p99 < {P99_TARGET_MS:g}",
                    paced.p(99) < P99_TARGET_MS)
    if ours:
        summary.add(f"engine/{db}", "p50/p99 ms closed loop (ours, echo)",
                    f"{ours.p(50):.0f}/{ours.p(99):.0f}, "
                    f"{echo.p(50):.0f}/{echo.p(99):.0f}" if echo else "")
    voice = by.get(("ours", "voice+review"))
    if voice:
        # two steps per voice answer (the note, Submit); the audio pool's workers and their
        # ffmpeg runs are not the bot's waited-for children, so this is the bot process alone
        # (bench.voice measures the conversions with the pool)
        summary.add(f"engine/{db}", "voice+review: voice answers/s, bot-process CPU ms per "
                    "answer (audio pool not counted)",
                    f"{voice.rate / STEPS_PER_ANSWER:.1f}, "
                    f"{voice.cpu_ms * STEPS_PER_ANSWER:.0f}")


def database_floor(round_trip_us: float, alone: EngineOnly, echo_cpu_ms: float, db: str) -> None:
    """What the database client alone costs per step: the round trips the engine made per
    step, each at a bare psycopg round trip's CPU (measured in this run), against the echo
    bot's whole step. A CPU ratio of 0.8 leaves ours echo / 0.8 per step for everything."""
    trips = alone.round_trips / STEPS_PER_ANSWER
    floor_ms = trips * round_trip_us / 1000
    budget = echo_cpu_ms / RATIO_TARGET
    print(f"  database client floor: {trips:.1f} round trips per step (statements, BEGIN, "
          f"COMMIT) x {round_trip_us:.0f} us of CPU each on bare psycopg (SELECT 1) = "
          f"{floor_ms:.2f} ms per step, before SQLAlchemy, the engine and PTB; a CPU ratio of "
          f"{RATIO_TARGET} allows {budget:.2f} ms per step for all of it")
    summary.add(f"engine/{db}", "database client floor per step: round trips x bare "
                "psycopg CPU each (share of the 0.8 budget)",
                f"{trips:.1f} x {round_trip_us:.0f} us = {floor_ms:.2f} ms "
                f"({floor_ms / budget:.0%} of {budget:.2f} ms)")


# --------------------------------------------------------------------------- main


@contextlib.contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'interviewbot.db'}"
        return
    sys.path.insert(0, str(ROOT))
    from tests.support.postgres import throwaway_postgres

    with throwaway_postgres() as url:
        yield url


async def amain(args: argparse.Namespace) -> list[Phase]:
    sys.path.insert(0, str(ROOT))
    from fakes.telegram import FakeTelegram

    tmp = Path(tempfile.mkdtemp(prefix="ib-bench-engine-"))
    try:
        with database(args.db, tmp) as url:
            # throughput and CPU, not Telegram's limits (bench/pacing.py measures those)
            async with FakeTelegram(rate_limits=None) as fake:
                phases: list[Phase] = args.phases
                if "echo" in args.bots:
                    phases += await bench_echo(fake, args, tmp)
                if "ours" in args.bots:
                    phases += await bench_ours(fake, args, tmp, url)
            if "ours" in args.bots:
                from bench.engine_alone import bare_round_trip_us, engine_only

                args.engine_only = await engine_only(args, tmp, url)
                if args.db == "postgres":
                    args.round_trip_us = bare_round_trip_us(url)
            return phases
    except BaseException:
        args.keep = True
        raise
    finally:
        if args.keep or any(p.failed for p in getattr(args, "phases", [])):
            kept = Path(tempfile.gettempdir()) / f"interviewbot-bench-engine-{args.db}"
            shutil.rmtree(kept, ignore_errors=True)
            shutil.copytree(tmp, kept, ignore=shutil.ignore_patterns("media"))
            print(f"  bot logs and database kept in {kept}", file=sys.stderr)
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", type=int, default=200)
    parser.add_argument("--answers", type=int, default=None,
                        help="text answers per candidate in each of the two text phases "
                             "(default 4; 2 with --quick)")
    parser.add_argument("--think", type=float, default=8.0,
                        help="mean think time (s) in the paced phase; the default makes 200 "
                             "candidates offer 25 answers/s, under Telegram's 30 messages/s")
    parser.add_argument("--voices", type=int, default=None,
                        help="candidates who send the voice note (default all; 50 with --quick)")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--bots", default="echo,ours")
    parser.add_argument("--quick", action="store_true", help="fewer answers per candidate")
    parser.add_argument("--keep", action="store_true", help="keep the bot logs and database")
    args = parser.parse_args(argv)
    if args.answers is None:
        args.answers = 2 if args.quick else 4
    if args.voices is None:
        args.voices = min(args.candidates, 50) if args.quick else args.candidates
    args.bots = args.bots.split(",")
    args.phases = []
    print(f"{args.candidates} candidates, {args.answers} text answers each per text phase "
          f"(ours: written answers, 2 steps each), "
          f"database {args.db}, think time {args.think:g} s (paced)", flush=True)
    phases = asyncio.run(amain(args))
    report(args, phases)
    if summary.missed():
        sys.exit(MISSED)  # run alone, say so; `python -m bench` lists it and exits 1


if __name__ == "__main__":
    main(sys.argv[1:])
