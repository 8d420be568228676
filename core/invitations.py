"""What a hiring manager does to an invitation from chat: withdraw it (extending is
core/deadlines.py)."""

from __future__ import annotations

from core import texts
from core.effects import Effects
from core.i18n import N_, t
from core.model import AuditEntry, Interview
from core.ports import UnitOfWork
from core.services import Services
from core.states import State

WITHDRAWN_BY_TEAM = N_("The hiring team has withdrawn this interview invitation, so there is "
                       "nothing more to answer. Thank you for your time.")


def withdraw_by_team(services: Services, uow: UnitOfWork, interview: Interview, actor: str,
                     fx: Effects) -> bool:
    """Withdraw an open interview (the candidate is told, if they opened it); False if it is
    not open any more."""
    if not interview.is_open:
        return False
    now = services.clock.now()
    interview.move_to(State.WITHDRAWN, now)
    uow.reviews.audit(AuditEntry(interview.id, actor, "withdrawn by team", "", now))
    fx.changed.append(interview.id)
    if interview.chat is not None:
        script = services.script(interview)
        fx.send(interview.chat, t(texts.lang_for(script, interview.language), WITHDRAWN_BY_TEAM))
    return True
