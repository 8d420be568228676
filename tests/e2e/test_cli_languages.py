"""`invite --lang` and `check` on translated scripts, through the installed command."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_telegram_languages import BILINGUAL
from tests.support.console import run_cli


def test_invite_with_a_language_the_script_lacks_is_refused_and_creates_nothing(
        tmp_path: Path) -> None:
    for lang in ("de", "xx"):
        bad = run_cli(tmp_path, "invite", "backend-engineer", "--name", "Ada", "--console",
                      "--lang", lang)
        assert bad.returncode == 1
        assert bad.stderr.strip() == (f"error: backend-engineer is not offered in '{lang}'; "
                                      "its languages: en")
    results = run_cli(tmp_path, "results", "backend-engineer", "--format", "csv")
    assert results.returncode == 0 and len(results.stdout.strip().splitlines()) == 1


def test_invite_in_a_language_the_script_offers(tmp_path: Path) -> None:
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "qa-bilingual.yaml").write_text(BILINGUAL)
    ok = run_cli(tmp_path, "invite", "qa-bilingual", "--name", "Greta", "--console", "--lang", "de",
                 INTERVIEWBOT_SCRIPTS=str(scripts))
    assert ok.returncode == 0, ok.stderr
    es = run_cli(tmp_path, "invite", "qa-bilingual", "--name", "Greta", "--console", "--lang", "es",
                 INTERVIEWBOT_SCRIPTS=str(scripts))
    assert es.returncode == 1 and "its languages: en, de" in es.stderr


def test_check_names_a_missing_translation_by_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bi.yaml"
    text = BILINGUAL.replace('      de: "Wie testen Sie Ihren Code?"\n', "")
    path.write_text(text)
    result = run_cli(tmp_path, "check", str(path))
    assert result.returncode == 1
    line = text.splitlines().index("  - id: testing") + 2
    assert result.stderr.strip() == f"{path}:{line}: questions[1].text: no 'de'"
