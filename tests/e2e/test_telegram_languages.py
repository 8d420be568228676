"""A candidate's language end to end: the real bot (PTB over HTTP) against the fake Bot API."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.telegram.channel import TelegramChannel
from core.commands import CreateInvitation
from core.i18n import placeholders
from fakes.telegram import BotMessage, FakeTelegram
from tests.e2e.telegram_support import (
    FAST,
    REVIEW_GROUP,
    SCRIPT_ID,
    Session,
    settings_for,
    start_bot,
)
from tests.support.catalogs import template
from tests.support.console import run_cli

BILINGUAL = f"""\
id: qa-bilingual
languages: [en, de]
title: {{en: "QA Engineer", de: "QA-Ingenieur:in"}}
intro:
  en: "Hi {{name}}! {{questions}} questions, due {{deadline}}."
  de: "Guten Tag, {{name}}! {{questions}} Fragen, Frist {{deadline}}."
consent:
  en: "We keep your answers for 90 days, seen only by the hiring team. OK?"
  de: "Wir speichern Ihre Antworten 90 Tage, nur das Recruiting-Team sieht sie. Einverstanden?"
answer: {{kinds: [voice, text], max_seconds: 60, retakes: 1}}
questions:
  - id: project
    text:
      en: "Tell us about a project you are proud of."
      de: "Erzählen Sie von einem Projekt, auf das Sie stolz sind."
  - id: testing
    text:
      en: "How do you test your code?"
      de: "Wie testen Sie Ihren Code?"
rubric: {{depth: "Technical depth"}}
review: {{reviewers: ["telegram:{REVIEW_GROUP}"]}}
"""


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Session]:
    monkeypatch.setattr(TelegramChannel, "default_pacing", FAST)
    async with FakeTelegram() as fake:
        fake.group(REVIEW_GROUP, "Reviews")
        settings = settings_for(tmp_path, fake)
        (tmp_path / "scripts" / "qa-bilingual.yaml").write_text(BILINGUAL)
        bot = await start_bot(settings)
        try:
            yield Session(fake, bot, tmp_path)
        finally:
            await bot.stop()


def english_fragments() -> list[str]:
    """The longest placeholder-free piece of every English catalog entry (what an untranslated
    message would contain)."""
    out = []
    for message in template():
        if not message.id:
            continue
        for msgid in map(str, message.id if isinstance(message.id, tuple | list)
                          else (message.id,)):
            text = msgid
            for name in placeholders(msgid):
                text = text.replace(f"{{{name}}}", "\0")
            piece = max(text.split("\0"), key=len).strip()
            if len(piece) > 8:
                out.append(piece)
    return out


async def test_a_german_telegram_user_gets_a_german_interview(session: Session) -> None:
    fake = session.fake
    greta = fake.user(2001, "Greta", language_code="de")
    interview, token = session.app.engine.invite(CreateInvitation(
        "qa-bilingual", "Greta", "telegram", "Europe/Berlin"))
    fake.send_command(greta, "/start", token)
    await session.reply(greta, "Guten Tag, Greta! 2 Fragen, Frist ")
    await session.reply(greta, "Was Sie erwartet: 2 Fragen")
    consent = await session.reply(greta, "Wir speichern Ihre Antworten 90 Tage")
    assert session.interview(interview.id).language == "de"
    assert consent.button_labels == ["Ich stimme zu", "Nein, danke"]
    fake.send_text(greta, "ja")
    await session.reply(greta, "Bitte verwenden Sie die Schaltflächen oben: Ich stimme zu oder "
                               "Nein, danke.")
    assert await session.press(greta, consent, "Ich stimme zu") == "Vielen Dank!"
    question = await session.reply(greta, "Frage 1 von 2")
    assert (question.text or "").endswith("Erzählen Sie von einem Projekt, auf das Sie stolz "
                                          "sind.")
    fake.send_command(greta, "/status")
    status = await session.reply(greta, "0 von 2 Fragen beantwortet, 2 offen. Frist: ")
    assert re.search(r"Frist: (Mo|Di|Mi|Do|Fr|Sa|So)\., \d{1,2}\. \w+\.?, \d\d:\d\d "
                     r"\(Europe/Berlin\)\.$", status.text or ""), status.text
    said = [m.text or "" for m in fake.messages(greta.id)]
    english = [f for f in english_fragments() if any(f in text for text in said)]
    assert english == [], said

    fake.send_command(greta, "/language", "fr")
    await session.reply(greta, "Dieses Interview gibt es nicht in „fr“. Zur Auswahl stehen: "
                               "English (en), Deutsch (de).")
    assert session.interview(interview.id).language == "de"
    fake.send_command(greta, "/language", "en")
    await session.reply(greta, "From now on I will write in English.")
    await session.reply(greta, "Tell us about a project you are proud of.")
    assert session.interview(interview.id).language == "en"


async def test_a_one_language_script_never_asks_for_a_language(session: Session) -> None:
    fake = session.fake
    greta = fake.user(2002, "Greta", language_code="de")
    interview, token = session.app.engine.invite(CreateInvitation(
        SCRIPT_ID, "Greta", "telegram", "Europe/Berlin"))
    fake.send_command(greta, "/start", token)
    consent = await session.reply(greta, "90 days")
    said = [m.text or "" for m in fake.messages(greta.id)]
    assert said[0].startswith("Hi Greta! 3 questions")
    assert said[1].startswith("What to expect: 3 questions")
    assert len(said) == 3 and consent.button_labels == ["I agree", "No thanks"]
    assert not any("language" in text.lower() or "Deutsch" in text for text in said)
    assert session.interview(interview.id).language is None


def english_in(fake: FakeTelegram, chat_id: int) -> list[str]:
    """Every English catalog fragment in what the bot wrote to a chat: texts (and what they
    said before an edit), button labels and the answers to button presses."""
    said = [text for m in fake.messages(chat_id)
            for text in (m.text or "", *(h.get("text") or "" for h in m.history
                                         if isinstance(h, dict)))]
    said += [label for m in fake.messages(chat_id) for label in m.button_labels]
    said += [a.text or "" for a in fake.callback_answers]
    return sorted({f for f in english_fragments() for text in said if f in text})


async def test_a_german_candidate_goes_from_greeting_to_outro_in_german(
        session: Session) -> None:
    """Greeting, consent, two written answers, the outro, the rating: no English text. The
    reviewers' cards (English, the review language) name the answer's language, and results
    and report show it."""
    fake = session.fake
    greta = fake.user(2003, "Greta", language_code="de-AT")
    interview, token = session.app.engine.invite(CreateInvitation(
        "qa-bilingual", "Greta", "telegram", "Europe/Berlin"))
    fake.send_command(greta, "/start", token)
    consent = await session.reply(greta, "Wir speichern Ihre Antworten 90 Tage")
    assert await session.press(greta, consent, "Ich stimme zu") == "Vielen Dank!"
    await session.reply(greta, "Frage 1 von 2")
    fake.send_text(greta, "Ich habe ein Abrechnungssystem neu gebaut.")
    receipt = await session.reply(greta, "Ihre schriftliche Antwort (1 Nachricht, 6 Wörter) "
                                         "zu Frage 1 von 2 ist angekommen.")
    assert receipt.button_labels == ["Absenden", "Neu beginnen (noch 1)"]
    assert await session.press(greta, receipt, "Absenden") == "Abgesendet."
    second = await session.reply(greta, "Frage 2 von 2")
    assert (second.text or "").endswith("Wie testen Sie Ihren Code?")
    fake.send_text(greta, "Mit Eigenschaftstests und echten Datenbanken.")
    receipt = await session.reply(greta, "zu Frage 2 von 2 ist angekommen.")
    await session.press(greta, receipt, "Absenden")
    outro = await session.reply(greta, "Das war die letzte Frage.")
    assert outro.button_labels == ["Fertig"]
    await session.press(greta, outro, "Fertig")
    rating = await session.reply(greta, "Zum Schluss: Wie war dieses Interview für Sie?")
    await session.press(greta, rating, "5")
    await session.reply(greta, "Vielen Dank für Ihre Zeit!")
    assert english_in(fake, greta.id) == []
    stored = session.interview(interview.id)
    assert stored.language == "de"
    assert [t.language for a in stored.answers for t in a.takes] == ["de", "de"]

    card = await session.fake.wait_for_message(REVIEW_GROUP, "Answered in Deutsch (de)",
                                               timeout=30)
    assert "Q: Tell us about a project you are proud of." in (card.text or "")
    assert "A: Ich habe ein Abrechnungssystem neu gebaut." in (card.text or "")
    summary = await session.fake.wait_for_message(REVIEW_GROUP, "Interview in Deutsch (de)")
    assert "completed QA Engineer" in (summary.text or "")

    env = {"DATABASE_URL": f"sqlite:///{session.tmp / 'interviewbot.db'}",
           "INTERVIEWBOT_SCRIPTS": str(session.tmp / "scripts")}
    results = run_cli(session.tmp, "results", "qa-bilingual", "--format", "json", **env)
    assert results.returncode == 0, results.stderr
    row = json.loads(results.stdout)[0]
    assert (row["language"], row["project.language"], row["testing.language"]) == (
        "de", "de", "de")
    report = run_cli(session.tmp, "report", "qa-bilingual", "--format", "json", **env)
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["languages"] == {"de": 1}
    table = run_cli(session.tmp, "report", "qa-bilingual", **env)
    assert "de 1" in table.stdout


async def test_an_unknown_language_code_changes_nothing(session: Session) -> None:
    fake = session.fake
    greta = fake.user(2004, "Greta", language_code="de")
    interview, token = session.app.engine.invite(CreateInvitation(
        "qa-bilingual", "Greta", "telegram", "Europe/Berlin"))
    fake.send_command(greta, "/start", token)
    consent = await session.reply(greta, "Wir speichern Ihre Antworten 90 Tage")
    await session.press(greta, consent, "Ich stimme zu")
    await session.reply(greta, "Frage 1 von 2")
    before = len(fake.messages(greta.id))
    fake.send_command(greta, "/language", "klingon")
    refusal = await session.reply(greta, "Dieses Interview gibt es nicht in „klingon“.")
    assert "Senden Sie zum Beispiel /language en." in (refusal.text or "")
    assert len(fake.messages(greta.id)) == before + 1  # the question is not repeated
    assert session.interview(interview.id).language == "de"
    fake.send_command(greta, "/language")
    current = await session.reply(greta, "Dieses Interview ist auf Deutsch.")
    assert "English (en), Deutsch (de)" in (current.text or "")
    sent = fake.send_text(greta, "Ich habe einen Compiler geschrieben.")
    await session.reply(greta, "Ihre schriftliche Antwort")
    fake.edit_text(greta, sent, "Ich habe zwei Compiler geschrieben.")  # the adapter's notice
    await session.reply(greta, "Bearbeitete Nachrichten übernehme ich nicht.")
    assert english_in(fake, greta.id) == []


async def test_a_candidate_whose_app_language_is_not_offered_chooses_with_buttons(
        session: Session) -> None:
    """Telegram says French; the script has English and German: the bot asks after the
    greeting, in both languages, and the rest follows the choice (the time zone question
    first, as the invitation did not name one)."""
    fake = session.fake
    amelie = fake.user(2005, "Amélie", language_code="fr")
    interview, token = session.app.engine.invite(CreateInvitation(
        "qa-bilingual", "Amélie", "telegram"))
    fake.send_command(amelie, "/start", token)
    await session.reply(amelie, "Hi Amélie! 2 questions, due ")
    question = await session.reply(amelie, "Please choose the language of your interview.\n"
                                           "Bitte wählen Sie die Sprache Ihres Interviews.")
    assert question.button_labels == ["English", "Deutsch"]
    assert session.interview(interview.id).language is None
    assert await session.press(amelie, question, "Deutsch") == "Deutsch"
    zone = await session.reply(amelie, "In welcher Zeitzone sind Sie?")
    assert session.interview(interview.id).language == "de"
    await session.press(amelie, zone, "Berlin")
    await session.reply(amelie, "Was Sie erwartet: 2 Fragen")
    await session.reply(amelie, "Wir speichern Ihre Antworten 90 Tage")
    said = [m.text or "" for m in fake.messages(amelie.id)][2:]  # after greeting and question
    assert [f for f in english_fragments() if any(f in text for text in said)] == []


async def test_the_command_menu_is_registered_in_every_catalog_language(
        session: Session) -> None:
    menus = session.fake.commands
    assert [c["description"] for c in menus[("default", "")]] == [
        "Your progress and deadline", "How this works", "Stop the interview",
        "Erase your answers and recordings", "Answer in another language"]
    assert menus[("default", "de")][-1] == {"command": "language",
                                            "description": "In einer anderen Sprache antworten"}
    assert menus[("default", "uk")][0]["description"] == "Ваш прогрес і термін"
    assert sorted(lang for _, lang in menus) == ["", "de", "es", "fr", "pt", "uk"]


async def test_a_german_candidates_button_answers_are_german(session: Session) -> None:
    """The answers to presses (answerCallbackQuery) follow the candidate's language too: a
    stale button, and an answer that names the question ("Frage 1 von 2")."""
    fake = session.fake
    greta = fake.user(2006, "Greta", language_code="de")
    _, token = session.app.engine.invite(CreateInvitation("qa-bilingual", "Greta", "telegram",
                                                          "Europe/Berlin", language="de"))
    fake.send_command(greta, "/start", token)
    consent = await session.reply(greta, "Wir speichern Ihre Antworten 90 Tage")
    agree = consent.button("Ich stimme zu")
    assert await session.press(greta, consent, "Ich stimme zu") == "Vielen Dank!"
    await session.reply(greta, "Frage 1 von 2")

    async def tap(message: BotMessage, data: str) -> str | None:
        query = fake.press_button(greta, message, data)["callback_query"]["id"]
        answer = await fake.wait_for(lambda: next(
            (a for a in fake.callback_answers if a.callback_query_id == query), None), timeout=20)
        return answer.text

    assert await tap(consent, agree) == "Diese Schaltfläche ist nicht mehr aktiv."
    fake.send_text(greta, "Ich habe ein Abrechnungssystem neu gebaut.")
    receipt = await session.reply(greta, "zu Frage 1 von 2 ist angekommen.")
    submit = receipt.button("Absenden")
    assert await session.press(greta, receipt, "Neu beginnen") == (
        "In Ordnung, senden Sie Ihre neue Antwort.")
    assert await tap(receipt, submit) == (
        "Nichts abzusenden: Ihre Antwort zu Frage 1 von 2 ist leer. Senden Sie zuerst Ihre "
        "Antwort.")
    assert english_in(fake, greta.id) == []
