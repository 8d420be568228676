"""`/invite <script> <name>` in a Telegram group: a hiring manager gets the deep link there."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import ApplicationHandlerStop, CommandHandler, ContextTypes, filters

from bots.links import telegram_link
from bots.managers import REFUSAL, manages
from bots.settings import Settings
from core import texts
from core.commands import CreateInvitation
from core.engine import Engine
from core.errors import DomainError

log = logging.getLogger("interviewbot.telegram")
USAGE = "Usage: /invite <script id> <candidate name>, e.g. /invite backend-engineer Ada Lovelace"


def invite_handler(engine: Engine, settings: Settings) -> CommandHandler[Any, None]:
    """The handler; added in group -1 so it runs before (and instead of) the engine's."""

    async def invite(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None:
            raise ApplicationHandlerStop
        args = list(context.args or [])
        if len(args) < 2:
            await message.reply_text(USAGE)
            raise ApplicationHandlerStop
        script_id, name = args[0], " ".join(args[1:])
        script = engine.views.served(script_id)
        who = f"telegram:{user.id}"
        if script is None or not manages(settings, script, who):
            # an unknown script and a script one does not manage answer alike
            text = (REFUSAL if script is not None or not _manages_any(engine, settings, who)
                    else f"No script with id {script_id!r}.")
            await message.reply_text(text)
            raise ApplicationHandlerStop
        if f"telegram:{message.chat_id}" not in {str(d) for d in engine.views.destinations(script)}:
            await message.reply_text(
                f"Use /invite in a review group of {script.id}: the link must stay with the "
                "hiring team.")
            raise ApplicationHandlerStop
        try:
            interview, token = engine.invite(CreateInvitation(script.id, name, "telegram"))
        except DomainError as exc:
            await message.reply_text(f"Could not invite: {exc}")
            raise ApplicationHandlerStop from None
        await message.reply_text(
            texts.team_invitation(interview.candidate_name, interview.number, interview.id,
                                  interview.deadline,
                                  telegram_link(context.bot.username, token), script.title),
            disable_web_page_preview=True)
        log.info("invitation created from a Telegram group", extra={
            "interview_id": interview.id})
        raise ApplicationHandlerStop

    return CommandHandler("invite", invite, filters=filters.ChatType.GROUPS)


def _manages_any(engine: Engine, settings: Settings, who: str) -> bool:
    return any(manages(settings, s, who) for s in engine.views.scripts())
