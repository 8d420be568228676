"""The command bus: one dispatch table from command type to handler, one from event type to
outbox steps, one retry helper for transactions that another one overtook."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from core import outbox, texts
from core import payloads as pl
from core.candidate import CandidateFlow
from core.commands import (
    ButtonPressed,
    Command,
    InviteAccepted,
    ReviewerText,
    TextReceived,
    UnsupportedReceived,
    UserCommand,
)
from core.effects import Effects
from core.events import (
    CandidateAsked,
    Event,
    FollowUpAnswered,
    InterviewCompleted,
    InterviewErased,
    ReviewChanged,
    TakeStored,
)
from core.observe import Observer
from core.outbox import Step, Work
from core.ports import ConcurrentUpdate, UnitOfWork
from core.review import ReviewFlow

log = logging.getLogger("interviewbot.engine")
T = TypeVar("T")
ATTEMPTS = 5  # runs of one command that another transaction keeps overtaking

Handler = Callable[[CandidateFlow, ReviewFlow, UnitOfWork, Command, Effects], bool]


def _accept(c: CandidateFlow, r: ReviewFlow, uow: UnitOfWork, cmd: Command, fx: Effects
            ) -> bool:
    assert isinstance(cmd, InviteAccepted)
    c.accept(uow, cmd, fx)
    return True


def _text(c: CandidateFlow, r: ReviewFlow, uow: UnitOfWork, cmd: Command, fx: Effects) -> bool:
    assert isinstance(cmd, TextReceived)
    return c.text(uow, cmd, fx)


def _unsupported(c: CandidateFlow, r: ReviewFlow, uow: UnitOfWork, cmd: Command,
                 fx: Effects) -> bool:
    assert isinstance(cmd, UnsupportedReceived)
    return c.unsupported(uow, cmd, fx)


def _command(c: CandidateFlow, r: ReviewFlow, uow: UnitOfWork, cmd: Command, fx: Effects
             ) -> bool:
    assert isinstance(cmd, UserCommand)
    return c.command(uow, cmd, fx)


def _reviewer_text(c: CandidateFlow, r: ReviewFlow, uow: UnitOfWork, cmd: Command,
                   fx: Effects) -> bool:
    assert isinstance(cmd, ReviewerText)
    parsed = pl.parse(cmd.target)
    fx.about = parsed.interview_id if parsed else None
    r.text(uow, cmd, fx)
    return True


def _button(c: CandidateFlow, r: ReviewFlow, uow: UnitOfWork, cmd: Command, fx: Effects
            ) -> bool:
    assert isinstance(cmd, ButtonPressed)
    payload = pl.parse(cmd.payload)
    if payload is None:
        fx.say(texts.STALE_BUTTON)
    elif payload.action in pl.REVIEWER_ACTIONS:
        fx.about = payload.interview_id
        r.button(uow, cmd.user, cmd.chat, payload, fx, cmd.message)
    else:
        c.button(uow, cmd.user, payload, cmd.message, fx)
    return True


# what handles each command (MediaReceived has its own path: it downloads between two
# transactions, see `Engine._media`)
HANDLERS: dict[type[Command], Handler] = {
    InviteAccepted: _accept,
    TextReceived: _text,
    UnsupportedReceived: _unsupported,
    UserCommand: _command,
    ReviewerText: _reviewer_text,
    ButtonPressed: _button,
}

# the outbox steps each domain event becomes
EVENT_STEPS: dict[type[Event], Callable[[Event], Step]] = {
    InterviewCompleted: lambda e: outbox.about(outbox.REVIEW, e.interview_id),
    CandidateAsked: lambda e: outbox.about(
        outbox.BROADCAST, e.interview_id, question=e.question_id),  # type: ignore[union-attr]
    FollowUpAnswered: lambda e: outbox.about(
        outbox.BROADCAST, e.interview_id, follow_up=e.follow_up_id),  # type: ignore[union-attr]
    ReviewChanged: lambda e: outbox.about(
        outbox.REFRESH, e.interview_id, answer=e.answer_id),  # type: ignore[union-attr]
    TakeStored: lambda e: outbox.about(
        outbox.TRANSCRIBE, e.interview_id, take=e.take_id),  # type: ignore[union-attr]
    InterviewErased: lambda e: outbox.about(outbox.ERASE, e.interview_id),
}


def dispatch(candidates: CandidateFlow, reviews: ReviewFlow, uow: UnitOfWork, cmd: Command,
             fx: Effects) -> bool:
    """Run the handler of `cmd`; False if the sender has no interview to act on."""
    return HANDLERS[type(cmd)](candidates, reviews, uow, cmd, fx)


def work_of(fx: Effects, candidate_chat: str | None = None) -> Work:
    """The outbox steps of a handler's effects, in the order they are done: edits, sends,
    private notes, then each event's steps (an event raised twice is done once).

    With `fx.about` set (a reviewer's command, a timer), a send to any chat but the
    candidate's (`candidate_chat`) is recorded as a post about that interview."""
    steps = [outbox.edit(ref, m, or_send=ref in fx.carrying) for ref, m in fx.edits]
    steps += [outbox.send(chat, m, fx.about if fx.about and str(chat) != candidate_chat
                          else None) for chat, m in fx.sends]
    steps += [outbox.note(chat, user, text) for chat, user, text in fx.notes]
    seen: set[Event] = set()
    for event in fx.events:
        if event not in seen:
            seen.add(event)
            steps.append(EVENT_STEPS[type(event)](event))
    return Work(steps)


async def rerun_on_conflict(what: str, run: Callable[[], Awaitable[T]], observer: Observer
                            ) -> T:
    """Run `run`; when another transaction changed the same interview first
    (`ConcurrentUpdate`), run it again on what that one committed, up to `ATTEMPTS` times."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await run()
        except ConcurrentUpdate:
            observer.conflict_retried()
            log.info("concurrent update; running %s again", what, extra={"attempt": attempt})
            await asyncio.sleep(0)
    raise RuntimeError(f"{what}: still conflicting after {ATTEMPTS} attempts")
