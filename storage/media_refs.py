"""Which media keys the database still refers to; the orphan sweep (bots.audio.sweep) may
remove the media of any other key of an interview the database knows.

Media keys are `<interview id>/<take id>` for recordings (the `take.media_key` column) and
`<interview id>/reel` for an interview's reel, which is kept until the interview is erased.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from core.states import State
from storage.tables import InterviewRow, TakeRow

REEL = "reel"  # the last part of an interview's reel key (core.engine makes `<id>/reel`)


@dataclass(frozen=True)
class MediaRefs:
    """The keys the database refers to, and every interview id it holds."""

    keys: frozenset[str]
    interviews: frozenset[str]
    erased: frozenset[str] = frozenset()  # interviews erased: their media goes at once

    def keeps(self, key: str) -> bool:
        """False only for a key of a known interview that nothing refers to: media of an
        interview this database does not hold (another database, a wrong setting) is kept."""
        return key in self.keys or key.split("/", 1)[0] not in self.interviews

    def gone(self, key: str) -> bool:
        """Whether a key belongs to an erased interview (a cached copy left on a process
        that did not do the erasure): removed by the next sweep, whatever its age."""
        return key.split("/", 1)[0] in self.erased


def media_refs(db: Engine) -> MediaRefs:
    """Referenced keys and known interviews, read in one transaction (interviews first, so a
    take committed in between is counted as referenced, never as an orphan)."""
    with Session(db) as session:
        interviews = session.exec(select(InterviewRow.id, InterviewRow.state)).all()
        keys = _take_keys(session)
    reels = {f"{i}/{REEL}" for i, state in interviews if state != State.ERASED.value}
    return MediaRefs(frozenset(keys | reels), frozenset(i for i, _ in interviews),
                     frozenset(i for i, state in interviews if state == State.ERASED.value))


def referenced_keys(db: Engine) -> frozenset[str]:
    """Every media key a take row names, plus the reel of each interview not erased."""
    return media_refs(db).keys


def _take_keys(session: Session) -> set[str]:
    query = select(TakeRow.media_key).where(col(TakeRow.media_key).is_not(None))
    return {key for key in session.exec(query) if key}
