"""A command line call reads its settings (environment and `.env`) once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bots import cli
from bots.settings import Settings

SAMPLE = Path(cli.__file__).parent / "samples" / "backend-engineer.yaml"


def test_one_cli_call_reads_the_settings_once(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TELEGRAM_BOT_TOKEN", "SLACK_BOT_TOKEN", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INTERVIEWBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("INTERVIEWBOT_SCRIPTS", str(SAMPLE))
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setattr(cli, "_settings", None, raising=False)  # a fresh process
    reads: list[int] = []
    original = Settings.__init__

    def counting(self: Settings, *args: Any, **kwargs: Any) -> None:
        reads.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Settings, "__init__", counting)
    monkeypatch.setattr("sys.argv", ["interviewbot", "check"])
    with pytest.raises(SystemExit) as done:
        cli.main()
    assert done.value.code in (0, None)
    assert len(reads) == 1
