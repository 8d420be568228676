"""Script validation, with file:line:field errors from the YAML loader."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bots.scripts import ScriptCatalog, ScriptFileInvalid, parse_yaml, sample_text
from core.durations import format_duration, parse_duration
from core.script import ScriptInvalid, parse_script
from tests.support.scripts import script_data


def test_bundled_sample_is_valid_and_useful() -> None:
    script = parse_yaml(sample_text(), "sample")
    assert script.id == "backend-engineer"
    assert len(script.scored_questions) == 4
    assert script.questions[0].practice
    assert script.question("tradeoff").answer.max_seconds == 240
    assert script.criteria_for(script.question("incident")) == ("competency", "ownership")
    assert script.review.blind and script.review.independent
    assert script.reminders.quiet_hours is not None


def test_errors_name_file_line_and_field() -> None:
    text = sample_text().replace("answer: {kinds: [voice, text], max_seconds: 240}",
                                 "answer: {kinds: [vidoe], max_seconds: 240}")
    with pytest.raises(ScriptFileInvalid) as caught:
        parse_yaml(text, "scripts/x.yaml")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "vidoe" in row)
    assert [str(e) for e in caught.value.errors] == [
        f"scripts/x.yaml:{line}: questions[2].answer.kinds[0]: "
        "'vidoe' is not one of voice, text, choice"
    ]


def test_every_problem_is_reported() -> None:
    data = script_data(deadline="soon", rubric={"depth": "x", "scale": [3, 1]}, extra=1)
    data["questions"][1]["rubric"] = ["depth", "charm"]
    data["questions"].append({"id": "bug", "text": ""})
    with pytest.raises(ScriptInvalid) as caught:
        parse_script(data)
    fields = sorted(p.field for p in caught.value.problems)
    assert fields == ["deadline", "extra", "questions[1].rubric[1]", "questions[3].id",
                      "questions[3].text", "rubric.scale"]


def test_yaml_syntax_error_has_a_line() -> None:
    with pytest.raises(ScriptFileInvalid) as caught:
        parse_yaml("id: x\ntitle: [unclosed\n", "bad.yaml")
    assert caught.value.errors[0].line >= 2 and caught.value.errors[0].field == "(yaml)"


def test_unknown_placeholder_is_an_error() -> None:
    with pytest.raises(ScriptInvalid, match="intro: has an unknown placeholder"):
        parse_script(script_data(intro="Hi {nme}"))


def test_catalog_from_folder_reports_all_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "a.yaml").write_text(sample_text())
    (tmp_path / "b.yaml").write_text("id: b\n")
    with pytest.raises(ScriptFileInvalid) as caught:
        ScriptCatalog.load(tmp_path)
    assert {e.file for e in caught.value.errors} == {str(tmp_path / "b.yaml")}
    (tmp_path / "b.yaml").unlink()
    assert [s.id for s in ScriptCatalog.load(tmp_path).all()] == ["backend-engineer"]


@pytest.mark.parametrize(("text", "delta"), [
    ("7d", timedelta(days=7)), ("24h", timedelta(hours=24)), ("1h30m", timedelta(minutes=90)),
    ("2w", timedelta(weeks=2)), (45, timedelta(seconds=45)),
])
def test_durations(text: str | int, delta: timedelta) -> None:
    assert parse_duration(text) == delta


@pytest.mark.parametrize("text", ["", "7x", "d7", "soon", "7 days"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_format_duration() -> None:
    assert format_duration(timedelta(days=3, hours=2, minutes=5)) == "3d2h"
    assert format_duration(timedelta(0)) == "0s"
