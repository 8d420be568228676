"""Checks of the bot's message catalogs (core/locale), shared by the catalog tests."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from core.i18n import DOMAIN, LOCALE_DIR, placeholders

LANGUAGES = ("de", "es", "fr", "pt", "uk")


def template(root: Path = LOCALE_DIR) -> Catalog:
    with (root / f"{DOMAIN}.pot").open("rb") as f:
        return read_po(f)


def po_path(lang: str, root: Path = LOCALE_DIR) -> Path:
    return root / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def translations(lang: str, root: Path = LOCALE_DIR) -> Catalog:
    with po_path(lang, root).open("rb") as f:
        return read_po(f, locale=lang)


def _ids(message: Message) -> tuple[str, ...]:
    found = message.id
    return tuple(map(str, found)) if isinstance(found, tuple | list) else (str(found),)


def _strings(message: Message) -> tuple[str, ...]:
    found = message.string
    return tuple(map(str, found)) if isinstance(found, tuple | list) else (str(found),)


def problems(pot: Catalog, catalogs: dict[str, Catalog]) -> list[str]:
    """Every entry of the template missing, empty or fuzzy in a language, and every translation
    whose {placeholders} differ from its msgid's."""
    found: list[str] = []
    for lang, catalog in catalogs.items():
        for entry in pot:
            if not entry.id:
                continue
            key = _ids(entry)[0]
            message = catalog.get(key)
            if message is None:
                found.append(f"{lang}: missing {key!r}")
                continue
            if message.fuzzy or not all(_strings(message)):
                found.append(f"{lang}: untranslated {key!r}")
                continue
            expected = set().union(*(placeholders(i) for i in _ids(entry)))
            for text in _strings(message):
                have = placeholders(text)
                # a plural form may leave out {n} ("one question" in a language that says so)
                if have != expected and have != expected - {"n"}:
                    found.append(f"{lang}: {key!r} uses {sorted(have)}, not {sorted(expected)}")
    return found
