"""A candidate's language end to end: the real bot (PTB over HTTP) against the fake Bot API."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.telegram.channel import TelegramChannel
from core.commands import CreateInvitation
from core.i18n import placeholders
from tests.e2e.telegram_support import (
    FAST,
    REVIEW_GROUP,
    SCRIPT_ID,
    Session,
    settings_for,
    start_bot,
)
from tests.fakes.telegram_api import FakeTelegram
from tests.support.catalogs import template

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
        for msgid in message.id if isinstance(message.id, tuple) else (message.id,):
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
