"""storage/mapping.py: a dataclass field is stored in the column of its name, with no mapping
code per field; a field with no column (or a column no field fills) is refused at once."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, create_engine, select

from core.model import Interview
from core.refs import ChatRef, UserRef
from core.states import State
from storage.interviews import INTERVIEW, INTERVIEW_LINKS, INTERVIEW_NESTED
from storage.mapping import MappingError, Shape


class Mood(enum.Enum):
    CALM = "calm"
    BUSY = "busy"


@dataclass
class Thing:
    id: str
    mood: Mood
    at: datetime
    owner: UserRef | None = None  # "platform:id" in a column of its name
    place: ChatRef | None = None  # no column of its name: place_platform and place_id
    count: int = 0
    note: str | None = None


def thing_table(*extra: Column[Any], without: str = "") -> Table:
    columns: list[Column[Any]] = [Column("id", String, primary_key=True), Column("mood", String),
               Column("at", DateTime), Column("owner", String), Column("place_platform", String),
               Column("place_id", String), Column("count", Integer), Column("note", String),
               Column("parent_id", String), *extra]
    return Table("thing", MetaData(), *(c for c in columns if c.name != without))


def test_every_field_round_trips_through_its_column() -> None:
    table = thing_table()
    shape = Shape(Thing, table, links={"parent_id"})
    thing = Thing("t1", Mood.BUSY, datetime(2026, 1, 2, 3, 4), UserRef("slack", "U1"),
                  ChatRef("telegram", "-100"), 3, "hello")
    values = shape.values(thing, parent_id="p1")
    assert values == {"id": "t1", "mood": "busy", "at": datetime(2026, 1, 2, 3, 4),
                      "owner": "slack:U1", "place_platform": "telegram", "place_id": "-100",
                      "count": 3, "note": "hello", "parent_id": "p1"}
    db = create_engine("sqlite://")
    table.metadata.create_all(db)
    with db.begin() as conn:
        conn.execute(table.insert(), [values, shape.values(Thing("t2", Mood.CALM, thing.at),
                                                           parent_id=None)])
        first, second = conn.execute(select(table).order_by(table.c.id)).all()
    assert shape.load(first) == thing
    assert shape.load(second) == Thing("t2", Mood.CALM, thing.at)


def test_a_field_without_a_column_is_refused() -> None:
    with pytest.raises(MappingError, match=r"Thing.note has no column in table 'thing'"):
        Shape(Thing, thing_table(without="note"), links={"parent_id"})


def test_a_column_no_field_fills_is_refused() -> None:
    with pytest.raises(MappingError, match=r"columns no field of Thing fills: \['language'\]"):
        Shape(Thing, thing_table(Column("language", String)), links={"parent_id"})


def test_a_new_interview_field_needs_only_its_column() -> None:
    """What docs/architecture.md promises: a field on Interview plus a column of its name."""

    @dataclass
    class Later(Interview):
        pronouns: str | None = None

    table = Table("interview", MetaData(), *(c._copy() for c in INTERVIEW.columns),
                  Column("pronouns", String(20)))
    shape = Shape(Later, table, links=INTERVIEW_LINKS, nested=INTERVIEW_NESTED)
    at = datetime(2026, 1, 2, tzinfo=UTC)
    later = Later(id="i1", script_id="qa", number=1, candidate_name="Ada", token_hash="h",
                  invited_at=at, deadline=at, platform="telegram", state=State.IN_PROGRESS,
                  candidate=UserRef("telegram", "42"), pronouns="she/her")
    values = shape.values(later, version=1)
    assert values["pronouns"] == "she/her" and values["state"] == "in_progress"
    db = create_engine("sqlite://")
    table.metadata.create_all(db)
    with db.begin() as conn:
        conn.execute(table.insert(), values)
        row = conn.execute(select(table)).one()
    assert shape.load(row, answers=[], follow_ups=[], candidate_questions=[]) == later
