"""Retention: which interviews `purge` erases (shown first as a dry run, then erased)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from core.model import Interview
from core.ports import UnitOfWork
from core.states import OPEN_STATES, State


def last_activity(interview: Interview) -> datetime:
    """The latest of invitation, last activity and end."""
    return max(d for d in (interview.invited_at, interview.last_activity_at, interview.ended_at)
               if d is not None)


def in_progress(interview: Interview, now: datetime) -> bool:
    """Not ended yet: invited, consented or answering, and its deadline is still ahead (one
    whose deadline passed is as good as expired, even if no timer has marked it yet)."""
    return interview.state in OPEN_STATES and interview.deadline > now


def due_for_purge(uow: UnitOfWork, now: datetime, older_than: timedelta, *,
                  include_in_progress: bool = False,
                  only: Collection[str] | None = None) -> list[Interview]:
    """Interviews with no activity for `older_than`, oldest first. Interviews in progress
    are left alone unless `include_in_progress`; `only` limits the selection to those ids
    (what a person was shown and confirmed), each still checked against the rules."""
    cutoff = now - older_than
    found = [i for i in uow.interviews.live([s for s in State if s is not State.ERASED])
             if last_activity(i) < cutoff and (only is None or i.id in only)
             and (include_in_progress or not in_progress(i, now))]
    return sorted(found, key=lambda i: (last_activity(i), i.script_id, i.number))
