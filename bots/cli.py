"""The `interviewbot` command line."""

from __future__ import annotations

import csv
import json
import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from bots.scripts import ScriptCatalog, ScriptFileInvalid, load_file
from bots.settings import Settings
from core.commands import CreateInvitation
from core.durations import format_duration
from core.errors import DomainError
from core.model import Interview

if TYPE_CHECKING:
    from bots.app import App
from core.fair_results import result_columns
from core.results import scorecard
from core.script import Script
from core.script_fairness import fairness_warnings

cli = typer.Typer(help="Asynchronous job interviews in Telegram and Slack.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
db_cli = typer.Typer(help="Database maintenance.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
out = Console()


def fail(message: str) -> typer.Exit:
    """Print one clear line on stderr and return the exit to raise."""
    sys.stderr.write(f"error: {message}\n")
    return typer.Exit(1)


def settings() -> Settings:
    return Settings()


@cli.command()
def run() -> None:
    """Start every channel whose credentials are set (the console preview when none are)."""
    from bots.app import main_run
    from bots.logs import configure_logging

    s = settings()
    configure_logging(s.log_level, secrets=(s.slack_signing_secret, s.telegram_webhook_secret))
    if not s.has_chat_channels:
        logging.getLogger().setLevel(logging.WARNING)
    main_run(s)


def _summary(script: Script, path: Path) -> None:
    table = Table(title=f"{script.title} ({script.id})", title_justify="left")
    table.add_column("#")
    table.add_column("question")
    table.add_column("answer")
    table.add_column("rubric")
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
    out.print(f"[green]{path}: OK[/]")


@cli.command()
def check(files: Annotated[list[Path], typer.Argument(help="Script files to validate.")]) -> None:
    """Validate interview scripts; print every error as file:line: field: message."""
    failed = False
    for path in files:
        try:
            script = load_file(path)
        except ScriptFileInvalid as exc:
            failed = True
            for error in exc.errors:
                sys.stderr.write(f"{error}\n")
            continue
        _summary(script, path)
        for warning in fairness_warnings(script.notice, script.consent):
            sys.stderr.write(f"{path}: warning: {warning}\n")
    if failed:
        raise typer.Exit(1)


def _app():  # type: ignore[no-untyped-def]
    from bots.app import build

    try:
        return build(settings())
    except ScriptFileInvalid as exc:
        raise fail(f"invalid scripts:\n{exc}") from None


@cli.command()
def invite(
    script_id: Annotated[str, typer.Argument(help="Script id, e.g. backend-engineer.")],
    name: Annotated[str, typer.Option(help="The candidate's name.")],
    telegram: Annotated[bool, typer.Option("--telegram", help="Print a Telegram deep link.")] =
    False,
    slack_user: Annotated[str | None, typer.Option(help="DM this Slack user id.")] = None,
    tz: Annotated[str | None, typer.Option(help="IANA time zone, e.g. Europe/Berlin.")] = None,
) -> None:
    """Create a single-use invitation."""
    from core.texts import zone

    if tz is not None and zone(tz).key != tz:
        raise fail(f"unknown time zone {tz!r} (use an IANA name such as Europe/Berlin)")
    if not name.strip():
        raise fail("--name must not be empty")
    app = _app()
    platform = "slack" if slack_user else "telegram" if telegram else "console"
    username = None
    if platform == "telegram":
        from bots.links import bot_username

        try:
            username = bot_username(app.settings)
        except RuntimeError as exc:
            raise fail(str(exc)) from None
    try:
        interview, token = app.engine.invite(CreateInvitation(script_id, name, platform, tz))
    except DomainError as exc:
        raise fail(str(exc)) from None
    if username is not None:
        from bots.links import telegram_link

        sys.stderr.write(f"invitation {interview.id} for {name}\n")
        out.print(telegram_link(username, token), highlight=False, soft_wrap=True)
    elif platform == "slack":
        import asyncio

        from bots.slack.invite import SlackInviteFailed, invite_slack_user

        assert slack_user is not None
        try:
            sent = asyncio.run(invite_slack_user(app, token, slack_user, tz))
        except SlackInviteFailed as exc:
            raise fail(f"{exc} (invitation {interview.id} was not delivered)") from None
        finally:
            app.db.dispose()
        out.print(f"invitation {interview.id} for {name}: sent to Slack user {slack_user} "
                  f"(DM {sent.dm.id}, time zone {sent.tz})", highlight=False, soft_wrap=True)
    else:
        out.print(f"invitation {interview.id} for {name}: token {token}", highlight=False)


@cli.command()
def results(
    script_id: Annotated[str, typer.Argument(help="Script id.")],
    fmt: Annotated[str, typer.Option("--format", help="csv or json.")] = "csv",
    include_adjustments: Annotated[bool, typer.Option(
        "--include-adjustments", help="Add the adjustments approved for each candidate.")] =
    False,
) -> None:
    """Scorecards: one row per candidate, to stdout."""
    if fmt not in ("csv", "json"):
        raise fail(f"--format must be csv or json, not {fmt!r}")
    app = _app()
    script = app.catalog.get(script_id)
    if script is None:
        known = ", ".join(s.id for s in app.catalog.all())
        raise fail(f"no script {script_id!r} (known: {known})")
    with app.services.uow() as uow:
        rows = [scorecard(script, i, uow.reviews.ratings(i.id), uow.reviews.decisions(i.id))
                .flat() | result_columns(uow, i.id, include_adjustments)
                for i in uow.interviews.for_script(script_id)]
    if fmt == "json":
        sys.stdout.write(json.dumps(rows, indent=2, default=str) + "\n")
        return
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    writer = csv.DictWriter(sys.stdout, fieldnames=columns or ["number"])
    writer.writeheader()
    writer.writerows(rows)


@cli.command()
def extend(
    interview_id: Annotated[str, typer.Argument(help="Interview id, as printed by invite.")],
    by: Annotated[str, typer.Option("--by", help="How much longer, e.g. 3d or 48h.")],
) -> None:
    """Extend an interview's deadline; the candidate is told the new one."""
    import asyncio

    delta = _duration(by)
    app = _app()
    interview = asyncio.run(_extend(app, interview_id, delta))
    if interview is None:
        raise fail(f"no open or expired interview with id {interview_id!r}")
    out.print(f"new deadline {interview.deadline:%Y-%m-%d %H:%M} UTC", highlight=False)


async def _extend(app: App, interview_id: str, delta: timedelta) -> Interview | None:
    from bots.app import chat_messengers

    async with chat_messengers(app):
        return await app.engine.extend(interview_id, delta, "cli")


def _duration(text: str) -> timedelta:
    """A duration option (90d, 48h), or a one-line error."""
    from core.durations import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise fail(str(exc)) from None


@cli.command()
def purge(
    older_than: Annotated[str, typer.Option("--older-than", help="e.g. 90d")],
    orphans_older_than: Annotated[str, typer.Option(
        "--orphans-older-than",
        help="Also remove media no answer refers to (left by a crash) once this old.")] = "1h",
) -> None:
    """Erase interviews (answers, audio, names) with no activity for longer than given, and
    orphaned media files."""
    from bots.app import sweep_media

    delta, grace = _duration(older_than), _duration(orphans_older_than)
    app = _app()
    try:
        count = app.engine.purge(delta)
        out.print(f"erased {count} interview{'s' if count != 1 else ''} older than {older_than}")
        swept = sweep_media(app, grace.total_seconds())
    finally:
        app.db.dispose()
    bucket = (f" and {swept.objects} bucket object{'s' if swept.objects != 1 else ''}"
              if app.settings.media_s3_url else "")
    out.print(f"removed {swept.files} orphaned media file{'s' if swept.files != 1 else ''}"
              f"{bucket} older than {orphans_older_than}", highlight=False)


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations."""
    from storage.db import make_engine
    from storage.migrate import upgrade

    s = settings()
    upgrade(make_engine(s.database_url))
    out.print("database is up to date")


def main() -> None:
    """Entry point: one clear line instead of a traceback for expected failures."""
    try:
        cli()
    except ScriptFileInvalid as exc:
        sys.stderr.write(f"{exc}\n")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if "--debug" in sys.argv or logging.getLogger().isEnabledFor(logging.DEBUG):
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        sys.stderr.write(f"error: {type(exc).__name__}: {first}\n")
        sys.exit(1)


__all__ = ["ScriptCatalog", "cli", "main"]


@cli.command()
def report(
    script_id: Annotated[str, typer.Argument(help="Script id.")],
    fmt: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
    chart: Annotated[Path | None, typer.Option(
        "--chart", help="Also draw the funnel and the drop-off to this PNG file.")] = None,
    fairness: Annotated[bool, typer.Option(
        "--fairness", help="Adverse impact by self-identified group instead of the funnel.")] =
    False,
    min_group: Annotated[int, typer.Option(
        "--min-group", help="Groups with fewer completed interviews are not judged.")] = 5,
) -> None:
    """Funnel metrics: stages, drop-off per question, timings, reviews, agreement."""
    from core.report import read_report

    if fmt not in ("table", "json"):
        raise fail(f"--format must be table or json, not {fmt!r}")
    if fairness:
        from bots.report_fairness import fairness_command

        fairness_command(_app(), script_id, fmt, chart, min_group)
        return
    app = _app()
    script = app.catalog.get(script_id)
    if script is None:
        known = ", ".join(s.id for s in app.catalog.all())
        raise fail(f"no script {script_id!r} (known: {known})")
    try:
        with app.services.uow() as uow:
            funnel = read_report(script, uow)
    finally:
        app.db.dispose()
    if chart is not None:
        from bots.report_chart import ChartUnavailable, draw_chart

        try:
            draw_chart(funnel, chart)
        except (ChartUnavailable, OSError) as exc:
            raise fail(str(exc)) from None
        sys.stderr.write(f"chart written to {chart}\n")
    if fmt == "json":
        sys.stdout.write(json.dumps(funnel.to_dict(), indent=2) + "\n")
        return
    from bots.report_view import print_report

    print_report(out, funnel)
