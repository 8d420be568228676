"""The composition root: builds the engine with its adapters, and runs the channels."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine as DbEngine

from bots.clock import SystemClock
from bots.scripts import ScriptCatalog
from bots.settings import Settings
from core.engine import Engine
from core.ports import Messenger
from core.refs import ChatRef
from core.services import Services
from storage.db import make_engine
from storage.migrate import upgrade
from storage.unit_of_work import SqlUnitOfWorkFactory

log = logging.getLogger("interviewbot")


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

    db = make_engine(settings.database_url)
    if migrate:
        upgrade(db)
    catalog = ScriptCatalog.load(settings.scripts)
    services = Services(
        uow=SqlUnitOfWorkFactory(db),
        scripts=catalog,
        clock=SystemClock(),
        audio=PydubAudioProcessor(settings.media_dir),
        messengers=dict(messengers or {}),
        review_destinations=review_destinations,
    )
    return App(settings, db, catalog, services, Engine(services))


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
        app.db.dispose()


async def run(settings: Settings) -> None:
    """Start every channel whose credentials are set; the console when none are."""
    if not settings.has_chat_channels:
        await run_console(settings)
        return
    raise SystemExit("Telegram and Slack channels are not available in this build yet.")


def main_run(settings: Settings) -> None:
    asyncio.run(run(settings))
