"""Shared fixtures: databases (SQLite and a throwaway PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bots.channels import declarations
from storage.db import make_engine
from storage.migrate import upgrade
from tests.support.postgres import PostgresUnavailable
from tests.support.postgres import (
    throwaway_postgres as throwaway_postgres,  # patched by test_ci_strict
)

pytest_plugins = ["pytester"]

declarations()  # the channels' capabilities, as `interviewbot` registers them on start


TRUTHY = {"1", "true", "yes", "on"}


def on_ci() -> bool:
    """True when `CI` holds any truthy value (`1`, `true`, `yes`, `on`, any case)."""
    return os.environ.get("CI", "").strip().lower() in TRUTHY


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for the session; skipped off CI when the binaries are missing.

    On CI (`.ci/run` exports `CI=true`) a missing binary fails every test that needs it.
    """
    try:
        with throwaway_postgres() as url:
            yield url
    except PostgresUnavailable as exc:
        if on_ci():
            pytest.fail(f"PostgreSQL is required on CI: {exc}", pytrace=False)
        pytest.skip(f"PostgreSQL tests skipped: {exc}")


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
