"""The fairness fields of an interview script: `notice`, `self_id` and `accommodations`.

`parse_fairness` reads them from plain data (as loaded from YAML) and reports problems with the
path of the field, like the rest of `core/script.py`; `fairness_warnings` lists what `check`
should point out without refusing the script.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from core.capabilities import ids_help, known
from core.durations import parse_duration
from core.i18n import N_

PREFER_NOT = N_("Prefer not to say")  # stored as is; shown in the candidate's language
"""Always offered in every self-identification category, and counted apart in the report."""
ADJUSTMENTS = ("more_time", "longer_answers", "text_instead_of_voice", "other")
FIELDS = ("notice", "self_id", "accommodations")
MAX_CATEGORIES = 6
MAX_OPTIONS = 12
MAX_OPTION_LENGTH = 48  # a button label; also keeps the survey short
LABELS = {"race_ethnicity": N_("Race / ethnicity"), "sex": N_("Sex"), "gender": N_("Gender")}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_]{0,31}$")
_PERIOD = re.compile(r"\b\d+\s*(d|days?|weeks?|months?|years?)\b", re.IGNORECASE)

Path = tuple[str | int, ...]
AddProblem = Callable[[Path, str], None]


@dataclass(frozen=True)
class SelfIdCategory:
    """One question of the voluntary survey (e.g. sex) and its answers, "Prefer not to say"
    always last."""

    name: str
    options: tuple[str, ...]

    @property
    def label(self) -> str:
        return LABELS.get(self.name, self.name.replace("_", " ").capitalize())


@dataclass(frozen=True)
class Accommodations:
    """The adjustments a candidate may ask for, and whom to write to otherwise."""

    offer: tuple[str, ...]
    contact: str = ""
    extra_time: timedelta = timedelta(days=7)  # more_time: the deadline moves this much later
    answer_factor: float = 2.0  # longer_answers: every question's max_seconds times this
    deciders: tuple[str, ...] = ()  # where requests go ("platform:id"); else the reviewers


@dataclass(frozen=True)
class FairnessSettings:
    """What a script says about notices, voluntary self-identification and adjustments."""

    notice: str = ""
    self_id: tuple[SelfIdCategory, ...] = ()
    accommodations: Accommodations | None = None


def _self_id(raw: Any, add: AddProblem) -> tuple[SelfIdCategory, ...]:
    path: Path = ("self_id",)
    if not isinstance(raw, Mapping) or not raw:
        add(path, "must map categories to their answers, e.g. {sex: [Female, Male, Another]}")
        return ()
    if len(raw) > MAX_CATEGORIES:
        add(path, f"has {len(raw)} categories; at most {MAX_CATEGORIES} keep the survey short")
    out: list[SelfIdCategory] = []
    for name, options in raw.items():
        where: Path = (*path, str(name))
        if not isinstance(name, str) or not _NAME.match(name):
            add(where, "category names are lower-case words (a-z, 0-9, _), e.g. race_ethnicity")
            continue
        if not isinstance(options, list) or not options:
            add(where, "must be a non-empty list of answers")
            continue
        seen: list[str] = []
        for i, option in enumerate(options):
            if not isinstance(option, str) or not option.strip():
                add((*where, i), "must be non-empty text")
            elif len(option.strip()) > MAX_OPTION_LENGTH:
                add((*where, i), f"is longer than {MAX_OPTION_LENGTH} characters (a button)")
            elif option.strip().casefold() in (s.casefold() for s in seen):
                add((*where, i), f"{option!r} is listed twice")
            elif option.strip().casefold() != PREFER_NOT.casefold():
                seen.append(option.strip())
        if len(seen) + 1 > MAX_OPTIONS:
            add(where, f"has {len(seen)} answers; at most {MAX_OPTIONS - 1} (plus "
                       f"{PREFER_NOT!r})")
        out.append(SelfIdCategory(name, (*seen, PREFER_NOT)))
    return tuple(out)


def _accommodations(raw: Any, add: AddProblem) -> Accommodations | None:
    path: Path = ("accommodations",)
    if not isinstance(raw, Mapping):
        add(path, "must be a mapping like {offer: [more_time, text_instead_of_voice], "
                  "contact: talent@example.com}")
        return None
    offer: list[str] = []
    value = raw.get("offer")
    if not isinstance(value, list) or not value:
        add((*path, "offer"), f"must be a non-empty list of {', '.join(ADJUSTMENTS)}")
    else:
        for i, item in enumerate(value):
            if item not in ADJUSTMENTS:
                add((*path, "offer", i), f"{item!r} is not one of {', '.join(ADJUSTMENTS)}")
            elif item not in offer:
                offer.append(item)
    contact = raw.get("contact", "")
    if not isinstance(contact, str):
        add((*path, "contact"), "must be text (an e-mail address or a name)")
        contact = ""
    extra = timedelta(days=7)
    if "extra_time" in raw:
        try:
            extra = parse_duration(raw["extra_time"])
        except (TypeError, ValueError):
            add((*path, "extra_time"), f"{raw['extra_time']!r} is not a duration like 7d")
    factor = raw.get("answer_factor", 2.0)
    if isinstance(factor, bool) or not isinstance(factor, int | float) or not 1 < factor <= 4:
        add((*path, "answer_factor"), "must be a number above 1 and at most 4")
        factor = 2.0
    deciders: list[str] = []
    value = raw.get("deciders", [])
    for i, dest in enumerate(value if isinstance(value, list) else [None]):
        platform, _, ident = str(dest).partition(":")
        if not known(f"{platform}:{ident}"):
            add((*path, "deciders", i), f"{dest!r} is not {ids_help()}")
        else:
            deciders.append(f"{platform}:{ident}")
    for key in raw:
        if key not in ("offer", "contact", "extra_time", "answer_factor", "deciders"):
            add((*path, str(key)), "is not a known setting (offer, contact, extra_time, "
                                   "answer_factor, deciders)")
    return Accommodations(tuple(offer), contact.strip(), extra, float(factor), tuple(deciders))


def parse_fairness(raw: Mapping[str, Any], add: AddProblem) -> FairnessSettings:
    """Read `notice`, `self_id` and `accommodations` from a script's plain data."""
    notice = raw.get("notice")
    if isinstance(notice, Mapping):  # translated: read by parse_script
        notice = None
    elif notice is not None and (not isinstance(notice, str) or not notice.strip()):
        add(("notice",), "must be non-empty text")
        notice = None
    self_id = _self_id(raw["self_id"], add) if raw.get("self_id") is not None else ()
    accommodations = (_accommodations(raw["accommodations"], add)
                      if raw.get("accommodations") is not None else None)
    return FairnessSettings(notice=(notice or "").strip(), self_id=self_id,
                            accommodations=accommodations)


def fairness_warnings(notice: str, consent: str) -> list[str]:
    """What `check` points out: a script with no notice, or no retention period stated in its
    notice or consent text."""
    warnings = []
    if not notice:
        warnings.append("notice: none: candidates are not told what is assessed, who sees the "
                        "answers, how long they are kept, that people decide, and how to ask for "
                        "an adjustment")
    if not _PERIOD.search(f"{notice}\n{consent}"):
        warnings.append("notice: states no retention period (e.g. \"kept for 90 days\") in the "
                        "notice or the consent")
    return warnings
