"""`interviewbot results | report`: scorecards and funnel metrics, retired scripts included."""

from __future__ import annotations

import csv
import json
import sys
from functools import partial
from pathlib import Path
from typing import Annotated

import typer

from bots.cli import cli, emit_report, fail, open_app, out, script_or_fail
from core.errors import ScriptError
from core.fair_results import result_columns
from core.results import scorecard
from core.script import Script

# The columns every `results` output starts with, in this order, whatever the answers.
FIXED_COLUMNS = ("interview_id", "number", "candidate", "state", "invited_at", "completed_at",
                 "overall", "decision", "decisions", "reviewers", "follow_ups", "experience",
                 "revised_after_reveal", "notice_sha256", "consented_at", "language")


def script_columns(script: Script) -> list[str]:
    """The answer and score columns of a script, in question order."""
    columns: list[str] = []
    for question in script.scored_questions:
        columns.append(f"{question.id}.answer")
        if len(script.languages) > 1:  # the language each answer was given in
            columns.append(f"{question.id}.language")
        for criterion in script.criteria_for(question):
            columns += [f"{question.id}.{criterion}.mean", f"{question.id}.{criterion}.n"]
    return columns


@cli.command()
def results(
    script_id: Annotated[str, typer.Argument(metavar="SCRIPT_ID", help="Script id.")],
    fmt: Annotated[str, typer.Option("--format", metavar="FORMAT",
                                     help="csv or json.")] = "csv",
    include_adjustments: Annotated[bool, typer.Option(
        "--include-adjustments",
        help="Add the adjustments approved for each candidate (never shown to reviewers).")] =
    False,
) -> None:
    """Scorecards, one row per interview, to stdout.

    Columns: interview_id, number, candidate, state, invited_at, completed_at, overall,
    decision, decisions, reviewers, follow_ups, experience, revised_after_reveal (changes a
    reviewer made after seeing the others' scores), notice_sha256 and consented_at (the notice
    the candidate accepted), language (the interview's), [adjustments], then per scored question
    <question>.answer ([<question>.language] for a script in several languages) and
    <question>.<criterion>.mean / .n (empty when not answered or rated).
    Works on retired scripts; each interview is scored against the revision it was asked.
    """
    if fmt not in ("csv", "json"):
        raise fail(f"--format must be csv or json, not {fmt!r}")
    app = open_app()
    try:
        listed = script_or_fail(app, script_id)
        columns = [*FIXED_COLUMNS, *(["adjustments"] if include_adjustments else []),
                   *script_columns(listed)]
        rows: list[dict[str, object]] = []
        with app.services.uow() as uow:
            for interview in uow.interviews.for_script(script_id):
                try:
                    script = app.services.script(interview)
                except ScriptError:
                    script = listed
                card = scorecard(script, interview, uow.reviews.ratings(interview.id),
                                 uow.reviews.decisions(interview.id),
                                 uow.reviews.audit_log(interview.id))
                row: dict[str, object] = {
                    "interview_id": interview.id,
                    "invited_at": interview.invited_at.isoformat(), **card.flat(),
                    **result_columns(uow, interview.id, include_adjustments)}
                columns += [c for c in script_columns(script) if c not in columns]
                rows.append(row)
    finally:
        app.db.dispose()
    full = [{c: row.get(c, "") for c in columns} for row in rows]
    if fmt == "json":
        sys.stdout.write(json.dumps(full, indent=2, default=str) + "\n")
        return
    writer = csv.DictWriter(sys.stdout, fieldnames=columns)
    writer.writeheader()
    writer.writerows(full)


def _chart_format_or_fail(chart: Path) -> str:
    from bots.report_chart import chart_format

    try:
        return chart_format(chart)
    except ValueError as exc:
        raise fail(str(exc)) from None


@cli.command()
def report(
    script_id: Annotated[str, typer.Argument(metavar="SCRIPT_ID", help="Script id.")],
    fmt: Annotated[str, typer.Option("--format", metavar="FORMAT",
                                     help="table or json.")] = "table",
    chart: Annotated[Path | None, typer.Option(
        "--chart", metavar="FILE",
        help="Also draw the funnel and the drop-off to FILE: .png, .svg or .pdf.")] = None,
    fairness: Annotated[bool, typer.Option(
        "--fairness", help="Adverse impact by self-identified group instead of the funnel.")] =
    False,
    min_group: Annotated[int, typer.Option(
        "--min-group", metavar="N",
        help="With --fairness: groups with fewer completed interviews are not judged.")] = 5,
) -> None:
    """Funnel metrics: stages, drop-off per question, timings, reviews, agreement; or, with
    --fairness, selection rates and impact ratios by self-identified group."""
    from core.report import read_report

    if fmt not in ("table", "json"):
        raise fail(f"--format must be table or json, not {fmt!r}")
    if chart is not None:
        _chart_format_or_fail(chart)
    if fairness:
        from bots.report_fairness import fairness_command

        fairness_command(open_app(), script_id, fmt, chart, min_group)
        return
    app = open_app()
    try:
        script = script_or_fail(app, script_id)
        with app.services.uow() as uow:
            funnel = read_report(script, uow)
    finally:
        app.db.dispose()
    from bots.report_chart import draw_chart
    from bots.report_view import print_report

    emit_report(funnel, fmt, chart, draw_chart, partial(print_report, out))
