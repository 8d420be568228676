"""The outbox runner: does the pending steps of an entry while holding its lease.

The process that commits a command holds the lease on its entry from the commit on, and
renews it while its steps run, so no sweep (its own or another process's) takes work that is
in flight, however slow the platform is. Only an expired lease (the process died, or stopped
renewing) lets a sweep take the entry over.

Each step is done once: its state is saved after it succeeds, before the next one starts; a
failed step is tried again alone, after a backoff, up to `STEP_ATTEMPTS` times, then given up
(logged, counted, and for a review card reported to the reviewers' chat once it is reachable).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

from core import outbox
from core.model import ReviewPost
from core.outbox import Step, Work
from core.ports import OutboxEntry
from core.refs import MessageRef, UserRef
from core.review_posting import ReviewPosting
from core.services import Services
from core.states import State
from core.transcription import Transcription

log = logging.getLogger("interviewbot.outbox")
STEP_ATTEMPTS = 5  # failed tries of one step, backing off, before it is given up
CLAIM_LIMIT = 2 * STEP_ATTEMPTS + 2  # takeovers of one entry (a runner that keeps dying)
SETTLE_BATCH = 200  # finished entries removed by one statement at most

StepRun = Callable[[Step], Awaitable["str | list[Step] | None"]]


class LeaseLost(Exception):
    """Another process took the entry over (this one's lease expired)."""


class OutboxRunner:
    """Runs outbox entries as `owner` (one id per process)."""

    def __init__(self, services: Services, owner: str, posting: ReviewPosting,
                 transcription: Transcription) -> None:
        self.s = services
        self.owner = owner
        self.posting = posting
        self.transcription = transcription
        self._settling: list[int] = []  # finished entries not yet removed (see `settle`)
        self._settle_planned = False
        self.steps: dict[str, StepRun] = {
            outbox.SEND: self._send,
            outbox.EDIT: self._edit,
            outbox.NOTE: self._note,
            outbox.REVIEW: posting.expand,
            outbox.CARD: posting.card,
            outbox.REEL: posting.reel,
            outbox.BROADCAST: posting.broadcast,
            outbox.REFRESH: self._refresh,
            outbox.ERASE: self._erase,
            outbox.TRANSCRIBE: self._transcribe,
        }

    @property
    def lease(self) -> timedelta:
        return self.s.outbox_retry

    # -- the sweep ---------------------------------------------------------------------
    def due(self, limit: int = 100) -> list[OutboxEntry]:
        """Entries due now whose lease is free or expired."""
        with self.s.uow() as uow:
            return uow.outbox.due(self.s.clock.now(), limit)

    def claim(self, entry: OutboxEntry) -> bool:
        """Take the lease on an entry read by `due`; False if someone else took it first."""
        now = self.s.clock.now()
        with self.s.uow() as uow:
            claimed = uow.outbox.claim(entry, self.owner, now, now + self.lease)
            uow.commit()
        return claimed

    async def resend_due(self, limit: int = 100) -> int:
        """Do the due steps of entries nobody is working on; return how many were taken."""
        count = 0
        for entry in self.due(limit):
            if not self.claim(entry):
                continue
            count += 1
            self.s.observer.outbox_resent()
            work = outbox.decode(entry.body)
            log.info("taking over committed outbound work", extra={
                "outbox_id": entry.id, "attempt": entry.attempts + 1,
                "steps": len(work.pending())})
            if entry.attempts + 1 > CLAIM_LIMIT:
                self._give_up_all(entry.id, work)
                continue
            self._skip_stale(work)
            if entry.lease_owner is not None:
                self._in_doubt(entry, work)
            await self.run(entry.id, work)
        return count

    def _skip_stale(self, work: Work) -> None:
        """Mark done, unsent, the sends and edits to a candidate who has acted since their
        command was committed: they have moved on (they saw them, or a restatement after
        "Welcome back"), and sending them now would repeat a step they are past."""
        stamped = {str(s.args["since"][0]) for s in work.pending() if s.args.get("since")}
        if not stamped:
            return
        with self.s.uow() as uow:
            found = {i: uow.interviews.get(i) for i in stamped}
        last = {i: (v.last_activity_at if v is not None else None) for i, v in found.items()}
        for step in work.pending():
            if outbox.stale(step, last):
                step.state = outbox.DONE
                log.info("outbox step skipped: the candidate has acted since", extra={
                    "step": step.kind, "chat": step.args.get("chat")})

    @staticmethod
    def _in_doubt(entry: OutboxEntry, work: Work) -> None:
        """The process that held the lease stopped while doing the first pending step: it
        may have reached the platform before the process could record it. It is sent again
        (at least once: the platforms take no idempotency key), and said so in the log."""
        first = next(iter(work.pending()), None)
        if first is None or first.kind not in (outbox.SEND, outbox.NOTE):
            return
        text = first.args.get("text") or first.args.get("message", {}).get("text", "")
        log.warning("outbox step in doubt: its process stopped while it may have been sent; "
                    "sending it again", extra={
                        "outbox_id": entry.id, "step": first.kind,
                        "chat": first.args.get("chat"),
                        "text_sha": hashlib.sha256(str(text).encode()).hexdigest()[:12]})

    # -- one entry ---------------------------------------------------------------------
    async def run(self, entry_id: int, work: Work) -> None:
        """Do the pending, due steps of an entry this process holds the lease on."""
        try:
            async with self._renewing(entry_id):
                await self._steps(entry_id, work)
        except LeaseLost:
            log.warning("outbox entry taken over by another process", extra={
                "outbox_id": entry_id})

    async def _steps(self, entry_id: int, work: Work) -> None:
        index = 0
        while index < len(work.steps):
            step = work.steps[index]
            index += 1
            now = self.s.clock.now()
            if step.state != outbox.PENDING or (step.due is not None and step.due > now):
                continue
            try:
                result = await self.steps[step.kind](step)
            except Exception as exc:
                self._failed(work, step, exc)
            else:
                step.state = outbox.DONE
                if isinstance(result, list):
                    work.steps[index:index] = result  # expanded: its parts run next
                elif result is not None:
                    step.ref = result
            if work.pending() and index < len(work.steps):
                self._save(entry_id, work, keep_lease=True)
        self._finish(entry_id, work)

    def _failed(self, work: Work, step: Step, exc: Exception) -> None:
        step.attempts += 1
        step.error = f"{type(exc).__name__}: {exc}"[:300]
        self.s.observer.delivery_failed(step.platform)
        if step.attempts < STEP_ATTEMPTS:
            step.due = self.s.clock.now() + self.lease * 2 ** (step.attempts - 1)
            log.warning("outbox step failed; trying again later", extra={
                "step": step.kind, "attempt": step.attempts, "error": step.error})
            return
        step.state = outbox.GIVEN_UP
        self.s.observer.step_given_up(step.kind, step.platform)
        log.error("outbox step given up", extra={
            "step": step.kind, "attempts": step.attempts, "error": step.error})
        if step.kind in (outbox.CARD, outbox.REEL) and not any(
                s.args.get("lost") == step.args.get("dest") for s in work.steps):
            try:
                notice = self.posting.lost(step)
            except Exception:
                log.exception("could not prepare the lost-card notice")
                notice = None
            if notice is not None:
                notice.args["lost"] = step.args.get("dest")
                notice.due = step.due
                work.steps.append(notice)

    def _save(self, entry_id: int, work: Work, *, keep_lease: bool) -> None:
        now = self.s.clock.now()
        with self.s.uow() as uow:
            kept = uow.outbox.save(entry_id, self.owner, outbox.encode(work), work.next_due(now),
                                   now + self.lease if keep_lease else None)
            uow.commit()
        if not kept:
            raise LeaseLost(str(entry_id))

    def _finish(self, entry_id: int, work: Work) -> None:
        if work.pending():
            self._save(entry_id, work, keep_lease=False)
            return
        self._settling.append(entry_id)
        if len(self._settling) >= SETTLE_BATCH:
            self.settle()
        elif not self._settle_planned:
            self._settle_planned = True
            asyncio.get_running_loop().call_soon(self.settle)

    def settle(self) -> None:
        """Remove the entries finished since the last call, in one transaction.

        Entries finished during one turn of the event loop are removed together at its end
        (or once `SETTLE_BATCH` are waiting), so an answer costs one transaction, not two.
        Until then each is still leased to this process: no sweep takes it. If the removal
        fails, it is tried again a third of a lease later, well before the lease ends."""
        self._settle_planned = False
        done, self._settling = self._settling, []
        if not done:
            return
        try:
            with self.s.uow() as uow:
                uow.outbox.done_all(done, self.owner)
                uow.commit()
        except Exception:
            log.exception("could not remove %d finished outbox entries; trying again",
                          len(done))
            self._settling[:0] = done
            if not self._settle_planned:
                self._settle_planned = True
                asyncio.get_running_loop().call_later(self.lease.total_seconds() / 3,
                                                      self.settle)

    def _give_up_all(self, entry_id: int, work: Work) -> None:
        for step in work.pending():
            step.state = outbox.GIVEN_UP
            self.s.observer.step_given_up(step.kind, step.platform)
        log.error("outbox entry given up after %d takeovers", CLAIM_LIMIT,
                  extra={"outbox_id": entry_id})
        with self.s.uow() as uow:
            uow.outbox.done(entry_id, self.owner)
            uow.commit()

    @contextlib.asynccontextmanager
    async def _renewing(self, entry_id: int) -> AsyncIterator[None]:
        """Renew the lease every third of its length while the steps run."""
        lost = asyncio.Event()

        async def renew() -> None:
            while True:
                await asyncio.sleep(self.lease.total_seconds() / 3)
                now = self.s.clock.now()
                with self.s.uow() as uow:
                    kept = uow.outbox.renew(entry_id, self.owner, now + self.lease)
                    uow.commit()
                if not kept:
                    lost.set()
                    return

        task = asyncio.create_task(renew(), name=f"outbox-lease-{entry_id}")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if lost.is_set():
            raise LeaseLost(str(entry_id))

    # -- the steps ---------------------------------------------------------------------
    def _erased(self, interview_id: str | None) -> bool:
        """Whether the interview a step is about is erased (or gone): then it is skipped."""
        if interview_id is None:
            return False
        with self.s.uow() as uow:
            interview = uow.interviews.get(interview_id)
        return interview is None or interview.state is State.ERASED

    async def _send(self, step: Step) -> str | None:
        about = step.args.get("about")
        if about is not None and self._erased(about):
            return None
        chat = step.chat()
        ref = await self.posting.messenger(chat.platform).send(chat, step.message())
        if about is not None:
            await self.posting.record(ReviewPost(about, ref.chat, ref.id, None, "post"), ref)
        return ref.id

    async def _edit(self, step: Step) -> str | None:
        chat = step.chat()
        messenger = self.posting.messenger(chat.platform)
        try:
            await messenger.edit(MessageRef(chat, step.args["id"]), step.message())
        except Exception as exc:
            if not step.args.get("or_send"):
                raise
            # it carries the next question: a new message rather than none (the message
            # may be gone, too old, or refused)
            log.warning("an edit carrying the next question failed; sending it instead",
                        extra={"error": f"{type(exc).__name__}: {exc}"[:300]})
            return (await messenger.send(chat, step.message())).id
        return None

    async def _note(self, step: Step) -> None:
        chat = step.chat()
        await self.posting.messenger(chat.platform).notify(
            chat, UserRef.parse(step.args["user"]), step.args["text"])

    async def _refresh(self, step: Step) -> None:
        await self.posting.refresh(step)

    async def _erase(self, step: Step) -> None:
        await self.posting.erase(step)

    async def _transcribe(self, step: Step) -> None:
        self.transcription.request(str(step.interview_id), str(step.args["take"]))
