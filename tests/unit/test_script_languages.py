"""Translated scripts: text fields by language, the languages list, and `check`'s file:line."""

from __future__ import annotations

import textwrap

import pytest

from bots.scripts import ScriptFileInvalid, parse_yaml
from core.script_translations import Text
from tests.support.scripts import small_script

TWO = textwrap.dedent("""\
    id: platform
    languages: [en, de, es]
    title: {en: "Platform Engineer", de: "Plattform-Ingenieur:in", es: "Ingeniero/a de plataforma"}
    consent: "OK?"
    intro:
      en: "Hi {name}! Due {deadline}."
      de: "Guten Tag, {name}! Frist: {deadline}."
      es: "¡Hola, {name}! Plazo: {deadline}."
    questions:
      - id: rebuilt
        text:
          en: "Tell us about a system you rebuilt."
          de: "Erzählen Sie von einem System, das Sie neu gebaut haben."
          es: "Háblenos de un sistema que haya reconstruido."
      - id: plain
        text: "Kubernetes?"
    rubric: {depth: "Depth"}
    """)


def errors(text: str) -> list[str]:
    with pytest.raises(ScriptFileInvalid) as caught:
        parse_yaml(text, "s.yaml")
    return [str(e) for e in caught.value.errors]


def test_a_translated_script_gives_each_language_and_falls_back_to_the_default() -> None:
    script = parse_yaml(TWO, "s.yaml")
    assert script.languages == ("en", "de", "es") and script.language == "en"
    rebuilt, plain = script.questions
    assert rebuilt.text == "Tell us about a system you rebuilt."  # plain str use: the default
    assert rebuilt.text_in("de") == "Erzählen Sie von einem System, das Sie neu gebaut haben."
    assert rebuilt.text_in("es").startswith("Háblenos")
    assert rebuilt.text_in("fr") == rebuilt.text_in(None) == rebuilt.text
    assert plain.text_in("de") == "Kubernetes?"  # one string serves every language
    assert script.text_in("title", "de") == "Plattform-Ingenieur:in"
    assert script.text_in("intro", "es") == "¡Hola, {name}! Plazo: {deadline}."
    assert isinstance(script.title, Text) and script.title == "Platform Engineer"


def test_a_script_without_languages_is_english_only() -> None:
    script = small_script()
    assert script.languages == ("en",) and not script.offers("de") and script.offers("en")


def test_a_missing_translation_is_reported_with_file_line_and_field() -> None:
    broken = TWO.replace('      es: "Háblenos de un sistema que haya reconstruido."\n', "")
    assert errors(broken) == ["s.yaml:11: questions[0].text: no 'es'"]


def test_every_missing_translation_is_reported() -> None:
    broken = TWO.replace(', es: "Ingeniero/a de plataforma"', "").replace(
        '  es: "¡Hola, {name}! Plazo: {deadline}."\n', "")
    assert errors(broken) == ["s.yaml:3: title: no 'es'", "s.yaml:5: intro: no 'es'"]


def test_a_language_without_a_bot_catalog_is_reported() -> None:
    broken = TWO.replace("languages: [en, de, es]", "languages: [en, de, es, it]")
    assert "s.yaml:2: languages[3]: 'it' has no bot catalog; the bot speaks en, de, es, fr, pt, " \
           "uk" in errors(broken)


def test_a_translation_for_a_language_the_script_does_not_list_is_reported() -> None:
    broken = TWO.replace('de: "Plattform-Ingenieur:in"', 'de: "Plattform-Ingenieur:in", '
                                                          'fr: "Ingénieur"')
    assert errors(broken) == [
        "s.yaml:3: title.fr: 'fr' is not one of the script's languages (en, de, es)"]


def test_placeholders_that_differ_between_translations_are_reported() -> None:
    broken = TWO.replace('de: "Guten Tag, {name}! Frist: {deadline}."',
                         'de: "Guten Tag, {nome}! Frist."')
    assert errors(broken) == [
        "s.yaml:5: intro: has an unknown placeholder 'nome'; use {name}, {deadline}, {questions} "
        "or {minutes}",
        "s.yaml:7: intro.de: uses {nome} but 'en' uses {deadline}, {name}; translations must use "
        "the same placeholders"]


def test_a_placeholder_only_one_translation_has_is_reported() -> None:
    broken = TWO.replace('de: "Erzählen Sie von einem System, das Sie neu gebaut haben."',
                         'de: "Erzählen Sie von {system}."')
    assert errors(broken) == [
        "s.yaml:13: questions[0].text.de: uses {system} but 'en' uses no placeholders; "
        "translations must use the same placeholders"]


@pytest.mark.parametrize("value, message", [
    ("[EN, de]", "'EN' is not a two-letter language code like en or de"),
    ("[en, en]", "'en' is listed twice"),
])
def test_bad_language_lists(value: str, message: str) -> None:
    broken = TWO.replace("languages: [en, de, es]", f"languages: {value}")
    assert any(message in e and e.startswith("s.yaml:2: languages[") for e in errors(broken))


def test_an_empty_translation_is_reported() -> None:
    broken = TWO.replace('de: "Plattform-Ingenieur:in"', 'de: ""')
    assert errors(broken) == ["s.yaml:3: title.de: must be non-empty text"]


def test_translated_texts_survive_copies_and_compare_with_their_translations() -> None:
    import copy
    import pickle

    script = parse_yaml(TWO, "s.yaml")
    for copied in (copy.deepcopy(script), pickle.loads(pickle.dumps(script))):
        assert copied == script
        assert copied.questions[0].text_in("de") == script.questions[0].text_in("de")
    other = parse_yaml(TWO.replace("Plattform-Ingenieur:in", "Plattformingenieur"), "s.yaml")
    assert other.title == "Platform Engineer"  # as a plain string: the default text
    assert other.title != script.title and other != script  # a translation changed
    assert {script.title: 1}["Platform Engineer"] == 1


def test_notice_knockout_and_outcome_texts_may_be_translated() -> None:
    text = TWO + textwrap.dedent("""\
        notice: {en: "We keep answers 90 days.", de: "Wir speichern Antworten 90 Tage.",
                 es: "Guardamos las respuestas 90 días."}
        knockout_message: {en: "Sorry, {name}.", de: "Leider nein, {name}.",
                           es: "Lo siento, {name}."}
        outcome:
          advance: {en: "Welcome, {name}!", de: "Willkommen, {name}!",
                    es: "¡Bienvenido/a, {name}!"}
        review: {language: de}
        """)
    script = parse_yaml(text, "s.yaml")
    assert script.text_in("notice", "de") == "Wir speichern Antworten 90 Tage."
    assert script.text_in("knockout_message", "es") == "Lo siento, {name}."
    assert script.review.language == "de"
    assert script.outcome is not None and script.outcome.advance == "Welcome, {name}!"


def test_a_review_language_the_script_lacks_is_an_error() -> None:
    broken = TWO + "review: {language: fr}\n"
    assert errors(broken) == [
        "s.yaml:18: review.language: 'fr' is not one of the script's languages (en, de, es)"]
