"""Interview scripts from YAML files: loading with line numbers, and the catalogue."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from core.script import Path as FieldPath
from core.script import Script, ScriptInvalid, parse_script

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
    try:
        return parse_script(data)
    except ScriptInvalid as exc:
        raise ScriptFileInvalid([
            ScriptFileError(name, _line_of(node, p.path), p.field, p.message)
            for p in exc.problems
        ]) from None


def load_file(path: Path) -> Script:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScriptFileInvalid([ScriptFileError(str(path), 0, "(file)", exc.strerror or
                                                 str(exc))]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ScriptFileInvalid([ScriptFileError(
            str(path), line, "(file)", f"is not UTF-8 text (byte 0x{data[exc.start]:02x}); "
                                       "save the file as UTF-8")]) from None
    return parse_yaml(text, str(path))


def sample_text() -> str:
    return resources.files("bots.samples").joinpath(SAMPLE).read_text(encoding="utf-8")


class ScriptCatalog:
    """The scripts a deployment serves: a folder or file, or the bundled sample."""

    def __init__(self, scripts: Iterable[Script]) -> None:
        self._by_id: dict[str, Script] = {}
        for script in scripts:
            if script.id in self._by_id:
                raise ScriptFileInvalid([ScriptFileError("(scripts)", 0, "id",
                                                         f"{script.id!r} is defined twice")])
            self._by_id[script.id] = script

    @classmethod
    def load(cls, location: Path | None) -> ScriptCatalog:
        """Load every *.yaml / *.yml under a folder, one file, or the bundled sample."""
        if location is None:
            return cls([parse_yaml(sample_text(), f"(bundled) {SAMPLE}")])
        if location.is_dir():
            files = sorted([*location.glob("*.yaml"), *location.glob("*.yml")])
            errors: list[ScriptFileError] = []
            scripts = []
            for file in files:
                try:
                    scripts.append(load_file(file))
                except ScriptFileInvalid as exc:
                    errors.extend(exc.errors)
            if errors:
                raise ScriptFileInvalid(errors)
            return cls(scripts)
        return cls([load_file(location)])

    def get(self, script_id: str) -> Script | None:
        return self._by_id.get(script_id)

    def all(self) -> Iterator[Script]:
        return iter(self._by_id.values())
