"""Prometheus metrics: a private registry, the text exposition, interviews read on scrape."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from bots.channels import EngineObserver
from bots.metrics import Metrics
from core.commands import CreateInvitation
from core.observe import NullObserver, Observer
from storage.db import make_engine
from storage.migrate import upgrade
from storage.unit_of_work import SqlUnitOfWorkFactory
from tests.support.core_fakes import make_world
from tests.support.scripts import small_script


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_counters_and_histogram_in_the_text_exposition() -> None:
    metrics = Metrics()
    observer: Observer = metrics
    observer.answer_received("voice", "telegram")
    observer.answer_received("voice", "telegram")
    observer.answer_received("text", "slack")
    observer.reminder_sent("idle")
    observer.delivery_retried("slack")
    observer.delivery_failed("telegram")
    observer.command_handled("TextReceived", 0.03)
    observer.command_handled("TextReceived", 0.3)
    body, content_type = metrics.exposition()
    assert content_type.startswith("text/plain; version=0.0.4")
    text = body.decode()
    assert '# TYPE interviewbot_answers_received_total counter' in text
    got = samples(text)
    assert got[("interviewbot_answers_received_total",
                (("kind", "voice"), ("platform", "telegram")))] == 2
    assert got[("interviewbot_answers_received_total",
                (("kind", "text"), ("platform", "slack")))] == 1
    assert got[("interviewbot_reminders_sent_total", (("kind", "idle"),))] == 1
    assert got[("interviewbot_deliveries_retried_total", (("platform", "slack"),))] == 1
    assert got[("interviewbot_deliveries_failed_total", (("platform", "telegram"),))] == 1
    command = ("command", "TextReceived")
    assert got[("interviewbot_handler_seconds_count", (command,))] == 2
    assert got[("interviewbot_handler_seconds_bucket", (command, ("le", "0.05")))] == 1
    assert got[("interviewbot_handler_seconds_bucket", (command, ("le", "0.5")))] == 2
    assert got[("interviewbot_handler_seconds_sum", (command,))] == pytest.approx(0.33)


def test_registries_are_private() -> None:
    one, two = Metrics(), Metrics()  # a global registry would refuse the second
    one.reminder_sent("idle")
    assert "interviewbot_reminders_sent_total{" not in two.exposition()[0].decode()
    assert not any(family.name.startswith("interviewbot") for family in REGISTRY.collect())


PORT = sorted(name for name in vars(Observer) if not name.startswith("_"))
ARGUMENTS: dict[str, tuple[object, ...]] = {
    "answer_received": ("voice", "telegram"), "reminder_sent": ("idle",),
    "delivery_retried": ("slack",), "delivery_failed": ("slack",),
    "command_handled": ("X", 1.0), "conflict_retried": (), "outbox_resent": (),
    "step_given_up": ("send", "slack")}


def test_null_observer_is_an_observer_and_counts_nothing() -> None:
    assert sorted(ARGUMENTS) == PORT  # a new port method needs a line here
    observer: Observer = NullObserver()
    for name in PORT:
        assert getattr(observer, name)(*ARGUMENTS[name]) is None
    assert vars(observer) == {}  # it keeps nothing


def test_every_port_method_moves_a_metric() -> None:
    metrics = Metrics()
    before = samples(metrics.exposition()[0].decode())
    for name in PORT:
        getattr(metrics, name)(*ARGUMENTS[name])
        after = samples(metrics.exposition()[0].decode())
        moved = {key for key, value in after.items() if before.get(key) != value}
        assert moved, f"Observer.{name} changes no metric"
        before = after
    assert before[("interviewbot_conflicts_retried_total", ())] == 1
    assert before[("interviewbot_outbox_resent_total", ())] == 1


def test_a_channels_default_observer_follows_the_engines() -> None:
    """Channels are built before `serve` installs the metrics; their retries still count."""
    world = make_world(small_script())
    observer: Observer = EngineObserver(world.engine)
    observer.delivery_retried("slack")  # the NullObserver the engine starts with
    metrics = Metrics()
    world.engine.s.observer = metrics
    observer.delivery_retried("slack")
    observer.delivery_retried("telegram")
    found = samples(metrics.exposition()[0].decode())
    assert found[("interviewbot_deliveries_retried_total", (("platform", "slack"),))] == 1
    assert found[("interviewbot_deliveries_retried_total", (("platform", "telegram"),))] == 1
    # it forwards every method of the port, not only the one the adapters call today
    port = {name for name in vars(NullObserver) if not name.startswith("_")}
    assert port <= {name for name in vars(EngineObserver) if not name.startswith("_")}


async def test_interviews_by_state_are_read_on_every_scrape(tmp_path: Path) -> None:
    db = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    upgrade(db)
    metrics = Metrics(db)
    assert samples(metrics.exposition()[0].decode())[("interviewbot_database_up", ())] == 1
    world = make_world(small_script(), uow=SqlUnitOfWorkFactory(db))
    for name in ("A", "B"):
        world.engine.invite(CreateInvitation("qa", name, "telegram", "UTC"))
    got = samples(metrics.exposition()[0].decode())
    assert got[("interviewbot_interviews", (("script", "qa"), ("state", "invited")))] == 2
    assert got[("interviewbot_interviews", (("script", "qa"), ("state", "completed")))] == 0
    db.dispose()


async def test_metrics_endpoint_and_a_failing_database(tmp_path: Path) -> None:
    broken = make_engine(f"sqlite:///{tmp_path / 'missing' / 'x.db'}")
    metrics = Metrics(broken)
    app = web.Application()
    app.router.add_get("/metrics", metrics.handler)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/metrics")
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await response.text()
        assert "interviewbot_database_up 0.0" in text
        assert "interviewbot_interviews{" not in text
        openmetrics = await client.get(
            "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
        assert openmetrics.headers["Content-Type"].startswith("application/openmetrics-text")
        assert (await openmetrics.text()).rstrip().endswith("# EOF")
