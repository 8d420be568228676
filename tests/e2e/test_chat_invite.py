"""Hiring managers invite from chat: `/invite <script> <name>` in a Telegram group (real
python-telegram-bot against the fake Bot API) answers with a working deep link; everyone else
gets a clear refusal and nothing is created."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.telegram_support import SCRIPT_ID, settings_for, start_bot
from tests.fakes.telegram_api import FakeTelegram


async def test_a_hiring_manager_invites_from_a_telegram_group(tmp_path: Path) -> None:
    async with FakeTelegram() as tg:
        bot = await start_bot(settings_for(tmp_path, tg,
                                           INTERVIEWBOT_ADMINS="slack:U0HM, telegram:9001"))
        try:
            group = tg.group(-100500, "Hiring")
            boss, other = tg.user(9001, "Hanna"), tg.user(9002, "Otto")

            def interviews() -> int:
                with bot.app.services.uow() as uow:
                    return len(uow.interviews.for_script(SCRIPT_ID))

            tg.send_command(other, "/invite", f"{SCRIPT_ID} Ada Lovelace", chat=group)
            await tg.wait_for_message(group.id, "Only hiring managers", timeout=30)
            tg.send_command(other, "/invite", "no-such-script Ada", chat=group)
            await tg.wait_for(lambda: len(tg.messages(group.id)) == 2, timeout=30)
            assert "Only hiring managers" in tg.messages(group.id)[-1].text
            tg.send_command(boss, "/invite", SCRIPT_ID, chat=group)
            await tg.wait_for_message(group.id, "Usage: /invite", timeout=30)
            tg.send_command(boss, "/invite", "no-such-script Ada", chat=group)
            await tg.wait_for_message(group.id, "No script with id 'no-such-script'", timeout=30)
            assert interviews() == 0

            tg.send_command(boss, "/invite", f"{SCRIPT_ID} Ada Lovelace", chat=group, mention=True)
            reply = await tg.wait_for_message(group.id, "?start=", timeout=30)
            assert "Invitation for Ada Lovelace" in reply.text and "(#1," in reply.text
            link = reply.text.split()[-1]
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
