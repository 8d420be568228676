"""The engine: one entry point for every command, one transaction each, effects after commit."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from core import outbox, texts
from core import payloads as pl
from core.candidate import CandidateFlow, clean_text, erase
from core.commands import (
    ButtonPressed,
    Command,
    CreateInvitation,
    InviteAccepted,
    MediaReceived,
    ReviewerText,
    TextReceived,
    UnsupportedReceived,
    UserCommand,
)
from core.deadlines import extend_deadline
from core.effects import Effects
from core.errors import ScriptError
from core.messages import Audio, OutMessage
from core.model import Interview, ReviewPost, hash_token, new_id, new_token
from core.ports import (
    AlreadyHandled,
    ConcurrentUpdate,
    DeliveryFailed,
    Messenger,
    Scheduler,
    UnitOfWork,
)
from core.refs import ChatRef, MessageRef, UserRef
from core.reminders import TimerKind
from core.review import ReviewFlow, candidate_label, scored_answers, summary_card
from core.script import Script
from core.services import Services
from core.states import State
from core.timers import TimerFlow

log = logging.getLogger("interviewbot.engine")
REEL = "reel"  # the review post holding an interview's reel (no card to refresh)
T = TypeVar("T")
OUTBOX_ATTEMPTS = 5  # tries of a message that keeps failing, backing off, before giving up
ATTEMPTS = 5  # runs of one command that another transaction keeps overtaking


class Engine:
    """Runs every command through its handler inside a unit of work, then sends the effects."""

    def __init__(self, services: Services, scheduler: Scheduler | None = None) -> None:
        self.s = services
        self.scheduler = scheduler
        self.candidates = CandidateFlow(services)
        self.reviews = ReviewFlow(services)
        self.timers = TimerFlow(services)
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._background: set[asyncio.Task[None]] = set()

    # -- invitations -------------------------------------------------------------------
    def invite(self, cmd: CreateInvitation) -> tuple[Interview, str]:
        """Create an interview in state INVITED; return it with its one-time token."""
        script = self.s.script(cmd.script_id)
        now = self.s.clock.now()
        token = new_token()
        with self.s.uow() as uow:
            interview = Interview(
                id=new_id(), script_id=script.id, number=uow.interviews.next_number(script.id),
                candidate_name=clean_text(cmd.name)[:200], token_hash=hash_token(token),
                invited_at=now,
                deadline=now + script.deadline, platform=cmd.platform, tz=cmd.tz or "UTC",
                tz_confirmed=cmd.tz is not None or cmd.platform == "console",
            )
            uow.interviews.add(interview)
            uow.commit()
        if self.scheduler is not None:
            self.scheduler.interview_changed(interview)
        return interview, token

    # -- commands ----------------------------------------------------------------------
    async def handle(self, cmd: Command,
                     answer: Callable[[str | None], Awaitable[None]] | None = None) -> str | None:
        """Handle one inbound command; return the private answer to a button press, if any.

        `answer`, when given, receives that answer as soon as the transaction has committed,
        before the outbound messages go out (a button stops spinning without waiting for them).
        """
        started = time.perf_counter()
        key = self._lock_key(cmd)
        async with self._locks[key]:
            fx = Effects()
            try:
                fx = await self._attempts(cmd)
            except AlreadyHandled:
                fx = Effects(duplicate=True)
            except ScriptError as exc:
                log.error("script missing for an interview: %s", exc)
                fx = Effects(reply=texts.STALE_BUTTON)
                fx.send(cmd.chat, "Sorry, this interview is not available right now. Please "
                                  "contact the person who invited you.")
            duplicate = fx.duplicate
            if duplicate:
                fx = Effects()
        if answer is not None:
            try:
                await answer(fx.reply)
            except Exception:
                log.exception("answering a button press failed")
        await self._perform(fx)
        seconds = time.perf_counter() - started
        self.s.observer.command_handled(type(cmd).__name__, seconds)
        log.info("handled %s", type(cmd).__name__, extra={
            "platform": cmd.user.platform, "ms": round(seconds * 1000, 1),
            "interview_id": next(iter(fx.committed), None) or (
                key.partition(":")[2] if key.startswith("interview:") else None),
            "sent": len(fx.sends), "duplicate": duplicate})
        return fx.reply

    def _lock_key(self, cmd: Command) -> str:
        """Commands on one interview (or from one person) run one at a time in this process.

        Only an optimisation: across processes, versioned writes catch the overlap and the
        command runs again (see `_attempts`).
        """
        target = (cmd.payload if isinstance(cmd, ButtonPressed)
                  else cmd.target if isinstance(cmd, ReviewerText) else None)
        parsed = pl.parse(target) if target else None
        if parsed is not None:
            return f"interview:{parsed.interview_id}"
        return f"user:{cmd.user}"

    async def _attempts(self, cmd: Command) -> Effects:
        """Run a command; when another transaction changed its interview first, run it again
        on what that one committed."""
        for attempt in range(1, ATTEMPTS + 1):
            fx = Effects()
            try:
                if isinstance(cmd, MediaReceived):
                    await self._media(cmd, fx)
                else:
                    self._run(cmd, fx)
                return fx
            except ConcurrentUpdate:
                self.s.observer.conflict_retried()
                log.info("concurrent update; running %s again", type(cmd).__name__,
                         extra={"attempt": attempt})
                await asyncio.sleep(0)
        raise RuntimeError(f"{type(cmd).__name__}: still conflicting after {ATTEMPTS} attempts")

    def _run(self, cmd: Command, fx: Effects) -> None:
        with self.s.uow() as uow:
            delivery = getattr(cmd, "delivery", None)
            if delivery is not None:
                uow.record_delivery(delivery)  # a redelivery fails the commit: AlreadyHandled
            handled = True
            if isinstance(cmd, InviteAccepted):
                self.candidates.accept(uow, cmd, fx)
            elif isinstance(cmd, TextReceived):
                handled = self.candidates.text(uow, cmd, fx)
            elif isinstance(cmd, UnsupportedReceived):
                handled = self.candidates.unsupported(uow, cmd, fx)
            elif isinstance(cmd, UserCommand):
                handled = self.candidates.command(uow, cmd, fx)
            elif isinstance(cmd, ReviewerText):
                self.reviews.text(uow, cmd, fx)
            elif isinstance(cmd, ButtonPressed):
                payload = pl.parse(cmd.payload)
                if payload is None:
                    fx.reply = texts.STALE_BUTTON
                elif payload.action in pl.REVIEWER_ACTIONS:
                    self.reviews.button(uow, cmd.user, cmd.chat, payload, fx)
                else:
                    self.candidates.button(uow, cmd.user, payload, cmd.message, fx)
            if not handled:
                fx.send(cmd.chat, texts.NO_INVITATION)
            self._commit(uow, fx)

    def _commit(self, uow: UnitOfWork, fx: Effects) -> None:
        """Commit, with the outbound work of `fx` in the outbox (done after the commit)."""
        changed = {i: uow.interviews.get(i) for i in dict.fromkeys(fx.changed)}
        if outbox.has_work(fx):
            fx.outbox_id = uow.outbox.add(outbox.encode(fx),
                                          self.s.clock.now() + self.s.outbox_retry)
        uow.commit()
        fx.committed = {i: found for i, found in changed.items() if found is not None}

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
        if take is None:
            with self.s.uow() as uow:
                if cmd.delivery is not None and _first(uow, cmd.delivery):
                    uow.commit()
            return
        used = False
        try:
            for attempt in range(1, ATTEMPTS + 1):
                fx.sends.clear()
                fx.changed.clear()
                fx.transcribe.clear()
                fx.broadcasts.clear()
                fx.completed.clear()
                try:
                    with self.s.uow() as uow:
                        if not _first(uow, cmd.delivery):
                            fx.duplicate = True
                            return
                        used = self.candidates.media_record(uow, cmd, plan, take, fx)
                        self._commit(uow, fx)
                    return
                except ConcurrentUpdate:
                    self.s.observer.conflict_retried()
                    log.info("concurrent update; recording the take again",
                             extra={"attempt": attempt})
            raise RuntimeError(f"recording a take: still conflicting after {ATTEMPTS} attempts")
        finally:
            if not used and take.media_key:
                self.s.audio.delete(take.media_key)

    # -- timers ------------------------------------------------------------------------
    async def timer_fired(self, interview_id: str, kind: str, index: int) -> None:
        """A scheduler timer fired: act only if its reason still holds, exactly once."""
        async with self._locks[f"interview:{interview_id}"]:
            for _ in range(ATTEMPTS):
                fx = Effects()
                try:
                    with self.s.uow() as uow:
                        self.timers.fire(uow, interview_id, TimerKind(kind), index, fx)
                        self._commit(uow, fx)
                    break
                except AlreadyHandled:
                    return
                except ConcurrentUpdate:
                    self.s.observer.conflict_retried()
            else:
                raise RuntimeError(f"timer {kind} of {interview_id}: still conflicting")
        await self._perform(fx)

    async def extend(self, interview_id: str, by: timedelta, actor: str) -> Interview | None:
        """Extend an interview's deadline (CLI); None if it is not open or expired."""
        fx = Effects()
        with self.s.uow() as uow:
            interview = uow.interviews.get(interview_id)
            if interview is None or not extend_deadline(self.s, uow, interview, by, actor, fx):
                return None
            self._commit(uow, fx)
        await self._perform(fx)
        return interview

    def purge(self, older_than: timedelta) -> int:
        """Erase every interview whose last activity is older than `older_than` (retention)."""
        cutoff = self.s.clock.now() - older_than
        erased = 0
        with self.s.uow() as uow:
            for interview in uow.interviews.live([s for s in State if s is not State.ERASED]):
                last = max(d for d in (interview.invited_at, interview.last_activity_at,
                                       interview.ended_at) if d is not None)
                if last < cutoff:
                    erase(self.s, uow, interview, actor="retention", now=self.s.clock.now())
                    erased += 1
            uow.commit()
        return erased

    # -- effects -----------------------------------------------------------------------
    async def _perform(self, fx: Effects) -> Effects:
        """Do a committed command's outbound work, then settle its outbox entry: done, or
        what failed kept for another attempt."""
        failed = Effects()
        for ref, message in fx.edits:
            await self._edit(ref, message)
        for chat, message in fx.sends:
            if await self.send(chat, message) is None:
                failed.sends.append((chat, message))
        for chat, user, text in fx.notes:
            if not await self._notify(chat, user, text):
                failed.notes.append((chat, user, text))
        for interview_id in dict.fromkeys(fx.completed):
            await self.post_for_review(interview_id)
        for interview_id, message in fx.broadcasts:
            await self._broadcast(interview_id, message.text)
        for interview_id, answer_id in dict.fromkeys(fx.refresh_reviews):
            await self.refresh_review(interview_id, answer_id)
        for interview_id, take_id in fx.transcribe:
            if self.s.transcriber is not None:
                task = asyncio.create_task(self._transcribe(interview_id, take_id))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
        if fx.outbox_id is not None:
            self._settle(fx.outbox_id, failed, attempts=0)
        if self.scheduler is not None and fx.changed:
            with self.s.uow() as uow:
                for interview_id in dict.fromkeys(fx.changed):
                    found = fx.committed.get(interview_id) or uow.interviews.get(interview_id)
                    if found is not None:
                        self.scheduler.interview_changed(found)
        return failed

    def _settle(self, entry_id: int, failed: Effects, attempts: int) -> None:
        with self.s.uow() as uow:
            if outbox.has_work(failed) and attempts < OUTBOX_ATTEMPTS:
                retry = self.s.outbox_retry * 2 ** attempts
                uow.outbox.reschedule(entry_id, outbox.encode(failed), self.s.clock.now() + retry)
            else:
                if outbox.has_work(failed):
                    log.error("giving up on %d outbound messages after %d attempts",
                              len(failed.sends) + len(failed.notes), attempts)
                uow.outbox.done(entry_id)
            uow.commit()

    async def resend_due(self, limit: int = 100) -> int:
        """Do committed outbound work whose process did not (it died, or a send failed).

        Called periodically by every process; an entry is claimed before it is done, so two
        sweeps never do the same one. Returns how many entries were done.
        """
        now = self.s.clock.now()
        with self.s.uow() as uow:
            due = uow.outbox.due(now, limit)
        count = 0
        for entry in due:
            with self.s.uow() as uow:
                claimed = uow.outbox.claim(entry, now + self.s.outbox_retry)
                uow.commit()
            if not claimed:
                continue
            fx = outbox.decode(entry.body)
            log.info("re-sending committed outbound work", extra={
                "outbox_id": entry.id, "attempt": entry.attempts + 1, "sent": len(fx.sends)})
            self.s.observer.outbox_resent()
            fx.outbox_id = None
            self._settle(entry.id, await self._perform(fx), entry.attempts + 1)
            count += 1
        return count

    async def _transcribe(self, interview_id: str, take_id: str) -> None:
        """Attach an offline transcript to a stored take; never fails the interview."""
        assert self.s.transcriber is not None
        with self.s.uow() as uow:
            interview = uow.interviews.get(interview_id)
            found = interview.take_by_id(take_id) if interview else None
            key = found[1].media_key if found else None
        if key is None:
            return
        try:
            transcript = await self.s.transcriber.transcribe(key)
        except Exception:
            log.exception("transcription failed")
            return
        if not transcript:
            return
        with self.s.uow() as uow:
            interview = uow.interviews.get(interview_id)
            found = interview.take_by_id(take_id) if interview else None
            if found is not None and found[1].transcript is None and found[1].media_key == key:
                found[1].transcript = transcript  # not a draft's recording since replaced
                uow.commit()

    async def idle(self) -> None:
        """Wait for background work (transcripts) to finish."""
        while self._background:
            await asyncio.gather(*self._background, return_exceptions=True)

    async def _safely(self, platform: str, call: Callable[[Messenger], Awaitable[T]]
                      ) -> T | None:
        """Run one outbound call on a platform's messenger; log and count a failure."""
        messenger = self.s.messengers.get(platform)
        try:
            if messenger is None:
                raise DeliveryFailed(f"no {platform} channel is running")
            return await call(messenger)
        except Exception:
            log.exception("delivery failed")
            self.s.observer.delivery_failed(platform)
            return None

    async def send(self, chat: ChatRef, message: OutMessage) -> MessageRef | None:
        """Send one message, logging (not raising) a failure."""
        return await self._safely(chat.platform, lambda m: m.send(chat, message))

    async def _edit(self, ref: MessageRef, message: OutMessage) -> None:
        await self._safely(ref.chat.platform, lambda m: m.edit(ref, message))

    async def _notify(self, chat: ChatRef, user: UserRef, text: str) -> bool:
        async def note(m: Messenger) -> bool:
            await m.notify(chat, user, text)
            return True
        return bool(await self._safely(chat.platform, note))

    # -- review posting ----------------------------------------------------------------
    async def post_for_review(self, interview_id: str) -> int:
        """Post an interview's cards to every review destination; return messages posted.

        Each card is recorded as posted right after it is sent, so doing this again (the
        outbox after a crash) posts only what is missing.
        """
        with self.s.uow() as uow:
            interview = uow.interviews.get(interview_id)
            if interview is None or interview.state is not State.COMPLETED:
                return 0
            script = self.s.script(interview.script_id)
            existing = {(p.destination, p.answer_id) for p in uow.reviews.posts(interview_id)}
            todo: list[tuple[ChatRef, str | None, OutMessage]] = []
            for dest in self.s.destinations(script):
                if dest.platform not in self.s.messengers:
                    log.warning("review destination %s skipped: channel not running", dest)
                    continue
                cards = await self.reviews.cards(uow, interview, dest.platform)
                if all((dest, answer_id) in existing for answer_id, _ in cards):
                    continue
                reel = await self._reel(script, interview, dest.platform)
                if reel is not None:
                    cards.append((REEL, reel))
                todo += [(dest, a, card) for a, card in cards if (dest, a) not in existing]
        posted = 0
        for dest, answer_id, card in todo:
            ref = await self.send(dest, card)
            if ref is not None:
                with self.s.uow() as uow:
                    uow.reviews.add_post(ReviewPost(interview_id, dest, ref.id, answer_id))
                    uow.commit()
                posted += 1
        return posted

    async def _reel(self, script: Script, interview: Interview, platform: str
                    ) -> OutMessage | None:
        """Every voice answer in one file with chapters, for listening start to finish."""
        clips = [(texts.question_label(script, script.question(a.question_id)), a.kept.media_key)
                 for a in scored_answers(script, interview) if a.kept and a.kept.media_key]
        if len(clips) < 2:
            return None
        try:
            reel = await self.s.audio.reel(clips, key=f"{interview.id}/reel")
            path, mime = await self.s.audio.review_copy(reel.key, platform=platform)
        except Exception:
            log.exception("making the interview reel failed")
            return None
        chapters = "\n".join(f"{texts.clock(c.start)} {c.title}" for c in reel.chapters)
        return OutMessage(f"{candidate_label(script, interview)}: every voice answer in one "
                          f"recording ({texts.clock(reel.duration)}).\n{chapters}",
                          audio=Audio(path, mime, "Interview reel", reel.duration))

    async def refresh_review(self, interview_id: str, answer_id: str | None) -> None:
        """Re-render the posted cards of one answer (None: the summary; all, once erased)."""
        with self.s.uow() as uow:
            interview = uow.interviews.get(interview_id)
            if interview is None:
                return
            posts = uow.reviews.posts(interview_id)
            if not posts:
                return
            script = self.s.script(interview.script_id)
            if interview.state is State.ERASED:
                for post in posts:
                    await self._edit(MessageRef(post.destination, post.message_id),
                                     summary_card(script, interview, []))
                return
            cards: dict[str, dict[str | None, OutMessage]] = {}
            for post in posts:
                if post.answer_id != answer_id:
                    continue
                platform = post.destination.platform
                if platform not in cards:
                    rendered = await self.reviews.cards(uow, interview, platform)
                    cards[platform] = {aid: _without_audio(m) for aid, m in rendered}
                card = cards[platform].get(post.answer_id)
                if card is not None:
                    await self._edit(MessageRef(post.destination, post.message_id), card)

    async def _broadcast(self, interview_id: str, kind: str) -> None:
        with self.s.uow() as uow:
            interview = uow.interviews.get(interview_id)
            if interview is None:
                return
            message = self.reviews.broadcast_message(interview, kind)
            script = self.s.script(interview.script_id)
        if message is None:
            return
        key = self.reviews.broadcast_audio(interview, kind)
        for dest in self.s.destinations(script):
            out = message
            if key is not None:
                path, mime = await self.s.audio.review_copy(key[0], platform=dest.platform)
                out = OutMessage(message.text, message.buttons,
                                 Audio(path, mime, "Follow-up reply", key[1]))
            await self.send(dest, out)


def _first(uow: UnitOfWork, delivery: str | None) -> bool:
    """Record an inbound delivery (if it has a key); False if it was handled before."""
    return delivery is None or uow.first_delivery(delivery)


def _without_audio(message: OutMessage) -> OutMessage:
    """Edits change text and buttons only; the audio stays as first sent."""
    return OutMessage(message.text, message.buttons, None, message.title, message.ask_reply,
                      message.fields)
