"""The `review` block of a script: who reviews, who may rate and decide, and how."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.script_problems import Collector


@dataclass(frozen=True)
class ReviewSettings:
    """Who reviews and how.

    `reviewers` lists review chats (`slack:C…`, `telegram:-100…`), people (`slack:U…`,
    `telegram:<user id>`) and Slack user groups (`slack:S…`); `members`, when set, narrows who
    may rate inside a listed chat. `extend` is what one press of "Extend" adds to an expired
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
        """Where review cards go: every listed entry except Slack user groups."""
        return tuple(r for r in self.reviewers if not is_user_group(r))

    @property
    def groups(self) -> tuple[str, ...]:
        """Slack user groups named in `reviewers`, `members` or `deciders`."""
        named = (*self.reviewers, *(self.members or ()), *self.deciders)
        return tuple(dict.fromkeys(r for r in named if is_user_group(r)))


def is_user_group(ref: str) -> bool:
    """A Slack user group (`slack:S…`), resolved to its members by the Slack adapter."""
    return ref.startswith("slack:S")


def is_person(ref: str) -> bool:
    """A single person: `slack:U…`/`slack:W…`, or a Telegram user (positive id)."""
    platform, _, ident = ref.partition(":")
    if platform == "slack":
        return ident[:1] in ("U", "W")
    if platform == "telegram":
        return ident.isdigit()
    return False


REVIEW_FIELDS = ("reviewers", "blind", "independent", "members", "allow_public_channel",
                 "extend", "deciders", "language")
MAX_EXTEND = timedelta(days=14)


def _refs(c: Collector, raw: Mapping[str, Any], key: str, *, people: bool) -> list[str] | None:
    """A list of "platform:id" entries; `people` allows only persons and Slack user groups."""
    if raw.get(key) is None:
        return None
    value = raw[key]
    example = ("[slack:U0ADA, slack:S0LEADS, telegram:123456]" if people
               else "[slack:C0REVIEWS, telegram:-1001234]")
    if not isinstance(value, list):
        c.add(("review", key), f"must be a list like {example}")
        return []
    found: list[str] = []
    for i, entry in enumerate(value):
        platform, _, ident = str(entry).partition(":")
        ref = f"{platform}:{ident}"
        if platform not in ("slack", "telegram", "console") or not ident:
            c.add(("review", key, i), f"{entry!r} is not slack:<channel, user or user group id> "
                                      "or telegram:<chat or user id>")
        elif people and not (is_person(ref) or is_user_group(ref) or platform == "console"):
            c.add(("review", key, i), f"{entry!r} is not a person (slack:U…, telegram:<user "
                                      "id>) or a Slack user group (slack:S…)")
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
