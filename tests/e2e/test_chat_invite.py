"""Hiring managers invite from chat: `/invite <script> <name>` in a Telegram group (real
python-telegram-bot against the fake Bot API) answers with a working deep link; everyone else
gets a clear refusal and nothing is created."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fakes import slack as ev
from fakes.telegram import FakeTelegram
from tests.e2e import slack_support
from tests.e2e.slack_support import EVE, GRACE, REV1, slack_world
from tests.e2e.telegram_support import REVIEW_GROUP, SCRIPT_ID, settings_for, start_bot


async def test_a_hiring_manager_invites_from_a_telegram_group(tmp_path: Path) -> None:
    async with FakeTelegram() as tg:
        bot = await start_bot(settings_for(tmp_path, tg,
                                           INTERVIEWBOT_ADMINS="slack:U0HM, telegram:9001"))
        try:
            group = tg.group(REVIEW_GROUP, "Hiring")
            elsewhere = tg.group(-100999, "Random")
            boss, other = tg.user(9001, "Hanna"), tg.user(9002, "Otto")

            def interviews() -> int:
                with bot.app.services.uow() as uow:
                    return len(uow.interviews.for_script(SCRIPT_ID))

            tg.send_command(other, "/invite", f"{SCRIPT_ID} Ada Lovelace", chat=group)
            await tg.wait_for_message(group.id, "Only hiring managers", timeout=30)
            tg.send_command(other, "/invite", "no-such-script Ada", chat=group)
            await tg.wait_for(lambda: len(tg.messages(group.id)) == 2, timeout=30)
            assert "Only hiring managers" in (tg.messages(group.id)[-1].text or "")
            tg.send_command(boss, "/invite", SCRIPT_ID, chat=group)
            await tg.wait_for_message(group.id, "Usage: /invite", timeout=30)
            tg.send_command(boss, "/invite", "no-such-script Ada", chat=group)
            await tg.wait_for_message(group.id, "No script with id 'no-such-script'", timeout=30)
            tg.send_command(boss, "/invite", f"{SCRIPT_ID} Ada Lovelace", chat=elsewhere)
            await tg.wait_for_message(elsewhere.id, "Use /invite in a review group", timeout=30)
            assert interviews() == 0

            tg.send_command(boss, "/invite", f"{SCRIPT_ID} Ada Lovelace", chat=group, mention=True)
            reply = await tg.wait_for_message(group.id, "?start=", timeout=30)
            text = reply.text or ""
            assert "Invitation for Ada Lovelace" in text and "(#1," in text
            link = text.split()[-1]
            assert link.startswith(f"https://t.me/{tg.bot_username}?start=")
            assert interviews() == 1
            # the link works for the candidate
            ada = tg.user(7001, "Ada")
            tg.send_command(ada, "/start", link.partition("?start=")[2])
            await tg.wait_for(lambda: tg.messages(ada.id), timeout=30)
            with bot.app.services.uow() as uow:
                (interview,) = uow.interviews.for_script(SCRIPT_ID)
            assert interview.candidate is not None and interview.candidate.id == "7001"
        finally:
            await bot.stop()


# -- Slack: /interview invite (a modal) and /interview list, real Bolt, signed requests ------
@pytest.fixture
def managed_script(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slack_support, "SCRIPT", slack_support.SCRIPT.replace(
        "blind: true, independent: true}",
        f'blind: true, independent: true, deciders: ["slack:{REV1}"]}}'))


def select(block: str, kind: str, value: str) -> dict[str, Any]:
    field = ({"selected_option": {"value": value, "text": {"type": "plain_text", "text": value}}}
             if kind == "static_select" else {"selected_user": value or None}
             if kind == "users_select" else {"value": value or None})
    return {block: {block: {"type": kind, **field}}}


def form(script: str = "referral", user: str = "", name: str = "", tz: str = "",
         ref: str = "") -> dict[str, Any]:
    return {**select("script", "static_select", script), **select("user", "users_select", user),
            **select("name", "plain_text_input", name), **select("tz", "plain_text_input", tz),
            **select("ref", "plain_text_input", ref)}


async def test_a_recruiter_invites_and_manages_from_slack(tmp_path: Path,
                                                          managed_script: None) -> None:
    async with slack_world(tmp_path) as world:
        # not a hiring manager: a clear refusal, no modal
        reply = await world.command(EVE, "invite")
        assert "Only hiring managers" in reply.body
        assert world.fake.modals(EVE) == []
        reply = await world.command(EVE, "list")
        assert "Only hiring managers" in reply.body
        # the candidates' subcommands still reach their own listener
        reply = await world.command(EVE, "help")
        assert "/interview status" in reply.body

        await world.command(REV1, "invite")
        (modal,) = world.fake.modals(REV1)
        view = modal.as_slack()
        assert view["callback_id"] == "ib-invite"
        for values, block in ((form(), "name"), (form(user=GRACE, name="Grace"), "name"),
                              (form(user=GRACE, tz="Mars/Olympus"), "tz"),
                              (form(name="Ada"), "name")):  # Telegram is not set up here
            refused = await world.interact(ev.view_submission(REV1, view, values=values))
            assert refused.json()["response_action"] == "errors", values
            assert block in refused.json()["errors"]
        assert world.interviews() == []

        accepted = await world.interact(ev.view_submission(
            REV1, view, values=form(user=GRACE, tz="Europe/Berlin", ref="gh-app-9")))
        assert accepted.status == 200
        await world.fake.wait_for(lambda: world.fake.messages(world.dm(GRACE)), timeout=30)
        interview = world.interview()
        assert interview.candidate_name == "Grace Hopper" and interview.external_ref == "gh-app-9"
        assert interview.tz == "Europe/Berlin"
        assert "I agree" in repr(world.fake.messages(world.dm(GRACE))[-1].blocks)
        assert "sent to them in a Slack DM" in world.last(world.dm(REV1))

        await world.command(REV1, "list")
        listing = world.fake.messages(world.dm(REV1))[-1]
        assert "1 open interview" in listing.all_text and "#1* Grace Hopper" in listing.all_text
        await world.press(world.dm(REV1), "Withdraw", EVE, message=listing)
        assert world.interview().state.value == "invited"  # EVE is refused
        await world.press(world.dm(REV1), "Withdraw", REV1, message=listing)
        assert world.interview().state.value == "withdrawn"
        assert "withdrawn" in world.last(world.dm(GRACE))
        await world.press(world.dm(REV1), "Extend 3 days", REV1, message=listing)
        assert "cannot be extended" in world.last(world.dm(REV1))


async def test_slack_invite_when_no_dm_can_be_opened(tmp_path: Path,
                                                     managed_script: None) -> None:
    """`conversations.open` fails for the invited person (and then for everyone): the modal
    itself says why and that nothing was created; no interview and no message exist. The
    same form once Slack answers again invites as usual."""
    async with slack_world(tmp_path) as world:
        await world.command(REV1, "invite")
        (modal,) = world.fake.modals(REV1)
        view = modal.as_slack()
        world.fake.fail_next("conversations.open", "user_not_visible", times=2)
        accepted = await world.interact(ev.view_submission(REV1, view,
                                                           values=form(user=GRACE)))
        assert accepted.json()["response_action"] == "update"  # the modal stays open
        await world.fake.wait_for(lambda: "nothing was created" in repr(modal.view),
                                  timeout=30)
        assert f"Slack refused (user_not_visible) for user {GRACE}" in repr(modal.view)
        await world.channel.idle()
        assert world.interviews() == []
        assert world.fake.calls_to("chat.postMessage") == []
        # Slack answers again: the same path invites
        accepted = await world.interact(ev.view_submission(REV1, view,
                                                           values=form(user=GRACE)))
        await world.fake.wait_for(lambda: "sent to them in a Slack DM" in repr(modal.view),
                                  timeout=30)
        assert len(world.interviews()) == 1
        assert "I agree" in repr(world.fake.messages(world.dm(GRACE))[-1].blocks)
