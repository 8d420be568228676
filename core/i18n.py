"""Languages the bot speaks: gettext catalogs shipped in the package, and dates for a locale.

Messages are English in the code (the msgid) and translated through the compiled catalogs in
`core/locale/<lang>/LC_MESSAGES/interviewbot.mo` (made from the `.po` files with `make i18n`).
Core uses only the standard library's `gettext`; formatting dates for a locale needs Babel,
so an adapter installs a `DateFormatter` (see `bots/locale_format.py`) and core falls back
to a plain numeric date when none is installed.
"""

from __future__ import annotations

import gettext
import re
import string
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import cache
from pathlib import Path

DOMAIN = "interviewbot"
DEFAULT = "en"  # the language of the msgids
LOCALE_DIR = Path(__file__).parent / "locale"
# Languages with a catalog, by their name in that language (for the language buttons).
NAMES = {
    "en": "English", "de": "Deutsch", "es": "Español", "fr": "Français", "pt": "Português",
    "uk": "Українська",
}
_CODE = re.compile(r"^([a-zA-Z]{2,3})(?:[-_][a-zA-Z0-9]{1,8})*$")

# (moment, IANA zone, language) -> "Fr., 27. Nov., 18:00": installed by an adapter.
DateFormatter = Callable[[datetime, str, str], str]
_date_formatter: list[DateFormatter] = []


def N_(message: str) -> str:
    """Mark a string for extraction into the catalog; translate it later with `t`."""
    return message


@cache
def _catalog(lang: str) -> gettext.NullTranslations:
    try:
        return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang])
    except OSError:
        return gettext.NullTranslations()


@cache
def available() -> tuple[str, ...]:
    """Every language with a compiled catalog, English (the source language) first."""
    found = sorted(p.parent.parent.name for p in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))
    return (DEFAULT, *[lang for lang in found if lang != DEFAULT])


def normalize(code: str | None) -> str | None:
    """A language code from a platform or a person: "de-DE", "pt_BR", "DE" -> "de", "pt"."""
    if not code:
        return None
    match = _CODE.match(code.strip())
    return match.group(1).lower() if match else None


def choose(hint: str | None, offered: Iterable[str]) -> str | None:
    """The hinted language when it is offered (matched on its main part), else None."""
    lang = normalize(hint)
    return lang if lang is not None and lang in tuple(offered) else None


def t(lang: str | None, message: str, **values: object) -> str:
    """`message` (an English msgid) in `lang`, with `{placeholders}` filled from `values`."""
    text = message if not lang or lang == DEFAULT else _catalog(lang).gettext(message)
    return text.format(**values) if values else text


def tn(lang: str | None, singular: str, plural: str, n: int, **values: object) -> str:
    """The singular or plural form for `n` in `lang` (`n` is also a placeholder)."""
    if not lang or lang == DEFAULT:
        text = singular if n == 1 else plural
    else:
        text = _catalog(lang).ngettext(singular, plural, n)
    return text.format(n=n, **values)


def placeholders(text: str) -> set[str]:
    """The `{names}` a text uses (empty for text that does not parse as a format string)."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return set()


def install_date_formatter(formatter: DateFormatter | None) -> None:
    """Set (or with None, remove) how dates are written for a non-English locale."""
    _date_formatter.clear()
    if formatter is not None:
        _date_formatter.append(formatter)


def local_date(moment: datetime, tz: str, lang: str) -> str | None:
    """A moment written for `lang` by the installed formatter; None when there is none."""
    return _date_formatter[0](moment, tz, lang) if _date_formatter else None
