"""The `interviewbot` command line: the Typer app, its shared helpers, `run` and `db`.

Commands live in modules by subject (bots/cli_check.py, cli_interviews.py, cli_results.py),
each registering on `cli`. A new command group is one line at the end of this file:
`cli.add_typer(my_group, name="my-group")`, with `my_group = sub_app("Help.")` made in its
own module (so that its help reads like the rest).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Protocol, TypeVar

import typer
from rich.console import Console
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from bots.scripts import ScriptCatalog, ScriptFileInvalid
from bots.settings import Settings

if TYPE_CHECKING:
    from bots.app import App

out = Console()
R = TypeVar("R", bound="Reportable")


def _plain(param: Any) -> None:
    """Show a value as its metavar (SCRIPT_ID, DURATION...), never as a Python type."""
    if isinstance(param, TyperOption):
        param.display_type_rich = partial(_option_metavar, param)  # type: ignore[method-assign]
    elif isinstance(param, TyperArgument):
        param.display_type_rich = _no_type  # type: ignore[method-assign]
        param._usage_display_name = partial(_usage_name, param)  # type: ignore[method-assign]


def _option_metavar(param: TyperOption, ctx: Any = None) -> str | None:
    if param.is_flag or param.count:
        return None
    return param.metavar or "VALUE"


def _no_type(ctx: Any = None) -> None:
    return None


def _usage_name(param: TyperArgument) -> str:
    text = param.metavar or (param.name or "").upper()
    text += "..." if param.nargs != 1 and not text.endswith("...") else ""
    return text if param.required else f"[{text}]"


class _PlainParams:
    """Help that names values the way people write them (SCRIPT_ID, PATH...), without Python
    type names such as <list[Path]> or {script_id}: mixed into a click command or group."""

    params: list[Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            _plain(param)

    def get_help_option(self, ctx: Any) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        _plain(option)
        return option


class PlainCommand(_PlainParams, TyperCommand):
    """A command with plain help (see `_PlainParams`)."""


class PlainGroup(_PlainParams, TyperGroup):
    """A command group with plain help (`interviewbot --help`, `interviewbot db --help`)."""


class CliApp(typer.Typer):
    """A Typer app whose commands are `PlainCommand`s, with plain (re-wrapped) help."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cls", PlainGroup)
        kwargs.setdefault("rich_markup_mode", None)
        super().__init__(**kwargs)

    def command(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", PlainCommand)
        return super().command(*args, **kwargs)


def sub_app(help_text: str) -> CliApp:
    """A command group to add to `cli` (`cli.add_typer(group, name=...)`)."""
    return CliApp(help=help_text, no_args_is_help=True, pretty_exceptions_enable=False,
                  add_completion=False)


HELP = """Asynchronous job interviews in Telegram and Slack.

Every local file lives in one data directory, INTERVIEWBOT_DATA_DIR (default: ./data of the
folder interviewbot starts in, made absolute); the SQLite database defaults to
<data dir>/interviewbot.db. Commands that read the database never create one.

Exit codes: 0 done; 1 refused or failed (one line on stderr, nothing changed); 2 bad usage."""

cli = CliApp(help=HELP, no_args_is_help=True, pretty_exceptions_enable=False,
             add_completion=False)
db_cli = sub_app("Database maintenance.")
cli.add_typer(db_cli, name="db")


def package_version() -> str:
    try:
        return version("interviewbot")
    except PackageNotFoundError:
        return "unknown"


def _print_version(value: bool) -> None:
    if value:
        out.print(f"interviewbot {package_version()}", highlight=False)
        raise typer.Exit()


@cli.callback()
def _root(version_: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print the version and exit.")] = False) -> None:
    """Options for every command."""


def fail(message: str) -> typer.Exit:
    """Print one clear line on stderr (secrets redacted) and return the exit to raise."""
    from bots.logs import redact

    sys.stderr.write(f"error: {redact(message, _secrets())}\n")
    return typer.Exit(1)


class Reportable(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


def emit_report(report: R, fmt: str, chart: Path | None, draw: Callable[[R, Path], None],
                show: Callable[[R], None]) -> None:
    """`report`'s output: the chart drawn to `chart` if asked (a clear error if it cannot
    be), then JSON (`fmt` "json") or the table `show` prints."""
    if chart is not None:
        from bots.report_chart import ChartUnavailable

        try:
            draw(report, chart)
        except (ChartUnavailable, OSError) as exc:
            raise fail(str(exc)) from None
        sys.stderr.write(f"chart written to {chart.absolute()}\n")
    if fmt == "json":
        import json

        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
        return
    show(report)


def _secrets() -> tuple[str, ...]:
    """Every configured secret (settings, `.env`, environment) and those derived from them."""
    import contextlib
    import os

    from bots.logs import secrets_in

    values: dict[str, object] = dict(os.environ)
    with contextlib.suppress(Exception):  # invalid settings: the environment alone
        values.update({f"settings_{k}": v for k, v in settings().model_dump().items()})
    return secrets_in(values)


_settings: Settings | None = None


def settings() -> Settings:
    """The settings of this command, read once (environment and `.env`) and then kept:
    a command runs in a process of its own."""
    global _settings
    if _settings is None:
        _settings = Settings()
    return _settings


def require_database(s: Settings) -> None:
    """A missing SQLite database is an error naming where it was looked for (commands that
    read the database never create one)."""
    path = s.sqlite_path
    if path is not None and not path.exists():
        raise fail(f"no database at {path} (data directory {s.data_dir}); set "
                   "INTERVIEWBOT_DATA_DIR (or DATABASE_URL) to the bot's, or create one with "
                   "`interviewbot db upgrade`")


def open_app(*, create: bool = False) -> App:
    """The composed app for one command. Unless `create`, a missing SQLite database is an
    error naming where it was looked for, and nothing is created."""
    from bots.app import build

    s = settings()
    if not create:
        require_database(s)
    try:
        return build(s)
    except ScriptFileInvalid as exc:
        raise fail(f"invalid scripts:\n{exc}") from None


def script_or_fail(app: App, script_id: str, *, retired: bool = True) -> Any:
    """A script by id for reading (results, report, list): the served one, else (`retired`)
    the newest revision interviews were invited to."""
    from core.errors import ScriptError

    script = app.catalog.get(script_id)
    if script is not None or not retired:
        if script is None:
            raise fail(f"no script {script_id!r}")
        return script
    with app.services.uow() as uow:
        revision = uow.scripts.latest(script_id)
    if revision is None:
        known = ", ".join(s.id for s in app.catalog.all()) or "none"
        raise fail(f"no script {script_id!r} (served: {known})")
    try:
        return app.catalog.parse_revision(revision)
    except ScriptError as exc:
        raise fail(str(exc)) from None


def duration(text: str, option: str) -> Any:
    """A duration option (90d, 48h), or a one-line error."""
    from core.durations import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise fail(f"{option}: {exc}") from None


@cli.command()
def run() -> None:
    """Start every channel whose credentials are set (the console preview when none are)."""
    from bots.app import main_run
    from bots.logs import configure_logging

    s = settings()
    configure_logging(s.log_level, secrets=_secrets())
    if not s.has_chat_channels:
        logging.getLogger().setLevel(logging.WARNING)
    from bots.slack.lookup import ReviewChannelRefused

    try:
        main_run(s)
    except ReviewChannelRefused as exc:
        raise fail(str(exc)) from None


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Create the database, or bring it up to date (migrations)."""
    from storage.db import make_engine
    from storage.migrate import upgrade

    s = settings()
    engine = make_engine(s.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    where = s.sqlite_path or "the database"
    out.print(f"database is up to date ({where})", highlight=False, soft_wrap=True)


def main() -> None:
    """Entry point: one clear line instead of a traceback for expected failures; no secret
    (token, signing secret, derived webhook secret...) in either."""
    from bots.logs import install_excepthook, redact

    secrets = _secrets()
    install_excepthook(secrets)
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
        sys.stderr.write(redact(f"error: {type(exc).__name__}: {first}\n", secrets))
        sys.exit(1)


# Commands by subject; each module registers its commands on `cli` when imported.
from bots import cli_api, cli_check, cli_interviews, cli_results  # noqa: E402

__all__ = ["Path", "ScriptCatalog", "cli", "cli_api", "cli_check", "cli_interviews",
           "cli_results", "main", "sub_app"]
