"""The SQL unit of work: one database transaction with the repositories of each aggregate.

Where each thing is kept:
  storage/mapping.py     how core's dataclasses map to rows (by field and column name)
  storage/interviews.py  the interview aggregate: load, versioned write of what changed
  storage/reviews.py     ratings, decisions, review posts, prompts, audit (ORM rows)
  storage/deliveries.py  inbound delivery keys (each delivery handled once)
  storage/outbox.py      outbound work committed with its change
  storage/scripts.py     script revisions;  storage/fairness.py  records kept apart

The transaction runs on one connection, opened at the first statement; an ORM `Session` is
bound to it only when something needs one (reviews, fairness records, script revisions, the
webhook recorder), so a candidate's answer runs on SQLAlchemy Core alone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType

from sqlalchemy import Connection, Engine
from sqlmodel import Session

from storage.deliveries import SqlDeliveries
from storage.fairness import SqlFairness
from storage.interviews import KnownChildren, SqlInterviews
from storage.outbox import SqlOutbox
from storage.reviews import SqlReviews
from storage.scripts import SqlScriptRevisions

Recorder = Callable[["SqlUnitOfWork"], None]


class SqlUnitOfWork:
    """One database transaction implementing core's `UnitOfWork`.

    `recorder`, when set, sees every transaction just before it commits (its state changes,
    new ratings and decisions) and may write rows of its own into it: the outgoing webhook
    events (bots/webhooks.py) are committed with the change that caused them, or not at all.
    """

    def __init__(self, engine: Engine, recorder: Recorder | None = None,
                 known: KnownChildren | None = None) -> None:
        self.engine = engine
        self.recorder = recorder
        self.known = known
        self._connection: Connection | None = None
        self._session: Session | None = None
        self._scripts: SqlScriptRevisions | None = None
        self._fairness: SqlFairness | None = None
        self._after_commit: list[Callable[[], None]] = []

    def __enter__(self) -> SqlUnitOfWork:
        self.interviews = SqlInterviews(self.connection, self.known)
        self.reviews = SqlReviews(lambda: self.session)
        self.outbox = SqlOutbox(self.connection)
        self.deliveries = SqlDeliveries(self.connection)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._end(commit=False)

    # -- the transaction ---------------------------------------------------------------
    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` once this transaction has committed (not on a rollback)."""
        self._after_commit.append(callback)

    def connection(self) -> Connection:
        """The transaction's connection (checked out of the pool at the first statement)."""
        if self._connection is None:
            self._connection = self.engine.connect()
        return self._connection

    @property
    def session(self) -> Session:
        """An ORM session in this transaction (flushed, not committed, by `commit`)."""
        if self._session is None:
            connection = self.connection()
            if not connection.in_transaction():
                connection.begin()  # the session joins it and leaves the commit to `commit`
            self._session = Session(bind=connection, expire_on_commit=False,
                                    autoflush=False,
                                    join_transaction_mode="rollback_only")
        return self._session

    @property
    def scripts(self) -> SqlScriptRevisions:
        if self._scripts is None:
            self._scripts = SqlScriptRevisions(self.session)
        return self._scripts

    @property
    def fairness(self) -> SqlFairness:
        if self._fairness is None:
            self._fairness = SqlFairness(self.session)
        return self._fairness

    def _end(self, *, commit: bool) -> None:
        session, connection = self._session, self._connection
        self._session = self._connection = None
        self._scripts = self._fairness = None
        try:
            if session is not None:
                try:
                    if commit:
                        session.flush()
                finally:
                    session.close()
            if connection is not None and commit:
                connection.commit()
            callbacks = self._after_commit if commit else []
            self._after_commit = []
            for callback in callbacks:  # also after a commit that had nothing to write
                callback()
        finally:
            self._after_commit = []
            if connection is not None:
                connection.close()  # rolls back what was not committed

    # -- deliveries --------------------------------------------------------------------
    def first_delivery(self, key: str, at: datetime | None = None) -> bool:
        return self.deliveries.first(key, at)

    def record_delivery(self, key: str) -> None:
        self.deliveries.record(key)

    def seen(self, key: str) -> bool:
        return self.deliveries.seen(key)

    def recent(self, prefix: str, since: datetime) -> int:
        return self.deliveries.recent(prefix, since)

    # -- commit ------------------------------------------------------------------------
    def commit(self) -> None:
        try:
            self.deliveries.flush()  # first, so that a redelivery fails before other writes
            self.interviews.flush()
            if self.recorder is not None:
                self.recorder(self)
            self._end(commit=True)
        except BaseException:
            self.rollback()
            raise
        self.interviews.committed()
        self._forget()

    def _forget(self) -> None:
        self.interviews.forget()
        self.reviews.forget()
        self.deliveries.forget()

    def rollback(self) -> None:
        self._end(commit=False)
        self._forget()


class SqlUnitOfWorkFactory:
    """Makes a fresh `SqlUnitOfWork` per command; they share what this process knows of the
    interviews' child rows (`KnownChildren`: checked against the version read each time)."""

    def __init__(self, engine: Engine, recorder: Recorder | None = None) -> None:
        self.engine = engine
        self.recorder = recorder
        self.known = KnownChildren()

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self.recorder, self.known)
