"""Hiring managers in Slack: `/interview invite` (a modal) and `/interview list [script]`
(open interviews with Extend and Withdraw buttons). Everyone else gets a clear refusal.

Registered before the candidates' `/interview` listener (bots/slack/channel.py), with a
matcher, so `status`, `withdraw`, `delete` and `help` still reach it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bots.managers import REFUSAL, managed, manages
from core import texts
from core.commands import CreateInvitation, InviteAccepted
from core.errors import DomainError
from core.messages import OutMessage
from core.refs import ChatRef, UserRef
from core.states import State
from core.texts import zone

if TYPE_CHECKING:
    from bots.slack.channel import SlackChannel

log = logging.getLogger("interviewbot.slack")
INVITE_CALLBACK = "ib-invite"
EXTEND = "ib-hm-extend"
WITHDRAW = "ib-hm-withdraw"
EXTEND_BY = timedelta(days=3)
LIST_LIMIT = 20  # two blocks each: within Slack's 50 blocks per message
LISTED = (State.INVITED, State.CONSENTED, State.IN_PROGRESS, State.EXPIRED)
Ack = Callable[..., Awaitable[None]]


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:150]}


def _input(block: str, label: str, element: dict[str, Any], optional: bool = True,
           hint: str | None = None) -> dict[str, Any]:
    out = {"type": "input", "block_id": block, "label": _plain(label), "optional": optional,
           "element": {**element, "action_id": block}}
    if hint:
        out["hint"] = _plain(hint)
    return out


def invite_modal(scripts: list[tuple[str, str]]) -> dict[str, Any]:
    """The invitation form: script, a Slack user or a name, time zone, external reference."""
    options = [{"text": _plain(f"{title} ({sid})"), "value": sid} for sid, title in scripts]
    return {
        "type": "modal", "callback_id": INVITE_CALLBACK, "title": _plain("Invite a candidate"),
        "submit": _plain("Invite"), "close": _plain("Cancel"),
        "blocks": [
            _input("script", "Interview", {"type": "static_select", "options": options[:100],
                                           "initial_option": options[0]}, optional=False),
            _input("user", "Slack user (an internal referral)", {"type": "users_select"},
                   hint="Or leave empty and write a name below for a Telegram link."),
            _input("name", "Name (for a Telegram link)",
                   {"type": "plain_text_input", "max_length": 200}),
            _input("tz", "Time zone", {"type": "plain_text_input", "max_length": 64},
                   hint="IANA name such as Europe/Berlin; default: the Slack user's, or UTC."),
            _input("ref", "External reference", {"type": "plain_text_input", "max_length": 128},
                   hint="Your applicant tracking system's id; it comes back in webhooks."),
        ],
    }


def _value(values: dict[str, Any], block: str) -> str:
    field = (values.get(block) or {}).get(block) or {}
    found = (field.get("value") or field.get("selected_user")
             or (field.get("selected_option") or {}).get("value") or "")
    return str(found).strip()


def register(bolt: AsyncApp, channel: SlackChannel) -> None:
    """Add the listeners; call before the candidates' `/interview` listener."""
    settings, engine = channel.settings, channel.engine

    async def hiring_subcommand(body: dict[str, Any]) -> bool:
        words = str(body.get("text") or "").split()
        return bool(words) and words[0].lower() in ("invite", "list")

    @bolt.command("/interview", matchers=[hiring_subcommand])
    async def on_hiring(ack: Ack, command: dict[str, Any]) -> None:
        user = f"slack:{command['user_id']}"
        words = str(command.get("text") or "").split()
        scripts = managed(settings, engine.s.scripts.all(), user)
        if not scripts:
            await ack(text=REFUSAL)
            return
        if words[0].lower() == "list":
            wanted = words[1] if len(words) > 1 else None
            if wanted is not None and wanted not in {s.id for s in scripts}:
                await ack(text=f"You manage no script with id {wanted!r}.")
                return
            await ack()
            channel._spawn(post_list(channel, str(command["user_id"]),
                                     [s.id for s in scripts if wanted in (None, s.id)]))
            return
        await ack()
        try:
            await channel.client.views_open(trigger_id=str(command.get("trigger_id", "")),
                                            view=invite_modal([(s.id, s.title) for s in scripts]))
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))

    @bolt.view(INVITE_CALLBACK)
    async def on_invite(ack: Ack, body: dict[str, Any]) -> None:
        user_id = str((body.get("user") or {}).get("id", ""))
        values = ((body.get("view") or {}).get("state") or {}).get("values") or {}
        script_id, slack_user = _value(values, "script"), _value(values, "user")
        name, tz, ref = _value(values, "name"), _value(values, "tz"), _value(values, "ref")
        script = engine.s.scripts.get(script_id)
        errors: dict[str, str] = {}
        if script is None or not manages(settings, script, f"slack:{user_id}"):
            errors["script"] = REFUSAL
        if bool(slack_user) == bool(name):
            errors["name"] = "Choose a Slack user, or write a name for a Telegram link (not both)."
        elif name and not settings.telegram_bot_token:
            errors["name"] = "Telegram is not set up here: choose a Slack user instead."
        if tz and zone(tz).key != tz:
            errors["tz"] = f"Unknown time zone {tz!r}: use a name such as Europe/Berlin."
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        assert script is not None
        channel._spawn(create(channel, user_id, script.id, slack_user, name, tz or None,
                              ref or None))

    @bolt.action(re.compile(f"^({EXTEND}|{WITHDRAW})$"))
    async def on_manage(ack: Ack, body: dict[str, Any]) -> None:
        await ack()
        channel._spawn(manage(channel, body))


async def _dm(channel: SlackChannel, user_id: str, text: str) -> None:
    dm = await channel.slack.open_dm(user_id)
    await channel.slack.send(ChatRef("slack", dm), OutMessage(text))


async def create(channel: SlackChannel, manager: str, script_id: str, slack_user: str,
                 name: str, tz: str | None, ref: str | None) -> None:
    """Create the invitation, deliver it (Slack DM) or hand over the link (Telegram)."""
    engine = channel.engine
    if slack_user:
        try:
            info = await channel.client.users_info(user=slack_user, include_locale=True)
        except SlackApiError as exc:
            await _dm(channel, manager, f"Slack refused ({exc.response.get('error')}) for "
                                        f"user {slack_user}; nothing was created.")
            return
        person = info.get("user") or {}
        if person.get("deleted") or person.get("is_bot"):
            await _dm(channel, manager, f"User {slack_user} is deactivated or a bot; nothing "
                                        "was created.")
            return
        name = str(person.get("real_name") or person.get("name") or slack_user)
    try:
        interview, token = engine.invite(CreateInvitation(
            script_id, name, "slack" if slack_user else "telegram", tz, external_ref=ref))
    except DomainError as exc:
        await _dm(channel, manager, f"Could not invite: {exc}")
        return
    label = f"{interview.candidate_name} (#{interview.number}, interview {interview.id})"
    if slack_user:
        dm = await channel.slack.open_dm(slack_user)
        zone_name = tz or str((info.get("user") or {}).get("tz") or "UTC")
        await engine.handle(InviteAccepted(UserRef("slack", slack_user), ChatRef("slack", dm),
                                           token, tz=zone_name, locale=person.get("locale")))
        await _dm(channel, manager, f"Invitation for {label} sent to them in a Slack DM "
                                    f"(time zone {zone_name}).")
        return
    from bots.links import bot_username, telegram_link

    try:
        username = await asyncio.to_thread(bot_username, channel.settings)
    except RuntimeError as exc:
        await _dm(channel, manager, f"Invitation {label} was created, but the Telegram link "
                                    f"is unknown: {exc}")
        return
    await _dm(channel, manager, texts.team_invitation(
        interview.candidate_name, interview.number, interview.id, interview.deadline,
        telegram_link(username, token)))


async def post_list(channel: SlackChannel, manager: str, script_ids: list[str]) -> None:
    """The manager's open (and expired) interviews with Extend / Withdraw buttons, in a DM."""
    engine = channel.engine
    with engine.s.uow() as uow:
        found = [i for i in uow.interviews.live(LISTED) if i.script_id in script_ids]
    found.sort(key=lambda i: (i.script_id, i.number))
    blocks: list[dict[str, Any]] = []
    for i in found[:LIST_LIMIT]:
        line = (f"*{i.script_id} #{i.number}* {i.candidate_name or '(erased)'} · "
                f"{i.state.value.replace('_', ' ')} · due {i.deadline:%Y-%m-%d %H:%M} UTC"
                f"{f' · ref {i.external_ref}' if i.external_ref else ''}")
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": line,
                                                     "verbatim": True}})
        buttons = [{"type": "button", "action_id": EXTEND, "value": i.id,
                    "text": _plain("Extend 3 days")}]
        if i.state is not State.EXPIRED:
            buttons.append({"type": "button", "action_id": WITHDRAW, "value": i.id,
                            "style": "danger", "text": _plain("Withdraw")})
        blocks.append({"type": "actions", "block_id": f"hm-{i.id}", "elements": buttons})
    more = len(found) - LIST_LIMIT
    text = (f"{len(found)} open interview{'s' if len(found) != 1 else ''}"
            f"{f' (showing {LIST_LIMIT}; {more} more: use the CLI or the API)' if more > 0 else ''}"
            if found else "No open interviews.")
    dm = await channel.slack.open_dm(manager)
    await channel.client.chat_postMessage(channel=dm, text=text,
                                          blocks=[{"type": "section", "text": _plain(text)},
                                                  *blocks])


async def manage(channel: SlackChannel, body: dict[str, Any]) -> None:
    """Extend or Withdraw from the list: checked again (manager, state) when pressed."""
    engine = channel.engine
    manager = str((body.get("user") or {}).get("id", ""))
    action = ((body.get("actions") or [{}])[0])
    interview_id = str(action.get("value", ""))
    with engine.s.uow() as uow:
        interview = uow.interviews.get(interview_id)
    script = engine.s.scripts.get(interview.script_id) if interview else None
    if interview is None or script is None:
        await _dm(channel, manager, "That interview no longer exists.")
        return
    if not manages(channel.settings, script, f"slack:{manager}"):
        await _dm(channel, manager, REFUSAL)
        return
    label = f"{script.id} #{interview.number}"
    actor = f"slack:{manager}"
    if action.get("action_id") == EXTEND:
        done = await engine.extend(interview.id, EXTEND_BY, actor)
        await _dm(channel, manager, f"{label}: new deadline {done.deadline:%Y-%m-%d %H:%M} UTC."
                  if done else f"{label} is {interview.state.value}: it cannot be extended.")
    else:
        done = await engine.withdraw(interview.id, actor)
        told = " (the candidate was told)" if done and done.chat else ""
        await _dm(channel, manager, f"{label} withdrawn{told}."
                  if done else f"{label} is {interview.state.value}: nothing to withdraw.")
