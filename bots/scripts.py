"""Interview scripts from YAML files: loading with line numbers, and the catalogue."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from bots.channels import declarations
from core.errors import ScriptError
from core.ports import ScriptRevision
from core.script import Script, ScriptInvalid, parse_script
from core.script_problems import Path as FieldPath

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from storage.scripts import ScriptInterviews

log = logging.getLogger("interviewbot.scripts")
SAMPLE = "backend-engineer.yaml"
# Values a script may have once its aliases are expanded: far above any real script, far below
# a "billion laughs" document whose aliases multiply into billions of values.
MAX_VALUES = 100_000


@dataclass(frozen=True)
class ScriptFileError:
    """One problem in one file: `file:line: field: message`."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


class ScriptFileInvalid(Exception):
    """A script file with every problem found in it."""

    def __init__(self, errors: list[ScriptFileError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


def _line_of(node: yaml.Node | None, path: FieldPath) -> int:
    """The 1-based line of the deepest node found along `path` (its key line for mappings)."""
    line = node.start_mark.line + 1 if node else 1
    for part in path:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    line = key.start_mark.line + 1
                    node = value
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


class _TooBig(Exception):
    def __init__(self, node: yaml.Node, problem: str) -> None:
        super().__init__(problem)
        self.node, self.problem = node, problem


def _count_values(node: yaml.Node, sizes: dict[int, int], open_: set[int]) -> int:
    """How many values `node` stands for with every alias expanded; raise `_TooBig` beyond
    `MAX_VALUES` or for an alias inside itself."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_:
        raise _TooBig(node, "an alias refers to the value it is part of")
    open_.add(key)
    size = 1
    if isinstance(node, yaml.SequenceNode):
        children: list[yaml.Node] = list(node.value)
    elif isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    else:
        children = []
    for child in children:
        size += _count_values(child, sizes, open_)
        if size > MAX_VALUES:
            raise _TooBig(node, f"expands to more than {MAX_VALUES} values (aliases included)")
    open_.discard(key)
    sizes[key] = size
    return size


def parse_yaml(text: str, name: str) -> Script:
    """Parse and validate one script's YAML text; `name` is used in error messages."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None:
            _count_values(node, {}, set())
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise ScriptFileInvalid([ScriptFileError(name, line, "(yaml)", problem)]) from None
    except _TooBig as exc:
        line = exc.node.start_mark.line + 1
        raise ScriptFileInvalid([ScriptFileError(name, line, "(yaml)", exc.problem)]) from None
    except RecursionError:
        raise ScriptFileInvalid([ScriptFileError(name, 1, "(yaml)", "nested too deeply")]
                                ) from None
    declarations()  # the registered channels: which "platform:id" entries review lists take
    try:
        return parse_script(data)
    except ScriptInvalid as exc:
        raise ScriptFileInvalid(sorted((
            ScriptFileError(name, _line_of(node, p.path), p.field, p.message)
            for p in exc.problems), key=lambda e: e.line)) from None


def read_text(path: Path) -> str:
    """A script file's text, or `ScriptFileInvalid` saying why it cannot be read."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScriptFileInvalid([ScriptFileError(str(path), 0, "(file)", exc.strerror or
                                                 str(exc))]) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ScriptFileInvalid([ScriptFileError(
            str(path), line, "(file)", f"is not UTF-8 text (byte 0x{data[exc.start]:02x}); "
                                       "save the file as UTF-8")]) from None


def load_file(path: Path) -> Script:
    return parse_yaml(read_text(path), str(path))


def sample_text() -> str:
    return resources.files("bots.samples").joinpath(SAMPLE).read_text(encoding="utf-8")


def script_files(location: Path) -> list[Path]:
    """The script files of a folder (*.yaml, *.yml, sorted), or the one file given."""
    if location.is_dir():
        return sorted([*location.glob("*.yaml"), *location.glob("*.yml")])
    return [location]


def revision_hash(source: str) -> str:
    """The content address of a script's text: SHA-256, hex."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


def line_of_key(source: str, key: str) -> int:
    """The line of a top-level `key:` in a script's text (1 if it is not there)."""
    found = re.search(rf"^{re.escape(key)}\s*:", source, re.MULTILINE)
    return source.count("\n", 0, found.start()) + 1 if found else 1


@dataclass(frozen=True)
class ScriptSource:
    """A validated script with the text it came from and where that text is."""

    script: Script
    source: str
    origin: str  # a file path, or "(bundled) backend-engineer.yaml"

    @property
    def revision(self) -> ScriptRevision:
        return ScriptRevision(revision_hash(self.source), self.script.id, self.source)


def load_source(path: Path) -> ScriptSource:
    text = read_text(path)
    return ScriptSource(parse_yaml(text, str(path)), text, str(path))


def unreviewed_warning(entry: ScriptSource) -> ScriptFileError | None:
    """A script nobody reviews: its answers would never be seen by anyone."""
    if entry.script.review.reviewers:
        return None
    has_block = line_of_key(entry.source, "review") > 1 or entry.source.startswith("review")
    line = line_of_key(entry.source, "review") if has_block else 1
    why = "lists no reviewers" if has_block else "has no review block"
    return ScriptFileError(entry.origin, line, "review",
                           f"nobody reviews this script ({why}): no one would ever see the "
                           "answers; add review: {reviewers: [slack:C0REVIEWS]}")


def _one_per_id(entries: Iterable[ScriptSource]) -> dict[str, ScriptSource]:
    """Entries by script id; an id defined twice is an error naming both files."""
    by_id: dict[str, ScriptSource] = {}
    errors: list[ScriptFileError] = []
    for entry in entries:
        first = by_id.get(entry.script.id)
        if first is not None:
            errors.append(ScriptFileError(
                entry.origin, line_of_key(entry.source, "id"), "id",
                f"{entry.script.id!r} is defined twice: in {first.origin}:"
                f"{line_of_key(first.source, 'id')} and here"))
            continue
        by_id[entry.script.id] = entry
    if errors:
        raise ScriptFileInvalid(errors)
    return by_id


def load_sources(location: Path) -> list[ScriptSource]:
    """Every script under a folder (or the one file), with every problem of every file."""
    errors: list[ScriptFileError] = []
    entries = []
    for file in script_files(location):
        try:
            entries.append(load_source(file))
        except ScriptFileInvalid as exc:
            errors.extend(exc.errors)
    if errors:
        raise ScriptFileInvalid(errors)
    _one_per_id(entries)
    return entries


class ScriptCatalog:
    """The scripts a deployment serves (a folder or file, or the bundled sample), and the
    parser of the revisions interviews are pinned to (core's `ScriptCatalog` port)."""

    def __init__(self, entries: Iterable[ScriptSource | Script]) -> None:
        self._by_id = _one_per_id(
            e if isinstance(e, ScriptSource) else ScriptSource(e, repr(e), "(in memory)")
            for e in entries)
        self._revisions = {sid: e.revision for sid, e in self._by_id.items()}

    @classmethod
    def load(cls, location: Path | None) -> ScriptCatalog:
        """Load every *.yaml / *.yml under a folder, one file, or the bundled sample."""
        if location is None:
            origin = f"(bundled) {SAMPLE}"
            text = sample_text()
            return cls([ScriptSource(parse_yaml(text, origin), text, origin)])
        return cls(load_sources(location))

    def get(self, script_id: str) -> Script | None:
        entry = self._by_id.get(script_id)
        return entry.script if entry else None

    def all(self) -> Iterator[Script]:
        return (e.script for e in self._by_id.values())

    def entries(self) -> Iterator[ScriptSource]:
        return iter(self._by_id.values())

    def revision(self, script_id: str) -> ScriptRevision | None:
        return self._revisions.get(script_id)

    def parse_revision(self, revision: ScriptRevision) -> Script:
        """The script a stored revision holds (`ScriptError` if it no longer parses)."""
        current = self._by_id.get(revision.script_id)
        if current is not None and self._revisions[revision.script_id] == revision:
            return current.script
        name = f"(revision {revision.hash[:12]}) {revision.script_id}"
        try:
            return parse_yaml(revision.source, name)
        except ScriptFileInvalid as exc:
            raise ScriptError(f"stored script {name} no longer validates: "
                              f"{exc.errors[0]}") from None


def retired_scripts(db: Engine, catalog: ScriptCatalog) -> list[ScriptInterviews]:
    """Scripts no longer served that still have open or completed interviews."""
    from storage.scripts import live_by_script

    return [found for script_id, found in sorted(live_by_script(db).items())
            if catalog.get(script_id) is None]


def retired_lines(db: Engine, catalog: ScriptCatalog) -> list[str]:
    """One line per retired script with interviews still going (for `check` and `run`)."""
    return [f"retired script {r.script_id!r}: {r.open} open and {r.completed} completed "
            "interview(s) go on with the revision they were invited to; new invitations are "
            "refused" for r in retired_scripts(db, catalog)]


def log_retired(db: Engine, catalog: ScriptCatalog) -> None:
    for line in retired_lines(db, catalog):
        log.warning(line)
