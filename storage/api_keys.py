"""API keys: created once (the secret is shown then and never again), stored as SHA-256,
revocable, listed without secrets."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from storage.tables import ApiKeyRow

PREFIX = "ibk_"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
TABLE = ApiKeyRow.__table__  # type: ignore[attr-defined]


class KeyError_(ValueError):
    """A key cannot be created or revoked (bad or taken name, unknown name)."""


@dataclass(frozen=True)
class KeyInfo:
    """What `api-key list` shows."""

    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(db: Engine, name: str) -> str:
    """A new key named `name`; returns the secret (the only time it is available)."""
    if not NAME.match(name):
        raise KeyError_(f"{name!r} is not a key name: letters, digits, _ . - (at most 64)")
    key = PREFIX + secrets.token_urlsafe(32)
    try:
        with db.begin() as conn:
            conn.execute(TABLE.insert().values(name=name, key_hash=digest(key),
                                               prefix=key[:10], created_at=datetime.now(UTC)))
    except IntegrityError:
        raise KeyError_(f"a key named {name!r} exists already (revoke it or pick another name)"
                        ) from None
    return key


def revoke_key(db: Engine, name: str) -> None:
    with db.begin() as conn:
        done = conn.execute(update(TABLE).where(
            TABLE.c.name == name, TABLE.c.revoked_at.is_(None)
        ).values(revoked_at=datetime.now(UTC)))
    if done.rowcount != 1:
        raise KeyError_(f"no active key named {name!r}")


def list_keys(db: Engine) -> list[KeyInfo]:
    with db.connect() as conn:
        rows = conn.execute(select(TABLE).order_by(TABLE.c.created_at)).all()
    return [KeyInfo(r.name, r.prefix, r.created_at, r.revoked_at, r.last_used_at) for r in rows]


def verify_key(db: Engine, key: str) -> str | None:
    """The name of the active key `key`, or None (unknown or revoked)."""
    if not key.startswith(PREFIX):
        return None
    now = datetime.now(UTC)
    with db.begin() as conn:
        row = conn.execute(select(TABLE.c.name, TABLE.c.revoked_at).where(
            TABLE.c.key_hash == digest(key))).first()
        if row is None or row.revoked_at is not None:
            return None
        conn.execute(update(TABLE).where(col(ApiKeyRow.key_hash) == digest(key))
                     .values(last_used_at=now))
    return str(row.name)
