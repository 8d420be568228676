"""The `review` block of a script: who reviews, who may rate and decide, and how."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


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
