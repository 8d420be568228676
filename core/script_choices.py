"""Validation of choice questions in scripts: their options and knock-outs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from core.script import AnswerRules

MAX_OPTIONS = 10  # buttons a chat shows comfortably
MAX_OPTION_LENGTH = 64  # characters of one option: a button label must fit on a phone
Path = tuple[str | int, ...]


class Problems(Protocol):
    """Where problems are collected (`core.script._Collector`)."""

    def add(self, path: Path, message: str) -> None: ...


def choice_options(c: Problems, raw: Mapping[str, Any], path: Path, kinds: tuple[str, ...]
             ) -> tuple[str, ...]:
    """A choice question's options: 1 to 10 distinct, non-empty texts of at most 64 characters."""
    if "options" not in raw:
        if "choice" in kinds:
            c.add((*path, "options"), "is required for kinds: [choice] (1 to 10 options)")
        return ()
    value = raw["options"]
    if "choice" not in kinds:
        c.add((*path, "options"), "applies only to kinds: [choice]")
        return ()
    if not isinstance(value, list) or not value:
        c.add((*path, "options"), f"must be a list of 1 to {MAX_OPTIONS} options")
        return ()
    if len(value) > MAX_OPTIONS:
        c.add((*path, "options"), f"has {len(value)} options; at most {MAX_OPTIONS} fit as buttons")
    out: list[str] = []
    for i, option in enumerate(value):
        if isinstance(option, bool) or not isinstance(option, (str, int, float)) or not str(
                option).strip():
            c.add((*path, "options", i), "must be non-empty text")
            continue
        text = " ".join(str(option).split())
        if len(text) > MAX_OPTION_LENGTH:
            c.add((*path, "options", i), f"is {len(text)} characters; a button holds at most "
                                         f"{MAX_OPTION_LENGTH}")
        elif text.casefold() in (o.casefold() for o in out):
            c.add((*path, "options", i), f"{text!r} is listed twice")
        else:
            out.append(text)
    return tuple(out[:MAX_OPTIONS])


def knockout_options(c: Problems, item: Mapping[str, Any], path: Path, rules: AnswerRules
              ) -> tuple[str, ...]:
    """Options that end the interview: a subset of a single-answer choice question's options."""
    if "knockout" not in item:
        return ()
    value = item["knockout"]
    if not rules.is_choice:
        c.add((*path, "knockout"), "applies only to a question with kinds: [choice]")
        return ()
    if rules.multiple:
        c.add((*path, "knockout"), "cannot be used with multiple: true; ask the hard "
                                   "requirement as its own single-answer question")
        return ()
    items = value if isinstance(value, list) else [value]
    if not items:
        c.add((*path, "knockout"), "must list at least one of the options")
        return ()
    out: list[str] = []
    for i, option in enumerate(items):
        found = rules.option(str(option)) if option is not None else None
        if found is None:
            c.add((*path, "knockout", i), f"{option!r} is not one of the options "
                                          f"({', '.join(rules.options)})")
        elif found not in out:
            out.append(found)
    if out and len(out) == len(rules.options):
        c.add((*path, "knockout"), "lists every option: nobody could pass this question")
    return tuple(out)
