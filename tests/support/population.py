"""A realistic population of 20 interviews of the `qa` script, driven through the real engine.

Every number the funnel report should show for it is listed in `EXPECTED` (worked out by hand
from the story below), so unit tests on fakes and end-to-end tests on SQLite assert the same.

Story (hours after T0 = the first invitations; candidate numbers are invitation order):
- #1-#14 invited at T0. #1-#11 complete after 1, 2, 3, 5, 8, 13, 21, 24, 30, 48, 72 h
  (#1-#5 answer the practice question, the others skip it). #12 never opens the link and
  expires; #13 answers Q1 and expires at Q2; #14 opens the link and declines consent.
- #15-#20 invited at T0 + 5 d: #15 and #16 never open it; #17 opens it but does not consent;
  #18 consents and stops at the practice question; #19 skips practice and stops at Q1;
  #20 answers Q1 and withdraws.
- Candidate reminders: #11 idle (24 h), #13 idle and before-deadline, #17 not-started twice,
  #18 idle (consent is the start), #19 idle = 7. The deadline expiries and a reviewer
  digest are not reminders.
- Ratings (bug.depth, voice.depth, voice.clarity) on a 1-5 scale:
  #1 R1 4 4 5 (at 50 h), R2 4 3 5 (60 h), both decide; #2 R1 2 2 3, R2 3 2 2 (60 h), R1 decides;
  #3 R1 5 4 4 (80 h), decides; #4 R2 3 3 3 (80 h), R3 3 4 3 (100 h); #5 R1 bug only;
  #6 R3 bug 4 + voice depth 5, R1 bug 5 (not fully rated).
- Experience ratings: #1-#7 give 5 4 4 3 5 2 4, #9 gives 5, #10 gives 1; #8 and #11 skip it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.commands import (
    ButtonPressed,
    CreateInvitation,
    InviteAccepted,
    MediaReceived,
    TextReceived,
    UserCommand,
)
from core.messages import OutMessage
from core.model import Decision, Interview, ReviewerDecision, hash_token
from core.ports import UnitOfWorkFactory
from core.refs import ChatRef, MediaRef, MessageRef, UserRef
from core.reminders import TimerKind
from core.states import State
from core.vocabulary import Verb
from tests.support.core_fakes import FakeClock, FakeMessenger, World, make_world
from tests.support.scripts import script_data, small_script

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
REMINDERS = {"not_started": ["24h", "72h"], "idle": "24h", "before_deadline": "24h",
             "reviewers": "48h"}
CHANNEL = ChatRef("slack", "CREV")
R1, R2, R3 = UserRef("slack", "U1"), UserRef("slack", "U2"), UserRef("slack", "U3")
HOUR = 3600.0
ADVANCE, HOLD, REJECT = 0, 1, 2  # columns of the decision buttons


def population_script_data() -> dict[str, Any]:
    """The script as YAML-ready data (for the CLI's INTERVIEWBOT_SCRIPTS)."""
    return script_data(reminders=REMINDERS)


EXPECTED: dict[str, Any] = {
    "funnel": [("invited", 20, 100.0), ("started", 15, 75.0), ("screened out", 0, 0.0),
               ("completed", 11, 55.0),
               ("reviewed", 4, 20.0), ("decided", 3, 15.0)],
    # step: (open, expired, withdrawn)
    "drop_off": {"invitation": (2, 1, 0), "consent": (1, 0, 1), "warmup": (1, 0, 0),
                 "bug": (1, 0, 0), "voice": (0, 1, 1)},
    "time_to_complete": (11, 13 * HOUR, 48 * HOUR),
    "reminders_sent": 7,
    # last rating minus completion: #1 60-1, #2 60-2, #3 80-3, #4 100-5 hours
    "reviewer_turnaround": (4, 68 * HOUR, 89.6 * HOUR),
    "experience": (9, 33 / 9, {1: 1, 2: 1, 3: 1, 4: 3, 5: 3}),
    # units with two ratings: #1 (4,4) (4,3) (5,5); #2 (2,3) (2,2) (3,2); #4 (3,3) (3,4) (3,3);
    # #6 bug (4,5). Krippendorff's alpha (interval), by hand: n = 20 values, within-unit squared
    # differences over ordered pairs 10, across all pairs 2(20 * 243 - 67^2) = 742, so
    # alpha = 1 - (n - 1) * 10 / 742 = 276 / 371.
    "alpha": (276 / 371, 10, 20),
}


class Population:
    """Drives candidates and reviewers through one engine, hour by hour."""

    def __init__(self, uow: UnitOfWorkFactory | None = None) -> None:
        self.world: World = make_world(small_script(reminders=REMINDERS), uow=uow,
                                       clock=FakeClock(T0))
        self.ids: dict[int, str] = {}
        self.tokens: dict[int, str] = {}

    # -- time and people -----------------------------------------------------------------
    def at(self, hours: float) -> None:
        target = T0 + timedelta(hours=hours)
        assert target >= self.world.clock.current, "the story only moves forward"
        self.world.clock.current = target

    @staticmethod
    def user(n: int) -> UserRef:
        return UserRef("telegram", str(1000 + n))

    @staticmethod
    def chat(n: int) -> ChatRef:
        return ChatRef("telegram", str(1000 + n))

    @property
    def telegram(self) -> FakeMessenger:
        return self.world.telegram

    def invite(self, *numbers: int) -> None:
        for n in numbers:
            interview, token = self.world.engine.invite(
                CreateInvitation("qa", f"Person {n}", "telegram", "UTC"))
            assert interview.number == n
            self.ids[n], self.tokens[n] = interview.id, token

    async def accept(self, n: int) -> None:
        await self.world.engine.handle(InviteAccepted(self.user(n), self.chat(n), self.tokens[n]))

    async def press(self, n: int, label: str) -> None:
        payload, ref = self.telegram.button(self.chat(n), label)
        await self.world.engine.handle(ButtonPressed(self.user(n), self.chat(n), payload, ref))

    async def text(self, n: int, body: str) -> None:
        await self.world.engine.handle(TextReceived(self.user(n), self.chat(n), body))

    async def voice(self, n: int) -> None:
        file_id = f"voice-{n}"
        self.telegram.files[file_id] = b"speech:20"
        media = MediaRef("telegram", file_id, "voice", "audio/ogg", 100, 20.0)
        await self.world.engine.handle(MediaReceived(self.user(n), self.chat(n), media))

    # -- candidate steps -----------------------------------------------------------------
    async def consent(self, n: int, practice: bool = False) -> None:
        await self.accept(n)
        await self.press(n, "I agree")
        if practice:
            await self.text(n, "Hello, this is my practice answer.")
            await self.press(n, "Submit")
        else:
            await self.press(n, "Skip practice")

    async def answer_bug(self, n: int) -> None:
        await self.text(n, "A race condition in the cache invalidation.")
        await self.press(n, "Submit")

    async def answer_voice(self, n: int, experience: int | None) -> None:
        await self.voice(n)
        await self.press(n, "Submit")
        await self.press(n, "Done")
        if experience is not None:
            await self.press(n, str(experience))

    async def fire(self, n: int, kind: TimerKind, index: int = 0) -> None:
        """Fire a timer that is due; a candidate reminder must reach the candidate."""
        before = len(self.telegram.texts(self.chat(n)))
        await self.world.engine.timer_fired(self.ids[n], kind.value, index)
        if kind in (TimerKind.NOT_STARTED, TimerKind.IDLE, TimerKind.BEFORE_DEADLINE):
            assert len(self.telegram.texts(self.chat(n))) == before + 1, (n, kind)

    # -- reviewers -----------------------------------------------------------------------
    def _card(self, n: int, prefix: str) -> tuple[OutMessage, MessageRef]:
        for sent in self.world.slack.sent:
            if sent.chat == CHANNEL and sent.message.text.startswith(f"Candidate #{n} {prefix}"):
                return sent.message, sent.ref
        raise AssertionError(f"no card {prefix!r} for candidate #{n}")

    async def rate(self, who: UserRef, n: int, question: int, row: int, score: int) -> None:
        message, ref = self._card(n, f"· Question {question} of 2")
        payload = message.buttons[row][score - 1].payload
        reply = await self.world.engine.handle(ButtonPressed(who, CHANNEL, payload, ref))
        assert reply is not None and reply.startswith("You rated"), reply

    async def rate_all(self, who: UserRef, n: int, bug: int, depth: int, clarity: int) -> None:
        await self.rate(who, n, 1, 0, bug)
        await self.rate(who, n, 2, 0, depth)
        await self.rate(who, n, 2, 1, clarity)

    async def decide(self, who: UserRef, n: int, column: int) -> None:
        message, ref = self._card(n, "completed")
        payload = message.buttons[0][column].payload
        reply = await self.world.engine.handle(ButtonPressed(who, CHANNEL, payload, ref))
        assert reply is not None and reply.startswith("Your decision"), reply

    # -- the story -----------------------------------------------------------------------
    async def complete(self, n: int, hours: float, experience: int | None) -> None:
        self.at(hours)
        await self.answer_bug(n)
        await self.answer_voice(n, experience)

    async def run(self) -> None:
        self.at(0)
        self.invite(*range(1, 15))
        for n in range(1, 12):
            await self.consent(n, practice=n <= 5)
        await self.consent(13)
        await self.accept(14)
        await self.press(14, "No thanks")
        await self.complete(1, 1, 5)
        await self.complete(2, 2, 4)
        await self.answer_bug(13)
        await self.complete(3, 3, 4)
        await self.complete(4, 5, 3)
        await self.complete(5, 8, 5)
        await self.complete(6, 13, 2)
        await self.complete(7, 21, 4)
        await self.complete(8, 24, None)
        await self.fire(11, TimerKind.IDLE)  # #11 skipped practice at 0 h, then nothing
        self.at(26)
        await self.fire(13, TimerKind.IDLE)  # #13 answered Q1 at 2 h
        await self.complete(9, 30, 5)
        await self.complete(10, 48, 1)
        self.at(49)
        await self.fire(1, TimerKind.REVIEW, 0)  # a reviewer digest: not a candidate reminder
        self.at(50)
        await self.rate_all(R1, 1, 4, 4, 5)
        await self.decide(R1, 1, ADVANCE)
        self.at(60)
        await self.rate_all(R2, 1, 4, 3, 5)
        await self.decide(R2, 1, HOLD)
        await self.rate_all(R1, 2, 2, 2, 3)
        await self.rate_all(R2, 2, 3, 2, 2)
        await self.decide(R1, 2, REJECT)
        await self.complete(11, 72, None)
        self.at(80)
        await self.rate_all(R1, 3, 5, 4, 4)
        await self.decide(R1, 3, ADVANCE)
        await self.rate_all(R2, 4, 3, 3, 3)
        await self.rate(R1, 5, 1, 0, 3)
        await self.rate(R3, 6, 1, 0, 4)
        await self.rate(R3, 6, 2, 0, 5)
        await self.rate(R1, 6, 1, 0, 5)
        self.at(100)
        await self.rate_all(R3, 4, 3, 4, 3)
        self.at(120)
        self.invite(*range(15, 21))
        await self.accept(17)
        await self.accept(18)
        await self.press(18, "I agree")
        await self.consent(19)
        await self.consent(20)
        await self.answer_bug(20)
        await self.world.engine.handle(UserCommand(self.user(20), self.chat(20), Verb.WITHDRAW))
        await self.press(20, "Yes, withdraw")
        self.at(144)
        await self.fire(13, TimerKind.BEFORE_DEADLINE)
        await self.fire(17, TimerKind.NOT_STARTED, 0)
        await self.fire(18, TimerKind.IDLE)  # consented at 120 h: started, so idle
        await self.fire(19, TimerKind.IDLE)
        self.at(168)
        await self.fire(12, TimerKind.EXPIRE)
        await self.fire(13, TimerKind.EXPIRE)
        self.at(192)
        await self.fire(17, TimerKind.NOT_STARTED, 1)


# -- the fairness population ---------------------------------------------------------------
# 324 interviews of a script with a self_id block, seeded straight into a unit of work (the
# survey itself is driven through the engine in tests/unit/test_self_id.py). Each cohort:
# (sex, race/ethnicity, completed, advanced); None = that question not answered.
FAIRNESS_SELF_ID = {
    "sex": ["Female", "Male", "Another"],
    "race_ethnicity": ["Asian", "Black", "Hispanic or Latino", "White", "Two or more races"],
}
FAIRNESS_COHORTS: list[tuple[str | None, str | None, int, int]] = [
    ("Female", "Asian", 20, 8),
    ("Female", "Black", 20, 4),
    ("Female", "White", 40, 12),
    ("Female", "Hispanic or Latino", 20, 6),
    ("Male", "Asian", 30, 17),
    ("Male", "Black", 20, 8),
    ("Male", "White", 50, 26),
    ("Male", "Hispanic or Latino", 20, 9),
    ("Male", "Prefer not to say", 6, 3),
    ("Another", "Two or more races", 3, 2),
    ("Prefer not to say", "White", 10, 4),
    (None, "Black", 5, 1),  # answered the second question only
    (None, None, 15, 5),  # completed, skipped the survey
]
FAIRNESS_STARTED_ONLY = 25  # consented, never completed: no survey, no group
FAIRNESS_INVITED_ONLY = 40
# Worked out by hand from the cohorts: group -> (invited, started, completed, advanced).
# Sex: Female 100 completed (20+20+40+20), 30 advanced (8+4+12+6): rate 0.30; Male 126
# (30+20+50+20+6), 63 advanced: 0.50, the reference; Another 3 of 3: too few (its rate 2/3 is
# the highest, yet it is not the reference); No answer 5 + 15 completed + 25 + 40 others.
# Female's impact ratio 0.30 / 0.50 = 0.60: flagged.
# Race/ethnicity: Asian 50 (20+30), 25 advanced: 0.50, the reference; Black 45 (20+20+5), 13: ratio
# (13/45) / 0.5 = 26/45; White 100, 42: 0.84; Hispanic 40, 15: 0.75; Two or more 3: too few.
FAIRNESS_EXPECTED: dict[str, dict[str, tuple[int, int, int, int]]] = {
    "sex": {"Female": (100, 100, 100, 30), "Male": (126, 126, 126, 63), "Another": (3, 3, 3, 2),
            "Prefer not to say": (10, 10, 10, 4), "No answer": (85, 45, 20, 6)},
    "race_ethnicity": {"Asian": (50, 50, 50, 25), "Black": (45, 45, 45, 13),
                       "Hispanic or Latino": (40, 40, 40, 15), "White": (100, 100, 100, 42),
                       "Two or more races": (3, 3, 3, 2), "Prefer not to say": (6, 6, 6, 3),
                       "No answer": (80, 40, 15, 5)},
}
FAIRNESS_RATIOS = {"sex": {"Female": 0.6, "Male": 1.0},
                   "race_ethnicity": {"Asian": 1.0, "Black": 26 / 45, "Hispanic or Latino": 0.75,
                                      "White": 0.84}}


def fairness_script_data() -> dict[str, Any]:
    return script_data(self_id=FAIRNESS_SELF_ID,
                       notice="We assess your answers to three questions. Only the hiring team "
                              "hears them; we keep them for 90 days; people make every decision.")


def seed_fairness(uow_factory: UnitOfWorkFactory) -> int:
    """Write the fairness population in one transaction; return how many interviews."""
    number = 0

    def interview(started: bool, completed: bool) -> Interview:
        nonlocal number
        number += 1
        at = T0 + timedelta(minutes=number)
        return Interview(
            id=f"f{number:04d}", script_id="qa", number=number, candidate_name=f"P{number}",
            token_hash=hash_token(f"fair-{number}"), invited_at=at, deadline=at + timedelta(7),
            platform="telegram", state=State.COMPLETED if completed else
            State.IN_PROGRESS if started else State.INVITED,
            accepted_at=at if started else None, consented_at=at if started else None,
            completed_at=at + timedelta(hours=1) if completed else None)

    people = [(interview(True, True), sex, race, k < advanced, k)
              for sex, race, completed, advanced in FAIRNESS_COHORTS for k in range(completed)]
    others = [interview(True, False) for _ in range(FAIRNESS_STARTED_ONLY)]
    others += [interview(False, False) for _ in range(FAIRNESS_INVITED_ONLY)]
    with uow_factory() as uow:  # the interviews first: the records refer to them
        for i in [p[0] for p in people] + others:
            uow.interviews.add(i)
        uow.commit()
    decided = T0 + timedelta(days=2)
    with uow_factory() as uow:
        for i, sex, race, advanced, k in people:
            for category, answer in (("sex", sex), ("race_ethnicity", race)):
                if answer is not None:
                    uow.fairness.put_self_id(i.id, category, answer, T0)
            # advanced: an Advance from R1 (every third also a Hold from R2);
            # not advanced: a Reject from R1 (every second also a Hold from R2)
            first = Decision.ADVANCE if advanced else Decision.REJECT
            uow.reviews.put_decision(ReviewerDecision(i.id, R1, first, decided))
            if k % (3 if advanced else 2) == 0:
                uow.reviews.put_decision(ReviewerDecision(i.id, R2, Decision.HOLD, decided))
        uow.commit()
    return number
