"""The composition root: builds the engine with its adapters, and runs the channels."""

from __future__ import annotations

import asyncio
import gc
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

from bots.channels import Channel, declaration, declarations
from bots.clock import SystemClock
from bots.hiring import record_webhooks, start_hiring
from bots.metrics import make_metrics
from bots.outbox_sweeper import OutboxSweeper
from bots.scheduler import ReminderScheduler
from bots.scripts import ScriptCatalog, log_retired
from bots.settings import Settings
from core.capabilities import CHANNELS, AudioFormat, capabilities
from core.engine import Engine
from core.ports import Messenger
from core.refs import ChatRef
from core.services import Services
from storage.db import make_engine
from storage.migrate import upgrade
from storage.queries import SqlInterviewQueries
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
    from bots.locale_format import install as install_locale_dates

    install_locale_dates()  # deadlines written for the candidate's language, with Babel

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
                                  review_formats=review_formats(settings, messengers)),
        queries=SqlInterviewQueries(db),
        messengers=dict(messengers or {}),
        review_destinations=review_destinations,
        outbox_retry=timedelta(seconds=settings.outbox_retry),
    )
    if settings.transcribe_model is not None:
        from bots.audio.whisper import WhisperTranscriber, faster_whisper_available

        if not faster_whisper_available():
            raise RuntimeError("INTERVIEWBOT_TRANSCRIBE_MODEL is set but faster-whisper is not "
                               "installed: pip install 'interviewbot[whisper]'")
        if not settings.transcribe_model.is_dir():
            raise RuntimeError(f"INTERVIEWBOT_TRANSCRIBE_MODEL: no model folder at "
                               f"{settings.transcribe_model}")
        services.transcriber = WhisperTranscriber(settings.media_dir,
                                                  str(settings.transcribe_model), bucket=bucket)
    elif settings.transcribe:
        from bots.audio import PocketsphinxTranscriber, pocketsphinx_available

        if not pocketsphinx_available():
            raise RuntimeError("INTERVIEWBOT_TRANSCRIBE is on but pocketsphinx is not installed: "
                               "pip install 'interviewbot[transcribe]'")
        services.transcriber = PocketsphinxTranscriber(settings.media_dir, bucket=bucket)
    app = App(settings, db, catalog, services, Engine(services))
    record_webhooks(app)
    return app


def review_formats(settings: Settings, messengers: dict[str, Messenger] | None
                   ) -> tuple[AudioFormat, ...]:
    """The review copies made with each recording: those the configured channels play
    inline (Ogg/Opus for a console preview)."""
    platforms = [*(messengers or {}), *(d.name for d in declarations() if d.enabled(settings))]
    return tuple(dict.fromkeys(capabilities(p).inline_audio for p in platforms
                               if p in CHANNELS)) or (AudioFormat.OGG_OPUS,)


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
    app = build(settings, messengers={messenger.platform: messenger},
                review_destinations=(REVIEWER_CHAT,))
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


@asynccontextmanager
async def slack_outbound(app: App) -> AsyncIterator[None]:
    """The Slack messenger alone, for a CLI command that DMs someone (no events received,
    so no signing secret needed)."""
    from bots.slack.messenger import SlackMessenger, make_client

    assert app.settings.slack_bot_token
    messenger = SlackMessenger(make_client(app.settings.slack_bot_token,
                                           app.settings.slack_api_url, app.services.observer))
    await messenger.open()
    app.services.messengers["slack"] = messenger
    try:
        yield
    finally:
        app.services.messengers.pop("slack", None)
        await messenger.close()
        app.db.dispose()


def make_channels(settings: Settings, app: App) -> list[Channel]:
    """A channel for every registered one its settings enable; each registers its messenger."""
    channels = [d.make(settings, app.engine) for d in declarations()
                if d.make is not None and d.enabled(settings)]
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
        await start_checks(app, started)
        # What start-up built (python-telegram-bot, Bolt, SQLAlchemy, scripts, catalogs) lives
        # as long as the process: freezing it keeps the collector's full passes from walking
        # it. Unfrozen, one such pass stalled every chat for 70 ms (bench.realistic); frozen,
        # the longest collection was 2.7-4 ms.
        gc.collect()
        gc.freeze()
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


async def start_checks(app: App, channels: list[Channel]) -> None:
    """Each running channel's start-up checks (`ChannelDeclaration.on_start`); they warn,
    they never stop the start."""
    for channel in channels:
        found = declaration(channel.name)
        if found is not None and found.on_start is not None:
            try:
                await found.on_start(app)
            except Exception:
                log.exception("the start-up check of channel %s failed", channel.name)


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
