"""Timers on APScheduler 3.11: a persistent job store, exactly one running scheduler.

Jobs carry only ids. When one fires, the engine re-reads the interview and does nothing if the
reason has passed. Missed jobs (downtime) run once after a restart: the grace time is a week and
jobs coalesce. With PostgreSQL several processes may run; a session advisory lock elects the one
that schedules, and another takes over when its connection dies. SQLite means one process.

The leader keeps a copy of what the job store holds (timer id -> next run time) so that replanning
an interview writes only the timers that moved. Reconciling reads the store's ids and times and
the live interviews' timer facts (core/queries.py) in one query each, without unpickling jobs or
loading answers, and inserts new jobs in one transaction: a restart over 100,000 timers takes
seconds (bench.scheduler).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_REMOVED, JobEvent
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.util import datetime_to_utc_timestamp
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import IntegrityError

from core.engine import Engine as InterviewEngine
from core.model import Interview
from core.queries import TimerFacts
from core.reminders import plan, possible_ids
from core.script import Script
from core.services import Pinned
from core.states import State

log = logging.getLogger("interviewbot.scheduler")

LOCK_KEY = 0x1B_5C_4E_D0  # the advisory lock that elects the scheduling process
MISFIRE_GRACE = int(timedelta(days=7).total_seconds())
BATCH = 5000  # new jobs inserted per transaction when reconciling
_engines: dict[str, InterviewEngine] = {}  # job function -> running engine, by scheduler name


async def fire_timer(name: str, interview_id: str, kind: str, index: int) -> None:
    """The job function stored in the job store (module level, so it can be pickled)."""
    engine = _engines.get(name)
    if engine is None and len(_engines) == 1:
        # planned by an earlier process under another name; reconcile compares only ids and
        # times, so it does not rewrite such jobs
        engine = next(iter(_engines.values()))
    if engine is None:
        log.warning("timer fired with no engine running")
        return
    try:
        await engine.timer_fired(interview_id, kind, index)
    except Exception:
        log.exception("timer %s:%s:%s failed", interview_id, kind, index)


class JobStore(SQLAlchemyJobStore):
    """`SQLAlchemyJobStore` that lists ids and times cheaply and can insert jobs in bulk."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._batch: list[dict[str, Any]] | None = None

    def run_times(self) -> dict[str, float | None]:
        """Every job id with its next run time as stored (a UTC timestamp), not unpickled."""
        table = self.jobs_t
        with self.engine.connect() as conn:
            rows = conn.execute(select(table.c.id, table.c.next_run_time)).all()
        return {job_id: at for job_id, at in rows}

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Collect `add_job` calls and insert them a few thousand per transaction."""
        self._batch = []
        try:
            yield
            self._flush()
        finally:
            self._batch = None

    def _flush(self) -> None:
        rows, self._batch = self._batch or [], []
        if not rows:
            return
        try:
            with self.engine.begin() as conn:
                conn.execute(self.jobs_t.insert(), rows)
        except IntegrityError:  # an id was taken meanwhile: one at a time, replacing
            for row in rows:
                with self.engine.begin() as conn:
                    conn.execute(self.jobs_t.delete().where(self.jobs_t.c.id == row["id"]))
                    conn.execute(self.jobs_t.insert(), [row])

    def shutdown(self) -> None:
        """Leave the engine alone: it is the application's (the base class disposes it)."""

    def add_job(self, job: Job) -> None:
        if self._batch is None:
            super().add_job(job)
            return
        self._batch.append({
            "id": job.id, "next_run_time": datetime_to_utc_timestamp(job.next_run_time),
            "job_state": pickle.dumps(job.__getstate__(), self.pickle_protocol)})
        if len(self._batch) >= BATCH:
            self._flush()


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
                # end the session, and the lock with it: a connection merely returned to the
                # pool would keep holding the lock
                self.conn.invalidate()
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
        self.store: JobStore | None = None
        self._scheduled: dict[str, float | None] = {}  # the job store's ids and run times
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
        self.store = JobStore(engine=self.db, tablename="apscheduler_jobs")
        self.scheduler = AsyncIOScheduler(
            jobstores={"default": self.store}, timezone=UTC,
            job_defaults={"misfire_grace_time": MISFIRE_GRACE, "coalesce": True,
                          "max_instances": 1})
        self.scheduler.add_listener(self._removed, EVENT_JOB_REMOVED)  # e.g. after firing
        self.scheduler.start()
        self.role = "leader"
        log.info("this process runs the scheduler")
        self.reconcile()

    def _step_down(self) -> None:
        if self.scheduler is not None:
            with contextlib.suppress(Exception):
                self.scheduler.shutdown(wait=False)
            self.scheduler = None
            self.store = None
            self._scheduled = {}
        self.role = "follower"

    def _removed(self, event: JobEvent) -> None:
        self._scheduled.pop(event.job_id, None)

    def _add(self, timer_id: str, at: datetime, args: list[object]) -> None:
        assert self.scheduler is not None
        self.scheduler.add_job(fire_timer, "date", run_date=at, id=timer_id,
                               replace_existing=True, args=args)
        self._scheduled[timer_id] = datetime_to_utc_timestamp(at)

    # -- planning ----------------------------------------------------------------------
    def interview_changed(self, interview: Interview) -> None:
        """Replace the interview's timers by those its state calls for (leader only)."""
        if self.scheduler is None:
            return  # the leader's periodic reconciliation picks the change up
        script = _pinned_script(self.engine, interview)
        if script is None:
            return
        wanted = {t.id: t for t in plan(script, interview)}
        for timer_id in possible_ids(script, interview.id):
            if timer_id not in wanted and timer_id in self._scheduled:
                with contextlib.suppress(JobLookupError):
                    self.scheduler.remove_job(timer_id)
                self._scheduled.pop(timer_id, None)
        for timer in wanted.values():
            planned = self._scheduled.get(timer.id)
            if planned is not None and planned <= datetime_to_utc_timestamp(timer.at):
                # planned for that moment, or earlier: that early look finds its reason not
                # due yet and plans again (TimerFlow.fire), so an answer that only pushes the
                # idle reminder later costs no job-store write
                continue
            self._add(timer.id, timer.at,
                      [self.name, timer.interview_id, timer.kind.value, timer.index])

    def reconcile(self) -> int:
        """Make the job store match the database: every live interview's timers, no others.

        Jobs are compared by id and run time only (ids name the interview and the reason; the
        arguments follow from the id), which needs no unpickling.
        """
        if self.scheduler is None or self.store is None:
            return 0
        existing = self.store.run_times()
        wanted: dict[str, tuple[datetime, list[object]]] = {}
        for interview in self._live():
            script = _pinned_script(self.engine, interview)
            if script is None:
                continue
            for timer in plan(script, interview):
                wanted[timer.id] = (timer.at, [self.name, timer.interview_id,
                                               timer.kind.value, timer.index])
        for job_id in existing.keys() - wanted.keys():
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(job_id)
        self._scheduled = {job_id: existing[job_id] for job_id in existing.keys() & wanted.keys()}
        moved = [job_id for job_id in existing.keys() & wanted.keys()
                 if existing[job_id] != datetime_to_utc_timestamp(wanted[job_id][0])]
        new = [job_id for job_id in wanted if job_id not in existing]
        if moved or new:
            self.scheduler.pause()  # else every added job queues its own job-store poll
            try:
                for job_id in moved:
                    self._add(job_id, *wanted[job_id])
                with self.store.batch():
                    for job_id in new:
                        self._add(job_id, *wanted[job_id])
            finally:
                self.scheduler.resume()
        changed = len(moved) + len(new)
        log.info("scheduler reconciled: %d timers, %d changed", len(wanted), changed)
        return changed

    def _live(self) -> list[TimerFacts]:
        """What planning needs of every interview that can have timers: the query side's
        read model (one query, no answers loaded)."""
        return self.engine.views.queries.timer_facts(
            (State.INVITED, State.CONSENTED, State.IN_PROGRESS, State.COMPLETED))


def _pinned_script(engine: InterviewEngine, interview: Pinned) -> Script | None:
    """The script an interview is pinned to (None if it cannot be read: no timers)."""
    return engine.views.script_of(interview)
