"""The engine: one entry point for every command, one transaction each, its outbound work
committed with it (the outbox) and done after the commit.

What runs where: core/bus.py dispatches commands and maps events to outbox steps,
core/outbox_runner.py does the steps under a lease, core/review_posting.py posts, refreshes
and erases what reviewers see, core/transcription.py transcribes takes in the background.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Collection
from datetime import timedelta

from core import fair_flow, outbox, retention, texts
from core import payloads as pl
from core.bus import dispatch, rerun_on_conflict, work_of
from core.candidate import CandidateFlow, clean_text, erase
from core.capabilities import TimeZoneSource, capabilities, with_commands
from core.commands import ButtonPressed, Command, CreateInvitation, MediaReceived, ReviewerText
from core.deadlines import extend_deadline
from core.effects import Effects
from core.errors import DomainError, ScriptError
from core.i18n import t
from core.invitations import withdraw_by_team
from core.locks import KeyedLocks
from core.model import Interview, hash_token, new_id, new_token
from core.outbox_runner import OutboxRunner
from core.outcome import OutcomeFlow
from core.ports import AlreadyHandled, Scheduler, UnitOfWork
from core.refs import UserRef
from core.reminders import TimerKind
from core.replies import say
from core.review import ReviewFlow
from core.review_posting import ReviewPosting
from core.services import Services
from core.states import State
from core.timers import TimerFlow
from core.transcription import Transcription
from core.views import Views

log = logging.getLogger("interviewbot.engine")


class Engine:
    """Runs every command through its handler inside a unit of work, then its outbox entry."""

    def __init__(self, services: Services, scheduler: Scheduler | None = None,
                 owner: str | None = None) -> None:
        self.s = services
        self.scheduler = scheduler
        self.owner = owner or f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.candidates = CandidateFlow(services)
        self.reviews = ReviewFlow(services)
        self.timers = TimerFlow(services)
        self.outcomes = OutcomeFlow(services)
        self.posting = ReviewPosting(services)
        self.transcription = Transcription(services)
        self.outbox = OutboxRunner(services, self.owner, self.posting, self.transcription)
        self._locks = KeyedLocks()
        self.views = Views(services, self.reviews, self.outcomes)  # what adapters read

    # -- invitations -------------------------------------------------------------------
    def invite(self, cmd: CreateInvitation) -> tuple[Interview, str]:
        """Create an interview in state INVITED; return it with its one-time token."""
        now = self.s.clock.now()
        token = new_token()
        with self.s.uow() as uow:
            script, revision = self.s.pin(uow, cmd.script_id)
            if cmd.language is not None and not script.offers(cmd.language):
                raise DomainError(f"{script.id} is not offered in {cmd.language!r}; its "
                                  f"languages: {', '.join(script.languages)}")
            interview = Interview(
                id=new_id(), script_id=script.id, number=uow.interviews.next_number(script.id),
                candidate_name=clean_text(cmd.name)[:200], token_hash=hash_token(token),
                invited_at=now,
                deadline=now + script.deadline, platform=cmd.platform, tz=cmd.tz or "UTC",
                tz_confirmed=cmd.tz is not None or capabilities(
                    cmd.platform).time_zone is TimeZoneSource.INVITATION,
                external_ref=cmd.external_ref,
                script_revision=revision, language=cmd.language,
            )
            uow.interviews.add(interview)
            uow.commit()
        if self.scheduler is not None:
            self.scheduler.interview_changed(interview)
        return interview, token

    def words_for(self, user: UserRef | None, text: str) -> str:
        """`text` (a catalog message) in the language of `user`'s current interview, its
        command placeholders in their channel's syntax; as it is when there is no user, in
        English when there is no interview (an adapter's own notice, e.g. "edits are not
        picked up")."""
        if user is None:
            return text
        with self.s.uow() as uow:
            interview = uow.interviews.current_for(user)
        if interview is not None:
            text = t(texts.lang_for(self.s.script(interview), interview.language), text)
        return with_commands(text, user.platform)

    # -- commands ----------------------------------------------------------------------
    async def handle(self, cmd: Command,
                     answer: Callable[[str | None], Awaitable[None]] | None = None) -> str | None:
        """Handle one inbound command; return the private answer to a button press, if any.

        `answer`, when given, receives that answer as soon as the transaction has committed,
        while the outbound messages go out (a button stops spinning without waiting for them,
        and they do not wait for it).
        """
        started = time.perf_counter()
        key = self._lock_key(cmd)
        async with self._locks[key]:
            fx = Effects()
            try:
                fx = await rerun_on_conflict(type(cmd).__name__, lambda: self._once(cmd),
                                             self.s.observer)
            except AlreadyHandled:
                fx = Effects(duplicate=True)
            except ScriptError as exc:
                log.error("script missing for an interview: %s", exc)
                fx = Effects(reply=say(texts.STALE_BUTTON))
                fx.send(cmd.chat, texts.UNAVAILABLE)  # no script: no language to speak but English
                self._commit_outbound(fx)
            duplicate = fx.duplicate
            if duplicate:
                fx = Effects()
        reply = fx.reply.render(fx.reply_language) if fx.reply is not None else None
        # the press's answer and the outbound messages go out together: neither waits for
        # the other (the button stops spinning even while a message waits for its chat's
        # pacing, and the message does not wait for the answer's round trip)
        answering = (asyncio.ensure_future(self._answer(answer, reply)) if answer is not None
                     else None)
        try:
            await self.perform(fx)
        finally:
            if answering is not None:
                await answering
        seconds = time.perf_counter() - started
        self.s.observer.command_handled(type(cmd).__name__, seconds)
        log.info("handled %s", type(cmd).__name__, extra={
            "platform": cmd.user.platform, "ms": round(seconds * 1000, 1),
            "interview_id": next(iter(fx.committed), None) or (
                key.partition(":")[2] if key.startswith("interview:") else None),
            "sent": len(fx.sends), "duplicate": duplicate})
        return reply

    @staticmethod
    async def _answer(answer: Callable[[str | None], Awaitable[None]],
                      reply: str | None) -> None:
        try:
            await answer(reply)
        except Exception:
            log.exception("answering a button press failed")

    def _lock_key(self, cmd: Command) -> str:
        """Commands on one interview (or from one person) run one at a time in this process.

        Only an optimisation: across processes, versioned writes catch the overlap and the
        command runs again (see `rerun_on_conflict`).
        """
        target = (cmd.payload if isinstance(cmd, ButtonPressed)
                  else cmd.target if isinstance(cmd, ReviewerText) else None)
        parsed = pl.parse(target) if target else None
        if parsed is not None:
            return f"interview:{parsed.interview_id}"
        return f"user:{cmd.user}"

    async def _once(self, cmd: Command) -> Effects:
        fx = Effects()
        if isinstance(cmd, MediaReceived):
            await self._media(cmd, fx)
            return fx
        with self.s.uow() as uow:
            delivery = getattr(cmd, "delivery", None)
            if delivery is not None:
                uow.record_delivery(delivery)  # a redelivery fails the commit: AlreadyHandled
            if not (self._outcome(uow, cmd, fx)
                    or dispatch(self.candidates, self.reviews, uow, cmd, fx)):
                fx.send(cmd.chat, texts.NO_INVITATION)
            if fx.reply is not None:
                fx.reply_language = self._presser_language(uow, cmd)
            self._commit(uow, fx)
        return fx

    def _presser_language(self, uow: UnitOfWork, cmd: Command) -> str | None:
        """The language a button press is answered in: the candidate's interview language
        when the candidate pressed, the script's review language for a button the team presses
        (ratings, decisions, outcomes, adjustment requests), English for anyone else.

        Every private answer to a press is written in it, here, once (`Effects.reply`).
        """
        payload = pl.parse(cmd.payload) if isinstance(cmd, ButtonPressed) else None
        interview = (uow.interviews.get(payload.interview_id) if payload is not None
                     else uow.interviews.current_for(cmd.user))
        if interview is None:
            return None
        try:
            script = self.s.script(interview)
        except ScriptError:
            return None
        if interview.candidate == cmd.user:
            return texts.lang_for(script, interview.language)
        if payload is not None and payload.action in pl.TEAM_ACTIONS:
            return texts.review_lang(script)
        return None

    def _outcome(self, uow: UnitOfWork, cmd: Command, fx: Effects) -> bool:
        """Side flows: a decider's outcome preview (Send / Edit / Don't send, or the feedback
        typed for it) goes to core/outcome.py, survey and adjustment buttons to
        core/fair_flow.py; False for every other command."""
        if isinstance(cmd, ReviewerText) and cmd.target.startswith(pl.OUTCOME_FEEDBACK):
            parsed = pl.parse(cmd.target)
            fx.about = parsed.interview_id if parsed else None
            self.outcomes.text(uow, cmd, fx)
            return True
        if isinstance(cmd, ButtonPressed):
            payload = pl.parse(cmd.payload)
            if payload is not None and payload.action in pl.FAIRNESS_ACTIONS:
                # the self-ID survey and adjustment requests (core/fair_flow.py)
                fair_flow.button(self.s, uow, cmd, payload, fx)
                return True
            if payload is not None and payload.action in pl.OUTCOME_ACTIONS:
                fx.about = payload.interview_id
                self.outcomes.button(uow, cmd.user, cmd.chat, payload, cmd.message, fx)
                return True
        return False

    def _commit(self, uow: UnitOfWork, fx: Effects) -> None:
        """Commit, with the outbound work of `fx` in the outbox, leased to this process."""
        changed = {i: uow.interviews.get(i) for i in dict.fromkeys(fx.changed)}
        about = uow.interviews.get(fx.about) if fx.about else None
        work = work_of(fx, str(about.chat) if about is not None and about.chat else None)
        if self.s.transcriber is None:  # nothing to start: no step for it
            work.steps = [s for s in work.steps if s.kind != outbox.TRANSCRIBE]
        for interview in changed.values():
            if interview is not None and interview.chat and interview.last_activity_at:
                outbox.stamp(work, interview.id, str(interview.chat), interview.last_activity_at)
        if work.steps:
            now = self.s.clock.now()
            fx.outbox_id = uow.outbox.add(outbox.encode(work), now + self.s.outbox_retry,
                                          self.owner, now + self.s.outbox_retry)
            fx.work = work
        uow.commit()
        fx.committed = {i: found for i, found in changed.items() if found is not None}

    def _commit_outbound(self, fx: Effects) -> None:
        with self.s.uow() as uow:
            self._commit(uow, fx)

    async def _media(self, cmd: MediaReceived, fx: Effects) -> None:
        """A recording: check it, fetch and convert it with no transaction open, then record
        it in a second transaction if the interview still waits for it."""
        with self.s.uow() as uow:
            if cmd.delivery is not None and uow.seen(cmd.delivery):
                fx.duplicate = True
                return
            plan = self.candidates.media_plan(uow, cmd, fx)
            if plan is None:
                if _first(uow, cmd.delivery):
                    self._commit(uow, fx)
                return
        take = await self.candidates.fetch_media(cmd, plan, fx)
        if take is None:  # refused: its explanation goes out like any reply
            with self.s.uow() as uow:
                if _first(uow, cmd.delivery):
                    self._commit(uow, fx)
            return
        used = False

        async def record() -> None:
            nonlocal used
            fx.clear_outbound()
            with self.s.uow() as uow:
                if not _first(uow, cmd.delivery):
                    fx.duplicate = True
                    return
                used = self.candidates.media_record(uow, cmd, plan, take, fx)
                self._commit(uow, fx)

        try:
            await rerun_on_conflict("recording a take", record, self.s.observer)
        finally:
            if not used and take.media_key:
                self.s.audio.delete(take.media_key)

    # -- timers ------------------------------------------------------------------------
    async def timer_fired(self, interview_id: str, kind: str, index: int) -> None:
        """A scheduler timer fired: act only if its reason still holds, exactly once."""
        async def fire() -> Effects:
            fx = Effects(about=interview_id)
            with self.s.uow() as uow:
                self.timers.fire(uow, interview_id, TimerKind(kind), index, fx)
                self._commit(uow, fx)
            return fx

        async with self._locks[f"interview:{interview_id}"]:
            try:
                fx = await rerun_on_conflict(f"timer {kind}", fire, self.s.observer)
            except AlreadyHandled:
                return
        await self.perform(fx)

    async def extend(self, interview_id: str, by: timedelta, actor: str) -> Interview | None:
        """Extend an interview's deadline (CLI); None if it is not open or expired."""
        fx = Effects(about=interview_id)
        with self.s.uow() as uow:
            interview = uow.interviews.get(interview_id)
            if interview is None or not extend_deadline(self.s, uow, interview, by, actor, fx):
                return None
            self._commit(uow, fx)
        await self.perform(fx)
        return interview

    async def withdraw(self, interview_id: str, actor: str) -> Interview | None:
        """A hiring manager withdraws an open invitation; None if it is not open."""
        fx = Effects(about=interview_id)
        with self.s.uow() as uow:
            interview = uow.interviews.get(interview_id)
            if interview is None or not withdraw_by_team(self.s, uow, interview, actor, fx):
                return None
            self._commit(uow, fx)
        await self.perform(fx)
        return interview

    async def erase(self, interview_id: str, actor: str) -> bool:
        """Erase one interview on a hiring team's request (the API), including what was
        posted about it in the chats; False if there is no such interview or it was erased."""
        async def one() -> Effects:
            fx = Effects()
            with self.s.uow() as uow:
                interview = uow.interviews.get(interview_id)
                if interview is None or interview.state is State.ERASED:
                    return fx
                erase(self.s, uow, interview, actor=actor, now=self.s.clock.now(), fx=fx)
                self._commit(uow, fx)
            return fx

        fx = await rerun_on_conflict("erase", one, self.s.observer)
        await self.perform(fx)
        return fx.outbox_id is not None

    async def purge(self, older_than: timedelta, *, include_in_progress: bool = False,
                    only: Collection[str] | None = None) -> int:
        """Erase the interviews `retention.due_for_purge` selects (retention), including what
        was posted about them in the chats. Returns how many were erased."""
        now = self.s.clock.now()
        with self.s.uow() as uow:
            old = [i.id for i in retention.due_for_purge(
                uow, now, older_than, include_in_progress=include_in_progress, only=only)]
        erased = 0
        for interview_id in old:
            async def one(interview_id: str = interview_id) -> Effects:
                fx = Effects()
                with self.s.uow() as uow:
                    interview = uow.interviews.get(interview_id)
                    if interview is None or interview.state is State.ERASED:
                        return fx
                    erase(self.s, uow, interview, actor="retention", now=self.s.clock.now(),
                          fx=fx)
                    self._commit(uow, fx)
                return fx

            fx = await rerun_on_conflict("purge", one, self.s.observer)
            erased += fx.outbox_id is not None
            await self.perform(fx)
        return erased

    # -- outbound ----------------------------------------------------------------------
    async def perform(self, fx: Effects) -> None:
        """Do a committed command's outbox entry (this process holds its lease), then
        re-plan the timers of the interviews it changed."""
        if fx.outbox_id is not None and fx.work is not None:
            await self.outbox.run(fx.outbox_id, fx.work)
        if self.scheduler is not None and fx.changed:
            with self.s.uow() as uow:
                for interview_id in dict.fromkeys(fx.changed):
                    found = fx.committed.get(interview_id) or uow.interviews.get(interview_id)
                    if found is not None:
                        self.scheduler.interview_changed(found)

    async def resend_due(self, limit: int = 100) -> int:
        """Take over due outbox entries whose lease expired (their process died, or a step
        failed and waits for another attempt). Returns how many entries were taken."""
        return await self.outbox.resend_due(limit)

    async def idle(self) -> None:
        """Wait for background work (transcripts) to finish; remove finished outbox entries
        now rather than at the end of this turn of the event loop."""
        await self.transcription.idle()
        self.outbox.settle()


def _first(uow: UnitOfWork, delivery: str | None) -> bool:
    """Record an inbound delivery (if it has a key); False if it was handled before."""
    return delivery is None or uow.first_delivery(delivery)
