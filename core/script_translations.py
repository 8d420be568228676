"""Translated script texts: a text given once for every language, or as a map by language.

```yaml
languages: [en, de]            # the first is the default
title: {en: "Platform Engineer", de: "Plattform-Ingenieur:in"}
```
Every language a script lists needs a bot catalog (core/locale); a map must give every listed
language, and every translation must use the same `{placeholders}` as the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from core.i18n import available as catalog_languages
from core.i18n import normalize, placeholders

Path = tuple[str | int, ...]


class Collector(Protocol):
    """Where problems go (core.script_problems.Collector), and the script's languages."""

    languages: tuple[str, ...]

    def add(self, path: Path, message: str) -> None: ...


class Text(str):
    """A script text: the default language's wording (the str itself) and every translation.

    Code written before languages existed keeps using it as a plain string (the default
    language); `in_lang` picks a translation, falling back to the default."""

    translations: Mapping[str, str]

    def __new__(cls, default: str, translations: Mapping[str, str] | None = None) -> Text:
        made = super().__new__(cls, default)
        made.translations = dict(translations or {})  # (copy and pickle restore it after)
        return made

    def in_lang(self, lang: str | None) -> str:
        return self.translations.get(lang or "", str(self))

    # Equal to the plain default text (code comparing strings keeps working), but two scripts
    # that differ only in a translation are different scripts.
    def __eq__(self, other: object) -> bool:
        if isinstance(other, Text):
            return str.__eq__(self, other) and self.translations == other.translations
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = str.__hash__


def localized(value: str, lang: str | None) -> str:
    """A script text in `lang`: its translation when it has one, else the text itself."""
    return value.in_lang(lang) if isinstance(value, Text) else value


def _names(found: set[str]) -> str:
    return ", ".join(f"{{{name}}}" for name in sorted(found)) or "no placeholders"


def parse_languages(c: Collector, raw: Any) -> tuple[str, ...]:
    """The script's languages (the first is the default); each needs a bot catalog."""
    if raw is None:
        return ("en",)
    if not isinstance(raw, list) or not raw:
        c.add(("languages",), "must be a non-empty list of language codes, e.g. [en, de]")
        return ("en",)
    out: list[str] = []
    speaks = catalog_languages()
    for i, code in enumerate(raw):
        lang = normalize(code) if isinstance(code, str) else None
        if lang is None or lang != code:
            c.add(("languages", i), f"{code!r} is not a two-letter language code like en or de")
        elif lang in out:
            c.add(("languages", i), f"{lang!r} is listed twice")
        else:
            if lang not in speaks:
                c.add(("languages", i), f"{lang!r} has no bot catalog; the bot speaks "
                                        f"{', '.join(speaks)}")
            out.append(lang)
    return tuple(out) or ("en",)


def parse_translated(c: Collector, value: Mapping[Any, Any], path: Path, default: str) -> str:
    """A text given by language: every listed language present, the same placeholders."""
    found: dict[str, str] = {}
    for lang, text in value.items():
        if lang not in c.languages:
            c.add((*path, str(lang)), f"{lang!r} is not one of the script's languages "
                                         f"({', '.join(c.languages)})")
        elif not isinstance(text, str) or not text.strip():
            c.add((*path, str(lang)), "must be non-empty text")
        else:
            found[lang] = text.strip()
    for lang in c.languages:
        if lang not in found and lang not in value:
            c.add(path, f"no {lang!r}")
    main = c.languages[0]
    if main not in found:
        return default
    expected = placeholders(found[main])
    for lang, text in found.items():
        if placeholders(text) != expected:
            c.add((*path, lang), f"uses {_names(placeholders(text))} but {main!r} uses "
                                    f"{_names(expected)}; translations must use the same "
                                    "placeholders")
    return Text(found[main], found)
