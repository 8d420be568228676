"""In-memory storage behind core's ports: the store, the repositories and the unit of work.

Each fake names the port it implements as a base class, so mypy checks it still matches the
port. Used through `tests/support/core_fakes.py` (`make_world`)."""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import TracebackType

from core.fairness_records import AccommodationRequest, ConsentRecord, FairnessRecords
from core.model import AuditEntry, Interview, Rating, ReviewerDecision, ReviewPost
from core.ports import (
    AlreadyHandled,
    InterviewRepository,
    OutboxEntry,
    OutboxRepository,
    ReviewRepository,
    ScriptRevision,
    ScriptRevisionRepository,
    UnitOfWork,
)
from core.queries import InterviewSummary, SummaryPage, TimerFacts
from core.refs import ChatRef, UserRef
from core.report import reminder_key_prefixes
from core.states import State


@dataclass
class Store:
    """The committed state shared by every fake unit of work."""

    interviews: dict[str, Interview] = field(default_factory=dict)
    ratings: list[Rating] = field(default_factory=list)
    decisions: list[ReviewerDecision] = field(default_factory=list)
    posts: list[ReviewPost] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    deliveries: dict[str, datetime] = field(default_factory=dict)
    outbox: dict[int, OutboxEntry] = field(default_factory=dict)
    revisions: dict[str, ScriptRevision] = field(default_factory=dict)  # in insertion order
    prompts: dict[tuple[str, str], str] = field(default_factory=dict)
    # interview id -> category -> answer (voluntary self-identification, kept apart)
    self_id: dict[str, dict[str, str]] = field(default_factory=dict)
    consents: dict[str, ConsentRecord] = field(default_factory=dict)
    requests: dict[str, AccommodationRequest] = field(default_factory=dict)


class FakeInterviews(InterviewRepository):
    def __init__(self, data: Store) -> None:
        self.data = data

    def add(self, interview: Interview) -> None:
        self.data.interviews[interview.id] = interview

    def get(self, interview_id: str) -> Interview | None:
        return self.data.interviews.get(interview_id)

    def by_token_hash(self, token_hash: str) -> Interview | None:
        return next((i for i in self.data.interviews.values() if i.token_hash == token_hash),
                    None)

    def current_for(self, user: UserRef) -> Interview | None:
        mine = [i for i in self.data.interviews.values()
                if i.candidate == user and i.state.value != "erased"]
        return max(mine, key=lambda i: i.accepted_at or i.invited_at, default=None)

    def is_candidate(self, script_id: str, user: UserRef) -> bool:
        return any(i.script_id == script_id and i.candidate == user
                   for i in self.data.interviews.values())

    def completed_page(self, script_ids: Iterable[str], offset: int, limit: int
                       ) -> list[Interview]:
        ids = set(script_ids)
        done = [i for i in self.data.interviews.values()
                if i.script_id in ids and i.state.value == "completed"]
        done.sort(key=lambda i: (i.completed_at or i.invited_at), reverse=True)
        return done[offset:offset + limit]

    def for_script(self, script_id: str) -> list[Interview]:
        return sorted((i for i in self.data.interviews.values() if i.script_id == script_id),
                      key=lambda i: i.number)

    def live(self, states: Iterable[State]) -> list[Interview]:
        wanted = set(states)
        return [i for i in self.data.interviews.values() if i.state in wanted]

    def next_number(self, script_id: str) -> int:
        return 1 + max((i.number for i in self.data.interviews.values()
                        if i.script_id == script_id), default=0)


def summarise(i: Interview) -> InterviewSummary:
    return InterviewSummary(
        id=i.id, script_id=i.script_id, number=i.number, candidate_name=i.candidate_name,
        state=i.state, platform=i.platform, tz=i.tz, invited_at=i.invited_at,
        deadline=i.deadline, accepted_at=i.accepted_at, started_at=i.started_at,
        completed_at=i.completed_at, ended_at=i.ended_at, external_ref=i.external_ref,
        language=i.language,
        reachable=i.chat is not None, answers=len(i.done_ids()))


class FakeQueries:
    """`core.queries.InterviewQueries` over the committed store."""

    def __init__(self, data: Store) -> None:
        self.data = data

    def summary(self, interview_id: str) -> InterviewSummary | None:
        found = self.data.interviews.get(interview_id)
        return summarise(found) if found is not None else None

    def page(self, *, script_id: str | None = None, state: State | None = None,
             limit: int = 50, offset: int = 0) -> SummaryPage:
        found = sorted((i for i in self.data.interviews.values()
                        if script_id in (None, i.script_id) and state in (None, i.state)),
                       key=lambda i: (i.invited_at, i.id))
        return SummaryPage([summarise(i) for i in found[offset:offset + limit]], len(found))

    def listed(self, script_ids: Collection[str], states: Collection[State]
               ) -> list[InterviewSummary]:
        return [summarise(i) for i in sorted(self.data.interviews.values(),
                                             key=lambda i: (i.script_id, i.number))
                if i.script_id in script_ids and i.state in states]

    def state_counts(self) -> dict[tuple[str, State], int]:
        counts: dict[tuple[str, State], int] = {}
        for i in self.data.interviews.values():
            counts[i.script_id, i.state] = counts.get((i.script_id, i.state), 0) + 1
        return counts

    def timer_facts(self, states: Collection[State]) -> list[TimerFacts]:
        return [TimerFacts(
            id=i.id, script_id=i.script_id, script_revision=i.script_revision, state=i.state,
            tz=i.tz, chat=i.chat, invited_at=i.invited_at, deadline=i.deadline,
            consented_at=i.consented_at, started_at=i.started_at, completed_at=i.completed_at,
            last_activity_at=i.last_activity_at)
            for i in self.data.interviews.values() if i.state in states]


class FakeReviews(ReviewRepository):
    def __init__(self, data: Store) -> None:
        self.data = data

    def ratings(self, interview_id: str) -> list[Rating]:
        return [r for r in self.data.ratings if r.interview_id == interview_id]

    def put_rating(self, rating: Rating) -> Rating | None:
        for i, r in enumerate(self.data.ratings):
            if (r.answer_id, r.reviewer, r.criterion) == (rating.answer_id, rating.reviewer,
                                                          rating.criterion):
                self.data.ratings[i] = rating
                return r
        self.data.ratings.append(rating)
        return None

    def decisions(self, interview_id: str) -> list[ReviewerDecision]:
        return [d for d in self.data.decisions if d.interview_id == interview_id]

    def put_decision(self, decision: ReviewerDecision) -> None:
        self.data.decisions = [d for d in self.data.decisions
                               if (d.interview_id, d.reviewer) != (decision.interview_id,
                                                                   decision.reviewer)]
        self.data.decisions.append(decision)

    def posts(self, interview_id: str) -> list[ReviewPost]:
        return [p for p in self.data.posts if p.interview_id == interview_id]

    def add_post(self, post: ReviewPost) -> None:
        self.data.posts.append(post)

    def add_post_unless_erased(self, post: ReviewPost) -> bool:
        found = self.data.interviews.get(post.interview_id)
        if found is None or found.state is State.ERASED:
            return False
        self.data.posts.append(post)
        return True

    def remove_post(self, post: ReviewPost) -> None:
        self.data.posts = [p for p in self.data.posts if (
            p.interview_id, p.destination, p.message_id) != (
            post.interview_id, post.destination, post.message_id)]

    def audit(self, entry: AuditEntry) -> None:
        self.data.audit.append(entry)

    def add_reply_prompt(self, chat: ChatRef, message_id: str, target: str, at: datetime
                         ) -> None:
        self.data.prompts[(str(chat), message_id)] = target

    def reply_target(self, chat: ChatRef, message_id: str) -> str | None:
        return self.data.prompts.get((str(chat), message_id))

    def audit_log(self, interview_id: str) -> list[AuditEntry]:
        return [a for a in self.data.audit if a.interview_id == interview_id]

    def erase(self, interview_id: str) -> None:
        self.data.ratings = [r for r in self.data.ratings if r.interview_id != interview_id]
        self.data.decisions = [d for d in self.data.decisions if d.interview_id != interview_id]

    def reminders_sent(self, interview_id: str) -> int:
        prefixes = reminder_key_prefixes(interview_id)
        return sum(1 for key in self.data.deliveries if key.startswith(prefixes))


class FakeFairness(FairnessRecords):
    def __init__(self, data: Store) -> None:
        self.data = data

    def self_id(self, interview_id: str) -> dict[str, str]:
        return dict(self.data.self_id.get(interview_id, {}))

    def put_self_id(self, interview_id: str, category: str, answer: str, at: datetime) -> None:
        self.data.self_id.setdefault(interview_id, {})[category] = answer

    def self_id_for_script(self, script_id: str) -> dict[str, dict[str, str]]:
        return {i: dict(a) for i, a in self.data.self_id.items()
                if i in self.data.interviews and self.data.interviews[i].script_id == script_id}

    def put_consent(self, record: ConsentRecord) -> None:
        self.data.consents[record.interview_id] = record

    def consent(self, interview_id: str) -> ConsentRecord | None:
        return self.data.consents.get(interview_id)

    def requests(self, interview_id: str) -> list[AccommodationRequest]:
        return sorted((r for r in self.data.requests.values() if r.interview_id == interview_id),
                      key=lambda r: r.requested_at)

    def put_request(self, request: AccommodationRequest) -> None:
        self.data.requests[request.id] = copy.deepcopy(request)

    def requests_for_script(self, script_id: str) -> list[AccommodationRequest]:
        return [r for r in self.data.requests.values()
                if self.data.interviews[r.interview_id].script_id == script_id]

    def erase(self, interview_id: str) -> None:
        self.data.self_id.pop(interview_id, None)
        for r in self.data.requests.values():
            if r.interview_id == interview_id:
                r.note = ""


class FakeOutbox(OutboxRepository):
    def __init__(self, data: Store) -> None:
        self.data = data

    def add(self, body: str, due_at: datetime, owner: str | None = None,
            lease_until: datetime | None = None) -> int:
        entry_id = max(self.data.outbox, default=0) + 1
        self.data.outbox[entry_id] = OutboxEntry(entry_id, body, 0, due_at, owner, lease_until)
        return entry_id

    def due(self, now: datetime, limit: int) -> list[OutboxEntry]:
        return [e for _, e in sorted(self.data.outbox.items()) if e.due_at <= now
                and (e.lease_until is None or e.lease_until <= now)][:limit]

    def claim(self, entry: OutboxEntry, owner: str, now: datetime, until: datetime) -> bool:
        found = self.data.outbox.get(entry.id)
        if found is None or found.attempts != entry.attempts or (
                found.lease_until is not None and found.lease_until > now):
            return False
        self.data.outbox[entry.id] = replace(found, attempts=entry.attempts + 1,
                                             lease_owner=owner, lease_until=until)
        return True

    def renew(self, entry_id: int, owner: str, until: datetime) -> bool:
        found = self.data.outbox.get(entry_id)
        if found is None or found.lease_owner != owner:
            return False
        self.data.outbox[entry_id] = replace(found, lease_until=until)
        return True

    def save(self, entry_id: int, owner: str, body: str, due_at: datetime,
             until: datetime | None) -> bool:
        found = self.data.outbox.get(entry_id)
        if found is None or found.lease_owner != owner:
            return False
        self.data.outbox[entry_id] = replace(found, body=body, due_at=due_at, lease_until=until,
                                             lease_owner=owner if until else None)
        return True

    def done(self, entry_id: int, owner: str) -> bool:
        found = self.data.outbox.get(entry_id)
        if found is None or found.lease_owner != owner:
            return False
        del self.data.outbox[entry_id]
        return True

    def done_all(self, entry_ids: Collection[int], owner: str) -> int:
        return sum(self.done(entry_id, owner) for entry_id in entry_ids)


class FakeScriptRevisions(ScriptRevisionRepository):
    def __init__(self, data: Store) -> None:
        self.data = data

    def add(self, revision: ScriptRevision) -> None:
        self.data.revisions.setdefault(revision.hash, revision)

    def get(self, revision_hash: str) -> ScriptRevision | None:
        return self.data.revisions.get(revision_hash)

    def latest(self, script_id: str) -> ScriptRevision | None:
        found = [r for r in self.data.revisions.values() if r.script_id == script_id]
        return found[-1] if found else None


class FakeUnitOfWork(UnitOfWork):
    """Works on a deep copy of the store; commit publishes it, anything else discards it."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.commits = 0

    def __enter__(self) -> FakeUnitOfWork:
        self.working = copy.deepcopy(self.store)
        self._interviews = FakeInterviews(self.working)
        self._reviews = FakeReviews(self.working)
        self._outbox = FakeOutbox(self.working)
        self._scripts = FakeScriptRevisions(self.working)
        self._fairness = FakeFairness(self.working)
        self.unchecked: set[str] = set()
        return self

    @property
    def interviews(self) -> FakeInterviews:
        return self._interviews

    @property
    def reviews(self) -> FakeReviews:
        return self._reviews

    @property
    def outbox(self) -> FakeOutbox:
        return self._outbox

    @property
    def scripts(self) -> FakeScriptRevisions:
        return self._scripts

    @property
    def fairness(self) -> FakeFairness:
        return self._fairness

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.working = Store()

    def first_delivery(self, key: str, at: datetime | None = None) -> bool:
        if key in self.working.deliveries:
            return False
        self.working.deliveries[key] = at or datetime.now(UTC)
        return True

    def record_delivery(self, key: str) -> None:
        self.unchecked.add(key)

    def seen(self, key: str) -> bool:
        return key in self.store.deliveries

    def recent(self, prefix: str, since: datetime) -> int:
        return sum(1 for key, at in self.working.deliveries.items()
                   if key.startswith(prefix) and at >= since)

    def commit(self) -> None:
        if self.unchecked & self.store.deliveries.keys():
            raise AlreadyHandled(", ".join(sorted(self.unchecked & self.store.deliveries.keys())))
        for key in self.unchecked:
            self.working.deliveries[key] = datetime.now(UTC)
        self.unchecked = set()
        for name in vars(self.store):
            setattr(self.store, name, copy.deepcopy(getattr(self.working, name)))
        self.commits += 1

    def rollback(self) -> None:
        self.__enter__()
