"""The interview state machine: states and the explicit table of legal transitions."""

from __future__ import annotations

import enum

from core.errors import IllegalTransition


class State(enum.Enum):
    """Where an interview stands."""

    INVITED = "invited"  # invitation created; may be opened, consent not yet given
    CONSENTED = "consented"  # consent given, no answer yet
    IN_PROGRESS = "in_progress"  # at least one answer recorded
    COMPLETED = "completed"  # every question answered and kept; with the reviewers
    EXPIRED = "expired"  # deadline passed before completion
    WITHDRAWN = "withdrawn"  # the candidate stopped
    SCREENED_OUT = "screened_out"  # a knock-out answer ended the interview; not reviewed
    ERASED = "erased"  # personal data and media removed; an anonymous row remains


TRANSITIONS: dict[State, frozenset[State]] = {
    State.INVITED: frozenset({State.CONSENTED, State.EXPIRED, State.WITHDRAWN, State.ERASED}),
    State.CONSENTED: frozenset({State.IN_PROGRESS, State.EXPIRED, State.WITHDRAWN, State.ERASED,
                                State.SCREENED_OUT}),
    State.IN_PROGRESS: frozenset({State.COMPLETED, State.EXPIRED, State.WITHDRAWN, State.ERASED,
                                  State.SCREENED_OUT}),
    State.COMPLETED: frozenset({State.ERASED}),
    # An extension re-opens an expired interview where it stood.
    State.EXPIRED: frozenset({State.INVITED, State.CONSENTED, State.IN_PROGRESS, State.ERASED}),
    State.WITHDRAWN: frozenset({State.ERASED}),
    State.SCREENED_OUT: frozenset({State.ERASED}),
    State.ERASED: frozenset(),
}

OPEN_STATES = frozenset({State.INVITED, State.CONSENTED, State.IN_PROGRESS})
"""States in which the candidate can still answer."""


def check_transition(current: State, target: State) -> None:
    """Raise `IllegalTransition` unless `current` may move to `target`."""
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(f"an interview cannot go from {current.value} to {target.value}")
