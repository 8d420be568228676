"""Read side for the command line: interviews as rows."""

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
