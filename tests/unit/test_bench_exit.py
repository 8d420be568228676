"""`make bench` fails (exit 1) when a benchmark misses its target or fails, and says which."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import bench.__main__ as bench_main
from bench.common import summary

PROBE = '''
import os
from bench.common import summary
met = os.environ["PROBE_MET"] == "1"
summary.add("probe", "answers/s", "12", ">= 10" if met else ">= 100", met)
summary.add("probe", "no target", "3")
'''


@pytest.fixture
def probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bench_probe.py").write_text(PROBE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(bench_main, "BENCHES", [("probe", "bench_probe", [])])
    monkeypatch.setattr(summary, "rows", [])
    monkeypatch.setattr(sys, "argv", ["bench"])


def test_all_targets_met_exits_0(probe: None, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PROBE_MET", "1")
    bench_main.main()  # no SystemExit
    assert "every target met" in capsys.readouterr().out


def test_a_missed_target_exits_1_and_is_named(probe: None, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PROBE_MET", "0")
    with pytest.raises(SystemExit) as exit_:
        bench_main.main()
    assert exit_.value.code == 1
    out = capsys.readouterr().out
    assert "1 target(s) missed:\n  probe: answers/s: 12 (target >= 100)" in out


def test_a_failing_benchmark_exits_1(probe: None, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("PROBE_MET", raising=False)  # the probe raises KeyError
    with pytest.raises(SystemExit) as exit_:
        bench_main.main()
    assert exit_.value.code == 1
    assert "probe: FAILED: KeyError" in capsys.readouterr().out
