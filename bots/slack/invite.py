"""`interviewbot invite --slack-user U…`: DM the person and start their interview there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bots.slack.messenger import SlackMessenger, make_client
from core.commands import InviteAccepted
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


async def invite_slack_user(app: App, token: str, user_id: str, tz: str | None = None
                            ) -> SlackInvite:
    """Open a DM with `user_id`, bind the invitation `token` to them, and let the engine send
    the greeting, the expectations (deadline in their Slack time zone unless `tz` is given)
    and the consent buttons there."""
    settings = app.settings
    if not settings.slack_bot_token:
        raise SlackInviteFailed("SLACK_BOT_TOKEN is not set")
    running = app.services.messengers.get("slack")
    messenger = running if isinstance(running, SlackMessenger) else SlackMessenger(
        make_client(settings.slack_bot_token, settings.slack_api_url, app.services.observer))
    await messenger.open()
    try:
        try:
            info = await messenger.client.users_info(user=user_id, include_locale=True)
            person = info.get("user") or {}
            if person.get("deleted") or person.get("is_bot"):
                raise SlackInviteFailed(f"Slack user {user_id} is deactivated or a bot")
            dm = await messenger.open_dm(user_id)
        except SlackApiError as exc:
            raise SlackInviteFailed(
                f"Slack refused ({exc.response.get('error', 'error')}) for user {user_id}"
            ) from None
        zone = tz or person.get("tz") or "UTC"
        invite = SlackInvite(UserRef("slack", user_id), ChatRef("slack", dm), str(zone))
        if running is not messenger:
            app.services.messengers["slack"] = messenger
        try:
            await app.engine.handle(InviteAccepted(invite.user, invite.dm, token, tz=invite.tz,
                                                   locale=person.get("locale")))
        finally:
            if running is not messenger:
                if running is None:
                    app.services.messengers.pop("slack", None)
                else:
                    app.services.messengers["slack"] = running
        return invite
    finally:
        if running is not messenger:
            await messenger.close()
