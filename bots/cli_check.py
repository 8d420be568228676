"""`interviewbot check`: validate scripts, warn about scripts nobody reviews, list retired ones."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from bots.cli import cli, fail, out, settings
from bots.scripts import (
    ScriptFileError,
    ScriptFileInvalid,
    ScriptSource,
    line_of_key,
    load_source,
    retired_lines,
    script_files,
    unreviewed_warning,
)
from core.durations import format_duration
from core.script import Script
from core.script_fairness import fairness_warnings


def _summary(entry: ScriptSource) -> None:
    script = entry.script
    table = Table(title=f"{script.title} ({script.id})", title_justify="left")
    for column in ("#", "question", "answer", "rubric"):
        table.add_column(column)
    for i, q in enumerate(script.questions, 1):
        rules = q.answer
        answer = f"{'/'.join(rules.kinds)}, {rules.max_seconds}s, {rules.retakes} retakes"
        table.add_row(str(i), ("(practice) " if q.practice else "") + q.text, answer,
                      ", ".join(script.criteria_for(q)))
    out.print(table)
    reviewers = ", ".join(script.review.reviewers) or "none listed"
    out.print(f"deadline {format_duration(script.deadline)} · scale "
              f"{script.rubric.scale[0]}-{script.rubric.scale[-1]} · reviewers {reviewers} · "
              f"blind {'on' if script.review.blind else 'off'} · independent "
              f"{'on' if script.review.independent else 'off'}")
    out.print(f"[green]{entry.origin}: OK[/]")


def _files(paths: list[Path]) -> tuple[list[Path], list[ScriptFileError]]:
    files: list[Path] = []
    errors: list[ScriptFileError] = []
    for path in paths:
        found = script_files(path)
        if path.is_dir() and not found:
            errors.append(ScriptFileError(str(path), 0, "(folder)",
                                          "holds no *.yaml or *.yml script"))
        files.extend(found)
    return files, errors


def _duplicates(entries: list[ScriptSource]) -> list[ScriptFileError]:
    from bots.scripts import line_of_key

    first: dict[str, ScriptSource] = {}
    errors = []
    for entry in entries:
        seen = first.setdefault(entry.script.id, entry)
        if seen is not entry:
            errors.append(ScriptFileError(
                entry.origin, line_of_key(entry.source, "id"), "id",
                f"{entry.script.id!r} is defined twice: in {seen.origin}:"
                f"{line_of_key(seen.source, 'id')} and here"))
    return errors


def _retired(served: list[ScriptSource]) -> list[str]:
    """Retired scripts with interviews still going, when the configured database exists."""
    from bots.scripts import ScriptCatalog
    from storage.db import make_engine

    s = settings()
    if s.sqlite_path is None or not s.sqlite_path.exists():
        return []
    db = make_engine(s.database_url)
    try:
        return retired_lines(db, ScriptCatalog(served))
    except Exception:  # an older schema, or not an interviewbot database: nothing to say
        return []
    finally:
        db.dispose()


@cli.command()
def check(
    paths: Annotated[list[Path] | None, typer.Argument(
        metavar="PATH...",
        help="Script files or folders of scripts (default: INTERVIEWBOT_SCRIPTS).")] = None,
    strict: Annotated[bool, typer.Option(
        "--strict", help="Fail (exit 1) on warnings too.")] = False,
) -> None:
    """Validate interview scripts: every problem as file:line: field: message, in line order.

    Warns about a script nobody reviews. Checking the configured scripts (no PATH) also lists
    retired scripts: ones no longer served whose interviews go on. Exit 1 on any error.
    """
    configured = not paths
    if not paths:
        location = settings().scripts
        if location is None:
            raise fail("no PATH given and INTERVIEWBOT_SCRIPTS is not set")
        paths = [location]
    files, errors = _files(paths)
    entries: list[ScriptSource] = []
    for file in files:
        try:
            entries.append(load_source(file))
        except ScriptFileInvalid as exc:
            errors.extend(exc.errors)
    errors.extend(_duplicates(entries))
    warnings = [w for w in map(unreviewed_warning, entries) if w is not None]
    warnings += [ScriptFileError(e.origin, max(1, line_of_key(e.source, "notice")), "notice",
                                 w.removeprefix("notice: "))
                 for e in entries for w in fairness_warnings(e.script.notice, e.script.consent)]
    for entry in entries:
        _summary(entry)
    for error in errors:
        sys.stderr.write(f"{error}\n")
    for warning in warnings:
        sys.stderr.write(f"warning: {warning}\n")
    if configured:
        for line in _retired(entries):
            sys.stderr.write(f"note: {line}\n")
    refused = _review_channels_refused([e.script for e in entries])
    if errors or refused or (strict and warnings):
        raise typer.Exit(1)


def _review_channels_refused(scripts: list[Script]) -> bool:
    """Public Slack review channels: an error (checked with SLACK_BOT_TOKEN), else a warning."""
    import asyncio

    from bots.slack.lookup import check_review_channels

    s = settings()
    errors, warnings = asyncio.run(check_review_channels(s.slack_bot_token, s.slack_api_url,
                                                         scripts))
    for line in warnings:  # not a problem: what is verified later
        sys.stderr.write(f"note: {line}\n")
    for line in errors:
        sys.stderr.write(f"error: {line}\n")
    return bool(errors)
