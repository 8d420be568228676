"""Database engine creation: SQLite (WAL, foreign keys) or PostgreSQL through one URL."""

from __future__ import annotations

import select
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import ConnectionPoolEntry


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgresql:// URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


# Sessions stay open across awaits (a voice note's download and conversion, posting review
# cards), so more can be open at once than SQLAlchemy's default pool (5 + 10 overflow) holds,
# and a checkout that waits for a free connection blocks the event loop, and with it every
# session that would free one, until it times out (bench.engine: 16+ voice notes at once).
# Keep up to 20 idle connections and open more when needed instead of waiting.
POOL: dict[str, Any] = {"pool_size": 20, "max_overflow": -1}


def make_engine(url: str) -> Engine:
    """Create an engine; for SQLite make the folder, turn on WAL, foreign keys, busy timeout."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               **POOL)

        @event.listens_for(engine, "connect")
        def _pragmas(conn: Any, _record: Any) -> None:
            cursor = conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    engine = create_engine(url, **POOL)
    event.listen(engine, "checkout", _alive_or_replaced(engine))
    return engine


def _alive_or_replaced(engine: Engine) -> Callable[[Any, ConnectionPoolEntry, Any], None]:
    """A pooled PostgreSQL connection is checked before each use without a round trip.

    An idle connection has nothing to read: the server speaks on it only when asked, unless it
    is saying goodbye (a restart or failover ends every session with a message and closes the
    socket). So a socket with nothing to read is used as is; one with something to read is
    pinged, and replaced when the ping fails (SQLAlchemy opens a new connection). This saves
    the `pool_pre_ping` round trip on every transaction while a restarted database still costs
    no command (tests/integration/test_database_restart.py).
    """
    def alive(dbapi_connection: Any, _record: ConnectionPoolEntry, _proxy: Any) -> None:
        if not _readable(dbapi_connection.fileno()):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError(f"connection ended by the server: {exc}") from exc

    return alive


def _readable(fd: int) -> bool:
    """Whether the socket has something to read, or was closed, right now (no waiting).

    poll, not select: a busy process's descriptors go past select's limit of 1024.
    """
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))
