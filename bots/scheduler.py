"""Timers on APScheduler 3.11: a persistent job store, exactly one running scheduler.

Jobs carry only ids. When one fires, the engine re-reads the interview and does nothing if the
reason has passed. Missed jobs (downtime) run once after a restart: the grace time is a week and
jobs coalesce. With PostgreSQL several processes may run; a session advisory lock elects the one
that schedules, and another takes over when its connection dies. SQLite means one process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Connection, Engine, text

from core.engine import Engine as InterviewEngine
from core.model import Interview
from core.reminders import plan, possible_ids
from core.states import State

log = logging.getLogger("interviewbot.scheduler")

LOCK_KEY = 0x1B_5C_4E_D0  # the advisory lock that elects the scheduling process
MISFIRE_GRACE = int(timedelta(days=7).total_seconds())
_engines: dict[str, InterviewEngine] = {}  # job function -> running engine, by scheduler name


async def fire_timer(name: str, interview_id: str, kind: str, index: int) -> None:
    """The job function stored in the job store (module level, so it can be pickled)."""
    engine = _engines.get(name)
    if engine is None:
        log.warning("timer fired with no engine running")
        return
    try:
        await engine.timer_fired(interview_id, kind, index)
    except Exception:
        log.exception("timer %s:%s:%s failed", interview_id, kind, index)


class LeaderLock:
    """Holds a PostgreSQL session advisory lock on a dedicated connection."""

    def __init__(self, db: Engine) -> None:
        self.db = db
        self.conn: Connection | None = None

    def try_acquire(self) -> bool:
        if self.db.dialect.name != "postgresql":
            return True
        if self.conn is None:
            self.conn = self.db.connect()
        got = bool(self.conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                     {"k": LOCK_KEY}).scalar())
        self.conn.commit()
        return got

    def alive(self) -> bool:
        if self.db.dialect.name != "postgresql":
            return True
        try:
            assert self.conn is not None
            self.conn.execute(text("SELECT 1"))
            self.conn.commit()
            return True
        except Exception:
            self.release()
            return False

    def release(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
            self.conn = None


class ReminderScheduler:
    """`core.ports.Scheduler` on APScheduler's `AsyncIOScheduler` with a SQLAlchemy job store."""

    def __init__(self, db: Engine, engine: InterviewEngine, *, name: str = "default",
                 poll: float = 5.0, reconcile_every: float = 60.0,
                 now: Callable[[], datetime] | None = None) -> None:
        self.db = db
        self.engine = engine
        self.name = name
        self.poll = poll
        self.reconcile_every = reconcile_every
        self.now = now or (lambda: datetime.now(UTC))
        self.lock = LeaderLock(db)
        self.scheduler: AsyncIOScheduler | None = None
        self._task: asyncio.Task[None] | None = None
        self.role = "starting"

    @property
    def is_leader(self) -> bool:
        return self.scheduler is not None

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        """Become the scheduler if elected; otherwise keep trying in the background."""
        _engines[self.name] = self.engine
        self.engine.scheduler = self
        await self._try_lead()
        self._task = asyncio.create_task(self._watch(), name="scheduler-election")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._step_down()
        self.lock.release()
        _engines.pop(self.name, None)

    async def _watch(self) -> None:
        since_reconcile = 0.0
        while True:
            await asyncio.sleep(self.poll)
            since_reconcile += self.poll
            if self.is_leader and not self.lock.alive():
                log.warning("lost the scheduler lock; stepping down")
                self._step_down()
            if not self.is_leader:
                await self._try_lead()
            elif since_reconcile >= self.reconcile_every:
                since_reconcile = 0.0
                self.reconcile()

    async def _try_lead(self) -> None:
        try:
            elected = self.lock.try_acquire()
        except Exception:
            log.exception("scheduler election failed")
            self.lock.release()
            elected = False
        if not elected:
            self.role = "follower"
            return
        store = SQLAlchemyJobStore(engine=self.db, tablename="apscheduler_jobs")
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": store}, timezone=UTC,
            job_defaults={"misfire_grace_time": MISFIRE_GRACE, "coalesce": True,
                          "max_instances": 1})
        self.scheduler.start()
        self.role = "leader"
        log.info("this process runs the scheduler")
        self.reconcile()

    def _step_down(self) -> None:
        if self.scheduler is not None:
            with contextlib.suppress(Exception):
                self.scheduler.shutdown(wait=False)
            self.scheduler = None
        self.role = "follower"

    # -- planning ----------------------------------------------------------------------
    def interview_changed(self, interview: Interview) -> None:
        """Replace the interview's timers by those its state calls for (leader only)."""
        if self.scheduler is None:
            return  # the leader's periodic reconciliation picks the change up
        script = self.engine.s.scripts.get(interview.script_id)
        if script is None:
            return
        wanted = {t.id: t for t in plan(script, interview)}
        for timer_id in possible_ids(script, interview.id):
            if timer_id not in wanted:
                with contextlib.suppress(JobLookupError):
                    self.scheduler.remove_job(timer_id)
        for timer in wanted.values():
            self.scheduler.add_job(
                fire_timer, "date", run_date=timer.at, id=timer.id, replace_existing=True,
                args=[self.name, timer.interview_id, timer.kind.value, timer.index])

    def reconcile(self) -> int:
        """Make the job store match the database: every live interview's timers, no others."""
        if self.scheduler is None:
            return 0
        live = (State.INVITED, State.CONSENTED, State.IN_PROGRESS, State.COMPLETED)
        existing = {job.id: job for job in self.scheduler.get_jobs()}
        wanted: dict[str, tuple[datetime, list[object]]] = {}
        with self.engine.s.uow() as uow:
            for interview in uow.interviews.live(live):
                script = self.engine.s.scripts.get(interview.script_id)
                if script is None:
                    continue
                for timer in plan(script, interview):
                    wanted[timer.id] = (timer.at, [self.name, timer.interview_id,
                                                   timer.kind.value, timer.index])
        for job_id in existing.keys() - wanted.keys():
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(job_id)
        changed = 0
        for job_id, (at, args) in wanted.items():
            job = existing.get(job_id)
            if job is not None and job.next_run_time == at and list(job.args) == args:
                continue
            self.scheduler.add_job(fire_timer, "date", run_date=at, id=job_id,
                                   replace_existing=True, args=args)
            changed += 1
        log.info("scheduler reconciled: %d timers, %d changed", len(wanted), changed)
        return changed
