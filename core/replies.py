"""The private answer to a button press, said by a flow and written out by the engine.

A flow says what to answer as catalog messages (English msgids) with their values; the engine
writes it out once, after the handler has run, in the language of the person who pressed (see
`Engine._presser_language`). A value may itself be a `Reply` (a translated word, such as a
decision) or a function of the language (a question label, a date), so that nothing in a
reply is written in a language before the engine has chosen it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from core.i18n import t

InLanguage = Callable[[str | None], str]  # a value written for a language: `lambda lang: ...`


@dataclass(frozen=True)
class _Part:
    message: str
    values: tuple[tuple[str, object], ...] = ()
    verbatim: bool = False  # said as it is (a language by its own name), never looked up


@dataclass(frozen=True)
class Reply:
    """One or more sentences, each a catalog message with its values, joined by a space."""

    parts: tuple[_Part, ...]

    def then(self, message: str, **values: object) -> Reply:
        """This reply followed by another sentence."""
        return Reply((*self.parts, _Part(message, tuple(values.items()))))

    def render(self, lang: str | None) -> str:
        """The reply written in `lang` (English for None), its values filled."""
        return " ".join(_render(part, lang) for part in self.parts)


def say(message: str, **values: object) -> Reply:
    """A reply: `message` (a catalog msgid) with its `{placeholders}` filled from `values`."""
    return Reply((_Part(message, tuple(values.items())),))


def verbatim(text: str) -> Reply:
    """A reply that is the same in every language (a language's own name)."""
    return Reply((_Part(text, verbatim=True),))


def _render(part: _Part, lang: str | None) -> str:
    if part.verbatim:
        return part.message
    return t(lang, part.message, **{name: _value(value, lang) for name, value in part.values})


def _value(value: object, lang: str | None) -> object:
    if isinstance(value, Reply):
        return value.render(lang)
    if callable(value):
        return value(lang)
    return value
