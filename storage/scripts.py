"""Script revisions interviews are pinned to, and the read side for retired scripts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, bindparam, case, func
from sqlalchemy import select as core_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel

import storage.tables  # noqa: F401  (defines the tables below)
from core.ports import ScriptRevision
from core.states import OPEN_STATES, State

REVISION = SQLModel.metadata.tables["script_revision"]
INTERVIEW = SQLModel.metadata.tables["interview"]
BY_HASH = core_select(REVISION).where(REVISION.c.hash == bindparam("hash"))


def _revision(row: Any) -> ScriptRevision:
    return ScriptRevision(row.hash, row.script_id, row.source)


def _insert_new(session: Session, revision: ScriptRevision) -> None:
    """Insert a revision unless its hash is kept already (two invitations at once agree)."""
    values = {"hash": revision.hash, "script_id": revision.script_id,
              "source": revision.source, "created_at": datetime.now(UTC)}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(postgresql.insert(REVISION).values(**values)
                        .on_conflict_do_nothing(index_elements=["hash"]))
    elif dialect == "sqlite":
        session.execute(sqlite.insert(REVISION).values(**values)
                        .on_conflict_do_nothing(index_elements=["hash"]))
    elif session.execute(BY_HASH, {"hash": revision.hash}).first() is None:
        session.execute(REVISION.insert().values(**values))


class SqlScriptRevisions:
    """`ScriptRevisionRepository` on SQL. Revisions are written at once (before the interview
    that points at one) and only ever added."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.added: set[str] = set()

    def add(self, revision: ScriptRevision) -> None:
        if revision.hash not in self.added:
            _insert_new(self.session, revision)
            self.added.add(revision.hash)

    def get(self, revision_hash: str) -> ScriptRevision | None:
        row = self.session.execute(BY_HASH, {"hash": revision_hash}).first()
        return _revision(row) if row else None

    def latest(self, script_id: str) -> ScriptRevision | None:
        row = self.session.execute(
            core_select(REVISION).where(REVISION.c.script_id == script_id)
            .order_by(REVISION.c.created_at.desc()).limit(1)).first()
        return _revision(row) if row else None


def pin_unpinned(engine: Engine, current: Callable[[str], ScriptRevision | None]) -> int:
    """Pin interviews created before revisions existed to their script's current revision
    (`current(script_id)`); erased ones and those of scripts no longer served stay unpinned.
    Returns how many interviews were pinned. Safe to run from several processes at once."""
    pinned = 0
    with Session(engine) as session:
        ids = session.execute(
            core_select(INTERVIEW.c.script_id).distinct().where(
                INTERVIEW.c.script_revision.is_(None),
                INTERVIEW.c.state != State.ERASED.value)).scalars().all()
        for script_id in ids:
            revision = current(script_id)
            if revision is None:
                continue
            _insert_new(session, revision)
            done = session.execute(INTERVIEW.update().where(
                INTERVIEW.c.script_id == script_id, INTERVIEW.c.script_revision.is_(None),
                INTERVIEW.c.state != State.ERASED.value,
            ).values(script_revision=revision.hash, version=INTERVIEW.c.version + 1))
            pinned += done.rowcount  # type: ignore[attr-defined]
        session.commit()
    return pinned


@dataclass(frozen=True)
class ScriptInterviews:
    """How many interviews of one script are still open or with the reviewers."""

    script_id: str
    open: int
    completed: int


def live_by_script(engine: Engine) -> dict[str, ScriptInterviews]:
    """Open and completed interviews per script id (for listing retired scripts)."""
    states = [s.value for s in OPEN_STATES] + [State.COMPLETED.value]
    completed = func.sum(case((INTERVIEW.c.state == State.COMPLETED.value, 1), else_=0))
    with Session(engine) as session:
        rows = session.execute(
            core_select(INTERVIEW.c.script_id, func.count(), completed)
            .where(INTERVIEW.c.state.in_(states)).group_by(INTERVIEW.c.script_id)).all()
    return {r[0]: ScriptInterviews(r[0], int(r[1]) - int(r[2] or 0), int(r[2] or 0))
            for r in rows}
