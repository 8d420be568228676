"""Buttons of the fairness features: the self-identification survey and adjustment requests."""

from __future__ import annotations

from core import accommodations, self_id
from core import payloads as pl
from core.commands import ButtonPressed
from core.effects import Effects
from core.payloads import Payload
from core.ports import UnitOfWork
from core.services import Services


def button(services: Services, uow: UnitOfWork, cmd: ButtonPressed, payload: Payload,
           fx: Effects) -> None:
    """Route a press of one of `pl.FAIRNESS_ACTIONS`."""
    if payload.action == pl.SELF_ID:
        self_id.on_button(services, uow, cmd.user, payload, cmd.message, fx)
    else:
        accommodations.on_button(services, uow, cmd, payload, fx)
