"""An engine wired to in-memory implementations of core's ports (`make_world`), for unit tests
of the engine (no mocks); the fakes themselves are in fake_storage.py and fake_adapters.py.

Each fake names the port it implements as a base class, so mypy checks it still matches the
port (a changed signature fails `make lint`, not a test at run time)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.audio import (
    Transcriber,
)
from core.engine import Engine
from core.observe import Observer
from core.ports import (
    Clock,
    Messenger,
    ScriptCatalog,
    UnitOfWorkFactory,
)
from core.queries import InterviewQueries
from core.script import Script
from core.services import Services
from tests.support.fake_adapters import FakeAudio, FakeCatalog, FakeMessenger, FlakyMessenger, Sent
from tests.support.fake_storage import (
    FakeFairness,
    FakeInterviews,
    FakeOutbox,
    FakeQueries,
    FakeReviews,
    FakeScriptRevisions,
    FakeUnitOfWork,
    Store,
    summarise,
)

# the fakes of fake_adapters.py and fake_storage.py are imported from here by the tests
__all__ = [
    "FakeAudio",
    "FakeCatalog",
    "FakeClock",
    "FakeFairness",
    "FakeInterviews",
    "FakeMessenger",
    "FakeOutbox",
    "FakeQueries",
    "FakeReviews",
    "FakeScriptRevisions",
    "FakeUnitOfWork",
    "FlakyMessenger",
    "Sent",
    "Store",
    "World",
    "make_world",
    "summarise",
]


class FakeClock(Clock):
    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


@dataclass
class World:
    """An engine wired to fakes, with handles on each fake."""

    engine: Engine
    store: Store
    clock: FakeClock
    audio: FakeAudio
    telegram: FakeMessenger
    slack: FakeMessenger
    services: Services

    # -- overrides a test may make (instead of reaching into the engine) ---------------
    def observe_with(self, observer: Observer) -> None:
        self.services.observer = observer

    def use_messenger(self, messenger: Messenger) -> None:
        self.services.messengers[messenger.platform] = messenger

    def resolve_groups(self, members: Callable[[str], frozenset[str]]) -> None:
        self.services.group_members = members

    def serve(self, *scripts: Script) -> None:
        """Serve more scripts (or edits of served ones)."""
        catalog = self.services.scripts
        assert isinstance(catalog, FakeCatalog)
        for script in scripts:
            catalog.serve(script)


def make_world(script: Script, uow: UnitOfWorkFactory | None = None,
               clock: FakeClock | None = None, *, catalog: ScriptCatalog | None = None,
               scripts: Iterable[Script] = (), queries: InterviewQueries | None = None,
               telegram: FakeMessenger | None = None, slack: FakeMessenger | None = None,
               observer: Observer | None = None, transcriber: Transcriber | None = None,
               outbox_retry: timedelta | None = None,
               group_members: Callable[[str], frozenset[str]] | None = None) -> World:
    """An engine on fakes; pass `uow` (and `queries`) to run it on a real database instead
    of the store.

    The other arguments replace one fake or setting each: `catalog` (default: a catalog of
    `script` and `scripts`), the `telegram` and `slack` messengers (e.g. a `FlakyMessenger`),
    the `observer`, a `transcriber`, the `outbox_retry` period, and `group_members` (the
    members of a Slack user group)."""
    store = Store()
    if queries is None and uow is not None:
        from storage.queries import SqlInterviewQueries
        from storage.unit_of_work import SqlUnitOfWorkFactory

        if isinstance(uow, SqlUnitOfWorkFactory):  # the read side of the same database
            queries = SqlInterviewQueries(uow.engine)
    clock = clock or FakeClock()
    audio = FakeAudio()
    telegram = telegram or FakeMessenger("telegram")
    slack = slack or FakeMessenger("slack")
    services = Services(
        uow=uow or (lambda: FakeUnitOfWork(store)),
        scripts=catalog or FakeCatalog(script, *scripts),
        clock=clock, audio=audio, queries=queries or FakeQueries(store),
        messengers={"telegram": telegram, "slack": slack}, transcriber=transcriber,
    )
    if observer is not None:
        services.observer = observer
    if outbox_retry is not None:
        services.outbox_retry = outbox_retry
    if group_members is not None:
        services.group_members = group_members
    return World(Engine(services), store, clock, audio, telegram, slack, services)
