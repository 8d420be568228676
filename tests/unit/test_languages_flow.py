"""The candidate's language through the engine, on in-memory fakes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bots.locale_format import install, local_datetime, weekday
from core import i18n, texts
from core.commands import (
    ButtonPressed,
    CreateInvitation,
    InviteAccepted,
    MediaReceived,
    TextReceived,
    UserCommand,
)
from core.errors import DomainError
from core.refs import ChatRef, UserRef
from core.reminders import TimerKind
from core.script import Script, parse_script
from core.vocabulary import Verb
from tests.support.core_fakes import World, make_world
from tests.support.scripts import script_data, small_script

ADA = UserRef("telegram", "42")
ADA_CHAT = ChatRef("telegram", "42")
MOMENT = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)


def bilingual(**overrides: Any) -> Script:
    data = script_data(
        languages=["en", "de"],
        title={"en": "QA Engineer", "de": "QA-Ingenieur:in"},
        intro={"en": "Hi {name}! Due {deadline}.", "de": "Guten Tag, {name}! Frist: {deadline}."},
        consent={"en": "We keep your answers for 90 days. OK?",
                 "de": "Wir speichern Ihre Antworten 90 Tage lang. Einverstanden?"},
    )
    data["questions"][1]["text"] = {"en": "Tell us about a bug you found.",
                                    "de": "Erzählen Sie von einem Fehler, den Sie gefunden haben."}
    data.update(overrides)
    return parse_script(data)


@pytest.fixture(autouse=True)
def locale_dates() -> Any:
    install()
    yield
    i18n.install_date_formatter(None)


async def start(world: World, locale: str | None = None, lang: str | None = None) -> str:
    interview, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram",
                                                            "Europe/Berlin", language=lang))
    await world.engine.handle(InviteAccepted(ADA, ADA_CHAT, token, locale=locale))
    return interview.id


async def press(world: World, label: str) -> str | None:
    payload, ref = world.telegram.button(ADA_CHAT, label)
    return await world.engine.handle(ButtonPressed(ADA, ADA_CHAT, payload, ref))


async def test_the_telegram_language_picks_german_for_a_german_script() -> None:
    world = make_world(bilingual())
    iid = await start(world, locale="de-DE")
    assert world.store.interviews[iid].language == "de"
    greeting, expectations, consent = world.telegram.texts(ADA_CHAT)
    assert greeting == "Guten Tag, Ada! Frist: Mo., 30. Nov., 10:00 (Europe/Berlin)."
    assert expectations.startswith("Was Sie erwartet: 2 Fragen (plus 1 freiwillige Übungsfrage)")
    assert "eine Sprachnachricht oder Text" in expectations
    assert consent == "Wir speichern Ihre Antworten 90 Tage lang. Einverstanden?"


async def test_without_a_language_it_offers_asks_with_buttons_after_the_greeting() -> None:
    world = make_world(bilingual())
    iid = await start(world, locale="fr")
    assert world.store.interviews[iid].language is None
    greeting, question = world.telegram.texts(ADA_CHAT)
    assert greeting.startswith("Hi Ada! Due Mon 30 Nov, 10:00")
    assert question == ("Please choose the language of your interview.\n"
                        "Bitte wählen Sie die Sprache Ihres Interviews.")
    assert [b.label for b in world.telegram.last(ADA_CHAT).message.all_buttons()] == [
        "English", "Deutsch"]
    assert await press(world, "Deutsch") == "Deutsch"
    assert world.store.interviews[iid].language == "de"
    *_, expectations, consent = world.telegram.texts(ADA_CHAT)
    assert expectations.startswith("Was Sie erwartet: 2 Fragen")
    assert consent == "Wir speichern Ihre Antworten 90 Tage lang. Einverstanden?"
    assert await press(world, "Deutsch") == "Diese Schaltfläche ist nicht mehr aktiv."
    assert world.store.interviews[iid].language == "de"


async def test_a_typed_language_is_taken_and_anything_else_points_at_the_buttons() -> None:
    world = make_world(bilingual())
    iid = await start(world)
    sent = len(world.telegram.sent)
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "Klingonisch"))
    assert world.telegram.texts(ADA_CHAT)[-1] == (
        "Please use the buttons above: English, Deutsch.\n"
        "Bitte verwenden Sie die Schaltflächen oben: English, Deutsch.")
    assert len(world.telegram.sent) == sent + 1 and world.store.interviews[iid].language is None
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, " deutsch "))
    assert world.store.interviews[iid].language == "de"
    assert world.telegram.texts(ADA_CHAT)[-1] == (
        "Wir speichern Ihre Antworten 90 Tage lang. Einverstanden?")


async def test_coming_back_before_choosing_asks_again() -> None:
    world = make_world(bilingual())
    await start(world)
    await world.engine.handle(InviteAccepted(ADA, ADA_CHAT, None))
    assert world.telegram.texts(ADA_CHAT)[-1].startswith(
        "Please choose the language of your interview.")


async def test_a_one_language_script_ignores_the_hint() -> None:
    world = make_world(small_script())
    iid = await start(world, locale="de")
    assert world.store.interviews[iid].language is None
    assert world.telegram.texts(ADA_CHAT)[0].startswith("Hi Ada! 2 questions")


async def test_the_invitation_language_wins_over_the_platform() -> None:
    world = make_world(bilingual())
    iid = await start(world, locale="en", lang="de")
    assert world.store.interviews[iid].language == "de"
    assert world.telegram.texts(ADA_CHAT)[0].startswith("Guten Tag")


def test_inviting_in_a_language_the_script_lacks_is_refused_and_creates_nothing() -> None:
    world = make_world(bilingual())
    for lang in ("fr", "xx", "DE"):
        with pytest.raises(DomainError, match=f"qa is not offered in '{lang}'; its languages: "
                                              "en, de"):
            world.engine.invite(CreateInvitation("qa", "Ada", "telegram", language=lang))
    assert world.store.interviews == {}


async def test_questions_status_and_help_follow_the_language() -> None:
    world = make_world(bilingual())
    await start(world, locale="de")
    assert await press(world, "Ich stimme zu") == "Vielen Dank!"
    assert world.telegram.texts(ADA_CHAT)[-1].startswith(
        "Übungsfrage (wird nicht bewertet) · Eine Sprachnachricht oder Text · bis zu 1 Min. · "
        "1 erneute Aufnahme erlaubt\n\nWarm up: say hello.")  # one text for every language
    assert await press(world, "Übung überspringen") == "Übersprungen."
    assert world.telegram.texts(ADA_CHAT)[-1].endswith(
        "\n\nErzählen Sie von einem Fehler, den Sie gefunden haben.")
    assert world.telegram.texts(ADA_CHAT)[-1].startswith(  # the skip and the next question
        "Übungsfrage übersprungen.\n\nFrage 1 von 2")                    # in one message
    await world.engine.handle(UserCommand(ADA, ADA_CHAT, Verb.STATUS))
    assert world.telegram.texts(ADA_CHAT)[-1] == (
        "0 von 2 Fragen beantwortet, 2 offen. Frist: Mo., 30. Nov., 10:00 (Europe/Berlin).")
    await world.engine.handle(UserCommand(ADA, ADA_CHAT, Verb.HELP))
    assert world.telegram.texts(ADA_CHAT)[-1].startswith("Ich stelle die Interviewfragen")
    assert "/language - in einer anderen Sprache antworten" in world.telegram.texts(ADA_CHAT)[-1]


async def test_language_command_switches_and_repeats_the_question() -> None:
    world = make_world(bilingual())
    iid = await start(world, locale="en-GB")
    await press(world, "I agree")
    await press(world, "Skip practice")
    await world.engine.handle(UserCommand(ADA, ADA_CHAT, Verb.LANGUAGE, argument="de"))
    *_, said, question = world.telegram.texts(ADA_CHAT)
    assert said == "Ab jetzt schreibe ich auf Deutsch."
    assert question.startswith("Frage 1 von 2") and question.endswith("gefunden haben.")
    assert world.store.interviews[iid].language == "de"
    await world.engine.handle(UserCommand(ADA, ADA_CHAT, Verb.LANGUAGE, argument="English"))
    assert world.telegram.texts(ADA_CHAT)[-2] == "From now on I will write in English."
    assert world.telegram.texts(ADA_CHAT)[-1].startswith("Question 1 of 2")


@pytest.mark.parametrize("argument", ["klingon", "fr", "d", "/language"])
async def test_an_unknown_language_is_refused_and_nothing_changes(argument: str) -> None:
    world = make_world(bilingual())
    iid = await start(world, locale="de")
    sent = len(world.telegram.sent)
    await world.engine.handle(UserCommand(ADA, ADA_CHAT, Verb.LANGUAGE, argument=argument))
    assert world.telegram.texts(ADA_CHAT)[-1] == (
        f"Dieses Interview gibt es nicht in „{argument}“. Zur Auswahl stehen: English (en), "
        "Deutsch (de). Senden Sie zum Beispiel /language en.")
    assert len(world.telegram.sent) == sent + 1
    assert world.store.interviews[iid].language == "de"


async def test_language_command_without_a_code_and_on_a_one_language_script() -> None:
    world = make_world(bilingual())
    await start(world, locale="en")
    await world.engine.handle(UserCommand(ADA, ADA_CHAT, Verb.LANGUAGE))
    assert world.telegram.texts(ADA_CHAT)[-1] == (
        "This interview is in English. You can choose: English (en), Deutsch (de). Send for "
        "example /language de.")
    single = make_world(small_script())
    iid = await start(single)
    await single.engine.handle(UserCommand(ADA, ADA_CHAT, Verb.LANGUAGE, argument="de"))
    assert single.telegram.texts(ADA_CHAT)[-1] == "This interview is available in English only."
    assert single.store.interviews[iid].language is None


async def test_reminders_and_the_deadline_follow_the_language() -> None:
    world = make_world(bilingual())
    iid = await start(world, locale="de")
    world.clock.advance(hours=25)
    await world.engine.timer_fired(iid, TimerKind.NOT_STARTED.value, 0)
    reminder = world.telegram.last(ADA_CHAT).message
    assert reminder.text.startswith("Eine Erinnerung: Ihr Interview für QA-Ingenieur:in wartet "
                                    "auf Sie. Noch 2 von 2 Fragen offen, Frist Mo., 30. Nov.")
    assert [b.label for b in reminder.all_buttons()] == ["Weiter"]
    world.clock.advance(days=7)
    await world.engine.timer_fired(iid, TimerKind.EXPIRE.value, 0)
    assert world.telegram.texts(ADA_CHAT)[-1].startswith("Die Frist für Ihr Interview ist "
                                                         "abgelaufen")


def test_english_dates_are_unchanged_and_other_locales_use_babel() -> None:
    assert texts.local_time(MOMENT, "Europe/Berlin") == "Fri 27 Nov, 18:00 (Europe/Berlin)"
    assert texts.local_time(MOMENT, "Europe/Berlin", "en") == "Fri 27 Nov, 18:00 (Europe/Berlin)"
    assert texts.local_time(MOMENT, "Europe/Kyiv", "uk") == "пт, 27 лист., 19:00 (Europe/Kyiv)"
    assert local_datetime(MOMENT, "America/Sao_Paulo", "pt") == "sex., 27 de nov., 14:00"
    assert local_datetime(MOMENT, "Europe/Madrid", "es") == "vie, 27 nov, 18:00"
    assert local_datetime(MOMENT, "Europe/Paris", "fr") == "ven. 27 nov., 18:00"
    assert weekday(MOMENT, "Asia/Tokyo", "de") == "Samstag"  # already Saturday in Tokyo
    i18n.install_date_formatter(None)
    assert texts.local_time(MOMENT, "Europe/Berlin", "de") == "2026-11-27 18:00 (Europe/Berlin)"


class HeardIn:
    def __init__(self, text: str, language: str | None) -> None:
        self.text, self.language = text, language


class FakeMultilingual:
    """A transcriber that hears Spanish, whatever it was told to expect."""

    def __init__(self) -> None:
        self.hints: list[str | None] = []

    async def transcribe(self, key: str) -> str | None:
        raise AssertionError("the engine should ask for the language")

    async def transcribe_in(self, key: str, language: str | None = None) -> HeardIn | None:
        self.hints.append(language)
        return HeardIn("Hola, soy Greta.", "es")


class FakeEnglishOnly:
    async def transcribe(self, key: str) -> str | None:
        return "hello"


async def answer_by_voice(world: World) -> str:
    from core.refs import MediaRef

    iid = await start(world, locale="de")
    await press(world, "Ich stimme zu")
    await press(world, "Übung überspringen")
    world.telegram.files["f1"] = b"speech:12"
    await world.engine.handle(MediaReceived(
        ADA, ADA_CHAT, MediaRef("telegram", "f1", "voice", "audio/ogg", size=100, duration=12),
        "u1"))
    await world.engine.idle()
    return iid


async def test_each_answer_records_its_language() -> None:
    world = make_world(bilingual())
    transcriber = FakeMultilingual()
    world.engine.s.transcriber = transcriber
    iid = await answer_by_voice(world)
    answer = world.store.interviews[iid].answer_for("bug")
    assert answer is not None
    (take,) = answer.takes
    assert transcriber.hints == ["de"]  # asked in German
    assert (take.transcript, take.language) == ("Hola, soy Greta.", "es")  # heard in Spanish
    english = make_world(bilingual())
    english.engine.s.transcriber = FakeEnglishOnly()
    iid = await answer_by_voice(english)
    answer = english.store.interviews[iid].answer_for("bug")
    assert answer is not None and answer.takes[0].language == "de"  # the language it was asked in
    assert answer.takes[0].transcript == "hello"


async def test_switching_to_spanish_names_the_language_as_spanish_writes_it() -> None:
    world = make_world(bilingual(languages=["en", "es"], title="QA", intro="Hi {name}!",
                                 consent="OK?", questions=[
                                     {"id": "bug", "text": "Tell us about a bug."}]))
    await start(world)
    await world.engine.handle(UserCommand(ADA, ADA_CHAT, Verb.LANGUAGE, argument="es-ES"))
    *_, said, expectations, consent = world.telegram.texts(ADA_CHAT)
    assert said == "A partir de ahora le escribiré en español."
    assert expectations.startswith("Qué esperar: 1 pregunta, unos 2 minutos en total.")
    assert consent == "OK?"  # one text for every language
    await world.engine.handle(UserCommand(ADA, ADA_CHAT, Verb.LANGUAGE))
    assert world.telegram.texts(ADA_CHAT)[-1] == (
        "Esta entrevista está en español. Puede elegir: English (en), Español (es). Envíe por "
        "ejemplo /language en.")


async def test_review_cards_are_in_the_review_language_and_name_the_answers_language() -> None:
    from core.review_cards import answer_card, summary_card

    review = dict(script_data()["review"], language="de")
    script = bilingual(review=review)
    world = make_world(script)
    iid = await start(world, locale="en")
    await press(world, "I agree")
    await press(world, "Skip practice")
    await world.engine.handle(TextReceived(ADA, ADA_CHAT, "A race in the cache."))
    await press(world, "Submit")
    interview = world.store.interviews[iid]
    answer = interview.answer_for("bug")
    assert answer is not None and answer.kept is not None and answer.kept.language == "en"
    card = answer_card(script, interview, answer, []).text
    assert card.splitlines()[:3] == [
        "Kandidat:in #1 · Frage 1 von 2",
        "F: Erzählen Sie von einem Fehler, den Sie gefunden haben.",
        "A: A race in the cache."]
    assert "Beantwortet auf English (en)" in card
    answer.kept.language = "uk"  # as a multilingual transcriber would record what it heard
    assert "Beantwortet auf Українська (uk)" in answer_card(script, interview, answer, []).text
    summary = summary_card(script, interview, [])
    assert "Interview auf English (en)" in summary.text
    assert [b.label for b in summary.all_buttons()] == ["Nächste Runde", "Zurückstellen",
                                                        "Absagen"]


@pytest.mark.parametrize(("locale", "start"), [
    ("de-CH", "Dieser Einladungslink ist ungültig."), ("it", "This invitation link isn't valid."),
    (None, "This invitation link isn't valid.")])
async def test_before_the_interview_is_known_the_chat_apps_language_is_used(
        locale: str | None, start: str) -> None:
    world = make_world(bilingual())
    await world.engine.handle(InviteAccepted(ADA, ADA_CHAT, "not-a-token", locale=locale))
    assert world.telegram.texts(ADA_CHAT)[-1].startswith(start)


async def test_language_command_instead_of_the_buttons_goes_on_to_the_summary() -> None:
    world = make_world(bilingual())
    iid = await start(world)
    await world.engine.handle(UserCommand(ADA, ADA_CHAT, Verb.LANGUAGE, argument="de"))
    *_, said, expectations, consent = world.telegram.texts(ADA_CHAT)
    assert said == "Ab jetzt schreibe ich auf Deutsch."
    assert expectations.startswith("Was Sie erwartet: 2 Fragen")
    assert consent == "Wir speichern Ihre Antworten 90 Tage lang. Einverstanden?"
    assert world.store.interviews[iid].language == "de"
