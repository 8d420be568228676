"""The `review` block of a script: who reviews, who may rate and decide, and how."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.script_problems import Collector

from core.capabilities import examples, ids_help, is_person, is_user_group, known, people_help

__all__ = ["ReviewSettings", "is_person", "is_user_group"]


@dataclass(frozen=True)
class ReviewSettings:
    """Who reviews and how.

    `reviewers` lists review chats, people and user groups as "platform:id" (which ids are
    which, each channel declares: `core.capabilities.IdSyntax`); `members`, when set, narrows
    who may rate inside a listed chat. `extend` is what one press of "Extend" adds to an expired
    interview's deadline; `deciders`, when set, are the only people whose decision counts.
    """

    reviewers: tuple[str, ...] = ()
    blind: bool = True
    independent: bool = True
    members: tuple[str, ...] | None = None
    allow_public_channel: bool = False
    extend: timedelta = timedelta(hours=48)
    deciders: tuple[str, ...] = ()
    language: str | None = None  # the language of the review cards; None: the script's default

    @property
    def destinations(self) -> tuple[str, ...]:
        """Where review cards go: every listed entry except user groups."""
        return tuple(r for r in self.reviewers if not is_user_group(r))

    @property
    def groups(self) -> tuple[str, ...]:
        """User groups named in `reviewers`, `members` or `deciders`."""
        named = (*self.reviewers, *(self.members or ()), *self.deciders)
        return tuple(dict.fromkeys(r for r in named if is_user_group(r)))



REVIEW_FIELDS = ("reviewers", "blind", "independent", "members", "allow_public_channel",
                 "extend", "deciders", "language")
MAX_EXTEND = timedelta(days=14)


def _refs(c: Collector, raw: Mapping[str, Any], key: str, *, people: bool) -> list[str] | None:
    """A list of "platform:id" entries; `people` allows only persons and user groups."""
    if raw.get(key) is None:
        return None
    value = raw[key]
    example = examples(people=people)
    if not isinstance(value, list):
        c.add(("review", key), f"must be a list like {example}")
        return []
    found: list[str] = []
    for i, entry in enumerate(value):
        platform, _, ident = str(entry).partition(":")
        ref = f"{platform}:{ident}"
        if not known(ref):
            c.add(("review", key, i), f"{entry!r} is not {ids_help()}")
        elif people and not (is_person(ref) or is_user_group(ref)):
            c.add(("review", key, i), f"{entry!r} is not {people_help()}")
        else:
            found.append(ref)
    return found


def parse_review(c: Collector, raw: Mapping[str, Any]) -> ReviewSettings:
    reviewers = _refs(c, raw, "reviewers", people=False) or []
    members = _refs(c, raw, "members", people=True)
    deciders = _refs(c, raw, "deciders", people=True) or []
    extend = timedelta(hours=48)
    if raw.get("extend") is not None:
        extend = c.duration(raw["extend"], ("review", "extend")) or extend
        if extend > MAX_EXTEND:
            c.add(("review", "extend"), "may be at most 14d")
    language = raw.get("language")
    if language is not None and language not in c.languages:
        c.add(("review", "language"), f"{language!r} is not one of the script's languages "
                                      f"({', '.join(c.languages)})")
        language = None
    for key in raw:
        if key not in REVIEW_FIELDS:
            c.add(("review", str(key)), f"is not a known review field ({', '.join(REVIEW_FIELDS)})")
    return ReviewSettings(
        reviewers=tuple(reviewers),
        blind=c.flag(raw.get("blind"), ("review", "blind"), True),
        independent=c.flag(raw.get("independent"), ("review", "independent"), True),
        members=tuple(members) if members is not None else None,
        allow_public_channel=c.flag(raw.get("allow_public_channel"),
                                    ("review", "allow_public_channel"), False),
        extend=extend,
        deciders=tuple(deciders),
        language=language,
    )
