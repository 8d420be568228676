"""Dates for a candidate's locale, with Babel (core formats English itself, stdlib only).

`install()` hands core a formatter (`core.i18n.install_date_formatter`); the composition root
calls it once. A deadline then reads "Fr., 27. Nov., 18:00" in German, "vie, 27 nov, 18:00"
in Spanish, "пт, 27 лист., 18:00" in Ukrainian; the zone name is added by core.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime

from core.i18n import install_date_formatter

# Weekday, day, month, time: the same fields as English "Fri 27 Nov, 18:00", in the locale's
# own abbreviations and order of day and month (CLDR "MMMEd" skeleton) plus a 24-hour clock.
SKELETON = "MMMEd"


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _locale(lang: str) -> Locale:
    try:
        return Locale.parse(lang)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def local_datetime(moment: datetime, tz: str, lang: str) -> str:
    """Weekday, date and time of `moment` in zone `tz`, written for `lang`."""
    locale = _locale(lang)
    local = moment.astimezone(_zone(tz))
    pattern = locale.datetime_skeletons.get(SKELETON)
    day = format_date(local.date(), format=str(pattern) if pattern else "medium", locale=locale)
    time = format_datetime(local, "HH:mm", tzinfo=local.tzinfo, locale=locale)
    return f"{day}, {time}"


def weekday(moment: datetime, tz: str, lang: str) -> str:
    """The weekday's full name in `lang` ("Freitag", "viernes")."""
    return format_date(moment.astimezone(_zone(tz)).date(), "EEEE", locale=_locale(lang))


def install() -> None:
    """Let core write dates for every locale (English stays as core writes it)."""
    install_date_formatter(local_datetime)
