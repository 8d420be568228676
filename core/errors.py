"""Domain errors. Each carries a message fit to show the person who caused it."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the engine raises on purpose."""


class IllegalTransition(DomainError):
    """An interview was asked to move to a state its current state does not lead to."""


class InvitationError(DomainError):
    """An invitation token is unknown, already used or expired."""


class ScriptError(DomainError):
    """An interview script is invalid or unknown."""


class ScriptRetired(ScriptError):
    """A script interviews were invited to is no longer served: no new invitations."""
