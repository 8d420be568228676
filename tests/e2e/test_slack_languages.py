"""A Slack referral in Spanish: the locale from users.info picks the script's language."""

from __future__ import annotations

from pathlib import Path

from bots.slack.invite import invite_slack_user
from core.commands import CreateInvitation
from tests.e2e.slack_support import slack_world
from tests.e2e.test_telegram_languages import english_fragments

MARIA = "U0MARIA"
SPANISH = """\
id: referral-es
languages: [en, es]
title: {en: "Platform Engineer", es: "Ingeniero/a de plataforma"}
intro:
  en: "Hi {name}! {questions} questions. Deadline: {deadline}."
  es: "¡Hola, {name}! {questions} preguntas. Plazo: {deadline}."
consent:
  en: "We keep your answers for 90 days. OK?"
  es: "Guardamos sus respuestas durante 90 días. ¿De acuerdo?"
questions:
  - id: built
    text: {en: "Tell us about something you built.", es: "Háblenos de algo que haya construido."}
  - id: written
    text: {en: "What would you change?", es: "¿Qué cambiaría?"}
    answer: {kinds: [text]}
rubric: {depth: "Technical depth"}
review: {reviewers: ["slack:CREVIEW"]}
"""


async def test_a_spanish_slack_user_gets_a_spanish_interview(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "referral-es.yaml").write_text(SPANISH)
    async with slack_world(tmp_path) as world:
        world.fake.user(MARIA, "María", "Europe/Madrid", real_name="María García",
                        locale="es-ES")
        interview, token = world.app.engine.invite(CreateInvitation("referral-es", "María",
                                                                    "slack"))
        await invite_slack_user(world.app, token, MARIA)
        dm = world.dm(MARIA)
        greeting, expectations, consent = world.texts(dm)
        assert greeting.startswith("¡Hola, María! 2 preguntas. Plazo: ")
        assert greeting.endswith("(Europe/Madrid).")
        assert expectations.startswith("Qué esperar: 2 preguntas, unos ")
        assert consent.startswith("Guardamos sus respuestas durante 90 días.")
        await world.press(dm, "Acepto", MARIA)
        assert world.last(dm).startswith("Pregunta 1 de 2 · Una nota de voz o texto")
        assert world.last(dm).endswith("Háblenos de algo que haya construido.")
        with world.app.services.uow() as uow:
            stored = uow.interviews.get(interview.id)
        assert stored is not None and stored.language == "es"

        await world.say(MARIA, "Reconstruí el sistema de facturación.")
        assert "Hemos recibido su respuesta escrita" in world.last(dm)
        await world.press(dm, "Enviar", MARIA)  # the receipt: the result, then the question
        assert world.last(dm).startswith("Se ha enviado su respuesta a la Pregunta 1 de 2")
        assert "\n\nPregunta 2 de 2 · Texto" in world.last(dm)
        assert world.last(dm).endswith("¿Qué cambiaría?")
        await world.say(MARIA, "Las pruebas de integración.")
        await world.press(dm, "Enviar", MARIA)
        assert world.last(dm).startswith("Esa era la última pregunta.")
        await world.press(dm, "Listo", MARIA)
        assert world.last(dm).startswith("Una última cosa: ¿qué tal ha sido esta entrevista")
        await world.press(dm, "5", MARIA)
        assert world.last(dm).startswith("¡Gracias por su tiempo!")
        said = world.texts(dm) + world.whispers(MARIA)
        assert [f for f in english_fragments() if any(f in text for text in said)] == []
        infos = [c for c in world.fake.calls if c.method == "users.info"]
        assert infos and all(str(c.params.get("include_locale")).lower() in ("1", "true")
                             for c in infos)


async def test_a_slack_referral_switches_language_with_the_slash_command(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "referral-es.yaml").write_text(SPANISH)
    async with slack_world(tmp_path) as world:
        world.fake.user(MARIA, "María", "Europe/Madrid", real_name="María García",
                        locale="es-ES")
        interview, token = world.app.engine.invite(CreateInvitation("referral-es", "María",
                                                                    "slack"))
        await invite_slack_user(world.app, token, MARIA)
        dm = world.dm(MARIA)
        await world.press(dm, "Acepto", MARIA)
        help_reply = await world.command(MARIA, "help")
        assert "Realizo entrevistas asíncronas" in help_reply.body
        assert "`/interview language es` - responder en otro idioma" in help_reply.body
        before = len(world.texts(dm))
        await world.command(MARIA, "language xx")
        assert len(world.texts(dm)) == before + 1
        assert world.last(dm).startswith("Esta entrevista no está disponible en «xx».")
        assert world.last(dm).endswith("Envíe por ejemplo /interview language en.")
        with world.app.services.uow() as uow:
            assert uow.interviews.get(interview.id).language == "es"  # type: ignore[union-attr]
        await world.command(MARIA, "language en")
        assert world.fake.messages(dm)[-2].text == "From now on I will write in English."
        assert world.last(dm).endswith("Tell us about something you built.")
        with world.app.services.uow() as uow:
            assert uow.interviews.get(interview.id).language == "en"  # type: ignore[union-attr]


async def test_a_spanish_candidates_button_answers_are_spanish(tmp_path: Path) -> None:
    """The ephemeral answers to presses follow the candidate's language: a stale button, and
    an answer that names the question ("la Pregunta 1 de 2")."""
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "referral-es.yaml").write_text(SPANISH)
    async with slack_world(tmp_path) as world:
        world.fake.user(MARIA, "María", "Europe/Madrid", real_name="María García",
                        locale="es-ES")
        _, token = world.app.engine.invite(CreateInvitation("referral-es", "María", "slack"))
        await invite_slack_user(world.app, token, MARIA)
        dm = world.dm(MARIA)
        consent = world.fake.messages(dm)[-1].as_slack()  # as it was before the press
        await world.press(dm, "Acepto", MARIA)
        assert world.whispers(MARIA)[-1] == "¡Gracias!"
        await world.press(dm, "Acepto", MARIA, message=consent)
        assert world.whispers(MARIA)[-1] == "Este botón ya no está activo."
        await world.say(MARIA, "Reconstruí el sistema de facturación.")
        receipt = world.fake.messages(dm)[-1].as_slack()
        await world.press(dm, "Empezar de nuevo", MARIA)
        assert world.whispers(MARIA)[-1] == "De acuerdo, envíe su nueva respuesta."
        await world.press(dm, "Enviar", MARIA, message=receipt)
        assert world.whispers(MARIA)[-1] == (
            "No hay nada que enviar: su respuesta a la Pregunta 1 de 2 está vacía. Envíe "
            "primero su respuesta.")
        said = world.whispers(MARIA)
        assert [f for f in english_fragments() if any(f in text for text in said)] == []
