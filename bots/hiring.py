"""Wiring of the hiring team's side into the composition root: the webhook recorder, the
HTTP API and the webhook sender (one call each from bots/app.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CollectorRegistry

from bots.webhook_events import WebhookRecorder
from bots.webhooks import WebhookSender
from storage.unit_of_work import SqlUnitOfWorkFactory

if TYPE_CHECKING:
    from bots.app import App


def record_webhooks(app: App) -> None:
    """Commit webhook events with the changes that cause them."""
    factory = app.services.uow
    if isinstance(factory, SqlUnitOfWorkFactory):
        services = app.services  # groups are resolved by the Slack channel once it runs
        factory.recorder = WebhookRecorder(app.catalog, app.settings.webhook_url,
                                           members=lambda group: services.group_members(group))


def start_hiring(app: App, web_app: web.Application, registry: CollectorRegistry | None
                 ) -> WebhookSender:
    """Mount /api/v1 and start sending webhooks; the caller stops the returned sender."""
    from bots.api import add_api

    add_api(web_app, app)
    sender = WebhookSender(app.db, app.settings.webhook_secret,
                           first_retry=app.settings.webhook_retry, registry=registry)
    if app.settings.webhook_url or any(s.webhooks for s in app.catalog.all()):
        sender.start()  # nothing to send otherwise: no sweeping
        recorder = getattr(app.services.uow, "recorder", None)
        if isinstance(recorder, WebhookRecorder):
            recorder.on_commit = sender.wake  # a committed event goes out at once
    return sender
