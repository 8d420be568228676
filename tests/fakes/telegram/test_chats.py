"""Who the bot may reach: callback query expiry, privacy mode in groups, 403 for users who
blocked the bot, no first message to a stranger."""

from __future__ import annotations

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden

from fakes.telegram import FakeTelegram

from .helpers import VOICE


async def test_bot_cannot_write_first_or_to_unknown_chats(fake: FakeTelegram, bot: Bot) -> None:
    ada = fake.user(1001, "Ada")
    with pytest.raises(Forbidden, match=r"(?i)bot can't initiate conversation with a user"):
        await bot.send_message(ada.id, "hello?")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "hello?")
    fake.send_command(ada, "/start")
    await bot.send_message(ada.id, "welcome")
    fake.block(ada)
    with pytest.raises(Forbidden, match=r"(?i)blocked"):
        await bot.send_message(ada.id, "still there?")


async def test_callback_queries_expire_by_default() -> None:
    now = [0.0]
    async with (
        FakeTelegram(clock=lambda: now[0]) as fake,
        Bot(fake.token, base_url=fake.api_url) as client,
    ):
        ada = fake.user(1001, started=True)
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Keep", callback_data="k")]])
        sent = await client.send_message(ada.id, "Got it", reply_markup=keyboard)
        early = fake.press_button(ada, fake.message(ada.id, sent.message_id), label="Keep")
        late = fake.press_button(ada, fake.message(ada.id, sent.message_id), label="Keep")
        assert await client.answer_callback_query(early["callback_query"]["id"])
        now[0] += 15.5
        with pytest.raises(BadRequest, match=r"(?i)query is too old"):
            await client.answer_callback_query(late["callback_query"]["id"])


async def test_privacy_mode_withholds_other_group_messages(fake: FakeTelegram,
                                                           bot: Bot) -> None:
    me = await bot.get_me()
    assert me.can_read_all_group_messages is False
    ada = fake.user(1001)
    group = fake.group(-100200, "Reviewers")
    sent = await bot.send_message(group.id, "A new answer to review")
    mine = fake.message(group.id, sent.message_id)
    chatter = fake.send_text(ada, "lunch?", chat=group)
    other_bot = fake.send_command(ada, "/start@some_other_bot", chat=group)
    command = fake.send_command(ada, "/help", chat=group)
    addressed = fake.send_command(ada, "/help", chat=group, mention=True)
    reply = fake.send_text(ada, "Looks good", chat=group, reply_to=mine)
    mention_text = f"@{fake.bot_username} what next?"
    mention = fake.send_text(ada, mention_text, chat=group, entities=[
        {"type": "mention", "offset": 0, "length": len(fake.bot_username) + 1}])
    private = fake.send_text(ada, "hello")  # private chats are not affected
    assert [u["update_id"] for u in (chatter, other_bot)] == [None, None]
    assert [w["message"]["text"] for w in fake.withheld] == ["lunch?", "/start@some_other_bot"]
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [
        u["update_id"] for u in (command, addressed, reply, mention, private)]


async def test_privacy_mode_off_delivers_everything() -> None:
    async with (
        FakeTelegram(privacy_mode=False) as fake,
        Bot(fake.token, base_url=fake.api_url) as client,
    ):
        assert (await client.get_me()).can_read_all_group_messages is True
        update = fake.send_text(fake.user(1001), "lunch?", chat=fake.group(-100200))
        assert [u.update_id for u in await client.get_updates(timeout=0)] == [
            update["update_id"]]


async def test_a_user_who_blocked_the_bot_gets_403_on_every_method(fake: FakeTelegram,
                                                                   bot: Bot) -> None:
    ada = fake.user(1001, started=True)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Keep", callback_data="k")]])
    sent = await bot.send_message(ada.id, "Got it", reply_markup=keyboard)
    press = fake.press_button(ada, fake.message(ada.id, sent.message_id), label="Keep")
    fake.block(ada, notify=False)
    fake.rate_limits = None  # seven calls at once in one chat: only the 403s are looked at
    calls = [
        bot.send_message(ada.id, "still there?"),
        bot.send_voice(ada.id, VOICE.read_bytes()),
        bot.edit_message_text("Kept", chat_id=ada.id, message_id=sent.message_id),
        bot.edit_message_reply_markup(chat_id=ada.id, message_id=sent.message_id),
        bot.delete_message(ada.id, sent.message_id),
        bot.send_chat_action(ada.id, "typing"),
        bot.answer_callback_query(press["callback_query"]["id"]),
    ]
    for call in calls:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await call
    assert fake.message(ada.id, sent.message_id).text == "Got it"
