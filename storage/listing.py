"""Read side for the command line: interviews as rows, and undoing an unsent invitation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine
from sqlalchemy import select as core_select
from sqlmodel import Session, SQLModel

import storage.tables  # noqa: F401  (defines the tables below)
from core.states import State

INTERVIEW = SQLModel.metadata.tables["interview"]


def interview_rows(db: Engine, script_id: str | None = None,
                   states: Sequence[State] | None = None) -> list[Any]:
    """Interview rows (no answers), oldest invitation first."""
    query = core_select(INTERVIEW)
    if script_id is not None:
        query = query.where(INTERVIEW.c.script_id == script_id)
    if states is not None:
        query = query.where(INTERVIEW.c.state.in_([s.value for s in states]))
    with Session(db) as session:
        return list(session.execute(
            query.order_by(INTERVIEW.c.invited_at, INTERVIEW.c.script_id, INTERVIEW.c.number)
        ).all())


def discard_invitation(db: Engine, interview_id: str) -> bool:
    """Remove an invitation nobody could have used (its delivery failed): only while it is
    still INVITED with no candidate bound to it. True if removed."""
    with Session(db) as session:
        done = session.execute(INTERVIEW.delete().where(
            INTERVIEW.c.id == interview_id, INTERVIEW.c.state == State.INVITED.value,
            INTERVIEW.c.candidate_id.is_(None)))
        session.commit()
        return bool(done.rowcount)  # type: ignore[attr-defined]
