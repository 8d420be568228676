"""Who may invite and manage interviews from chat: hiring managers.

A hiring manager is listed in INTERVIEWBOT_ADMINS (`slack:U0HM,telegram:12345`, every script)
or in a script's `review.deciders` (that script).
"""

from __future__ import annotations

from collections.abc import Iterable

from bots.settings import Settings
from core.script import Script

REFUSAL = ("Only hiring managers can invite or manage interviews from chat: ask an admin to "
           "add you to INTERVIEWBOT_ADMINS or to the script's review.deciders.")


def admins(settings: Settings) -> frozenset[str]:
    return frozenset(a.strip() for a in settings.admins.split(",") if a.strip())


def manages(settings: Settings, script: Script, user: str) -> bool:
    """`user` ("slack:U…", "telegram:42") may invite to and manage `script`."""
    return user in admins(settings) or user in script.review.deciders


def managed(settings: Settings, scripts: Iterable[Script], user: str) -> list[Script]:
    """The scripts `user` manages, in catalogue order."""
    return [s for s in scripts if manages(settings, s, user)]
