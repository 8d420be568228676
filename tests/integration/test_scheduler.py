"""APScheduler timers on a real database: fire once, survive restarts, one leader on PostgreSQL.

These use short real delays (seconds); assertions wait for conditions (with generous deadlines)
and never on speed: "nothing more was sent" is checked once APScheduler has nothing due left and
every timer it handed out has finished (`Runs.settled`), never after a pause.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from sqlalchemy import Engine, text

from bots.scheduler import ReminderScheduler
from core.commands import CreateInvitation, InviteAccepted
from core.refs import ChatRef, UserRef
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.support.core_fakes import FakeClock, FakeMessenger, World, make_world
from tests.support.scripts import small_script

REMINDERS = {"not_started": ["2s"], "idle": "off", "before_deadline": "off", "reviewers": "off"}


class RealClock(FakeClock):
    def now(self) -> datetime:
        return datetime.now(UTC)


def world(db: Engine, telegram: FakeMessenger | None = None) -> World:
    return make_world(small_script(reminders=REMINDERS, deadline="1h"),
                      uow=SqlUnitOfWorkFactory(db), clock=RealClock(), telegram=telegram)


async def invite(w: World, n: int) -> ChatRef:
    user, chat = UserRef("telegram", str(n)), ChatRef("telegram", str(n))
    _, token = w.engine.invite(CreateInvitation("qa", f"C{n}", "telegram", "UTC"))
    await w.engine.handle(InviteAccepted(user, chat, token))
    return chat


def reminders(messenger: FakeMessenger, chat: ChatRef) -> int:
    return sum(1 for t in messenger.texts(chat) if t.startswith("A reminder"))


async def eventually(check: Callable[[], bool], timeout: float = 60) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)


class Runs:
    """Timer jobs of one leader: how many APScheduler handed out, and whether it has settled."""

    def __init__(self, scheduler: ReminderScheduler) -> None:
        assert scheduler.scheduler is not None, "attach to a leader"
        self.owner = scheduler
        self.submitted = 0
        scheduler.scheduler.add_listener(self._submitted, EVENT_JOB_SUBMITTED)

    def _submitted(self, event: JobSubmissionEvent) -> None:
        self.submitted += 1

    def settled(self) -> bool:
        """Nothing due is left in the job store and no timer handed out is still running.

        A coroutine job runs as a task created when it is submitted, so a task whose coroutine
        is APScheduler's `run_coroutine_job` is a timer in flight.
        """
        store = self.owner.store
        if store is None:
            return False
        running = [t for t in asyncio.all_tasks()
                   if getattr(t.get_coro(), "__name__", "") == "run_coroutine_job"]
        return not store.get_due_jobs(datetime.now(UTC)) and not running


def job_kinds(scheduler: ReminderScheduler) -> list[str]:
    assert scheduler.scheduler is not None
    return sorted(j.id.split(":")[1] for j in scheduler.scheduler.get_jobs())


async def test_reminder_fires_once(db: Engine) -> None:
    w = world(db)
    scheduler = ReminderScheduler(db, w.engine, name="a", poll=0.2)
    await scheduler.start()
    runs = Runs(scheduler)
    try:
        assert scheduler.role == "leader"
        chat = await invite(w, 1)
        await eventually(lambda: reminders(w.telegram, chat) == 1)
        await eventually(runs.settled)  # a duplicate would have been sent by now...
        assert reminders(w.telegram, chat) == 1
        assert job_kinds(scheduler) == ["expire"]  # ...and none is planned for later
        assert runs.submitted == 1
    finally:
        await scheduler.stop()


async def test_reminder_due_during_downtime_is_sent_once_after_restart(db: Engine) -> None:
    w = world(db)
    first = ReminderScheduler(db, w.engine, name="a", poll=0.2)
    await first.start()
    chat = await invite(w, 2)
    assert first.store is not None
    due = max(at or 0.0 for job_id, at in first.store.run_times().items()
              if ":not_started:" in job_id)
    await first.stop()  # the process dies before the reminder is due
    await eventually(lambda: time.time() > due + 0.1)  # it falls due while no process runs
    assert reminders(w.telegram, chat) == 0
    again = world(db, telegram=w.telegram)  # a new process on the same database
    second = ReminderScheduler(db, again.engine, name="b", poll=0.2)
    await second.start()
    try:
        await eventually(lambda: reminders(w.telegram, chat) == 1)
        await second.stop()
        third = ReminderScheduler(db, again.engine, name="c", poll=0.2)
        await third.start()  # and once more: nothing is sent twice
        # PostgreSQL frees the stopped process's advisory lock when its session ends, which
        # may be just after start() first asked: the follower keeps asking until it leads
        await eventually(lambda: third.scheduler is not None)
        runs = Runs(third)
        await eventually(runs.settled)
        assert job_kinds(third) == ["expire"]
        await third.stop()
        assert reminders(w.telegram, chat) == 1
    finally:
        await second.stop()


async def test_one_leader_on_postgres_and_takeover(postgres_url: str) -> None:
    from tests.conftest import _fresh_postgres

    db = _fresh_postgres(postgres_url)
    from storage.migrate import upgrade

    upgrade(db)
    shared = FakeMessenger("telegram")
    a, b = world(db, shared), world(db, shared)
    sa = ReminderScheduler(db, a.engine, name="a", poll=0.2)
    sb = ReminderScheduler(db, b.engine, name="b", poll=0.2)
    await sa.start()
    await sb.start()
    try:
        assert (sa.role, sb.role) == ("leader", "follower")
        chat = await invite(a, 3)
        await eventually(lambda: reminders(shared, chat) == 1)
        # the leader process dies (its loop stops, then its database session goes away)
        assert sa.lock.conn is not None and sa._task is not None
        pid = sa.lock.conn.execute(text("SELECT pg_backend_pid()")).scalar()
        sa._task.cancel()
        sa._step_down()
        with db.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            admin.commit()
        await eventually(lambda: sb.role == "leader")
        runs = Runs(sb)
        other = await invite(b, 4)
        await eventually(lambda: reminders(shared, other) == 1)
        await eventually(runs.settled)
        assert reminders(shared, chat) == 1 and reminders(shared, other) == 1
        assert job_kinds(sb) == ["expire", "expire"]
    finally:
        await sa.stop()
        await sb.stop()
        db.dispose()


async def test_activity_pushes_the_idle_reminder_without_rewriting_the_job(db: Engine) -> None:
    from core.commands import TextReceived
    from tests.integration.test_concurrency import ADA, CHAT, started

    w = make_world(small_script(reminders=dict(REMINDERS, not_started=[], idle="2s")),
                   uow=SqlUnitOfWorkFactory(db), clock=RealClock())
    scheduler = ReminderScheduler(db, w.engine, name="a", poll=0.2)
    w.engine.scheduler = scheduler
    await scheduler.start()
    runs = Runs(scheduler)
    assert scheduler.scheduler is not None
    # no timer runs until the answer is in: on a slow machine the 2 s timer could otherwise
    # fire before the answer it is about
    scheduler.scheduler.pause()
    try:
        interview_id = await started(w)
        assert scheduler.store is not None
        first = scheduler.store.run_times()[f"{interview_id}:idle:0"]
        await w.engine.handle(TextReceived(ADA, CHAT, "Still here, typing.", "u-1"))
        # the job stays at the earlier moment: nothing written for this answer...
        assert scheduler.store.run_times()[f"{interview_id}:idle:0"] == first
        with SqlUnitOfWorkFactory(db)() as uow:
            found = uow.interviews.get(interview_id)
            assert found is not None and found.last_activity_at is not None
            active = found.last_activity_at
        scheduler.scheduler.resume()
        # ...it fires at that earlier moment (a 2 s idle time is within the minute a timer may
        # fire early, so it reminds then), never before it
        await eventually(lambda: reminders(w.telegram, CHAT) == 1)
        sent = datetime.now(UTC)
        assert first is not None and sent.timestamp() >= first
        assert sent > active
        await eventually(runs.settled)
        assert reminders(w.telegram, CHAT) == 1
    finally:
        await scheduler.stop()


async def test_reconcile_plans_from_complete_timer_facts(db: Engine) -> None:
    """A restart reconciles from the query side's timer facts: a candidate who consented is
    planned an idle reminder (consent is what "started" means), not the reminders of an
    invitation nobody took up, exactly as when the change itself planned the timers."""
    rules = {"not_started": ["1h"], "idle": "2h", "before_deadline": "off", "reviewers": "off"}
    w = make_world(small_script(reminders=rules, deadline="7d"), uow=SqlUnitOfWorkFactory(db),
                   clock=RealClock())
    chat = await invite(w, 4)
    payload, ref = w.telegram.button(chat, "I agree")
    from core.commands import ButtonPressed

    await w.engine.handle(ButtonPressed(UserRef("telegram", "4"), chat, payload, ref))
    scheduler = ReminderScheduler(db, w.engine, name="r", poll=60)
    await scheduler.start()  # elected: reconciles from the database
    try:
        assert job_kinds(scheduler) == ["expire", "idle"]
    finally:
        await scheduler.stop()
