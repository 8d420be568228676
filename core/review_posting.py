"""Review posting: the outbox steps that put an interview in front of its reviewers (cards,
the reel, broadcasts), keep the cards current, and take everything away on erasure.

Every step reads what it needs in a short transaction, closes it, then renders (ffmpeg) and
calls the platform; no transaction is open across an await. Every message posted about an
interview is recorded (`ReviewPost`) right after it is sent, unless the interview was erased
meanwhile: then it is deleted at once.
"""

from __future__ import annotations

import logging

from core import outbox, texts
from core import payloads as pl
from core.capabilities import capabilities
from core.i18n import N_, t
from core.messages import Audio, Button, OutMessage
from core.model import Interview, ReviewPost
from core.outbox import Step
from core.ports import DeliveryFailed, Messenger, StepFailed
from core.refs import MessageRef
from core.review import answer_card, candidate_label, scored_answers, summary_card
from core.services import Services
from core.states import State

log = logging.getLogger("interviewbot.review")
ERASED_TEXT = N_("This answer was erased at the candidate's request.")


class ReviewPosting:
    """Runs the review steps of the outbox (see `core.outbox`)."""

    def __init__(self, services: Services) -> None:
        self.s = services

    def messenger(self, platform: str) -> Messenger:
        found = self.s.messengers.get(platform)
        if found is None:
            raise DeliveryFailed(f"no {platform} channel is running")
        return found

    def _interview(self, interview_id: str) -> tuple[Interview | None, list[ReviewPost]]:
        with self.s.uow() as uow:
            interview = uow.interviews.get(interview_id)
            return interview, uow.reviews.posts(interview_id) if interview else []

    async def record(self, post: ReviewPost, ref: MessageRef) -> None:
        """Keep a sent message as a post about its interview; delete it if the interview was
        erased after the step checked (the erasure's own step may have run already)."""
        post = ReviewPost(post.interview_id, post.destination, ref.id, post.answer_id,
                          post.kind, ref.parts)
        with self.s.uow() as uow:
            kept = uow.reviews.add_post_unless_erased(post)
            uow.commit()
        if not kept:
            log.info("a post raced an erasure; deleting it", extra={
                "interview_id": post.interview_id})
            await self._remove(post)

    # -- posting -----------------------------------------------------------------------
    async def expand(self, step: Step) -> list[Step]:
        """An interview's cards and reel for every destination, minus what is posted."""
        interview, posts = self._interview(str(step.interview_id))
        if interview is None or interview.state is not State.COMPLETED:
            return []
        script = self.s.script(interview)
        done = {(str(p.destination), p.answer_id if p.kind == "card" else p.kind)
                for p in posts}
        steps: list[Step] = []
        clips = [a for a in scored_answers(script, interview) if a.kept and a.kept.media_key]
        for dest in self.s.destinations(script):
            if dest.platform not in self.s.messengers:
                log.warning("review destination %s skipped: channel not running", dest)
                continue
            for answer_id in [None, *(a.id for a in scored_answers(script, interview))]:
                if (str(dest), answer_id) not in done:
                    steps.append(outbox.about(outbox.CARD, interview.id, dest=str(dest),
                                              answer=answer_id))
            if len(clips) >= 2 and (str(dest), "reel") not in done:
                steps.append(outbox.about(outbox.REEL, interview.id, dest=str(dest)))
        return steps

    async def card(self, step: Step) -> str | None:
        """One card to one destination, rendered now (current ratings, audio copy)."""
        dest, answer_id = step.chat(), step.args.get("answer")
        with self.s.uow() as uow:
            interview = uow.interviews.get(str(step.interview_id))
            if interview is None or interview.state is not State.COMPLETED:
                return None
            if any(p.destination == dest and p.answer_id == answer_id and p.kind == "card"
                   for p in uow.reviews.posts(interview.id)):
                return None  # posted before (a step cut short between send and save)
            ratings = uow.reviews.ratings(interview.id)
            decisions = uow.reviews.decisions(interview.id)
        script = self.s.script(interview)
        if answer_id is None:
            message = summary_card(script, interview, decisions, ratings)
        else:
            answer = interview.answer_by_id(answer_id)
            if answer is None or answer.kept is None:
                return None
            audio = None
            take = answer.kept
            if take.media_key:
                path, mime = await self.s.audio.review_copy(
                    take.media_key, fmt=capabilities(dest.platform).inline_audio)
                label = texts.question_label(script, script.question(answer.question_id))
                audio = Audio(path, mime, label, take.duration or 0.0)
            message = answer_card(script, interview, answer, ratings, audio)
        ref = await self.messenger(dest.platform).send(dest, message)
        await self.record(ReviewPost(interview.id, dest, ref.id, answer_id), ref)
        return ref.id

    async def reel(self, step: Step) -> str | None:
        """Every voice answer in one file with chapters, for listening start to finish."""
        dest = step.chat()
        interview, posts = self._interview(str(step.interview_id))
        if interview is None or interview.state is not State.COMPLETED or any(
                p.destination == dest and p.kind == "reel" for p in posts):
            return None
        script = self.s.script(interview)
        team = texts.review_lang(script)
        clips = [(texts.question_label(script, script.question(a.question_id), team),
                  a.kept.media_key) for a in scored_answers(script, interview)
                 if a.kept and a.kept.media_key]
        reel = await self.s.audio.reel(clips, key=f"{interview.id}/reel")
        path, mime = await self.s.audio.review_copy(
            reel.key, fmt=capabilities(dest.platform).inline_audio)
        chapters = "\n".join(f"{texts.clock(c.start)} {c.title}" for c in reel.chapters)
        message = OutMessage(t(team, N_("{label}: every voice answer in one recording "
                                        "({length})."), label=candidate_label(script, interview),
                               length=texts.clock(reel.duration)) + f"\n{chapters}",
                             audio=Audio(path, mime, t(team, N_("Interview reel")),
                                         reel.duration))
        ref = await self.messenger(dest.platform).send(dest, message)
        await self.record(ReviewPost(interview.id, dest, ref.id, None, "reel"), ref)
        return ref.id

    def lost(self, step: Step) -> Step | None:
        """The notice to a destination that a card could not be posted (sent once, when the
        destination is reachable again)."""
        interview, _ = self._interview(str(step.interview_id))
        if interview is None or interview.state is State.ERASED:
            return None
        script = self.s.script(interview)
        team = texts.review_lang(script)
        values = {"label": candidate_label(script, interview), "attempts": step.attempts,
                  "error": step.error or t(team, N_("unknown error"))}
        text = (t(team, N_("{label}: the reel could not be posted here after {attempts} attempts "
                           "({error}). `interviewbot results` has every answer."), **values)
                if step.kind == outbox.REEL else
                t(team, N_("{label}: a review card could not be posted here after {attempts} "
                           "attempts ({error}). `interviewbot results` has every answer."),
                  **values))
        return outbox.send(step.chat(), OutMessage(text), about=interview.id)

    # -- broadcasts --------------------------------------------------------------------
    async def broadcast(self, step: Step) -> list[Step]:
        """A candidate's question or follow-up reply, one send per review destination."""
        interview, _ = self._interview(str(step.interview_id))
        if interview is None or interview.state is State.ERASED:
            return []
        script = self.s.script(interview)
        team = texts.review_lang(script)
        who = candidate_label(script, interview)
        message: OutMessage | None = None
        audio: tuple[str, float] | None = None
        if "question" in step.args:
            q = next((q for q in interview.candidate_questions
                      if q.id == step.args["question"]), None)
            if q is not None:
                message = OutMessage(t(team, N_("{label} asks the team: \"{question}\""),
                                       label=who, question=q.text),
                                     ((Button(t(team, N_("Reply")),
                                              pl.make(pl.REPLY, interview.id, q.id)),),))
        else:
            follow_up = interview.follow_up(str(step.args.get("follow_up")))
            reply = follow_up.reply if follow_up else None
            answer = interview.answer_by_id(follow_up.answer_id) if follow_up else None
            if follow_up is not None and reply is not None and answer is not None:
                label = texts.question_label(script, script.question(answer.question_id), team)
                body = (reply.text or "" if reply.kind == "text"
                        else t(team, N_("voice reply, {length}"),
                               length=texts.clock(reply.duration)))
                message = OutMessage(t(team, N_("{label} answered the follow-up on {question}:"),
                                       label=who, question=label) + "\n"
                                     + t(team, N_("Q: {question}"), question=follow_up.text)
                                     + "\n" + t(team, N_("A: {answer}"), answer=body))
                if reply.media_key:
                    audio = (reply.media_key, reply.duration or 0.0)
        if message is None:
            return []
        steps = []
        for dest in self.s.destinations(script):
            out = message
            if audio is not None:
                path, mime = await self.s.audio.review_copy(
                    audio[0], fmt=capabilities(dest.platform).inline_audio)
                out = OutMessage(message.text, message.buttons,
                                 Audio(path, mime, t(team, N_("Follow-up reply")), audio[1]))
            steps.append(outbox.send(dest, out, about=interview.id))
        return steps

    # -- refreshing --------------------------------------------------------------------
    async def refresh(self, step: Step) -> None:
        """Re-render the posted cards of one answer (None: the summary card)."""
        answer_id = step.args.get("answer")
        with self.s.uow() as uow:
            interview = uow.interviews.get(str(step.interview_id))
            if interview is None or interview.state is State.ERASED:
                return
            posts = [p for p in uow.reviews.posts(interview.id)
                     if p.kind == "card" and p.answer_id == answer_id]
            ratings = uow.reviews.ratings(interview.id)
            decisions = uow.reviews.decisions(interview.id)
        if not posts:
            return
        script = self.s.script(interview)
        if answer_id is None:
            card = summary_card(script, interview, decisions, ratings)
        else:
            answer = interview.answer_by_id(answer_id)
            if answer is None or answer.kept is None:
                return
            card = answer_card(script, interview, answer, ratings)
        failed: list[str] = []
        for post in posts:
            try:
                await self.messenger(post.destination.platform).edit(
                    MessageRef(post.destination, post.message_id), card)
            except Exception as exc:
                failed.append(f"{post.destination.platform}: {exc}")
        if failed:
            raise StepFailed("; ".join(failed))

    # -- erasure -----------------------------------------------------------------------
    async def erase(self, step: Step) -> None:
        """Delete every message posted about an erased interview; where the platform refuses,
        edit it to say the answer was erased (no buttons). Each post is forgotten once done,
        so a retry does only what is left."""
        interview, posts = self._interview(str(step.interview_id))
        if interview is None:
            return
        failed: list[str] = []
        for post in posts:
            try:
                await self._remove(post)
            except Exception as exc:
                failed.append(f"{post.destination.platform}: {exc}")
                continue
            with self.s.uow() as uow:
                uow.reviews.remove_post(post)
                uow.commit()
        if failed:
            raise StepFailed("; ".join(failed))

    async def _remove(self, post: ReviewPost) -> None:
        messenger = self.messenger(post.destination.platform)
        refused = await messenger.delete(MessageRef(post.destination, post.message_id,
                                                    post.parts))
        for ref in refused:
            await messenger.edit(ref, OutMessage(ERASED_TEXT))
        if refused:
            log.info("the platform kept %d erased messages; edited them instead",
                     len(refused), extra={"platform": post.destination.platform})
