"""Webhook rows: committed with their change or not at all; leased so two senders never send
one row at once; retried with the same webhook-id and a growing delay; given up after a cap."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, select

from bots import webhooks
from bots.app import App, build
from bots.settings import Settings
from bots.webhooks import MAX_ATTEMPTS, WebhookSender
from core.candidate import erase
from core.commands import CreateInvitation
from core.effects import Effects
from core.ports import ConcurrentUpdate
from core.states import State
from storage.tables import WebhookDeliveryRow
from tests.e2e.ats_support import SECRET, AtsStandIn

TABLE = WebhookDeliveryRow.__table__  # type: ignore[attr-defined]
SCRIPT = """\
id: hooks
title: Hooks
consent: "OK?"
questions:
  - {id: one, text: "Why?", rubric: [clarity]}
rubric: {clarity: "Clear", scale: [1, 2, 3]}
review: {reviewers: ["slack:CREVIEW"], blind: false}
webhooks: {url: "http://127.0.0.1:9/per-script", secret_env: HOOKS_SECRET}
"""


@pytest.fixture
def app(tmp_path: Path, db: Engine) -> Iterator[App]:
    """On SQLite, then on a throwaway PostgreSQL (the `db` fixture)."""
    (tmp_path / "hooks.yaml").write_text(SCRIPT)
    url = db.url.render_as_string(hide_password=False)
    built = build(Settings(_env_file=None, DATABASE_URL=url,
                          INTERVIEWBOT_DATA_DIR=str(tmp_path / "data"),
                          INTERVIEWBOT_SCRIPTS=str(tmp_path / "hooks.yaml"),
                          INTERVIEWBOT_WEBHOOK_URL="http://127.0.0.1:9/global",
                          INTERVIEWBOT_WEBHOOK_SECRET=SECRET))
    yield built
    built.db.dispose()


def rows(app: App) -> list[WebhookDeliveryRow]:
    with app.db.connect() as conn:
        found = conn.execute(select(TABLE).order_by(TABLE.c.created_at)).all()
    return [WebhookDeliveryRow(**dict(r._mapping)) for r in found]


def test_events_exist_exactly_when_their_change_was_committed(app: App) -> None:
    interview, _ = app.engine.invite(CreateInvitation("hooks", "Lin", "telegram"))
    invited = rows(app)
    assert sorted(r.url for r in invited) == ["http://127.0.0.1:9/global",
                                             "http://127.0.0.1:9/per-script"]
    assert {r.event_type for r in invited} == {"interview.invited"}
    assert {r.secret_env for r in invited} == {"INTERVIEWBOT_WEBHOOK_SECRET", "HOOKS_SECRET"}
    assert '"candidate_name":"Lin"' in invited[0].body  # the script is not blind
    assert invited[0].id != invited[1].id

    # a rolled-back change leaves no event
    with app.services.uow() as uow:
        found = uow.interviews.get(interview.id)
        assert found is not None
        found.move_to(State.WITHDRAWN, datetime.now(UTC))
        uow.rollback()
    # a stale write (another process changed the interview first) leaves no event either
    with app.services.uow() as stale, app.services.uow() as fresh:
        a, b = stale.interviews.get(interview.id), fresh.interviews.get(interview.id)
        assert a is not None and b is not None
        b.tz = "Europe/Paris"
        fresh.commit()
        a.move_to(State.WITHDRAWN, datetime.now(UTC))
        with pytest.raises(ConcurrentUpdate):
            stale.commit()
    assert len(rows(app)) == 2
    with app.services.uow() as uow:
        found = uow.interviews.get(interview.id)
        assert found is not None
        found.move_to(State.WITHDRAWN, datetime.now(UTC))
        uow.commit()
    assert [r.event_type for r in rows(app)].count("interview.withdrawn") == 2


async def test_two_senders_never_send_one_row_at_once(app: App) -> None:
    async with AtsStandIn(delay=0.5) as ats:
        app.engine.invite(CreateInvitation("hooks", "Lin", "telegram"))
        with app.db.begin() as conn:  # both rows to the stand-in
            conn.execute(TABLE.update().values(url=ats.url, secret_env=None))
        one = WebhookSender(app.db, SECRET, registry=CollectorRegistry())
        two = WebhookSender(app.db, SECRET, registry=CollectorRegistry())
        async with httpx.AsyncClient(timeout=10) as client:
            made = await asyncio.gather(one.deliver_due(client), two.deliver_due(client),
                                        one.deliver_due(client))
        assert sum(made) == 2
        assert sorted(ats.attempts) == sorted(r.id for r in rows(app))
        assert {r.status for r in rows(app)} == {"delivered"}


async def test_a_lease_runs_from_its_claim_not_from_the_start_of_a_slow_pass(
        app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two rows, a receiver slower than half the lease: the second row is claimed one slow
    send into the pass. Its lease must run from that claim; with the lease counted from the
    start of the pass (seen: both senders POSTed the second row) it expires mid-send and the
    other sender, polling meanwhile, sends it again."""
    monkeypatch.setattr(webhooks, "LEASE", timedelta(seconds=2))
    async with AtsStandIn(delay=1.2) as ats:
        app.engine.invite(CreateInvitation("hooks", "Lin", "telegram"))
        with app.db.begin() as conn:  # both rows to the stand-in
            conn.execute(TABLE.update().values(url=ats.url, secret_env=None))
        one = WebhookSender(app.db, SECRET, registry=CollectorRegistry())
        two = WebhookSender(app.db, SECRET, registry=CollectorRegistry())
        async with httpx.AsyncClient(timeout=10) as client:
            first = asyncio.create_task(one.deliver_due(client))
            while len(ats.attempts) < 2:  # sender one is in its second send, one send late
                await asyncio.sleep(0.01)
            while not first.done():  # sender two polls until sender one's pass is over
                await two.deliver_due(client)
                await asyncio.sleep(0.05)
            assert await first == 2
        assert sorted(ats.attempts) == sorted(r.id for r in rows(app))  # each sent once
        assert {r.status for r in rows(app)} == {"delivered"}


async def test_a_failing_receiver_gets_the_same_id_later_and_then_no_more(app: App) -> None:
    async with AtsStandIn(fail_first=10**6) as ats:
        app.engine.invite(CreateInvitation("hooks", "Lin", "telegram"))
        with app.db.begin() as conn:
            conn.execute(TABLE.delete().where(TABLE.c.secret_env == "HOOKS_SECRET"))
            conn.execute(TABLE.update().values(url=ats.url))
        registry = CollectorRegistry()
        sender = WebhookSender(app.db, SECRET, first_retry=0.01, registry=registry)
        dues: list[datetime] = []
        async with httpx.AsyncClient(timeout=10) as client:
            for _ in range(MAX_ATTEMPTS + 3):
                (row,) = rows(app)
                if row.status != "pending":
                    break
                wait = (row.due_at - datetime.now(UTC)).total_seconds()
                await asyncio.sleep(max(0.0, wait))
                await sender.deliver_due(client)
                dues.append(rows(app)[0].due_at)
        (row,) = rows(app)
        assert row.status == "failed" and row.attempts == MAX_ATTEMPTS
        assert row.last_error == "HTTP 500"
        assert len(ats.attempts) == MAX_ATTEMPTS and set(ats.attempts) == {row.id}
        # each due time is at least the doubled delay after the one before
        gaps = [b - a for a, b in itertools.pairwise(dues)][:-1]
        assert all(gap >= timedelta(seconds=0.01 * 2 ** i) for i, gap in enumerate(gaps, 1))
        assert registry.get_sample_value("interviewbot_webhooks_failed_total",
                                         {"type": "interview.invited"}) == 1.0
        assert registry.get_sample_value("interviewbot_webhooks_retried_total",
                                         {"type": "interview.invited"}) == MAX_ATTEMPTS - 1


async def test_a_receiver_without_a_secret_is_given_up_not_sent_unsigned(app: App) -> None:
    async with AtsStandIn() as ats:
        app.engine.invite(CreateInvitation("hooks", "Lin", "telegram"))
        with app.db.begin() as conn:
            conn.execute(TABLE.update().values(url=ats.url))
        sender = WebhookSender(app.db, SECRET, registry=CollectorRegistry())
        async with httpx.AsyncClient(timeout=10) as client:
            await sender.deliver_due(client)
        by_env = {r.secret_env: r for r in rows(app)}
        assert by_env["HOOKS_SECRET"].status == "failed"
        assert "no secret in HOOKS_SECRET" in (by_env["HOOKS_SECRET"].last_error or "")
        assert by_env["INTERVIEWBOT_WEBHOOK_SECRET"].status == "delivered"
        assert len(ats.attempts) == 1


def test_an_erasure_removes_the_name_from_events_not_yet_delivered(app: App) -> None:
    interview, _ = app.engine.invite(CreateInvitation("hooks", "Lin Ostrander", "telegram"))
    assert all("Lin Ostrander" in r.body for r in rows(app))
    with app.services.uow() as uow:
        found = uow.interviews.get(interview.id)
        assert found is not None
        erase(app.services, uow, found, actor="test", now=datetime.now(UTC),
              fx=Effects())
        uow.commit()
    assert {r.event_type for r in rows(app)} == {"interview.invited", "interview.erased"}
    assert not any("Lin Ostrander" in r.body for r in rows(app))
    assert all(f'"interview_id":"{interview.id}"' in r.body for r in rows(app))


async def test_old_delivered_and_failed_rows_are_pruned_pending_ones_kept(app: App) -> None:
    async with AtsStandIn() as ats:
        app.engine.invite(CreateInvitation("hooks", "Lin", "telegram"))
        with app.db.begin() as conn:
            conn.execute(TABLE.update().where(TABLE.c.secret_env == "HOOKS_SECRET")
                         .values(url=ats.url, secret_env=None))
            conn.execute(TABLE.update().where(TABLE.c.secret_env.is_not(None))
                         .values(due_at=datetime.now(UTC) + timedelta(days=1)))
        sender = WebhookSender(app.db, SECRET, registry=CollectorRegistry())
        async with httpx.AsyncClient(timeout=10) as client:
            await sender.deliver_due(client)
        assert sorted(r.status for r in rows(app)) == ["delivered", "pending"]
        assert sender.prune(datetime.now(UTC) - timedelta(days=30)) == 0
        assert sender.prune(datetime.now(UTC) + timedelta(seconds=1)) == 1
        assert [r.status for r in rows(app)] == ["pending"]


PLAIN = """\
id: plain
title: Plain
consent: "OK?"
questions:
  - {id: one, text: "Why?", rubric: [clarity]}
rubric: {clarity: "Clear", scale: [1, 2, 3]}
review: {reviewers: ["slack:CREVIEW"], deciders: ["slack:S0HM"], blind: false}
"""


def plain_app(tmp: Path, db: Engine, url: str) -> App:
    (tmp / "plain.yaml").write_text(PLAIN)
    return build(Settings(_env_file=None, DATABASE_URL=db.url.render_as_string(False),
                          INTERVIEWBOT_DATA_DIR=str(tmp / "data"),
                          INTERVIEWBOT_SCRIPTS=str(tmp / "plain.yaml"),
                          INTERVIEWBOT_WEBHOOK_URL=url, INTERVIEWBOT_WEBHOOK_SECRET=SECRET))


async def test_a_committed_event_is_sent_at_once_not_at_the_next_sweep(
        tmp_path: Path, db: Engine) -> None:
    """The sender sweeps only every `interval` seconds (here: an hour, so no sweep happens
    during the test); a commit that wrote events wakes it, from the loop or from a worker
    thread, and the event arrives."""
    from aiohttp import web

    from bots.hiring import start_hiring

    async with AtsStandIn() as ats:
        app = plain_app(tmp_path, db, ats.url)
        sender = start_hiring(app, web.Application(), CollectorRegistry())
        sender.interval = 3600.0
        try:
            app.engine.invite(CreateInvitation("plain", "Lin", "telegram"))
            await ats.wait_for("interview.invited", timeout=60)
            # the sender has nothing due now: only a wake can send the next event
            await asyncio.to_thread(app.engine.invite,
                                    CreateInvitation("plain", "Max", "telegram"))
            await ats.wait_for("interview.invited", 2, timeout=60)
            app.engine.invite(CreateInvitation("plain", "Ola", "telegram"))
            await ats.wait_for("interview.invited", 3, timeout=60)
        finally:
            await sender.stop()
            app.db.dispose()


def test_a_decider_listed_through_a_slack_user_group_makes_decision_made(
        tmp_path: Path, db: Engine) -> None:
    """`deciders: ["slack:S0HM"]`: a member of that user group decides (core's rule, as the
    engine checked when the button was pressed), so `decision.made` is written; a reviewer
    outside the group does not make the final call."""
    from core.model import Decision, ReviewerDecision
    from core.refs import UserRef

    app = plain_app(tmp_path, db, "http://127.0.0.1:9/global")
    app.services.group_members = lambda group: (
        frozenset({"slack:U0LEAD"}) if group == "slack:S0HM" else frozenset())
    interview, _ = app.engine.invite(CreateInvitation("plain", "Lin", "telegram"))
    for who in ("slack:U0OTHER", "slack:U0LEAD"):
        with app.services.uow() as uow:
            uow.reviews.put_decision(ReviewerDecision(interview.id, UserRef.parse(who),
                                                      Decision.ADVANCE, datetime.now(UTC)))
            uow.commit()
    made = [r for r in rows(app) if r.event_type == "decision.made"]
    assert len(made) == 1 and '"decided_by":"slack:U0LEAD"' in made[0].body
    app.db.dispose()
