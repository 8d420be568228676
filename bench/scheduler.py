"""Benchmark: restarting the reminder scheduler over a job store of 100,000 pending timers.

Run: .venv/bin/python -m bench.scheduler [--timers 100000] [--db sqlite|postgres] [--quick]

1. A fresh database gets timers/4 interviews, inserted in bulk as rows (storage.tables): each
   invitation accepted but not yet started, so `core.reminders.plan` gives it four future
   timers (two not-started reminders, before-deadline, expiry). The script has quiet hours.
2. A first process runs `ReminderScheduler.start()`, whose reconcile fills the APScheduler
   job store (SQLAlchemyJobStore in the same database). Timed, for information.
3. A second, fresh process builds the app as `interviewbot run` does and times
   `ReminderScheduler.start()` (election, APScheduler start, reconcile against the filled
   store: nothing to change), and reports its peak RSS (getrusage ru_maxrss).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import summary, table

ROOT = Path(__file__).resolve().parent.parent
SCRIPT_ID = "bench-reminders"
TIMERS_PER_INTERVIEW = 4
TIME_TARGET = 10.0
RSS_TARGET_MB = 300.0

SCRIPT = f"""\
id: {SCRIPT_ID}
title: Reminder benchmark
intro: "Hi {{name}}! {{questions}} questions. Due {{deadline}}."
consent: "OK?"
deadline: 7d
answer: {{kinds: [voice, text], max_seconds: 60, retakes: 1}}
reminders: {{not_started: [24h, 72h], idle: 24h, before_deadline: 24h,
             quiet_hours: "21:00-08:00"}}
questions:
  - {{id: one, text: "First question?"}}
  - {{id: two, text: "Second question?"}}
rubric: {{depth: "Depth", scale: [1, 2, 3, 4, 5]}}
review: {{reviewers: ["telegram:-100900"], blind: true, independent: true}}
"""


def _settings(url: str, tmp: Path) -> Any:
    from bots.settings import Settings

    return Settings(_env_file=None, DATABASE_URL=url, INTERVIEWBOT_DATA_DIR=str(tmp / "data"),
                    INTERVIEWBOT_SCRIPTS=str(tmp / "scripts"))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def populate(url: str, tmp: Path, interviews: int, out: Any) -> None:
    """Child process: migrate, insert the interviews in bulk, fill the job store."""
    import logging

    from sqlalchemy import insert

    from bots.app import build
    from bots.scheduler import ReminderScheduler
    from storage.tables import InterviewRow

    logging.disable(logging.INFO)  # APScheduler logs a line per job added
    app = build(_settings(url, tmp))
    now = datetime.now(UTC)
    rows = [{
        "id": f"{n:032x}", "script_id": SCRIPT_ID, "number": n + 1,
        "candidate_name": f"Candidate {n}", "token_hash": f"{n:064x}",
        "invited_at": now, "deadline": now + timedelta(days=7), "platform": "telegram",
        "tz": "Europe/Lisbon", "tz_confirmed": True, "state": "invited",
        "candidate_platform": "telegram", "candidate_id": str(10_000_000 + n),
        "chat_platform": "telegram", "chat_id": str(10_000_000 + n), "accepted_at": now,
        "last_activity_at": now, "awaiting_redo": False,
    } for n in range(interviews)]
    started = time.perf_counter()
    with app.db.begin() as conn:
        for i in range(0, len(rows), 5000):
            conn.execute(insert(InterviewRow.__table__), rows[i:i + 5000])  # type: ignore[attr-defined]
    inserted = time.perf_counter() - started

    async def fill() -> tuple[float, int]:
        scheduler = ReminderScheduler(app.db, app.engine)
        began = time.perf_counter()
        await scheduler.start()
        seconds = time.perf_counter() - began
        assert scheduler.scheduler is not None
        await scheduler.stop()
        return seconds, 0

    fill_seconds, _ = asyncio.run(fill())
    with app.db.connect() as conn:
        jobs = conn.exec_driver_sql("SELECT count(*) FROM apscheduler_jobs").scalar_one()
    app.db.dispose()
    out.put({"inserted": inserted, "fill": fill_seconds, "jobs": int(jobs), "rss": _rss_mb()})


def restart(url: str, tmp: Path, out: Any) -> None:
    """Child process: what `interviewbot run` does up to a running, reconciled scheduler."""
    import logging

    logging.disable(logging.INFO)
    began = time.perf_counter()
    from bots.app import build
    from bots.scheduler import ReminderScheduler

    app = build(_settings(url, tmp))
    built = time.perf_counter() - began
    rss_before = _rss_mb()

    async def start() -> tuple[float, int]:
        scheduler = ReminderScheduler(app.db, app.engine)
        t0 = time.perf_counter()
        await scheduler.start()
        seconds = time.perf_counter() - t0
        assert scheduler.scheduler is not None
        changed = scheduler.reconcile()  # a second pass: must find nothing to change either
        await scheduler.stop()
        return seconds, changed

    seconds, changed = asyncio.run(start())
    app.db.dispose()
    out.put({"build": built, "start": seconds, "changed_after": changed,
             "rss_before": rss_before, "rss": _rss_mb()})


def _in_child(target: Any, *args: Any) -> dict[str, Any]:
    import importlib

    target = getattr(importlib.import_module("bench.scheduler"), target.__name__)
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    process = ctx.Process(target=target, args=(*args, out))
    process.start()
    while True:
        with contextlib.suppress(Exception):
            result: dict[str, Any] = out.get(timeout=1)
            break
        if not process.is_alive():
            raise RuntimeError(f"{target.__name__} failed (exit code {process.exitcode})")
    process.join()
    return result


@contextlib.contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'interviewbot.db'}"
        return
    sys.path.insert(0, str(ROOT))
    from tests.support.postgres import throwaway_postgres

    with throwaway_postgres() as url:
        yield url


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timers", type=int, default=None,
                        help="pending timers in the job store (default 100000; 20000 --quick)")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    timers = args.timers or (20_000 if args.quick else 100_000)
    interviews = -(-timers // TIMERS_PER_INTERVIEW)
    tmp = Path(tempfile.mkdtemp(prefix="ib-bench-scheduler-"))
    try:
        (tmp / "scripts").mkdir()
        (tmp / "scripts" / f"{SCRIPT_ID}.yaml").write_text(SCRIPT)
        with database(args.db, tmp) as url:
            print(f"{interviews} interviews x {TIMERS_PER_INTERVIEW} timers, {args.db}",
                  flush=True)
            filled = _in_child(populate, url, tmp, interviews)
            print(f"  rows inserted in {filled['inserted']:.1f} s; first start filled "
                  f"{filled['jobs']} jobs in {filled['fill']:.1f} s "
                  f"(peak RSS {filled['rss']:.0f} MB)", flush=True)
            result = _in_child(restart, url, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows = [
        ("restart: start() + reconcile", f"{result['start']:.2f} s", f"< {TIME_TARGET:g} s"),
        ("  then build() before it", f"{result['build']:.2f} s", ""),
        ("  timers changed by a 2nd reconcile", str(result["changed_after"]), "0"),
        ("peak RSS of the restarted process", f"{result['rss']:.0f} MB",
         f"< {RSS_TARGET_MB:g} MB"),
        ("  of which before start()", f"{result['rss_before']:.0f} MB", ""),
    ]
    print(table(["", "value", "target"], rows))
    label = f"scheduler/{args.db}"
    summary.add(label, f"restart with {filled['jobs']:,} timers: start+reconcile",
                f"{result['start']:.2f} s", f"< {TIME_TARGET:g} s",
                result["start"] < TIME_TARGET)
    summary.add(label, "peak RSS of the restarted process", f"{result['rss']:.0f} MB",
                f"< {RSS_TARGET_MB:g} MB", result["rss"] < RSS_TARGET_MB)
    summary.add(label, "first start filling the empty job store", f"{filled['fill']:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
