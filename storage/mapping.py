"""How core's dataclasses map to table rows, derived from their fields and the columns by name.

A field is stored in the column of the same name: as it is, an enum by its value, a `UserRef`
or `ChatRef` as "platform:id". A reference field with no column of its name is split in two
columns, `<name>_platform` and `<name>_id` (`Interview.candidate`). So a new field on
`Interview` (or `Take`, `Answer`, ...) with a column of the same name in storage/tables.py is
read and written with no edit here; a field with neither raises `MappingError` at import time
(tests/integration/test_storage.py), so none is silently left unstored.

Fields that hold other entities (`Interview.answers`, `FollowUp.reply`) are not columns: the
aggregate (storage/interviews.py) links them through `links` columns it fills itself.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy import Table

from core.refs import ChatRef, UserRef

Values = dict[str, Any]
REFS = (UserRef, ChatRef)


class MappingError(Exception):
    """A dataclass field with no column to keep it in (or a column type it cannot hold)."""


def _plain_type(hint: Any) -> Any:
    """`X` for `X`, `X | None` and `Optional[X]`; the hint itself for anything else."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0] if len(args) == 1 else hint
    return hint


def _to_enum(kind: type[enum.Enum]) -> Callable[[Any], Any]:
    return lambda v: None if v is None else kind(v)


def _to_ref(kind: Any) -> Callable[[Any], Any]:
    return lambda v: None if v is None else kind.parse(v)


def _from_enum(v: Any) -> Any:
    return None if v is None else v.value


def _from_ref(v: Any) -> Any:
    return None if v is None else str(v)


class Shape:
    """The mapping of one dataclass to one table.

    `links`: columns the aggregate fills (parent ids, positions, the version); `nested`: fields
    holding other entities, which the aggregate stores itself.
    """

    def __init__(self, cls: type, table: Table, *, links: Collection[str] = (),
                 nested: Collection[str] = ()) -> None:
        self.cls, self.table = cls, table
        hints = typing.get_type_hints(cls)
        columns = {c.name: i for i, c in enumerate(table.columns)}
        self.plain: list[tuple[str, int]] = []  # (field, column index), stored as it is
        self.converted: list[tuple[str, int, Callable[[Any], Any], Callable[[Any], Any]]] = []
        self.split: list[tuple[str, int, int, Any]] = []  # (field, platform, id, ref type)
        self.nested = tuple(nested)
        for f in dataclasses.fields(cls):
            if f.name in nested:
                continue
            kind = _plain_type(hints[f.name])
            if f.name in columns:
                at = columns[f.name]
                if isinstance(kind, type) and issubclass(kind, enum.Enum):
                    self.converted.append((f.name, at, _to_enum(kind), _from_enum))
                elif kind in REFS:
                    self.converted.append((f.name, at, _to_ref(kind), _from_ref))
                else:
                    self.plain.append((f.name, at))
            elif kind in REFS and {f"{f.name}_platform", f"{f.name}_id"} <= columns.keys():
                self.split.append((f.name, columns[f"{f.name}_platform"],
                                   columns[f"{f.name}_id"], kind))
            else:
                raise MappingError(f"{cls.__name__}.{f.name} has no column in table "
                                   f"{table.name!r} (add one to storage/tables.py)")
        stored = ({name for name, _ in self.plain} | {c[0] for c in self.converted}
                  | {f"{s[0]}_{p}" for s in self.split for p in ("platform", "id")})
        unknown = set(columns) - stored - set(links)
        if unknown:
            raise MappingError(f"table {table.name!r} has columns no field of "
                               f"{cls.__name__} fills: {sorted(unknown)}")
        self.names = [c.name for c in table.columns]

    def values(self, obj: Any, **links: Any) -> Values:
        """The row of `obj` (every column but the ones the aggregate fills: `links`)."""
        out: Values = {self.names[at]: getattr(obj, name) for name, at in self.plain}
        for name, at, _, store in self.converted:
            out[self.names[at]] = store(getattr(obj, name))
        for name, platform, ident, _ in self.split:
            ref = getattr(obj, name)
            out[self.names[platform]] = ref.platform if ref is not None else None
            out[self.names[ident]] = ref.id if ref is not None else None
        out.update(links)
        return out

    def fields(self, row: Any) -> Values:
        """The constructor arguments of the dataclass from a row read with `select(table)`
        (the nested entities left to the aggregate)."""
        out: Values = {name: row[at] for name, at in self.plain}
        for name, at, load, _ in self.converted:
            out[name] = load(row[at])
        for name, platform, ident, kind in self.split:
            p, i = row[platform], row[ident]
            out[name] = kind(p, i) if p and i else None
        return out

    def load(self, row: Any, **nested: Any) -> Any:
        return self.cls(**self.fields(row), **nested)

    def load_values(self, values: Values, **nested: Any) -> Any:
        """`load` from a row as `values` made it (a dict by column name)."""
        return self.load([values.get(name) for name in self.names], **nested)
