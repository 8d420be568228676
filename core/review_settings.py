"""The `review` block of a script: who reviews, who may rate and decide, and how."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from core.capabilities import is_person, is_user_group

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

    @property
    def destinations(self) -> tuple[str, ...]:
        """Where review cards go: every listed entry except user groups."""
        return tuple(r for r in self.reviewers if not is_user_group(r))

    @property
    def groups(self) -> tuple[str, ...]:
        """User groups named in `reviewers`, `members` or `deciders`."""
        named = (*self.reviewers, *(self.members or ()), *self.deciders)
        return tuple(dict.fromkeys(r for r in named if is_user_group(r)))

