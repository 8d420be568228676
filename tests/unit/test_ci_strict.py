"""On CI nothing that must run may skip: any truthy `CI` makes a missing PostgreSQL fail."""

from __future__ import annotations

from pathlib import Path

import pytest

import tests.conftest
from tests.conftest import on_ci
from tests.support.postgres import throwaway_postgres

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "Yes", "on", " true "])
def test_truthy_values_mean_ci(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    assert on_ci()


@pytest.mark.parametrize("value", ["", "0", "false", "no", "off"])
def test_other_values_do_not(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CI", value)
    assert not on_ci()


def test_unset_is_not_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    assert not on_ci()


def test_ci_script_exports_ci() -> None:
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert "export CI=true" in lines
    assert lines.index("export CI=true") < lines.index("make test")


PROBE = '''
import pytest
import tests.conftest
from tests.conftest import postgres_url  # noqa: F401
from tests.support.postgres import PostgresUnavailable


@pytest.fixture(autouse=True, scope="session")
def _no_binaries():
    def missing():
        raise PostgresUnavailable("initdb/pg_ctl not found")
    real = tests.conftest.throwaway_postgres
    tests.conftest.throwaway_postgres = missing
    yield
    tests.conftest.throwaway_postgres = real  # the module is shared with the outer session


def test_needs_postgres(postgres_url):
    pass
'''


@pytest.mark.parametrize(("ci", "outcome"), [("yes", "errors"), ("", "skipped")])
def test_missing_postgres_fails_on_ci_and_skips_elsewhere(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str, outcome: str) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.syspath_prepend(str(ROOT))
    pytester.makepyfile(test_probe=PROBE)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(**{outcome: 1})
    assert tests.conftest.throwaway_postgres is throwaway_postgres  # restored for later tests
