"""A catalogue of hostile and broken input, across Telegram, Slack and the script loader.

Every case sends one kind of bad input to the composed application (real python-telegram-bot
or Bolt over HTTP against the in-repo fakes, or the `interviewbot` command line) and asserts
both a clear reply or error *and* an unchanged database: every row of every table is compared
before and after, plus the media files on disk. Left out of the comparison is only the
bookkeeping of the attempt itself: the `delivery` table (ids of handled updates, kept for
de-duplication), the `outbox` (the reply, until it has been sent),
`interview.last_activity_at` (the person was active) with the `version` that every write
bumps, and the scheduler's job store (idle reminders are re-planned from that activity).

Kinds already covered elsewhere are not repeated here (tampered and foreign-interview Keep
payloads, another person's button, unknown/used/expired invitations, stickers, photos,
documents, forwarded voice, locations, damaged, silent, short, long and oversized audio,
edits and deletions, unsigned and stale Slack requests, a Telegram update the library cannot
parse, webhook requests without the secret or with a body that is not JSON).
"""

from __future__ import annotations

import json
import logging
import random
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import Engine, column, inspect, select, table

from bots.slack import render
from bots.telegram.channel import SECRET_HEADER, TelegramChannel
from core import payloads as pl
from core import texts
from core.commands import (
    ButtonPressed,
    CreateInvitation,
    InviteAccepted,
    MediaReceived,
    ReviewerText,
    TextReceived,
)
from core.refs import ChatRef, MediaRef, UserRef
from core.script import MAX_QUESTIONS, parse_script
from fakes import slack as ev
from fakes.telegram import BotMessage, FakeTelegram, FakeUser
from storage.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from tests.e2e.slack_support import GRACE, SECRET, SlackWorld, slack_world
from tests.e2e.telegram_support import (
    FAST,
    REVIEW_GROUP,
    Session,
    audio,
    migrated_database,
    settings_for,
    start_bot,
)
from tests.support.console import BIN, cli_env
from tests.support.core_fakes import make_world
from tests.support.scripts import small_script

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# -- the database, all of it ------------------------------------------------------------------

# review_post records what the bot posted about an interview (a refusal shown to a reviewer
# too), so that erasure can delete it: outbound bookkeeping, like the outbox
BOOKKEEPING_TABLES = {"delivery", "outbox", "review_post", "apscheduler_jobs", "alembic_version"}
BOOKKEEPING_COLUMNS = {("interview", "last_activity_at"), ("interview", "version")}


def snapshot(db: Engine, media: Path | None = None) -> dict[str, Any]:
    """Every row of every table (bookkeeping aside), and the files under `media`."""
    found: dict[str, Any] = {}
    names = inspect(db).get_table_names()
    with db.connect() as conn:
        for name in sorted(set(names) - BOOKKEEPING_TABLES):
            columns = [c["name"] for c in inspect(db).get_columns(name)
                       if (name, c["name"]) not in BOOKKEEPING_COLUMNS]
            query = select(table(name, *[column(c) for c in columns]))
            found[name] = sorted(repr(tuple(r)) for r in conn.execute(query))
    if media is not None:
        found["(media files)"] = sorted(str(p.relative_to(media)) for p in media.rglob("*")
                                        if p.is_file()) if media.exists() else []
    return found


# -- Telegram -------------------------------------------------------------------------------

@pytest.fixture
async def tg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Session]:
    monkeypatch.setattr(TelegramChannel, "default_pacing", FAST)
    async with FakeTelegram() as fake:
        fake.group(REVIEW_GROUP, "Backend reviews")
        bot = await start_bot(settings_for(tmp_path, fake))
        try:
            yield Session(fake, bot, tmp_path)
        finally:
            await bot.stop()


def tg_state(session: Session) -> dict[str, Any]:
    return snapshot(session.app.db, session.app.settings.media_dir)


async def callback_answer(session: Session, user: FakeUser, message: BotMessage,
                          data: str) -> str | None:
    update = session.fake.press_button(user, message, data)
    query_id = update["callback_query"]["id"]
    answer = await session.fake.wait_for(lambda: next(
        (a for a in session.fake.callback_answers if a.callback_query_id == query_id), None),
        timeout=20)
    return answer.text


EMPTY = "That answer is empty. Please write your answer."
NO_WORDS = "That answer has no words in it. Please write your answer in words."

# (what is sent at the text-only question, the reply)
TEXT_CASES: dict[str, tuple[str, str]] = {
    "only whitespace": (" \t \n \u00a0 \u3000 ", EMPTY),
    "only zero-width and bidi characters": ("\u200b\u200c\u200d\u2060\ufeff\u202e\u2066", EMPTY),
    "only control characters": ("\x00\x01\x07\x08\x1b\x7f\x9b", EMPTY),
    "only emoji": ("👍🏽🔥🚀 👩‍💻", NO_WORDS),
    "only punctuation": ("... ?! -- ;)", NO_WORDS),
}


@pytest.mark.parametrize("case", list(TEXT_CASES))
async def test_telegram_unreadable_answers_are_refused(tg: Session, case: str) -> None:
    ada = tg.fake.user(1001, "Ada")
    await tg.to_question(ada, question="tradeoff")  # text only, kept at once
    before = tg_state(tg)
    sent, reply = TEXT_CASES[case]
    tg.fake.send_text(ada, sent)
    await tg.reply(ada, reply)
    assert tg_state(tg) == before


async def test_telegram_callback_of_64_random_bytes(tg: Session) -> None:
    ada = tg.fake.user(1001, "Ada")
    await tg.to_question(ada)
    tg.fake.send_voice(ada, audio("voice.ogg"), duration=6)
    receipt = await tg.reply(ada, "Got your voice answer")
    before = tg_state(tg)
    noise = bytes(random.Random(64).getrandbits(8) for _ in range(64)).decode("latin-1")
    assert await callback_answer(tg, ada, receipt, noise) == texts.STALE_BUTTON
    assert tg_state(tg) == before


async def test_telegram_keep_for_another_candidates_take(tg: Session) -> None:
    """Bob's own interview id with Ada's take id: a well-formed payload that is not his."""
    fake = tg.fake
    ada, bob = fake.user(1001, "Ada"), fake.user(1002, "Bob")
    await tg.to_question(ada, "Ada")
    bobs = await tg.to_question(bob, "Bob")
    fake.send_voice(ada, audio("voice.ogg"), duration=6)
    adas_receipt = await tg.reply(ada, "Got your voice answer")
    ada_take = adas_receipt.button("Submit").rsplit(":", 1)[1]
    fake.send_voice(bob, audio("voice.ogg"), duration=6)
    bobs_receipt = await tg.reply(bob, "Got your voice answer")
    before = tg_state(tg)
    for action in (pl.KEEP, pl.REDO):
        forged = pl.make(action, bobs.id, ada_take)
        assert await callback_answer(tg, bob, bobs_receipt, forged) == texts.STALE_BUTTON
    assert tg_state(tg) == before


async def test_telegram_candidate_forges_a_reviewers_deadline_extension(tg: Session) -> None:
    """A well-formed reviewer payload for the candidate's own interview, from their DM."""
    ada = tg.fake.user(1001, "Ada")
    interview = await tg.to_question(ada)
    question = await tg.reply(ada, "Question 1 of 3")
    before = tg_state(tg)
    for forged in (pl.make(pl.EXTEND, interview.id, 24 * 14),
                   pl.make(pl.DECIDE, interview.id, "a")):
        assert await callback_answer(tg, ada, question, forged) == texts.NOT_A_REVIEWER
    assert tg_state(tg) == before


async def test_telegram_callback_with_empty_data(tg: Session) -> None:
    ada = tg.fake.user(1001, "Ada")
    await tg.to_question(ada)
    question = await tg.reply(ada, "Question 1 of 3")
    before = tg_state(tg)
    assert await callback_answer(tg, ada, question, "") == texts.STALE_BUTTON
    assert tg_state(tg) == before


@pytest.mark.parametrize("token", [
    "A" * 2048,
    "x' OR '1'='1'; DROP TABLE interview; --",
    "%27%20OR%201%3D1--",
    "../../../../etc/passwd",
], ids=["2 KB token", "SQL meta-characters", "URL-encoded SQL", "path traversal"])
async def test_telegram_start_with_a_hostile_token(tg: Session, token: str) -> None:
    fake = tg.fake
    ada = fake.user(1001, "Ada")
    invited, _ = tg.invite("Ada")
    before = tg_state(tg)
    fake.send_command(ada, "/start", token)
    await tg.reply(ada, texts.TOKEN_UNKNOWN)
    assert tg_state(tg) == before
    assert tg.interview(invited.id).candidate is None


async def test_telegram_message_of_a_kind_that_does_not_exist_yet(tg: Session) -> None:
    ada = tg.fake.user(1001, "Ada")
    await tg.to_question(ada, question="tradeoff")
    before = tg_state(tg)
    tg.fake.send_message(ada, {"hologram": {"file_id": "HOLO1", "file_unique_id": "H1",
                                            "depth": 3}})
    await tg.reply(ada, "Sorry, I can't use a message of this kind as an answer.")
    assert tg_state(tg) == before


async def test_telegram_unknown_command(tg: Session) -> None:
    ada = tg.fake.user(1001, "Ada")
    await tg.to_question(ada, question="tradeoff")
    before = tg_state(tg)
    tg.fake.send_command(ada, "/drop_database", "now please")
    await tg.reply(ada, "Commands:")
    assert tg_state(tg) == before


async def test_telegram_audio_file_named_like_a_path_traversal(tg: Session) -> None:
    """Accepted (it is a good answer), but stored under ids only: nothing outside the media
    folder, no part of the name in any path; the database gains exactly that take."""
    fake = tg.fake
    ada = fake.user(1001, "Ada")
    interview = await tg.to_question(ada)
    outside = sorted(p for p in tg.tmp.rglob("*") if "media" not in p.parts)
    before = tg_state(tg)
    fake.send_audio(ada, audio("voice.mp3"), duration=6,
                    file_name="../../../../../../tmp/../etc/cron.d/evil.mp3")
    await tg.reply(ada, "Got your voice answer")
    after = tg_state(tg)
    assert sorted(p for p in tg.tmp.rglob("*") if "media" not in p.parts) == outside
    answer = tg.interview(interview.id).answer_for("project")
    assert answer is not None and len(answer.takes) == 1
    key = answer.takes[0].media_key
    assert key == f"{interview.id}/{answer.takes[0].id}"
    assert after["(media files)"] == [*before["(media files)"], f"{key}.ogg",
                                      f"{key}.review.ogg"]  # the reviewers' copy, made with it
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {"(media files)", "answer", "take"}


# -- Telegram: update kinds the bot never asked for, pushed to its webhook -------------------

async def test_telegram_update_kinds_nobody_asked_for(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TelegramChannel, "default_pacing", FAST)
    async with FakeTelegram() as fake:
        plain = settings_for(tmp_path, fake)
        url = f"http://127.0.0.1:{plain.http_port}/telegram/webhook"
        settings = settings_for(tmp_path, fake, INTERVIEWBOT_HTTP_PORT=plain.http_port,
                                TELEGRAM_WEBHOOK_URL=url, TELEGRAM_WEBHOOK_SECRET="hook-Secret1")
        bot = await start_bot(settings)
        session = Session(fake, bot, tmp_path)
        try:
            ada = fake.user(1001, "Ada")
            await session.to_question(ada)
            before, sent = tg_state(session), len(fake.messages())
            user, chat = ada.to_dict(), ada.chat_dict()
            member = {"user": user, "status": "member"}
            kinds: dict[str, dict[str, Any]] = {
                "poll": {"id": "5", "question": "Tabs or spaces?", "options": [
                    {"text": "tabs", "voter_count": 1}], "total_voter_count": 1,
                    "is_closed": False, "is_anonymous": True, "type": "regular",
                    "allows_multiple_answers": False},
                "poll_answer": {"poll_id": "5", "user": user, "option_ids": [0]},
                "chat_member": {"chat": chat, "from": user, "date": 1,
                                "old_chat_member": member,
                                "new_chat_member": {**member, "status": "left"}},
                "message_reaction": {"chat": chat, "message_id": 1, "date": 1, "user": user,
                                     "old_reaction": [], "new_reaction": [
                                         {"type": "emoji", "emoji": "👍"}]},
                "chat_join_request": {"chat": chat, "from": user, "user_chat_id": ada.id,
                                      "date": 1},
                "hologram_update": {"from": user, "depth": 3},
            }
            async with aiohttp.ClientSession() as http:
                for number, (kind, payload) in enumerate(kinds.items(), 900_001):
                    async with http.post(url, json={"update_id": number, kind: payload},
                                         headers={SECRET_HEADER: "hook-Secret1"}) as response:
                        assert response.status in (200, 400), (kind, response.status)
            fake.send_command(ada, "/status")  # the bot is still there, and said nothing else
            await session.reply(ada, "0 of 3 questions answered")
            assert len(fake.messages()) == sent + 1
            assert tg_state(session) == before
        finally:
            await bot.stop()


# -- Slack ------------------------------------------------------------------------------------

@pytest.fixture
async def sl(tmp_path: Path) -> AsyncIterator[SlackWorld]:
    async with slack_world(tmp_path) as world:
        await world.start()  # Grace is at Question 1 (voice or text)
        yield world


def sl_state(world: SlackWorld) -> dict[str, Any]:
    return snapshot(world.app.db, world.settings.media_dir)


async def refused(world: SlackWorld, action: Callable[[], Any], reply: str | None) -> None:
    """Run `action`; the DM got exactly `reply` (nothing if None), the database is unchanged."""
    dm = world.dm(GRACE)
    before, count = sl_state(world), len(world.fake.messages(dm))
    await action()
    await world.channel.idle()
    new = [m.text for m in world.fake.messages(dm)[count:]]
    assert new == ([render.slack_text(reply)] if reply else []), new
    assert sl_state(world) == before


async def test_slack_answer_of_5000_characters(sl: SlackWorld) -> None:
    words = ("Interfaces matter more than implementations. " * 120)[:5000]
    await refused(sl, lambda: sl.say(GRACE, words),
                  "That answer is over 4000 characters. Please shorten it.")


async def test_slack_empty_message(sl: SlackWorld) -> None:
    await refused(sl, lambda: sl.deliver(ev.message(GRACE, "", channel=sl.dm(GRACE))), EMPTY)


async def test_slack_zero_width_message(sl: SlackWorld) -> None:
    await refused(sl, lambda: sl.say(GRACE, "\u200b\u200b\u200b"), EMPTY)


async def test_slack_event_without_a_user(sl: SlackWorld) -> None:
    envelope = ev.message(GRACE, "Whose answer is this?", channel=sl.dm(GRACE))
    del envelope["event"]["user"]

    async def deliver() -> None:
        assert (await sl.deliver(envelope)).status == 200

    await refused(sl, deliver, None)


async def test_slack_button_pressed_by_a_user_nobody_knows(
        sl: SlackWorld, caplog: pytest.LogCaptureFixture) -> None:
    dm = sl.dm(GRACE)
    await sl.say(GRACE, "My written answer to the first question.")
    receipt = sl.fake.messages(dm)[-1]
    assert receipt.text.startswith("Got your written answer")

    async def press() -> None:
        payload = ev.press(receipt, "Submit", "U0NOBODY", channel=dm)
        assert (await sl.interact(payload)).status == 200

    notes = list(sl.fake.ephemerals(channel=dm))
    await refused(sl, press, None)
    # Slack knows no such user, so the "not for you" note reaches nobody (the fake refuses it
    # with user_not_found as Slack does); above all, nobody in the DM got it, the candidate
    # included. (A known colleague pressing is told: tests/e2e/test_slack_interview.py.)
    assert sl.fake.ephemerals(user="U0NOBODY") == []
    assert sl.fake.ephemerals(channel=dm) == notes
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # nothing went wrong


async def test_slack_request_over_the_size_limit(sl: SlackWorld) -> None:
    envelope = ev.message(GRACE, "x" * (1024 * 1024 + 10), channel=sl.dm(GRACE))

    async def deliver() -> None:
        assert (await sl.deliver(envelope)).status == 413

    await refused(sl, deliver, None)


async def test_slack_request_signed_for_another_body(sl: SlackWorld) -> None:
    signed = json.dumps(ev.message(GRACE, "What I really said", channel=sl.dm(GRACE)))
    forged = json.dumps(ev.message(GRACE, "What I want recorded", channel=sl.dm(GRACE)))
    ts = int(__import__("time").time())
    signature = ev.sign(SECRET, ts, signed)

    async def deliver() -> None:
        reply = await sl.sender.post(forged, "application/json", signature=signature,
                                     timestamp=ts)
        assert reply.status == 401

    await refused(sl, deliver, None)


async def test_slack_interaction_payload_that_is_not_json(sl: SlackWorld) -> None:
    """Bolt parses a body before it checks the signature: this was a 500 with a traceback in
    the log for anyone who posted it, signed or not."""
    async def deliver() -> None:
        form, json_type = "application/x-www-form-urlencoded", "application/json"
        for body, kind, signed in (("payload=%7Bnot%20json", form, True),
                                   ("payload=%7Bnot%20json", form, False),
                                   ('{"type": "event_callback", ', json_type, True),
                                   (b"payload=\xff\xfe{", form, False)):
            reply = await sl.sender.post(body, kind, unsigned=not signed)
            assert reply.status == 400, (body, reply.status)

    await refused(sl, deliver, None)


async def test_slack_event_of_an_unknown_type(sl: SlackWorld) -> None:
    envelope = ev.event_callback({"type": "hologram_projected", "user": GRACE,
                                  "channel": sl.dm(GRACE), "event_ts": "1.2"})

    async def deliver() -> None:
        assert (await sl.deliver(envelope)).status in (200, 404)

    await refused(sl, deliver, None)


async def test_slack_slash_command_with_2kb_of_arguments(sl: SlackWorld) -> None:
    async def command() -> None:
        reply = await sl.command(GRACE, "withdrawal " + "z" * 2048)
        assert reply.status == 200 and "/interview status" in reply.body

    await refused(sl, command, None)


# -- the script loader ------------------------------------------------------------------------

BASE = """\
id: {id}
title: Loader test
consent: "OK?"
rubric: {{depth: "Depth"}}
"""
LAUGHS = "\n".join(
    ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 10)])
SCRIPTS: dict[str, tuple[bytes, str]] = {
    "billion laughs": (
        (BASE.format(id="laughs") + "questions: [{id: q1, text: Hi}]\n" + LAUGHS
         + "\ndeadline: *l9\n").encode(),
        ":11: (yaml): expands to more than 100000 values (aliases included)"),
    "an alias inside itself": (
        (BASE.format(id="loop") + "questions: &q [{id: q1, text: Hi}, *q]\n").encode(),
        ":5: (yaml): an alias refers to the value it is part of"),
    "10,000 questions": (
        (BASE.format(id="many") + "questions:\n" + "".join(
            f"  - {{id: q{n}, text: 'Question {n}?'}}\n" for n in range(10_000))).encode(),
        f":5: questions: has 10000 questions; at most {MAX_QUESTIONS} are allowed"),
    "not UTF-8": (
        BASE.format(id="latin").encode() + b'questions: [{id: q1, text: "Qu\xe9 tal?"}]\n',
        ":5: (file): is not UTF-8 text (byte 0xe9); save the file as UTF-8"),
    "a tab-indented line": (
        (BASE.format(id="tabs") + "questions:\n\t- {id: q1, text: Hi}\n").encode(),
        ":6: (yaml): found character '\\t' that cannot start any token"),
    "nested 5,000 levels deep": (
        (BASE.format(id="deep") + "questions: [{id: q1, text: Hi}]\nintro: "
         + "[" * 5000 + "]" * 5000 + "\n").encode(),
        ":1: (yaml): nested too deeply"),
}


@pytest.mark.parametrize("case", list(SCRIPTS))
def test_script_loader_refuses(tmp_path: Path, case: str) -> None:
    """`interviewbot invite` on the broken script: one clear line naming file and line,
    exit 1 within the time bound, and the database untouched."""
    from storage.db import make_engine

    data, expected = SCRIPTS[case]
    script = tmp_path / "broken.yaml"
    script.write_bytes(data)
    migrated_database(tmp_path / "ib.db")
    db = make_engine(f"sqlite:///{tmp_path / 'ib.db'}")
    before = snapshot(db)
    result = subprocess.run(
        [str(BIN), "invite", "laughs", "--name", "Ada", "--telegram"],
        env=cli_env(tmp_path, INTERVIEWBOT_SCRIPTS=str(script)), cwd=tmp_path,
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"{script}{expected}" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr) < 1000
    assert snapshot(db) == before
    db.dispose()


# -- regressions for what the catalogue found -------------------------------------------------

@pytest.mark.parametrize("question_id", ["warm_up", "w" * 64])
async def test_practice_question_with_any_valid_id_can_be_skipped(question_id: str) -> None:
    """Its Skip button carried the id: one with "_" never parsed, a 64-character one did not
    fit Telegram's 64-byte callback data."""
    script = parse_script({
        "id": "qa", "title": "QA", "consent": "OK?",
        "questions": [{"id": question_id, "text": "Warm up.", "practice": True},
                      {"id": "real", "text": "The real one."}],
        "rubric": {"depth": "Depth"}, "review": {"reviewers": []}})
    world = make_world(script)
    ada, chat = UserRef("telegram", "1"), ChatRef("telegram", "1")
    _, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    await world.engine.handle(InviteAccepted(ada, chat, token))
    payload, ref = world.telegram.button(chat, "I agree")
    await world.engine.handle(ButtonPressed(ada, chat, payload, ref))
    payload, ref = world.telegram.button(chat, "Skip practice")
    assert len(payload.encode()) <= 64
    assert await world.engine.handle(ButtonPressed(ada, chat, payload, ref)) == "Skipped."
    assert "\n\nQuestion 1 of 1" in world.telegram.texts(chat)[-1]


@pytest.fixture
def pg_or_sqlite(db: Engine) -> Engine:
    return db


async def test_an_answer_with_a_nul_inside_is_stored_without_it(pg_or_sqlite: Engine) -> None:
    """PostgreSQL cannot store NUL in text: the answer failed with an error. Control
    characters are now dropped from answers (line breaks and tabs kept)."""
    script = parse_script({"id": "qa", "title": "QA", "consent": "OK?",
                           "questions": [{"id": "one", "text": "Say something."}],
                           "rubric": {"depth": "Depth"}, "review": {"reviewers": []}})
    world = make_world(script, uow=SqlUnitOfWorkFactory(pg_or_sqlite))
    ada, chat = UserRef("telegram", "1"), ChatRef("telegram", "1")
    interview, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    await world.engine.handle(InviteAccepted(ada, chat, token))
    payload, ref = world.telegram.button(chat, "I agree")
    await world.engine.handle(ButtonPressed(ada, chat, payload, ref))
    await world.engine.handle(TextReceived(ada, chat, "Line one\x00\x1b[31m\nline\ttwo\x07",
                                           "u-1"))
    assert world.telegram.texts(chat)[-1].startswith("Got your written answer")
    with SqlUnitOfWork(pg_or_sqlite) as uow:
        stored = uow.interviews.get(interview.id)
        assert stored is not None
        answer = stored.answer_for("one")
        assert answer is not None and answer.takes[0].text == "Line one[31m\nline\ttwo"


async def test_a_reviewer_follow_up_with_a_nul_inside(pg_or_sqlite: Engine) -> None:
    """Reviewers' texts were stored as typed: a follow-up with a NUL failed on PostgreSQL.
    They are cleaned like answers now, and one with nothing left is refused, storing
    nothing and sending the candidate nothing."""
    world = make_world(small_script(), uow=SqlUnitOfWorkFactory(pg_or_sqlite))
    ada, chat = UserRef("telegram", "1"), ChatRef("telegram", "1")
    reviewer, channel = UserRef("slack", "U1"), ChatRef("slack", "CREV")
    interview, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    await world.engine.handle(InviteAccepted(ada, chat, token))

    async def press(label: str) -> None:
        payload, ref = world.telegram.button(chat, label)
        await world.engine.handle(ButtonPressed(ada, chat, payload, ref))

    await press("I agree")
    await press("Skip practice")
    await world.engine.handle(TextReceived(ada, chat, "A race in the cache."))
    await press("Submit")
    world.telegram.files["v"] = b"speech:30"
    await world.engine.handle(MediaReceived(ada, chat, MediaRef(
        "telegram", "v", "voice", "audio/ogg", 100, 30.0, transcript="")))
    await press("Submit")
    assert world.telegram.texts(chat)[-1].startswith("That was the last question")
    card = next(s for s in world.slack.sent if s.chat == channel and "Tell us" in s.message.text)
    ask = card.message.buttons[-1][0]
    assert ask.label == "Ask a follow-up"
    await world.engine.handle(ButtonPressed(reviewer, channel, ask.payload, card.ref))
    target = world.slack.last(channel).message.ask_reply
    assert target is not None
    to_candidate = len(world.telegram.texts(chat))

    before = snapshot(pg_or_sqlite)
    await world.engine.handle(ReviewerText(reviewer, channel, target, "\x00\x01\x07\x1b\x7f\x9b",
                                           "slack:view:V1:h1"))
    assert world.slack.last(channel).message.text == (
        "That follow-up question is empty. Please write your follow-up question. Nothing was "
        "sent to the candidate.")
    assert snapshot(pg_or_sqlite) == before
    assert len(world.telegram.texts(chat)) == to_candidate

    await world.engine.handle(ReviewerText(
        reviewer, channel, target, "How did\x00 you find\x1b[1m it?\x07\nAnd\tthen?",
        "slack:view:V2:h2"))
    assert world.slack.last(channel).message.text.startswith("Your follow-up was sent")
    assert '"How did you find[1m it?\nAnd\tthen?"' in world.telegram.texts(chat)[-1]
    with SqlUnitOfWork(pg_or_sqlite) as uow:
        stored = uow.interviews.get(interview.id)
        assert stored is not None
        (follow_up,) = stored.follow_ups
        assert follow_up.text == "How did you find[1m it?\nAnd\tthen?"


# -- review integrity: reviewers who are really reviewers, one extension per expiry ----------

async def _expired(world: SlackWorld) -> tuple[str, Any]:
    """Grace's interview past its deadline, the reviewers' expiry notice posted."""
    from datetime import UTC, datetime, timedelta

    from tests.e2e.slack_support import REVIEW

    interview = world.interview()
    with world.app.services.uow() as uow:
        found = uow.interviews.get(interview.id)
        assert found is not None
        found.deadline = datetime.now(UTC) - timedelta(minutes=1)
        uow.commit()
    await world.app.engine.timer_fired(interview.id, "expire", 0)
    notice = await world.fake.wait_for_message(REVIEW, "expired with")
    return interview.id, notice


async def test_slack_extend_double_tap_and_forged_amounts(sl: SlackWorld) -> None:
    """One press per expiry adds the script's extension and removes the button; a second tap
    of the same (stale) card, a crafted `ex:<id>:336` and an old-format `ex:<id>:48` are
    refused with a private answer and change nothing."""
    from tests.e2e.slack_support import REV1, REV2, REVIEW

    iid, notice = await _expired(sl)
    card = notice.as_slack()
    await sl.press(REVIEW, "Extend 48 h", REV1, message=notice)
    assert sl.whispers(REV1)[-1] == "Extended by 48 h."
    extended = sl.interview()
    assert extended.state.value == "consented"
    shown = sl.fake.message(REVIEW, notice.ts)
    assert "Extend" not in json.dumps(shown.blocks) and "was extended" in shown.text
    before = sl_state(sl)
    # the double tap: the card as it was before the first press
    await sl.interact(ev.press(card, "Extend 48 h", REV2, channel=REVIEW,
                               trigger_id=sl.fake.issue_trigger(REV2)))
    assert sl.whispers(REV2)[-1].startswith("Already extended")
    assert sl_state(sl) == before and sl.interview().deadline == extended.deadline
    for forged in (pl.make(pl.EXTEND, iid, 336), pl.make(pl.EXTEND, iid, 48),
                   pl.make(pl.EXTEND, iid, 336, 1)):
        await sl.interact(ev.block_actions(REV1, action_id="forged", value=forged,
                                           channel=REVIEW, message=card,
                                           trigger_id=sl.fake.issue_trigger(REV1)))
        await sl.channel.idle()
        assert sl.whispers(REV1)[-1] == texts.STALE_BUTTON, forged
        assert sl_state(sl) == before


async def test_slack_candidate_of_the_script_in_the_review_channel_cannot_rate(
        sl: SlackWorld) -> None:
    """Grace (a candidate of this script) is in the review channel: refused on another
    candidate's card too, privately, nothing stored."""
    from tests.e2e.slack_support import M4A, REVIEW, WEBM

    await sl.fake.wait_for_message(sl.dm(GRACE), "Question 1 of 3")
    sl.fake.user("U0KAI", "Kai", "UTC")
    await sl.invite("Kai Other", "U0KAI")
    await sl.press(sl.dm("U0KAI"), "I agree", "U0KAI")
    for user in (GRACE, "U0KAI"):  # both answer everything (Grace first)
        dm = sl.dm(user)
        await sl.share(user, M4A)
        await sl.press(dm, "Submit", user)
        await sl.share(user, WEBM)
        await sl.press(dm, "Submit", user)
        await sl.say(user, "Written answer.")
        await sl.press(dm, "Submit", user)
    await sl.channel.idle()
    kai_cards = [m for m in sl.fake.messages(REVIEW) if "Candidate #2" in m.text]
    card = next(m for m in kai_cards if "Question 1 of 3" in m.text and not m.files)
    before = sl_state(sl)
    await sl.press(REVIEW, "depth 1", GRACE, message=card)
    await sl.press(REVIEW, "Reject", GRACE,
                   message=next(m for m in kai_cards if "completed" in m.text))
    assert sl.whispers(GRACE)[-2:] == [texts.NOT_A_REVIEWER, texts.NOT_A_REVIEWER]
    assert sl_state(sl) == before


async def test_slack_public_review_channel_is_refused_at_start(tmp_path: Path) -> None:
    """A script listing a public Slack channel: `run` refuses to start Slack, naming the
    script, the channel and the fix; `check` says the same with a token."""
    from bots.app import build, make_channels
    from bots.slack.lookup import ReviewChannelRefused
    from fakes.slack import FakeSlack
    from tests.e2e.slack_support import REVIEW, TOKEN, free_port, settings_for, workspace

    async with FakeSlack(bot_token=TOKEN) as fake:
        workspace(fake)
        fake.channel(REVIEW, "hiring-reviews", is_private=False)
        settings = settings_for(tmp_path, fake, free_port())
        app = build(settings)
        (channel,) = make_channels(settings, app)
        try:
            with pytest.raises(ReviewChannelRefused,
                               match="review channel slack:CREVIEW is public"):
                await channel.start()
        finally:
            await channel.stop()
            app.db.dispose()
        assert not fake.calls_to("chat.postMessage")
        script = tmp_path / "scripts" / "referral.yaml"
        code, stderr = await _check(tmp_path, script, SLACK_BOT_TOKEN=TOKEN,
                                    SLACK_API_URL=fake.api_url)
        assert code == 1
        assert "slack:CREVIEW is public" in stderr and "allow_public_channel: true" in stderr
        # without a token, `check` can only warn that it is verified at start
        code, stderr = await _check(tmp_path, script)
        assert code == 0 and "checked to be private when the bot starts" in stderr
        script.write_text(script.read_text().replace(
            "independent: true}", "independent: true, allow_public_channel: true}"))
        code, stderr = await _check(tmp_path, script, SLACK_BOT_TOKEN=TOKEN,
                                    SLACK_API_URL=fake.api_url)
        assert code == 0, stderr


async def _check(tmp_path: Path, script: Path, **env: str) -> tuple[int | None, str]:
    """`interviewbot check` without blocking the loop the fakes answer on."""
    import asyncio

    proc = await asyncio.create_subprocess_exec(
        str(BIN), "check", str(script), env=cli_env(tmp_path, **env),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    return proc.returncode, err.decode()


async def _tg_completed(tg: Session) -> tuple[Any, list[BotMessage]]:
    """Ada's interview completed; the review group's first four cards."""
    fake = tg.fake
    ada = fake.user(1001, "Ada")
    interview = await tg.to_question(ada, question="testing")
    fake.send_text(ada, "Unit tests first, then a few end-to-end tests against fakes.")
    await tg.reply(ada, "Got your written answer")
    assert await tg.press(ada, fake.last_message(ada.id), "Submit") == "Submitted."
    await tg.reply(ada, "That was the last question")
    await fake.wait_for(lambda: len(fake.messages(REVIEW_GROUP)) >= 4, timeout=30)

    def recorded() -> bool:  # every card posted is recorded (the reel may follow)
        with tg.app.services.uow() as uow:
            posts = len(uow.reviews.posts(interview.id))
        return posts >= 4 and posts == len(fake.messages(REVIEW_GROUP))

    await fake.wait_for(recorded, timeout=30)
    await tg.app.engine.idle()
    return interview, fake.messages(REVIEW_GROUP)[:4]


async def test_telegram_group_member_not_on_the_member_list_cannot_rate(tg: Session) -> None:
    """`review.members` narrows who may rate in the group: a group member not listed gets a
    private callback answer and nothing is stored; a listed one rates."""
    import dataclasses

    from tests.e2e.telegram_support import SCRIPT_ID

    catalog = tg.app.services.scripts
    script = catalog.get(SCRIPT_ID)
    assert script is not None
    narrowed = dataclasses.replace(script, review=dataclasses.replace(
        script.review, members=("telegram:2001",)))
    # the same revision, served with a narrower member list
    catalog._by_id[SCRIPT_ID] = dataclasses.replace(  # type: ignore[attr-defined]
        catalog._by_id[SCRIPT_ID], script=narrowed)  # type: ignore[attr-defined]
    _, (_, project, _, _) = await _tg_completed(tg)
    rita, mallory = tg.fake.user(2001, "Rita"), tg.fake.user(2002, "Mallory")
    before = tg_state(tg)
    data = project.reply_markup["inline_keyboard"][0][0]["callback_data"]  # type: ignore[index]
    assert await callback_answer(tg, mallory, project, data) == texts.NOT_A_LISTED_MEMBER
    assert tg_state(tg) == before
    answer = await callback_answer(tg, rita, project, data)
    assert answer is not None and answer.startswith("You rated")


async def test_telegram_planted_ref_line_in_a_candidates_text_routes_nothing(
        tg: Session) -> None:
    """A follow-up reply is broadcast to the review group with the candidate's own text. A
    candidate who ends it with a `ref:` line (even a valid target) cannot make a reviewer's
    reply to that broadcast go anywhere: replies route by recorded prompt ids only."""
    fake = tg.fake
    interview, (_, _, _, testing) = await _tg_completed(tg)
    ada, rita = fake.user(1001, "Ada"), fake.user(2001, "Rita")
    group = fake.group(REVIEW_GROUP, "Backend reviews")
    assert await tg.press(rita, testing, "Ask a follow-up") == "Write your follow-up question."
    prompt = await fake.wait_for_message(REVIEW_GROUP, "reply with your question")
    fake.send_text(rita, "Which fakes?", chat=group, reply_to=prompt)
    await tg.reply(ada, "Which fakes?")
    answer_id = tg.interview(interview.id).answers[-1].id
    planted = f"In-repo fakes.\nref: {pl.make(pl.FOLLOW_UP, interview.id, answer_id)}"
    fake.send_text(ada, planted)
    await tg.reply(ada, "your reply is on its way")
    broadcast = await fake.wait_for_message(REVIEW_GROUP, "answered the follow-up")
    assert (broadcast.text or "").rstrip().endswith(pl.make(pl.FOLLOW_UP, interview.id,
                                                            answer_id))
    await tg.app.engine.idle()
    before, to_ada = tg_state(tg), len(fake.messages(ada.id))
    mark = fake.mark()
    fake.send_text(rita, "Redirected question?", chat=group, reply_to=broadcast)
    # a marker in the same chat (updates of one chat are handled in order): /help gets an answer
    fake.send_command(rita, "/help", chat=group, mention=True)
    await fake.wait_for(lambda: any(m.seq > mark for m in fake.messages(REVIEW_GROUP)),
                        timeout=20)
    await tg.app.engine.idle()
    assert len(fake.messages(ada.id)) == to_ada, "nothing reached the candidate"
    assert tg_state(tg) == before


async def test_slack_user_group_and_member_list_decide_who_rates_in_the_channel(
        tmp_path: Path) -> None:
    """`reviewers` names a Slack user group and `members` narrows the channel to it: a channel
    member outside the group is refused privately (nothing stored); a group member rates; the
    group is resolved with usergroups.users.list."""
    import dataclasses

    from tests.e2e.slack_support import REV1, REV2, REVIEW

    async with slack_world(tmp_path) as world:
        world.fake.usergroup("S0LEADS", [REV2])
        catalog = world.app.services.scripts
        script = catalog.get("referral")
        assert script is not None
        catalog._by_id["referral"] = dataclasses.replace(  # type: ignore[attr-defined]
            catalog._by_id["referral"],  # type: ignore[attr-defined]
            script=dataclasses.replace(script, review=dataclasses.replace(
                script.review, reviewers=(*script.review.reviewers, "slack:S0LEADS"),
                members=("slack:S0LEADS",))))
        await world.complete()
        await world.channel.idle()
        await world.app.engine.idle()
        card = next(c for c in world.fake.messages(REVIEW) if "Question 2 of 3" in c.text
                    and not c.files)
        before = sl_state(world)
        await world.press(REVIEW, "depth 1", REV1, message=card)
        assert world.whispers(REV1)[-1] == texts.NOT_A_LISTED_MEMBER
        assert sl_state(world) == before
        await world.press(REVIEW, "depth 1", REV2, message=card)
        assert world.whispers(REV2)[-1].startswith("You rated")
        assert world.fake.calls_to("usergroups.users.list")
        assert all(c.get("channel") != "S0LEADS"
                   for c in world.fake.calls_to("chat.postMessage"))


async def test_slack_app_home_pager_with_forged_page_numbers(tmp_path: Path) -> None:
    """The App Home's Newer/Older buttons carry a page number; a forged one (negative, huge,
    not a number) shows a valid (empty or first) page and changes nothing."""
    from tests.e2e.slack_support import REV1

    async with slack_world(tmp_path) as world:
        await world.complete()
        await world.channel.idle()
        await world.deliver(ev.app_home_opened(REV1, channel=world.dm(REV1)))
        home = world.fake.home(REV1)
        assert home is not None and "Candidate #1" in home.all_text
        assert "Older" not in home.all_text  # one interview: a single page
        before = sl_state(world)
        for value in ("-1", "999999999999", "abc", "1"):
            await world.interact(ev.block_actions(
                REV1, action_id=f"home_page:{value}", value=value, view=home.as_slack(),
                trigger_id=world.fake.issue_trigger(REV1)))
            shown = world.fake.home(REV1)
            assert shown is not None
            if value in ("-1", "abc"):  # read as the first page
                assert "Candidate #1" in shown.all_text
            else:  # past the end: an empty page that links back
                assert "Candidate #1" not in shown.all_text and "Newer" in shown.all_text
        assert sl_state(world) == before
