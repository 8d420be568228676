"""Start-up check of Telegram review groups: can the bot delete its old messages there?"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bots.telegram import CAPABILITIES
from bots.telegram.messenger import TelegramMessenger

if TYPE_CHECKING:
    from bots.app import App

log = logging.getLogger("interviewbot")


async def warn_without_delete_rights(app: App) -> list[str]:
    """Log a warning for each Telegram review group where the bot may not delete messages
    older than 48 hours (not an admin with that right): erasure can only blank them there.
    Returns those groups."""
    messenger = app.services.messengers.get(CAPABILITIES.platform)
    if not isinstance(messenger, TelegramMessenger):
        return []
    groups = dict.fromkeys(d for script in app.catalog.all()
                           for d in app.services.destinations(script)
                           if d.platform == CAPABILITIES.platform)
    missing: list[str] = []
    for group in groups:
        try:
            allowed = await messenger.can_delete(group)
        except Exception as exc:
            log.warning("could not check the bot's rights in review group %s: %s", group, exc)
            continue
        if not allowed:
            missing.append(str(group))
            log.warning("the bot is not an admin allowed to delete messages in review group "
                        "%s: erasure cannot delete its messages there once they are 48 hours "
                        "old (see docs/erasure.md)", group)
    return missing
