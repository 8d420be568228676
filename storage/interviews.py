"""The interview aggregate on SQL: loading it with its answers, takes, follow-ups and questions,
and writing back what a command changed, with a versioned write on the interview row.

Rows go through SQLAlchemy Core with statements built once (this is the path of every answer);
storage/mapping.py says how each entity maps to its row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, func
from sqlalchemy import select as core_select
from sqlmodel import SQLModel

import storage.tables  # noqa: F401  (defines the tables below)
from core.model import Answer, CandidateQuestion, FollowUp, Interview, Take
from core.ports import ConcurrentUpdate
from core.refs import UserRef
from core.states import State
from storage.mapping import Shape, Values

INTERVIEW = SQLModel.metadata.tables["interview"]
ANSWER = SQLModel.metadata.tables["answer"]
TAKE = SQLModel.metadata.tables["take"]
FOLLOW_UP = SQLModel.metadata.tables["follow_up"]
QUESTION = SQLModel.metadata.tables["candidate_question"]

INTERVIEW_LINKS = ("version",)
INTERVIEW_NESTED = ("answers", "follow_ups", "candidate_questions")
INTERVIEW_ROW = Shape(Interview, INTERVIEW, links=INTERVIEW_LINKS, nested=INTERVIEW_NESTED)
ANSWER_ROW = Shape(Answer, ANSWER, links={"interview_id", "position"}, nested={"takes"})
TAKE_ROW = Shape(Take, TAKE, links={"interview_id", "answer_id"})
FOLLOW_UP_ROW = Shape(FollowUp, FOLLOW_UP, links={"interview_id", "reply_take_id"},
                      nested={"reply"})
QUESTION_ROW = Shape(CandidateQuestion, QUESTION, links={"interview_id"})
CHILDREN = (ANSWER, TAKE, FOLLOW_UP, QUESTION)  # parents before children (foreign keys)

# the statements of the hot path, built once (SQLAlchemy caches their compiled form)
BY_ID = core_select(INTERVIEW).where(INTERVIEW.c.id == bindparam("id"))
BY_TOKEN = core_select(INTERVIEW).where(INTERVIEW.c.token_hash == bindparam("token_hash"))
CURRENT_FOR = core_select(INTERVIEW).where(
    INTERVIEW.c.candidate_platform == bindparam("platform"),
    INTERVIEW.c.candidate_id == bindparam("user"),
    INTERVIEW.c.state != State.ERASED.value,
).order_by(INTERVIEW.c.accepted_at.desc()).limit(1)
CHILD_ROWS = {
    table.name: core_select(table).where(table.c.interview_id == bindparam("i")).order_by(order)
    for table, order in ((ANSWER, ANSWER.c.position), (TAKE, TAKE.c.number),
                         (FOLLOW_UP, FOLLOW_UP.c.asked_at), (QUESTION, QUESTION.c.asked_at))
}
# the versioned write: SET comes from the parameters' keys, so one statement per column set
VERSIONED = INTERVIEW.update().where(INTERVIEW.c.id == bindparam("_id"),
                                     INTERVIEW.c.version == bindparam("_version"))
CHILD_UPDATE = {t.name: t.update().where(t.c.id == bindparam("_key")) for t in CHILDREN}
CHILD_DELETE = {t.name: t.delete().where(t.c.id.in_(bindparam("keys", expanding=True)))
                for t in CHILDREN}
INSERT = {t.name: t.insert() for t in (INTERVIEW, *CHILDREN)}


def rows(i: Interview) -> dict[str, dict[str, Values]]:
    """The child rows of an aggregate by table name, then id."""
    answers: dict[str, Values] = {}
    takes: dict[str, Values] = {}
    for position, a in enumerate(i.answers):
        answers[a.id] = ANSWER_ROW.values(a, interview_id=i.id, position=position)
        for t in a.takes:
            takes[t.id] = TAKE_ROW.values(t, interview_id=i.id, answer_id=a.id)
    follow_ups: dict[str, Values] = {}
    for f in i.follow_ups:
        if f.reply is not None:
            takes[f.reply.id] = TAKE_ROW.values(f.reply, interview_id=i.id, answer_id=None)
        follow_ups[f.id] = FOLLOW_UP_ROW.values(
            f, interview_id=i.id, reply_take_id=f.reply.id if f.reply else None)
    questions = {q.id: QUESTION_ROW.values(q, interview_id=i.id) for q in i.candidate_questions}
    return {ANSWER.name: answers, TAKE.name: takes, FOLLOW_UP.name: follow_ups,
            QUESTION.name: questions}


@dataclass
class Snapshot:
    """An aggregate's rows as read (or last written), to write back only what changed."""

    version: int
    interview: Values
    children: dict[str, dict[str, Values]]


class KnownChildren:
    """The child rows of interviews as this process last read or committed them, by version.

    Every change to an interview's answers, takes, follow-ups or questions bumps its version
    (`SqlInterviews._save`), so rows kept for the version a fresh read of the interview row
    shows are current: loading then reads that one row instead of three or four tables. Only
    committed rows are kept (`keep` is called after the commit)."""

    def __init__(self, limit: int = 2_000) -> None:
        self.limit = limit
        self.rows: dict[str, tuple[int, dict[str, dict[str, Values]]]] = {}

    def get(self, interview_id: str, version: int) -> dict[str, dict[str, Values]] | None:
        found = self.rows.get(interview_id)
        return found[1] if found is not None and found[0] == version else None

    def keep(self, snapshots: dict[str, Snapshot]) -> None:
        if len(self.rows) + len(snapshots) > self.limit:
            self.rows.clear()  # cheaper than keeping an order; refilled as interviews are read
        for interview_id, snapshot in snapshots.items():
            self.rows[interview_id] = (snapshot.version, snapshot.children)

    def drop(self, interview_id: str) -> None:
        self.rows.pop(interview_id, None)


class SqlInterviews:
    """`InterviewRepository` on SQL; loaded aggregates are written back on commit.

    Only changed rows are written. Every write bumps the interview's `version` and requires the
    version it read, so of two transactions that changed one interview (two processes, or two
    tasks in one), the second to commit fails with `ConcurrentUpdate` instead of overwriting.
    """

    def __init__(self, connection: Callable[[], Connection],
                 known: KnownChildren | None = None) -> None:
        self.connection = connection
        self.known = known
        self.seen: dict[str, Interview] = {}
        self.snapshots: dict[str, Snapshot] = {}
        # state changes written by this transaction: (interview, state before or None if new)
        self.transitions: list[tuple[Interview, str | None]] = []

    def add(self, interview: Interview) -> None:
        self.seen[interview.id] = interview

    def _all(self, query: Any, **params: Any) -> list[Interview]:
        return [self._load(r) for r in self.connection().execute(query, params)]

    def _one(self, query: Any, **params: Any) -> Interview | None:
        row = self.connection().execute(query, params).first()
        return self._load(row) if row else None

    def get(self, interview_id: str) -> Interview | None:
        if interview_id in self.seen:
            return self.seen[interview_id]
        return self._one(BY_ID, id=interview_id)

    def by_token_hash(self, token_hash: str) -> Interview | None:
        return self._one(BY_TOKEN, token_hash=token_hash)

    def current_for(self, user: UserRef) -> Interview | None:
        return self._one(CURRENT_FOR, platform=user.platform, user=user.id)

    def for_script(self, script_id: str) -> list[Interview]:
        return self._all(core_select(INTERVIEW).where(INTERVIEW.c.script_id == script_id)
                         .order_by(INTERVIEW.c.number))

    def live(self, states: Iterable[State]) -> list[Interview]:
        return self._all(core_select(INTERVIEW).where(
            INTERVIEW.c.state.in_([s.value for s in states])))

    def is_candidate(self, script_id: str, user: UserRef) -> bool:
        """Whether the person was ever invited to this script as a candidate."""
        found = self.connection().execute(
            core_select(INTERVIEW.c.id).where(
                INTERVIEW.c.script_id == script_id,
                INTERVIEW.c.candidate_platform == user.platform,
                INTERVIEW.c.candidate_id == user.id).limit(1)).first()
        return found is not None or any(
            i.script_id == script_id and i.candidate == user for i in self.seen.values())

    def completed_page(self, script_ids: Iterable[str], offset: int, limit: int
                       ) -> list[Interview]:
        """Completed interviews of some scripts, newest first, one page (a bounded query)."""
        ids = list(script_ids)
        if not ids:
            return []
        return self._all(
            core_select(INTERVIEW).where(INTERVIEW.c.script_id.in_(ids),
                                         INTERVIEW.c.state == State.COMPLETED.value)
            .order_by(INTERVIEW.c.completed_at.desc(), INTERVIEW.c.id)
            .offset(offset).limit(limit))

    def next_number(self, script_id: str) -> int:
        found = self.connection().execute(
            core_select(func.max(INTERVIEW.c.number)).where(INTERVIEW.c.script_id == script_id)
        ).scalar()
        pending = [i.number for i in self.seen.values() if i.script_id == script_id]
        return max([found or 0, *pending]) + 1

    # -- reading -----------------------------------------------------------------------
    def _children(self, table: Any, interview_id: str) -> list[Any]:
        return list(self.connection().execute(CHILD_ROWS[table.name], {"i": interview_id}))

    def _load(self, row: Any) -> Interview:
        if row.id in self.seen:
            return self.seen[row.id]
        known = self.known.get(row.id, row.version) if self.known is not None else None
        interview = self._assemble(row, known) if known is not None else self._read(row)
        self.seen[row.id] = interview
        # the known rows are what `rows` makes of the aggregate built from them
        self.snapshots[row.id] = Snapshot(row.version, INTERVIEW_ROW.values(interview),
                                          known if known is not None else rows(interview))
        return interview

    def _read(self, row: Any) -> Interview:
        takes_by_answer: dict[str | None, list[Take]] = {}
        take_by_id: dict[str, Take] = {}
        for t in self._children(TAKE, row.id):
            take = take_by_id[t.id] = TAKE_ROW.load(t)
            takes_by_answer.setdefault(t.answer_id, []).append(take)
        answers = [ANSWER_ROW.load(a, takes=takes_by_answer.get(a.id, []))
                   for a in self._children(ANSWER, row.id)]
        # follow-ups and the candidate's questions exist only once an interview is complete
        complete = row.completed_at is not None
        follow_ups = [FOLLOW_UP_ROW.load(f, reply=take_by_id.get(f.reply_take_id or ""))
                      for f in (self._children(FOLLOW_UP, row.id) if complete else ())]
        questions = [QUESTION_ROW.load(q)
                     for q in (self._children(QUESTION, row.id) if complete else ())]
        interview: Interview = INTERVIEW_ROW.load(row, answers=answers, follow_ups=follow_ups,
                                                  candidate_questions=questions)
        return interview

    @staticmethod
    def _assemble(row: Any, children: dict[str, dict[str, Values]]) -> Interview:
        """The aggregate from its row and known child rows (in the order `rows` made them)."""
        takes_by_answer: dict[str | None, list[Take]] = {}
        take_by_id: dict[str, Take] = {}
        for key, t in children[TAKE.name].items():
            take = take_by_id[key] = TAKE_ROW.load_values(t)
            takes_by_answer.setdefault(t["answer_id"], []).append(take)
        answers = [ANSWER_ROW.load_values(a, takes=takes_by_answer.get(key, []))
                   for key, a in children[ANSWER.name].items()]
        follow_ups = [FOLLOW_UP_ROW.load_values(f, reply=take_by_id.get(f["reply_take_id"] or ""))
                      for f in children[FOLLOW_UP.name].values()]
        questions = [QUESTION_ROW.load_values(q) for q in children[QUESTION.name].values()]
        interview: Interview = INTERVIEW_ROW.load(row, answers=answers, follow_ups=follow_ups,
                                                  candidate_questions=questions)
        return interview

    # -- writing -----------------------------------------------------------------------
    def flush(self) -> None:
        """Write what changed in every loaded or added aggregate."""
        for interview in self.seen.values():
            self._save(interview)

    def _save(self, i: Interview) -> None:
        conn = self.connection()
        values, children = INTERVIEW_ROW.values(i), rows(i)
        before = self.snapshots.get(i.id)
        if before is None:
            self.transitions.append((i, None))
            conn.execute(INSERT[INTERVIEW.name], {**values, "version": 1})
            old: dict[str, dict[str, Values]] = {t.name: {} for t in CHILDREN}
            version = 1
        else:
            if values == before.interview and children == before.children:
                return
            changed = {k: v for k, v in values.items() if before.interview[k] != v}
            if "state" in changed:
                self.transitions.append((i, before.interview["state"]))
            version = before.version + 1
            done = conn.execute(VERSIONED, {**changed, "version": version, "_id": i.id,
                                            "_version": before.version})
            if done.rowcount != 1:
                if self.known is not None:
                    self.known.drop(i.id)
                raise ConcurrentUpdate(f"interview {i.id} changed since it was read")
            old = before.children
        for table in reversed(CHILDREN):  # children before parents
            gone = [k for k in old[table.name] if k not in children[table.name]]
            if gone:
                conn.execute(CHILD_DELETE[table.name], {"keys": gone})
        for table in CHILDREN:
            now, was = children[table.name], old[table.name]
            added = [v for k, v in now.items() if k not in was]
            if added:
                conn.execute(INSERT[table.name], added)
            for key, row in now.items():
                if key in was and was[key] != row:
                    diff = {k: v for k, v in row.items() if was[key][k] != v}
                    conn.execute(CHILD_UPDATE[table.name], {**diff, "_key": key})
        self.snapshots[i.id] = Snapshot(version, values, children)

    def committed(self) -> None:
        """The transaction committed: its aggregates' rows are now the stored ones."""
        if self.known is not None:
            self.known.keep(self.snapshots)
        self.forget()

    def forget(self) -> None:
        self.seen.clear()
        self.snapshots.clear()
        self.transitions.clear()
