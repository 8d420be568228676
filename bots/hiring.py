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
        factory.recorder = WebhookRecorder(app.catalog, app.settings.webhook_url)


def start_hiring(app: App, web_app: web.Application, registry: CollectorRegistry | None
                 ) -> WebhookSender:
    """Mount /api/v1 and start sending webhooks; the caller stops the returned sender."""
    from bots.api import add_api

    add_api(web_app, app)
    sender = WebhookSender(app.db, app.settings.webhook_secret,
                           first_retry=app.settings.webhook_retry, registry=registry)
    if app.settings.webhook_url or any(s.webhooks for s in app.catalog.all()):
        sender.start()  # nothing to send otherwise: no polling
    return sender
