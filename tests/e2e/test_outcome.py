"""The outcome reaches every candidate once: a decider's final call shows a preview in the
review channel (Send / Edit feedback / Don't send); Send twice sends once; a reviewer who is
not a decider cannot send; an erased interview gets nothing. Real Bolt against the fake Slack.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.telegram.channel import TelegramChannel
from core.report import read_report
from fakes import slack as ev
from fakes.telegram import FakeTelegram
from tests.e2e import slack_support, telegram_support
from tests.e2e.slack_support import GRACE, REV1, REV2, REVIEW, SlackWorld, slack_world
from tests.e2e.telegram_support import FAST, REVIEW_GROUP, Session, settings_for, start_bot

BOOKING = "https://cal.com/acme/platform-interview"
OUTCOME = f"""\
outcome:
  advance: "Good news, {{name}}! {{feedback}} Pick a time for a call with the team: {{booking_url}}"
  reject: "Thank you, {{name}}. We will not continue this time. {{feedback}}"
  booking_url: "{BOOKING}"
"""


@pytest.fixture(autouse=True)
def outcome_script(monkeypatch: pytest.MonkeyPatch) -> None:
    script = slack_support.SCRIPT.replace(
        "blind: true, independent: true}",
        f'blind: true, independent: true, deciders: ["slack:{REV1}"]}}') + OUTCOME
    monkeypatch.setattr(slack_support, "SCRIPT", script)


async def rate_everything(world: SlackWorld, user: str, score: int = 4) -> None:
    for card in [m for m in world.fake.messages(REVIEW) if "Q: " in m.all_text]:
        for row in [b for b in card.blocks if b.get("type") == "actions"
                    and b["elements"][0]["text"]["text"].endswith(" 1")]:
            button = row["elements"][score - 1]
            await world.interact(ev.block_actions(
                user, action_id=button["action_id"], value=button["value"],
                block_id=row["block_id"], channel=REVIEW, message=card.as_slack(),
                trigger_id=world.fake.issue_trigger(user)))


def previews(world: SlackWorld) -> list[str]:
    return [m.text for m in world.fake.messages(REVIEW) if m.text.startswith("Outcome for")]


def outcome_messages(world: SlackWorld) -> list[str]:
    return [m.text for m in world.fake.messages(world.dm(GRACE))
            if BOOKING in m.text or "Good news" in m.text]


async def test_a_deciders_advance_reaches_the_candidate_once_with_the_booking_link(
        tmp_path: Path) -> None:
    async with slack_world(tmp_path) as world:
        await world.complete()
        await rate_everything(world, REV1)
        await rate_everything(world, REV2)
        # a reviewer who is not a decider cannot decide (docs/reviews.md): no outcome preview
        await world.press(REVIEW, "Advance", REV2)
        assert world.whispers(REV2)[-1] == ("Only the named deciders make the decision on this "
                                            "interview; your ratings are recorded.")
        assert previews(world) == []
        await world.press(REVIEW, "Advance", REV1)
        (preview,) = previews(world)
        assert "Outcome for Candidate #1: Advance" in preview
        assert "Good news, Candidate #1!" in preview and BOOKING in preview
        assert "Grace" not in preview  # blind review: the name appears only when sent
        # not a decider: refused, nothing sent
        await world.press(REVIEW, "Send", REV2)
        assert world.whispers(REV2)[-1] == "Only the deciders of this interview can send its " \
                                           "outcome."
        assert outcome_messages(world) == []
        # Edit feedback opens a modal; the submitted text makes a new preview
        await world.press(REVIEW, "Edit feedback", REV1)
        (modal,) = world.fake.modals(REV1)
        assert "{feedback}" in modal.all_text
        await world.interact(ev.view_submission(
            REV1, modal.as_slack(), {"ib-text-input": "We loved the billing story."}))
        assert len(previews(world)) == 2
        assert "We loved the billing story. Pick a time" in previews(world)[-1]
        assert outcome_messages(world) == []
        # Send, twice (a double tap on the same message): the candidate gets it once
        newest = next(m for m in reversed(world.fake.messages(REVIEW))
                      if m.text.startswith("Outcome for") and m.blocks
                      and any(b.get("type") == "actions" for b in m.blocks))
        stale = newest.as_slack()
        await world.press(REVIEW, "Send", REV1, message=stale)
        await world.press(REVIEW, "Send", REV1, message=stale)
        assert outcome_messages(world) == [
            f"Good news, Grace Hopper! We loved the billing story. Pick a time for a call with "
            f"the team: {BOOKING}"]
        assert world.whispers(REV1)[-2] == "Sent to the candidate."
        assert world.whispers(REV1)[-1].startswith("The outcome was already sent")
        edited = world.fake.message(REVIEW, newest.ts)
        assert edited.text == "Outcome for Candidate #1: Advance, sent (slack:U0REV1)."
        # the older preview's Send does nothing either
        await world.press(REVIEW, "Send", REV1)
        assert len(outcome_messages(world)) == 1
        with world.app.services.uow() as uow:
            actions = [a.action for a in uow.reviews.audit_log(world.interview().id)]
        assert actions.count("outcome sent") == 1
        # counted in the report: time from completion to the outcome
        script = world.app.catalog.get("referral")
        assert script is not None
        with world.app.services.uow() as uow:
            told = read_report(script, uow).time_to_outcome
        assert told.count == 1 and told.median is not None and told.median >= 0


async def test_no_outcome_reaches_an_erased_interview(tmp_path: Path) -> None:
    async with slack_world(tmp_path) as world:
        await world.complete()
        await rate_everything(world, REV1)
        await world.press(REVIEW, "Reject", REV1)
        (preview,) = previews(world)
        assert "We will not continue this time." in preview
        await world.press(REVIEW, "Edit feedback", REV1)
        (modal,) = world.fake.modals(REV1)
        await world.interact(ev.view_submission(
            REV1, modal.as_slack(), {"ib-text-input": "Grace's testing answer was thin."}))
        assert "Grace's testing answer was thin." in previews(world)[-1]
        await world.command(GRACE, "delete")  # the candidate erases their interview
        await world.press(world.dm(GRACE), "Yes, erase everything", GRACE)
        assert world.interview().state.value == "erased"
        # the erasure deleted the preview with every other post about her: nothing to send
        assert previews(world) == []
        assert not any("will not continue" in t for t in world.texts(world.dm(GRACE)))
        # the written feedback about her went with the erasure; the record that there was some
        # stays
        with world.app.services.uow() as uow:
            log = uow.reviews.audit_log(world.interview().id)
        assert [e.detail for e in log if e.action == "outcome feedback"] == ["(erased)"]
        assert "thin" not in repr(log)


# -- Telegram: a decider in the review group writes feedback in a force-reply box -----------
async def test_a_telegram_decider_edits_the_feedback_and_sends_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = telegram_support.SCRIPT.replace(
        "blind: true, independent: true}",
        'blind: true, independent: true, deciders: ["telegram:2001"]}') + OUTCOME
    assert "deciders" in script
    monkeypatch.setattr(telegram_support, "SCRIPT", script)
    monkeypatch.setattr(TelegramChannel, "default_pacing", FAST)
    async with FakeTelegram() as fake:
        group = fake.group(REVIEW_GROUP, "Backend reviews")
        bot = await start_bot(settings_for(tmp_path, fake))
        session = Session(fake, bot, tmp_path)
        try:
            ada, rita = fake.user(1001, "Ada"), fake.user(2001, "Rita")
            await session.to_question(ada, question="testing")
            fake.send_text(ada, "Unit tests first, then end-to-end tests against fakes.")
            receipt = await session.reply(ada, "Got your written answer")
            assert await session.press(ada, receipt, "Submit") == "Submitted."
            await session.reply(ada, "That was the last question")
            await fake.wait_for(lambda: len(fake.messages(REVIEW_GROUP)) >= 4, timeout=30)
            summary, *cards = fake.messages(REVIEW_GROUP)[:4]
            for card in cards:
                for label in ("depth 1", "clarity 1"):
                    if label in card.button_labels:
                        await session.press(rita, card, label)
            assert await session.press(rita, summary, "Reject") == "Your decision: Reject."
            preview = await fake.wait_for_message(REVIEW_GROUP, "Outcome for Candidate #1")
            assert "We will not continue this time." in (preview.text or "")
            assert await session.press(rita, preview, "Edit feedback") == "Write the feedback."
            prompt = await fake.wait_for_message(REVIEW_GROUP, "reply with the text for")
            assert "ref:" not in (prompt.text or "")  # routed by the recorded message id
            fake.send_text(rita, "Strong testing answer; we need more depth.", chat=group,
                           reply_to=prompt)
            second = await fake.wait_for(lambda: [
                m for m in fake.messages(REVIEW_GROUP)
                if "Strong testing answer" in (m.text or "") and "Send" in m.button_labels],
                timeout=30)
            # Send as the decider saw it: the first press's edit takes the button away, the
            # second press comes from the same (now stale) button
            stale = second[-1].button("Send")
            assert await session.press(rita, second[-1], "Send") == "Sent to the candidate."
            again = fake.press_button(rita, second[-1], stale)["callback_query"]["id"]
            answer = (await fake.wait_for(lambda: next(
                (a for a in fake.callback_answers if a.callback_query_id == again), None),
                timeout=30)).text
            assert answer is not None and answer.startswith("The outcome was already sent")
            told = [m.text for m in fake.messages(ada.id) if "will not continue" in (m.text or "")]
            assert told == ["Thank you, Ada. We will not continue this time. Strong testing "
                            "answer; we need more depth."]
        finally:
            await bot.stop()
