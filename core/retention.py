"""Retention: which interviews `purge` erases (shown first as a dry run, then erased)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from core.model import Interview
from core.ports import UnitOfWork
from core.states import OPEN_STATES, State


def last_activity(interview: Interview) -> datetime:
    """The latest of invitation, last activity and end."""
    return max(d for d in (interview.invited_at, interview.last_activity_at, interview.ended_at)
               if d is not None)


def in_progress(interview: Interview) -> bool:
    """Not ended yet: invited, consented or answering (its deadline has not passed)."""
    return interview.state in OPEN_STATES


def due_for_purge(uow: UnitOfWork, cutoff: datetime, *, include_in_progress: bool = False,
                  only: Collection[str] | None = None) -> list[Interview]:
    """Interviews with no activity since `cutoff`, oldest first. Interviews in progress are
    left alone unless `include_in_progress`; `only` limits the selection to those ids (what
    a person was shown and confirmed), each still checked against the rules."""
    states = [s for s in State if s is not State.ERASED
              and (include_in_progress or s not in OPEN_STATES)]
    found = [i for i in uow.interviews.live(states)
             if last_activity(i) < cutoff and (only is None or i.id in only)]
    return sorted(found, key=lambda i: (last_activity(i), i.script_id, i.number))
