"""Optional extras (`charts`, `s3`): without them the command says which extra to install.

The CLI runs as a subprocess in which the package is made unimportable (`sys.modules[name] =
None` makes `import name` raise ImportError, as on an install without the extra).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.console import cli_env

WITHOUT = ("import sys\n"
           "for name in sys.argv.pop(1).split(','):\n"
           "    sys.modules[name] = None\n"
           "from bots.cli import main\n"
           "sys.argv[0] = 'interviewbot'\n"
           "main()\n")


def cli_without(tmp: Path, missing: str, *args: str, **extra: str
                ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", WITHOUT, missing, *args],
                          env=cli_env(tmp, **extra), capture_output=True, text=True,
                          timeout=120, cwd=tmp)


def test_report_chart_without_matplotlib_names_the_extra(tmp_path: Path) -> None:
    assert cli_without(tmp_path, "matplotlib", "db", "upgrade").returncode == 0
    chart = tmp_path / "funnel.png"
    result = cli_without(tmp_path, "matplotlib", "report", "backend-engineer", "--chart",
                         str(chart))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: --chart needs matplotlib, which is not installed: "
        "pip install 'interviewbot[charts]'")
    assert "Traceback" not in result.stderr
    assert not chart.exists()


def test_report_without_chart_needs_no_matplotlib(tmp_path: Path) -> None:
    assert cli_without(tmp_path, "matplotlib", "db", "upgrade").returncode == 0
    result = cli_without(tmp_path, "matplotlib", "report", "backend-engineer")
    assert result.returncode == 0, result.stderr
    assert "invited" in result.stdout


def test_media_bucket_without_boto3_names_the_extra(tmp_path: Path) -> None:
    result = cli_without(tmp_path, "boto3,botocore", "run",
                         INTERVIEWBOT_MEDIA_S3_URL="s3://interviews/prod")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: RuntimeError: INTERVIEWBOT_MEDIA_S3_URL is set but boto3 is not installed: "
        "pip install 'interviewbot[s3]'")
    assert "Traceback" not in result.stderr


def test_run_without_bucket_needs_no_boto3(tmp_path: Path) -> None:
    result = cli_without(tmp_path, "boto3,botocore", "run")
    assert result.returncode == 0, result.stderr
