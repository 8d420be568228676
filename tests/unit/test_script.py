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


CHOICE_SCRIPT = """\
id: choices
title: Choices
consent: "OK?"
rubric: {depth: "Depth"}
knockout_message: "Thank you, {name}."
questions:
  - id: onsite
    text: "Berlin?"
    answer: {kinds: [choice], options: ["Yes", "No"]}
    knockout: ["Maybe"]
  - id: stack
    text: "Which?"
    answer: {kinds: [choice], options: [PostgreSQL, Kafka], multiple: true}
    knockout: [Kafka]
  - id: many
    text: "Pick one"
    answer: {kinds: [choice], options: [a, b, c, d, e, f, g, h, i, j, k]}
  - id: long
    text: "Pick"
    answer: {kinds: [choice], options: ["%s"]}
  - id: mixed
    text: "Say"
    answer: {kinds: [choice, voice]}
""" % ("x" * 65)


def test_choice_options_and_knockouts_are_checked_with_file_and_line() -> None:
    with pytest.raises(ScriptFileInvalid) as caught:
        parse_yaml(CHOICE_SCRIPT, "scripts/c.yaml")
    lines = CHOICE_SCRIPT.splitlines()

    def at(fragment: str, nth: int = 0) -> int:
        return [i for i, row in enumerate(lines, 1) if fragment in row][nth]

    assert [str(e) for e in caught.value.errors] == [
        f"scripts/c.yaml:{at('Maybe')}: questions[0].knockout[0]: 'Maybe' is not one of the "
        "options (Yes, No)",
        f"scripts/c.yaml:{at('knockout: [Kafka]')}: questions[1].knockout: cannot be used with "
        "multiple: true; ask the hard requirement as its own single-answer question",
        f"scripts/c.yaml:{at('options: [a, b')}: questions[2].answer.options: has 11 options; "
        "at most 10 fit as buttons",
        f"scripts/c.yaml:{at('xxxx')}: questions[3].answer.options[0]: is 65 characters; a "
        "button holds at most 64",
        f"scripts/c.yaml:{at('kinds: [choice, voice]')}: questions[4].answer.kinds: choice "
        "cannot be combined with voice or text",
        f"scripts/c.yaml:{at('kinds: [choice, voice]')}: questions[4].answer.options: is "
        "required for kinds: [choice] (1 to 10 options)",
    ]


def test_a_valid_choice_script() -> None:
    text = (CHOICE_SCRIPT.split("  - id: many")[0].replace('["Maybe"]', '["No"]')
            .replace("    knockout: [Kafka]\n", ""))
    script = parse_yaml(text, "scripts/c.yaml")
    onsite = script.question("onsite")
    assert onsite.knockout == ("No",) and onsite.answer.option(" yes ") == "Yes"
    assert script.question("stack").answer.multiple
    assert script.rated_questions == () or all(not q.answer.is_choice
                                               for q in script.rated_questions)
    assert script.knockout_message == "Thank you, {name}."
