"""The commands a person can give, in one vocabulary each channel renders its own way.

Texts name a command by a placeholder (`{status}`, `{delete}`, ...);
`core.capabilities.with_commands` fills them in as the destination's channel spells them.
"""

from __future__ import annotations

import enum


class Verb(enum.StrEnum):
    """A person's command to the engine (`core.commands.UserCommand.name`)."""

    HELP = "help"
    STATUS = "status"
    WITHDRAW = "withdraw"
    DELETE = "delete"
    ADJUST = "adjust"
    LANGUAGE = "language"

    @classmethod
    def parse(cls, word: str) -> Verb | None:
        """The verb a typed word names (any case), None if it names none."""
        try:
            return cls(word.strip().lower())
        except ValueError:
            return None

