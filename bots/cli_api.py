"""CLI commands of the hiring team's integrations: `api-key create|list|revoke` and
`webhooks test` (registered on the main app by bots/cli.py)."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

api_key_cli = typer.Typer(help="Keys of the HTTP API (/api/v1).", no_args_is_help=True)
webhooks_cli = typer.Typer(help="Outgoing webhooks.", no_args_is_help=True)
out = Console()


def _fail(message: str) -> typer.Exit:
    sys.stderr.write(f"error: {message}\n")
    return typer.Exit(1)


def _db():  # type: ignore[no-untyped-def]
    from bots.settings import Settings
    from storage.db import make_engine
    from storage.migrate import upgrade

    db = make_engine(Settings().database_url)
    upgrade(db)
    return db


@api_key_cli.command("create")
def create(name: Annotated[str, typer.Argument(help="A name for the key, e.g. greenhouse.")]
           ) -> None:
    """Create a key and print it once (only its hash is stored)."""
    from bots.api.keys import KeyError_, create_key

    db = _db()
    try:
        key = create_key(db, name)
    except KeyError_ as exc:
        raise _fail(str(exc)) from None
    finally:
        db.dispose()
    sys.stderr.write(f"API key {name!r} created. Store it now: it is not shown again.\n")
    sys.stdout.write(key + "\n")


@api_key_cli.command("revoke")
def revoke(name: Annotated[str, typer.Argument(help="The key's name.")]) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    from bots.api.keys import KeyError_, revoke_key

    db = _db()
    try:
        revoke_key(db, name)
    except KeyError_ as exc:
        raise _fail(str(exc)) from None
    finally:
        db.dispose()
    out.print(f"API key {name!r} revoked", highlight=False)


@api_key_cli.command("list")
def list_() -> None:
    """Every key (name, first characters, dates); never the secrets."""
    from bots.api.keys import list_keys

    db = _db()
    try:
        keys = list_keys(db)
    finally:
        db.dispose()
    table = Table("name", "starts with", "created", "last used", "status")
    for k in keys:
        table.add_row(k.name, k.prefix + "…", f"{k.created_at:%Y-%m-%d %H:%M}",
                      f"{k.last_used_at:%Y-%m-%d %H:%M}" if k.last_used_at else "never",
                      f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "active")
    out.print(table)


@webhooks_cli.command("test")
def test(url: Annotated[str | None, typer.Option(
        help="Receiver (default INTERVIEWBOT_WEBHOOK_URL).")] = None) -> None:
    """Send one signed `ping` event and print the receiver's answer."""
    from bots.settings import Settings
    from bots.webhooks import ping

    settings = Settings()
    target = url or settings.webhook_url
    if not target:
        raise _fail("no receiver: set INTERVIEWBOT_WEBHOOK_URL or pass --url")
    secret = settings.webhook_secret
    if not secret or not secret.startswith("whsec_"):
        raise _fail("INTERVIEWBOT_WEBHOOK_SECRET must be set to a whsec_… secret")
    msg_id, attempt = asyncio.run(ping(target, secret))
    if not attempt.ok:
        raise _fail(f"ping {msg_id} to {target} failed: {attempt.detail}")
    out.print(f"ping {msg_id} delivered to {target} ({attempt.detail})", highlight=False)


def register(cli: typer.Typer) -> None:
    cli.add_typer(api_key_cli, name="api-key")
    cli.add_typer(webhooks_cli, name="webhooks")
