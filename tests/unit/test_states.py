"""The explicit transition table."""

from __future__ import annotations

import pytest

from core.errors import IllegalTransition
from core.states import TRANSITIONS, State, check_transition


def test_every_state_has_a_row() -> None:
    assert set(TRANSITIONS) == set(State)


@pytest.mark.parametrize(("source", "target"), [
    (State.INVITED, State.CONSENTED), (State.CONSENTED, State.IN_PROGRESS),
    (State.IN_PROGRESS, State.COMPLETED), (State.IN_PROGRESS, State.EXPIRED),
    (State.EXPIRED, State.IN_PROGRESS), (State.COMPLETED, State.ERASED),
])
def test_legal(source: State, target: State) -> None:
    check_transition(source, target)


@pytest.mark.parametrize(("source", "target"), [
    (State.INVITED, State.COMPLETED), (State.COMPLETED, State.IN_PROGRESS),
    (State.ERASED, State.INVITED), (State.WITHDRAWN, State.IN_PROGRESS),
    (State.CONSENTED, State.INVITED),
])
def test_illegal(source: State, target: State) -> None:
    with pytest.raises(IllegalTransition, match=f"from {source.value} to {target.value}"):
        check_transition(source, target)


def test_erased_is_final() -> None:
    assert TRANSITIONS[State.ERASED] == frozenset()
