"""Shared fixtures: databases (SQLite and a throwaway PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import Engine, text

from bots.channels import declarations
from storage.db import make_engine
from storage.migrate import upgrade
from tests.support.postgres import PostgresServer, PostgresUnavailable
from tests.support.postgres import postgres_server as start_postgres_server
from tests.support.postgres import (
    throwaway_postgres as throwaway_postgres,  # patched by test_ci_strict
)

pytest_plugins = ["pytester"]

declarations()  # the channels' capabilities, as `interviewbot` registers them on start


TRUTHY = {"1", "true", "yes", "on"}
T = TypeVar("T")


def on_ci() -> bool:
    """True when `CI` holds any truthy value (`1`, `true`, `yes`, `on`, any case)."""
    return os.environ.get("CI", "").strip().lower() in TRUTHY


@contextmanager
def _required(start: Callable[[], AbstractContextManager[T]]) -> Iterator[T]:
    """What `start` yields; off CI the test is skipped when the PostgreSQL binaries are
    missing, on CI (`.ci/run` exports `CI=true`) it fails."""
    try:
        with start() as running:
            yield running
    except PostgresUnavailable as exc:
        if on_ci():
            pytest.fail(f"PostgreSQL is required on CI: {exc}", pytrace=False)
        pytest.skip(f"PostgreSQL tests skipped: {exc}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server shared by the session's tests."""
    with _required(lambda: throwaway_postgres()) as url:  # looked up late: test_ci_strict
        yield url


@pytest.fixture
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server of the test's own, which it may restart."""
    with _required(start_postgres_server) as server:
        yield server


def _fresh_postgres(url: str) -> Engine:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    return engine


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database: SQLite in a temp dir, then a throwaway PostgreSQL."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'test.db'}")
    else:
        engine = _fresh_postgres(request.getfixturevalue("postgres_url"))
    upgrade(engine)
    yield engine
    engine.dispose()
