"""The private answer to a button press is written once, by the engine, in the language of the
person who pressed: the candidate's interview language, the script's review language for the
team's buttons, English for anyone else (on in-memory fakes)."""

from __future__ import annotations

from core import texts
from core.commands import ButtonPressed, MediaReceived, TextReceived
from core.i18n import N_, t
from core.refs import ChatRef, MediaRef, UserRef
from core.replies import say, verbatim
from tests.support.core_fakes import World, make_world
from tests.support.scripts import script_data
from tests.unit.test_languages_flow import ADA, ADA_CHAT, bilingual, press, start

REVIEWER, CHANNEL = UserRef("slack", "U1"), ChatRef("slack", "CREV")
STRANGER = UserRef("telegram", "77")


async def test_a_german_candidate_pressing_a_stale_button_is_answered_in_german() -> None:
    world = make_world(bilingual())
    await start(world, lang="de")
    agree = t("de", texts.AGREE)
    assert await press(world, agree) == "Vielen Dank!"
    assert await press(world, agree) == "Diese Schaltfläche ist nicht mehr aktiv."
    payload, ref = world.telegram.button(ADA_CHAT, t("de", texts.SKIP_PRACTICE))
    assert await world.engine.handle(ButtonPressed(ADA, ADA_CHAT, "garbled", ref)) == (
        "Diese Schaltfläche ist nicht mehr aktiv.")  # no interview in it: the presser's own
    assert await world.engine.handle(ButtonPressed(STRANGER, ChatRef("telegram", "77"),
                                                   payload, ref)) == texts.NOT_YOUR_BUTTON


async def test_the_same_press_is_answered_in_english_for_an_english_candidate() -> None:
    world = make_world(bilingual())
    await start(world, lang="en")
    assert await press(world, "I agree") == "Thank you!"
    assert await press(world, "I agree") == texts.STALE_BUTTON


async def completed_in_german(world: World) -> None:
    await start(world, lang="de")
    await press(world, t("de", texts.AGREE))
    await press(world, t("de", texts.SKIP_PRACTICE))
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "Ein Wettlauf im Cache."))
    assert await press(world, t("de", texts.SUBMIT)) == "Abgesendet."
    world.telegram.files["v"] = b"speech:30"
    await world.engine.handle(MediaReceived(ADA, ADA_CHAT, MediaRef(
        "telegram", "v", "voice", "audio/ogg", 100, 30.0, transcript="Qualität")))
    await press(world, t("de", texts.SUBMIT))


async def test_a_reviewers_answer_with_values_is_in_the_review_language() -> None:
    review = dict(script_data()["review"], language="de")
    world = make_world(bilingual(review=review))
    await completed_in_german(world)
    sent = next(s for s in world.slack.sent if "Fehler, den Sie" in s.message.text)
    button = sent.message.buttons[0][3]
    reply = await world.engine.handle(ButtonPressed(REVIEWER, CHANNEL, button.payload, sent.ref))
    assert reply == "Sie haben Frage 1 von 2 depth bewertet: 4. Sie sind die erste Person."
    summary = next(s for s in world.slack.sent if s.message.buttons and
                   s.message.buttons[0][0].label == "Nächste Runde")
    advance = summary.message.buttons[0][0].payload
    assert await world.engine.handle(ButtonPressed(REVIEWER, CHANNEL, advance, summary.ref)) == (
        "Bewerten Sie zuerst jede Antwort: Sie haben 1 von 2 bewertet. Entscheidungen werden "
        "nach der letzten freigeschaltet.")


async def test_english_reviewers_of_a_german_candidate_are_answered_in_english() -> None:
    world = make_world(bilingual())
    await completed_in_german(world)
    sent = next(s for s in world.slack.sent if "Tell us about a bug" in s.message.text)
    button = sent.message.buttons[0][3]
    reply = await world.engine.handle(ButtonPressed(REVIEWER, CHANNEL, button.payload, sent.ref))
    assert reply == "You rated Question 1 of 2 depth: 4. You are the first."


def test_a_reply_is_written_in_the_language_it_is_rendered_in() -> None:
    reply = say(N_("Your decision: {decision}."), decision=say(N_("Advance"))).then(
        N_("Others so far: {scores}."), scores=lambda lang: f"depth 4.0 ({lang})")
    assert reply.render("de") == "Ihre Entscheidung: Nächste Runde. Andere bisher: depth 4.0 (de)."
    assert reply.render(None) == "Your decision: Advance. Others so far: depth 4.0 (None)."
    assert verbatim("Deutsch").render("uk") == "Deutsch"


async def test_a_modal_prompt_names_the_team_language_for_the_adapters_own_notices() -> None:
    from core import payloads as pl

    review = dict(script_data()["review"], language="de")
    world = make_world(bilingual(review=review))
    await completed_in_german(world)
    follow_up = next(b for s in world.slack.sent for b in s.message.all_buttons()
                     if (p := pl.parse(b.payload)) is not None and p.action == pl.FOLLOW_UP)
    prompt = world.engine.views.modal_prompt(REVIEWER, CHANNEL, follow_up.payload)
    assert prompt.allowed and prompt.language == "de"
    # what the Slack channel says when the modal cannot open in time
    assert t(prompt.language, N_("That took too long; please press the button again.")) != (
        "That took too long; please press the button again.")
