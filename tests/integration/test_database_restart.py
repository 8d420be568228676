"""A PostgreSQL restart while the bot runs costs no command (storage/db.py).

Pooled connections are not pinged before each use (a round trip per transaction); a socket the
server wrote to while it sat idle is pinged, and replaced when the ping fails. These tests
restart a throwaway server of their own under an engine with idle pooled connections.
"""

from __future__ import annotations

import select
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text

from storage.db import make_engine
from tests.support.postgres import PostgresServer


def _pid(conn: Connection) -> int:
    return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _backend(engine: Engine) -> int:
    with engine.connect() as conn:
        return _pid(conn)


def _idle_connections(engine: Engine, count: int) -> set[int]:
    """Check `count` connections out at once and return them to the pool, idle."""
    conns = [engine.connect() for _ in range(count)]
    try:
        return {_pid(c) for c in conns}
    finally:
        for conn in conns:
            conn.close()


def _counted_pings(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The connections the engine pings from now on (each ping still made)."""
    pings: list[Any] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_connection: Any) -> bool:
        pings.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return pings


def test_after_a_restart_every_transaction_succeeds_on_a_new_connection(
        postgres_server: PostgresServer) -> None:
    engine = make_engine(postgres_server.url)
    try:
        before = _idle_connections(engine, 3)
        postgres_server.restart()
        # one after another: each checkout meets a connection the restart ended
        for n in range(4):
            with engine.begin() as conn:
                assert conn.execute(text("SELECT :n"), {"n": n}).scalar_one() == n
        assert _backend(engine) not in before
    finally:
        engine.dispose()


def test_a_healthy_idle_connection_is_kept_even_when_the_server_wrote_to_it(
        postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Something to read on an idle socket is not always a goodbye (here a notification it
    listens for): the ping finds the connection alive and it is used, not replaced."""
    engine = make_engine(postgres_server.url)
    pings = _counted_pings(engine, monkeypatch)
    try:
        with engine.connect() as conn:
            conn.execute(text("LISTEN interviewbot_test"))
            conn.commit()
            listening = _pid(conn)
            conn.commit()
            socket = conn.connection.dbapi_connection.fileno()  # type: ignore[union-attr]
            other = make_engine(postgres_server.url)
            try:
                with other.begin() as sender:
                    sender.execute(text("NOTIFY interviewbot_test"))
            finally:
                other.dispose()
            poller = select.poll()
            poller.register(socket, select.POLLIN)
            assert poller.poll(30_000), "the notification never arrived"
        # back in the pool with the notification unread: the next checkout finds it
        assert _backend(engine) == listening
        assert len(pings) == 1
    finally:
        engine.dispose()


def test_a_quiet_idle_connection_is_used_without_a_ping(postgres_server: PostgresServer,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """What the check saves: no round trip before each transaction (pool_pre_ping made one)."""
    engine = make_engine(postgres_server.url)
    pings = _counted_pings(engine, monkeypatch)
    try:
        for n in range(5):
            with engine.begin() as conn:
                conn.execute(text("SELECT :n"), {"n": n})
        assert pings == []
        _idle_connections(engine, 2)
        postgres_server.restart()
        _backend(engine)
        assert len(pings) == 1  # the ended connection had something to read: pinged, replaced
    finally:
        engine.dispose()


def test_the_check_works_for_descriptors_beyond_1024(postgres_server: PostgresServer) -> None:
    """A busy process holds many sockets and files: the pool's connections then get
    descriptors past 1024, which `select()` refuses; the check must still run."""
    import os
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip("this machine allows fewer than 1,200 open files")
    if soft < 1200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1200, hard))
    filler = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    engine = make_engine(postgres_server.url)
    try:
        with engine.connect() as conn:
            descriptor = conn.connection.dbapi_connection.fileno()  # type: ignore[union-attr]
        assert descriptor > 1024
        postgres_server.restart()
        with engine.begin() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()
        for fd in filler:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
