"""The composition root: builds the engine with its adapters, and runs the channels."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web
from sqlalchemy import Engine as DbEngine

from bots.channels import Channel
from bots.clock import SystemClock
from bots.hiring import record_webhooks, start_hiring
from bots.metrics import make_metrics
from bots.outbox_sweeper import OutboxSweeper
from bots.scheduler import ReminderScheduler
from bots.scripts import ScriptCatalog, log_retired
from bots.settings import Settings
from core.engine import Engine
from core.ports import Messenger
from core.refs import ChatRef
from core.services import Services
from storage.db import make_engine
from storage.migrate import upgrade
from storage.scripts import pin_unpinned
from storage.unit_of_work import SqlUnitOfWorkFactory

if TYPE_CHECKING:
    from bots.audio import S3Bucket, SweepReport

log = logging.getLogger("interviewbot")
MEDIA_SWEEP_INTERVAL = 600.0  # seconds between two orphaned-media sweeps of a running process


@dataclass
class App:
    """Everything `interviewbot run` and the CLI commands need, built once."""

    settings: Settings
    db: DbEngine
    catalog: ScriptCatalog
    services: Services
    engine: Engine
    closers: list[Any] = field(default_factory=list)


def build(settings: Settings, *, messengers: dict[str, Messenger] | None = None,
          review_destinations: tuple[ChatRef, ...] | None = None, migrate: bool = True) -> App:
    """Wire the engine: database, scripts, audio pipeline, clock and messengers."""
    from bots.audio import PydubAudioProcessor

    settings.media_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    bucket = media_bucket(settings)
    db = make_engine(settings.database_url)
    if migrate:
        upgrade(db)
    catalog = ScriptCatalog.load(settings.scripts)
    if migrate:
        pin_unpinned(db, catalog.revision)  # interviews from before script revisions existed
    services = Services(
        uow=SqlUnitOfWorkFactory(db),
        scripts=catalog,
        clock=SystemClock(),
        audio=PydubAudioProcessor(settings.media_dir, bucket=bucket,
                                  processes=len(os.sched_getaffinity(0)),
                                  review_platforms=review_platforms(settings, messengers)),
        messengers=dict(messengers or {}),
        review_destinations=review_destinations,
        outbox_retry=timedelta(seconds=settings.outbox_retry),
    )
    if settings.transcribe:
        from bots.audio import PocketsphinxTranscriber, pocketsphinx_available

        if not pocketsphinx_available():
            raise RuntimeError("INTERVIEWBOT_TRANSCRIBE is on but pocketsphinx is not installed: "
                               "pip install 'interviewbot[transcribe]'")
        services.transcriber = PocketsphinxTranscriber(settings.media_dir, bucket=bucket)
    app = App(settings, db, catalog, services, Engine(services))
    record_webhooks(app)
    return app


def review_platforms(settings: Settings, messengers: dict[str, Messenger] | None
                     ) -> tuple[str, ...]:
    """The platforms whose review copies are made with each recording: those configured."""
    platforms = [*(messengers or {})]
    if settings.telegram_bot_token:
        platforms.append("telegram")
    if settings.slack_bot_token:
        platforms.append("slack")
    return tuple(dict.fromkeys(platforms)) or ("console",)


async def close_audio(app: App) -> None:
    """Stop the audio pipeline's worker processes (in a thread: it waits for them)."""
    from bots.audio import PydubAudioProcessor

    if isinstance(app.services.audio, PydubAudioProcessor):
        await asyncio.to_thread(app.services.audio.close)


def media_bucket(settings: Settings) -> S3Bucket | None:
    """The media bucket when INTERVIEWBOT_MEDIA_S3_URL is set (no request is made here)."""
    from bots.audio import S3Bucket, S3Location

    if not settings.media_s3_url:
        if settings.media_s3_endpoint:
            raise ValueError("INTERVIEWBOT_MEDIA_S3_ENDPOINT is set but "
                             "INTERVIEWBOT_MEDIA_S3_URL (s3://bucket/prefix) is not")
        return None
    location = S3Location.parse(settings.media_s3_url, settings.media_s3_endpoint or None)
    try:
        import boto3  # noqa: F401  (the optional `s3` extra)
    except ImportError:
        raise RuntimeError("INTERVIEWBOT_MEDIA_S3_URL is set but boto3 is not installed: "
                           "pip install 'interviewbot[s3]'") from None
    return S3Bucket(location)


def sweep_media(app: App, grace: float | None = None) -> SweepReport:
    """Remove orphaned media (folder and bucket) older than `grace` seconds (default an hour).
    Blocking: database and bucket requests."""
    from bots.audio import ORPHAN_GRACE, PydubAudioProcessor
    from storage.media_refs import media_refs

    audio = app.services.audio
    assert isinstance(audio, PydubAudioProcessor)
    return audio.sweep_orphans(lambda: media_refs(app.db),
                               grace=ORPHAN_GRACE if grace is None else grace)


async def sweep_in_background(app: App) -> None:
    """`sweep_media` in a thread, logging what it removed or why it failed."""
    try:
        report = await asyncio.to_thread(sweep_media, app)
    except Exception:
        log.exception("the orphaned media sweep failed")
        return
    log.info("orphaned media swept", extra={"keys": len(report.keys), "files": report.files,
                                            "objects": report.objects})


async def sweep_periodically(app: App, interval: float = MEDIA_SWEEP_INTERVAL) -> None:
    """`sweep_in_background` at start-up and then every `interval` seconds: an erasure done
    by another process reaches this one's cached copies on the next sweep."""
    while True:
        await sweep_in_background(app)
        await asyncio.sleep(interval)


async def run_console(settings: Settings) -> None:
    """The console preview: one candidate at the terminal, who then reviews."""
    from bots.console.channel import ConsoleChannel
    from bots.console.messenger import REVIEWER_CHAT, ConsoleMessenger

    messenger = ConsoleMessenger()
    app = build(settings, messengers={"console": messenger}, review_destinations=(REVIEWER_CHAT,))
    script = next(iter(app.catalog.all()))
    try:
        await ConsoleChannel(app.engine, messenger, script.id).run()
    finally:
        await close_audio(app)
        app.db.dispose()


@asynccontextmanager
async def chat_messengers(app: App) -> AsyncIterator[list[Channel]]:
    """Outbound-only messengers for CLI commands that message people (no polling, no server)."""
    channels = make_channels(app.settings, app)
    opened: list[Channel] = []
    try:
        for channel in channels:
            await channel.open_outbound()
            opened.append(channel)
        yield channels
    finally:
        for channel in opened:
            await channel.close_outbound()
        app.db.dispose()


def make_channels(settings: Settings, app: App) -> list[Channel]:
    """A channel for every platform whose credentials are set; each registers its messenger."""
    channels: list[Channel] = []
    if settings.telegram_bot_token:
        from bots.telegram.channel import TelegramChannel

        channels.append(TelegramChannel(settings, app.engine))
    if settings.slack_bot_token:
        from bots.slack.channel import SlackChannel

        channels.append(SlackChannel(settings, app.engine))
    for channel in channels:
        app.services.messengers[channel.name] = channel.messenger
    return channels


async def serve(app: App, channels: list[Channel], stop: asyncio.Event) -> None:
    """Run the channels, the scheduler and the shared HTTP server until `stop` is set."""
    scheduler = ReminderScheduler(app.db, app.engine)
    sweeper = OutboxSweeper(app.engine, interval=max(0.5, app.settings.outbox_retry / 3))
    web_app = web.Application(client_max_size=1024 * 1024)
    web_app.router.add_get("/healthz", _health(app, channels, scheduler))
    metrics = make_metrics(app)
    app.services.observer = metrics
    web_app.router.add_get("/metrics", metrics.handler)
    webhooks = start_hiring(app, web_app, metrics.registry)
    for channel in channels:
        channel.add_routes(web_app)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host="0.0.0.0", port=app.settings.http_port)
    await site.start()
    started: list[Channel] = []
    try:
        for channel in channels:
            await channel.start()
            started.append(channel)
            log.info("channel %s started", channel.name)
        await scheduler.start()
        sweeper.start()
        await warn_without_delete_rights(app)
        await stop.wait()
    finally:
        await sweeper.stop()
        await webhooks.stop()
        await scheduler.stop()
        for channel in reversed(started):
            await channel.stop()
        await runner.cleanup()
        await close_audio(app)
        app.db.dispose()


async def warn_without_delete_rights(app: App) -> list[str]:
    """Log a warning for each Telegram review group where the bot may not delete messages
    older than 48 hours (not an admin with that right): erasure can only blank them there.
    Returns those groups."""
    from bots.telegram.messenger import TelegramMessenger

    messenger = app.services.messengers.get("telegram")
    if not isinstance(messenger, TelegramMessenger):
        return []
    groups = dict.fromkeys(d for script in app.catalog.all()
                           for d in app.services.destinations(script) if d.platform == "telegram")
    missing: list[str] = []
    for group in groups:
        try:
            allowed = await messenger.can_delete(group)
        except Exception as exc:
            log.warning("could not check the bot's rights in review group %s: %s", group, exc)
            continue
        if not allowed:
            missing.append(str(group))
            log.warning("the bot is not an admin allowed to delete messages in review group "
                        "%s: erasure cannot delete its messages there once they are 48 hours "
                        "old (see docs/erasure.md)", group)
    return missing


def _health(app: App, channels: list[Channel], scheduler: ReminderScheduler
            ) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def health(_request: web.Request) -> web.Response:
        try:
            with app.db.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            database = "ok"
        except Exception as exc:
            database = f"error: {type(exc).__name__}"
        connected = {c.name: c.connected() for c in channels}
        body = {"database": database, "channels": connected, "scheduler": scheduler.role}
        healthy = database == "ok" and all(connected.values())
        return web.json_response(body, status=200 if healthy else 503)

    return health


async def run(settings: Settings) -> None:
    """Start every channel whose credentials are set; the console when none are."""
    if not settings.has_chat_channels:
        await run_console(settings)
        return
    app = build(settings)
    log_retired(app.db, app.catalog)
    channels = make_channels(settings, app)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    sweep = asyncio.create_task(sweep_periodically(app))  # in a thread, now and then
    try:
        await serve(app, channels, stop)
    finally:
        sweep.cancel()


def main_run(settings: Settings) -> None:
    asyncio.run(run(settings))
