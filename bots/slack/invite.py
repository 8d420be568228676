"""Inviting a Slack user: the one path for `interviewbot invite --slack-user`, the
`/interview invite` modal and `POST /api/v1/invitations` with `channel: slack`.

Slack is asked first (`users.info`: a real, active person; `conversations.open`: their DM);
only then is the invitation bound to them and started in the DM by the engine. A refusal on
the way raises `SlackInviteFailed` with the reason; `create_and_invite` creates the invitation
only after both answered, so a refusal leaves nothing behind (no interview, no webhook event).
What the engine sends afterwards goes through its outbox, retried like every message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bots.slack.messenger import SlackMessenger
from core.commands import CreateInvitation, InviteAccepted
from core.engine import Engine
from core.model import Interview
from core.refs import ChatRef, UserRef

if TYPE_CHECKING:
    from bots.app import App


class SlackInviteFailed(Exception):
    """The Slack user cannot be invited (unknown, deactivated, a bot, or Slack refused)."""


@dataclass(frozen=True)
class SlackInvite:
    """Where the invitation went."""

    user: UserRef
    dm: ChatRef
    tz: str
    name: str  # the person's name in Slack


def slack_messenger(app: App) -> SlackMessenger:
    """The Slack messenger the engine sends with (a running channel, or the CLI's outbound
    one from `bots.app.chat_messengers`)."""
    if not app.settings.slack_bot_token:
        raise SlackInviteFailed("SLACK_BOT_TOKEN is not set")
    messenger = app.services.messengers.get("slack")
    if not isinstance(messenger, SlackMessenger):
        raise SlackInviteFailed("Slack is not connected in this process")
    return messenger


async def _reach(messenger: SlackMessenger, user_id: str) -> tuple[dict[str, Any], str]:
    """The person (`users.info`) and their DM (`conversations.open`), or `SlackInviteFailed`."""
    try:
        info = await messenger.client.users_info(user=user_id, include_locale=True)
        person = dict(info.get("user") or {})
        if person.get("deleted") or person.get("is_bot"):
            raise SlackInviteFailed(f"Slack user {user_id} is deactivated or a bot")
        dm = await messenger.open_dm(user_id)
    except SlackApiError as exc:
        raise SlackInviteFailed(
            f"Slack refused ({exc.response.get('error', 'error')}) for user {user_id}"
        ) from None
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:  # after the client's retries
        raise SlackInviteFailed(f"Slack could not be reached ({type(exc).__name__}) for user "
                                f"{user_id}") from None
    return person, dm


async def invite_slack_user(app: App, token: str, user_id: str, tz: str | None = None
                            ) -> SlackInvite:
    """Open a DM with `user_id`, bind the invitation `token` to them, and let the engine send
    the greeting, the expectations (deadline in their Slack time zone unless `tz` is given)
    and the consent buttons there."""
    person, dm = await _reach(slack_messenger(app), user_id)
    return await _start(app.engine, token, user_id, tz, person, dm)


async def _start(engine: Engine, token: str, user_id: str, tz: str | None,
                 person: dict[str, Any], dm: str) -> SlackInvite:
    zone = str(tz or person.get("tz") or "UTC")
    invite = SlackInvite(UserRef("slack", user_id), ChatRef("slack", dm), zone,
                         str(person.get("real_name") or person.get("name") or user_id))
    await engine.handle(InviteAccepted(invite.user, invite.dm, token, tz=invite.tz,
                                       locale=person.get("locale")))
    return invite


async def create_and_invite(engine: Engine, messenger: SlackMessenger, script_id: str,
                            user_id: str, *, name: str | None = None, tz: str | None = None,
                            external_ref: str | None = None) -> tuple[Interview, SlackInvite]:
    """Check the person and open their DM, then create the invitation (named `name`, else
    their Slack name) and start it there. Raises `SlackInviteFailed` (nothing was created)
    or the engine's `DomainError` (an unknown or retired script: nothing was created)."""
    person, dm = await _reach(messenger, user_id)
    label = name or str(person.get("real_name") or person.get("name") or user_id)
    interview, token = engine.invite(CreateInvitation(
        script_id, label, "slack", tz, external_ref=external_ref))
    return interview, await _start(engine, token, user_id, tz, person, dm)
