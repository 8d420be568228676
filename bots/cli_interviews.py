"""`interviewbot invite | list | extend | purge`: interviews, from the command line."""

from __future__ import annotations

import asyncio
import csv
import json
import sys
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from bots.cli import cli, duration, fail, open_app, out
from core.commands import CreateInvitation
from core.errors import DomainError
from core.states import OPEN_STATES, State

if TYPE_CHECKING:
    from bots.app import App
    from bots.slack.invite import SlackInvite
    from core.model import Interview

MAX_EXTENSION = timedelta(days=90)
STATES = [s.value for s in State]


def _zone_or_fail(tz: str | None) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if tz is None:
        return
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise fail(f"unknown time zone {tz!r} (use an IANA name such as Europe/Berlin)"
                   ) from None


@cli.command()
def invite(
    script_id: Annotated[str, typer.Argument(metavar="SCRIPT_ID",
                                             help="Script id, e.g. backend-engineer.")],
    name: Annotated[str, typer.Option(metavar="NAME", help="The candidate's name.")],
    telegram: Annotated[bool, typer.Option(
        "--telegram", help="Print a Telegram deep link (needs TELEGRAM_BOT_TOKEN).")] = False,
    slack_user: Annotated[str | None, typer.Option(
        metavar="USER_ID", help="DM this Slack user (needs SLACK_BOT_TOKEN).")] = None,
    console: Annotated[bool, typer.Option(
        "--console", help="An invitation token for the console preview.")] = False,
    tz: Annotated[str | None, typer.Option(
        metavar="ZONE", help="IANA time zone, e.g. Europe/Berlin.")] = None,
    lang: Annotated[str | None, typer.Option(
        metavar="LANG", help="The candidate's language, one the script offers, e.g. de.")] = None,
) -> None:
    """Create a single-use invitation, on exactly one of --telegram or --slack-user.

    Everything is checked first (name, channel, its token, time zone, script); on any
    failure nothing is kept. Prints the interview id and the candidate number.
    """
    if not name.strip():
        raise fail("--name must not be empty")
    chosen = [flag for flag, on in (("--telegram", telegram), ("--slack-user", slack_user),
                                    ("--console", console)) if on]
    if len(chosen) != 1:
        raise fail("choose one channel: --telegram (prints a deep link) or --slack-user "
                   f"USER_ID (sends a DM){'; not ' + ' and '.join(chosen) if chosen else ''}")
    _zone_or_fail(tz)
    app = open_app(create=True)
    platform = "slack" if slack_user else "telegram" if telegram else "console"
    username = None
    if platform == "telegram":
        from bots.links import bot_username

        try:
            username = bot_username(app.settings)
        except RuntimeError as exc:
            raise fail(f"{exc}; no invitation was created") from None
    if platform == "slack" and not app.settings.slack_bot_token:
        raise fail("SLACK_BOT_TOKEN is not set; no invitation was created")
    if slack_user is not None:
        _invite_on_slack(app, script_id, name, slack_user, tz)
        return
    try:
        interview, token = app.engine.invite(CreateInvitation(script_id, name, platform, tz,
                                                              language=lang))
    except DomainError as exc:
        raise fail(str(exc)) from None
    who = f"invitation {interview.id} (candidate #{interview.number}) for {name}"
    if username is not None:
        from bots.links import telegram_link

        sys.stderr.write(f"{who}\n")
        out.print(telegram_link(username, token), highlight=False, soft_wrap=True)
    else:
        out.print(f"invitation {interview.id} (candidate #{interview.number}) for {name}: "
                  f"console token {token}", highlight=False, soft_wrap=True)


def _invite_on_slack(app: App, script_id: str, name: str, user: str, tz: str | None) -> None:
    """Through bots/slack/invite.py, as the modal and the API do: Slack is asked first and
    the invitation exists only once the person's DM is open."""
    from bots.app import slack_outbound
    from bots.slack.invite import SlackInviteFailed, create_and_invite, slack_messenger

    async def send() -> tuple[Interview, SlackInvite]:
        async with slack_outbound(app):
            return await create_and_invite(app.engine, slack_messenger(app), script_id, user,
                                           name=name, tz=tz)

    try:
        interview, sent = asyncio.run(send())
    except SlackInviteFailed as exc:
        raise fail(f"{exc}; no invitation was kept") from None
    except DomainError as exc:
        raise fail(str(exc)) from None
    out.print(f"invitation {interview.id} (candidate #{interview.number}) for {name}: sent to "
              f"Slack user {user} (DM {sent.dm.id}, time zone {sent.tz})",
              highlight=False, soft_wrap=True)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else ""


def _states(text: str | None) -> list[State] | None:
    if text is None:
        return None
    chosen: list[State] = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        if part == "open":
            chosen.extend(s for s in State if s in OPEN_STATES)
        elif part in STATES:
            chosen.append(State(part))
        else:
            raise fail(f"--state: unknown state {part!r} (one of: open, {', '.join(STATES)})")
    return chosen


@cli.command("list")
def list_interviews(
    script_id: Annotated[str | None, typer.Argument(
        metavar="SCRIPT_ID", help="Only this script's interviews.")] = None,
    state: Annotated[str | None, typer.Option(
        metavar="STATES", help="Comma-separated states; 'open' = invited, consented, "
                               "in_progress.")] = None,
    fmt: Annotated[str, typer.Option("--format", metavar="FORMAT",
                                     help="table, csv or json.")] = "table",
) -> None:
    """List interviews: id, script, number, state and times (UTC), oldest first."""
    from storage.listing import interview_rows

    if fmt not in ("table", "csv", "json"):
        raise fail(f"--format must be table, csv or json, not {fmt!r}")
    states = _states(state)
    app = open_app()
    try:
        rows = interview_rows(app.db, script_id, states)
    finally:
        app.db.dispose()
    records = [{"interview_id": r.id, "script": r.script_id, "number": r.number,
                "state": r.state, "invited_at": _when(r.invited_at),
                "started_at": _when(r.started_at), "ended_at": _when(r.ended_at),
                "deadline": _when(r.deadline), "last_activity": _when(r.last_activity_at)}
               for r in rows]
    columns = ["interview_id", "script", "number", "state", "invited_at", "started_at",
               "ended_at", "deadline", "last_activity"]
    if fmt == "json":
        sys.stdout.write(json.dumps(records, indent=2) + "\n")
    elif fmt == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=columns)
        writer.writeheader()
        writer.writerows(records)
    else:
        table = Table(box=None, pad_edge=False)
        for column in columns:
            table.add_column(column, no_wrap=True)
        for record in records:
            table.add_row(*(str(record[c]) for c in columns))
        from rich.console import Console

        Console(width=200).print(table, highlight=False)


@cli.command()
def extend(
    interview_id: Annotated[str, typer.Argument(
        metavar="INTERVIEW_ID", help="As printed by invite and list.")],
    by: Annotated[str, typer.Option("--by", metavar="DURATION",
                                    help="How much longer, e.g. 3d or 48h (at most 90d).")],
) -> None:
    """Extend an interview's deadline; the candidate is told the new one."""
    import asyncio

    delta = duration(by, "--by")
    if delta <= timedelta(0) or delta > MAX_EXTENSION:
        raise fail(f"--by {by}: must be more than 0 and at most 90d")
    app = open_app()
    interview = asyncio.run(_extend(app, interview_id, delta))
    if interview is None:
        raise fail(f"no open or expired interview with id {interview_id!r}")
    out.print(f"new deadline {interview.deadline:%Y-%m-%d %H:%M} UTC", highlight=False)


async def _extend(app: App, interview_id: str, delta: timedelta) -> Interview | None:
    from bots.app import chat_messengers

    async with chat_messengers(app):
        return await app.engine.extend(interview_id, delta, "cli")


def _confirmed(count: int) -> bool:
    """Ask on stdin; end of input (no terminal, nothing piped) is a no."""
    which = "this interview" if count == 1 else f"these {count} interviews"
    sys.stderr.write(f"Erase {which}? This cannot be undone. [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


@cli.command()
def purge(
    older_than: Annotated[str, typer.Option(
        "--older-than", metavar="DURATION", help="No activity for this long, e.g. 90d.")],
    include_in_progress: Annotated[bool, typer.Option(
        "--include-in-progress",
        help="Also erase interviews not ended yet (invited, consented or answering, deadline "
             "ahead).")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Erase without asking.")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Only print what would be erased.")] = False,
    orphans_older_than: Annotated[str, typer.Option(
        "--orphans-older-than", metavar="DURATION",
        help="Also remove media no answer refers to (left by a crash) once this old.")] = "1h",
) -> None:
    """Erase interviews (answers, audio, names) with no activity for longer than given, and
    orphaned media files. Prints what it would erase and asks first (or --yes); interviews
    not ended yet are kept unless --include-in-progress."""
    from core.retention import due_for_purge

    delta = duration(older_than, "--older-than")
    grace = duration(orphans_older_than, "--orphans-older-than")
    if delta < timedelta(days=1) and not (yes or dry_run):
        raise fail(f"--older-than {older_than} would erase interviews active today; "
                   "pass --yes as well if that is what you mean")
    app = open_app()
    try:
        with app.services.uow() as uow:
            chosen = due_for_purge(uow, app.services.clock.now(), delta,
                                   include_in_progress=include_in_progress)
        _show(chosen, older_than, dry_run)
        if dry_run:
            return
        if chosen and not yes and not _confirmed(len(chosen)):
            raise fail("not confirmed: nothing was erased (pass --yes to erase without asking)")
        count = asyncio.run(_erase(app, delta, include_in_progress,
                                   {i.id for i in chosen})) if chosen else 0
        out.print(f"erased {count} interview{'s' if count != 1 else ''} older than "
                  f"{older_than}", highlight=False)
        _sweep(app, grace, orphans_older_than)
    finally:
        app.db.dispose()


async def _erase(app: App, delta: timedelta, include_in_progress: bool, only: set[str]) -> int:
    """Erase with the chat channels open, so the erasure also deletes what was posted."""
    from bots.app import chat_messengers

    async with chat_messengers(app):
        return await app.engine.purge(delta, include_in_progress=include_in_progress, only=only)


def _show(chosen: list[Interview], older_than: str, dry_run: bool) -> None:
    from core.retention import last_activity

    if not chosen:
        if dry_run:
            out.print(f"would erase 0 interviews older than {older_than}", highlight=False)
        return
    out.print(f"{'would erase' if dry_run else 'to erase'}: {len(chosen)} "
              f"interview{'s' if len(chosen) != 1 else ''} with no activity for {older_than}",
              highlight=False)
    for i in chosen:
        out.print(f"  {i.id}  {i.script_id} #{i.number}  {i.state.value}  "
                  f"last activity {_when(last_activity(i))}", highlight=False, soft_wrap=True)


def _sweep(app: App, grace: timedelta, orphans_older_than: str) -> None:
    from bots.app import sweep_media

    swept = sweep_media(app, grace.total_seconds())
    bucket = (f" and {swept.objects} bucket object{'s' if swept.objects != 1 else ''}"
              if app.settings.media_s3_url else "")
    out.print(f"removed {swept.files} orphaned media file{'s' if swept.files != 1 else ''}"
              f"{bucket} older than {orphans_older_than}", highlight=False)
