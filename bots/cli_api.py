"""CLI commands of the hiring team's integrations: `api-key create|list|revoke` and
`webhooks test` (registered on the main app by bots/cli.py)."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from bots.cli import cli, fail, out, require_database, settings, sub_app

if TYPE_CHECKING:
    from sqlalchemy import Engine

api_key_cli = sub_app("Keys of the HTTP API (/api/v1).")
webhooks_cli = sub_app("Outgoing webhooks.")
cli.add_typer(api_key_cli, name="api-key")
cli.add_typer(webhooks_cli, name="webhooks")


def _db(*, create: bool = False) -> Engine:
    """The database; created (migrated) only when `create`: reading commands never make
    one, so a wrong data directory is an error, not an empty list."""
    from storage.db import make_engine
    from storage.migrate import upgrade

    s = settings()
    if not create:
        require_database(s)
    db = make_engine(s.database_url)
    upgrade(db)
    return db


@api_key_cli.command("create")
def create(name: Annotated[str, typer.Argument(help="A name for the key, e.g. greenhouse.")]
           ) -> None:
    """Create a key and print it once (only its hash is stored)."""
    from bots.api.keys import KeyError_, create_key

    db = _db(create=True)
    try:
        key = create_key(db, name)
    except KeyError_ as exc:
        raise fail(str(exc)) from None
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
        raise fail(str(exc)) from None
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
    from bots.webhooks import ping

    s = settings()
    target = url or s.webhook_url
    if not target:
        raise fail("no receiver: set INTERVIEWBOT_WEBHOOK_URL or pass --url")
    secret = s.webhook_secret
    if not secret or not secret.startswith("whsec_"):
        raise fail("INTERVIEWBOT_WEBHOOK_SECRET must be set to a whsec_… secret")
    msg_id, attempt = asyncio.run(ping(target, secret))
    if not attempt.ok:
        raise fail(f"ping {msg_id} to {target} failed: {attempt.detail}")
    out.print(f"ping {msg_id} delivered to {target} ({attempt.detail})", highlight=False)

