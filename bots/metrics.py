"""Prometheus metrics on a private registry, and the `/metrics` handler.

`Metrics` implements core's `Observer` port: the engine and the adapters count into it.
Interviews by state are read from the database on every scrape.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from core.queries import InterviewQueries
from core.states import State

if TYPE_CHECKING:
    from bots.app import App

log = logging.getLogger("interviewbot.metrics")

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class InterviewStates(Collector):
    """`interviewbot_interviews{script,state}`, counted in the database when scraped (the
    query side's `state_counts`)."""

    def __init__(self, queries: InterviewQueries) -> None:
        self.queries = queries

    def _families(self) -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (GaugeMetricFamily("interviewbot_interviews", "Interviews by script and state.",
                                  labels=["script", "state"]),
                GaugeMetricFamily("interviewbot_database_up",
                                  "1 if the last scrape could read the database."))

    def describe(self) -> Iterable[Metric]:
        return self._families()

    def collect(self) -> Iterable[Metric]:
        interviews, up = self._families()
        try:
            counts = self.queries.state_counts()
        except Exception as exc:
            log.warning("metrics could not read interviews: %s", type(exc).__name__)
            up.add_metric([], 0)
            return (interviews, up)
        for script in sorted({script for script, _ in counts}):
            for state in State:
                interviews.add_metric([script, state.value], counts.get((script, state), 0))
        up.add_metric([], 1)
        return (interviews, up)


class Metrics:
    """Every interviewbot metric, on its own registry (nothing global, nothing at import)."""

    def __init__(self, queries: InterviewQueries | None = None) -> None:
        self.registry = CollectorRegistry()
        self.answers = Counter("interviewbot_answers_received", "Candidate answers (takes) "
                               "received.", ["kind", "platform"], registry=self.registry)
        self.reminders = Counter("interviewbot_reminders_sent", "Reminders sent to candidates.",
                                 ["kind"], registry=self.registry)
        self.retries = Counter("interviewbot_deliveries_retried", "Outbound calls tried again.",
                               ["platform"], registry=self.registry)
        self.failures = Counter("interviewbot_deliveries_failed", "Outbound messages given up.",
                                ["platform"], registry=self.registry)
        self.conflicts = Counter("interviewbot_conflicts_retried", "Commands run again because "
                                 "another transaction changed their interview first.",
                                 registry=self.registry)
        self.resent = Counter("interviewbot_outbox_resent", "Committed outbound work done by a "
                              "sweep because its process had not done it.",
                              registry=self.registry)
        self.given_up = Counter("interviewbot_outbox_steps_given_up", "Outbox steps (a "
                                "message, card, edit, deletion...) given up after their last "
                                "attempt.", ["kind", "platform"], registry=self.registry)
        self.latency = Histogram("interviewbot_handler_seconds", "Time the engine took per "
                                 "command.", ["command"], buckets=LATENCY_BUCKETS,
                                 registry=self.registry)
        if queries is not None:
            self.registry.register(InterviewStates(queries))

    # -- core.observe.Observer ------------------------------------------------------------
    def answer_received(self, kind: str, platform: str) -> None:
        self.answers.labels(kind=kind, platform=platform).inc()

    def reminder_sent(self, kind: str) -> None:
        self.reminders.labels(kind=kind).inc()

    def delivery_retried(self, platform: str) -> None:
        self.retries.labels(platform=platform).inc()

    def delivery_failed(self, platform: str) -> None:
        self.failures.labels(platform=platform).inc()

    def command_handled(self, command: str, seconds: float) -> None:
        self.latency.labels(command=command).observe(seconds)

    def conflict_retried(self) -> None:
        self.conflicts.inc()

    def outbox_resent(self) -> None:
        self.resent.inc()

    def step_given_up(self, kind: str, platform: str) -> None:
        self.given_up.labels(kind=kind, platform=platform).inc()

    # -- exposition ---------------------------------------------------------------------
    def exposition(self, accept: str = "") -> tuple[bytes, str]:
        """The metrics in the format the scraper asked for, and its content type."""
        encoder, content_type = choose_encoder(accept)
        return encoder(self.registry), content_type

    async def handler(self, request: web.Request) -> web.Response:
        """GET /metrics (the database is read off the event loop)."""
        body, content_type = await asyncio.to_thread(
            self.exposition, request.headers.get("Accept", ""))
        return web.Response(body=body, headers={"Content-Type": content_type})


def make_metrics(app: App) -> Metrics:
    """Metrics for a built app: counters plus interviews by state from its database."""
    return Metrics(app.engine.views.queries)
