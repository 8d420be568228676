"""The bot's catalogs: complete in every language, same placeholders, compiled and current."""

from __future__ import annotations

import ast
import io
import shutil
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import write_po

from core import texts
from core.i18n import LOCALE_DIR, available, t, tn
from tests.support.catalogs import LANGUAGES, po_path, problems, template, translations

ROOT = Path(__file__).parents[2]
KEYWORDS = {"N_": None, "t": (2,), "tn": (2, 3), "tr": (2,)}


def test_every_language_has_every_entry_with_the_same_placeholders() -> None:
    pot = template()
    assert problems(pot, {lang: translations(lang) for lang in LANGUAGES}) == []
    assert available() == ("en", *sorted(LANGUAGES))


def test_a_missing_entry_in_one_language_fails(tmp_path: Path) -> None:
    shutil.copytree(LOCALE_DIR, tmp_path / "locale")
    spanish = translations("es", tmp_path / "locale")
    del spanish[texts.STALE_BUTTON]
    with po_path("es", tmp_path / "locale").open("wb") as f:
        write_po(f, spanish)
    catalogs = {lang: translations(lang, tmp_path / "locale") for lang in LANGUAGES}
    assert problems(template(), catalogs) == [f"es: missing {texts.STALE_BUTTON!r}"]


def test_an_untranslated_or_fuzzy_entry_fails() -> None:
    french = translations("fr")
    french[texts.NOT_YOUR_BUTTON].string = ""
    french[texts.STALE_BUTTON].flags.add("fuzzy")
    assert problems(template(), {"fr": french}) == [
        f"fr: untranslated {texts.STALE_BUTTON!r}", f"fr: untranslated {texts.NOT_YOUR_BUTTON!r}"]


def test_a_placeholder_mismatch_fails() -> None:
    german = translations("de")
    german[texts.PRESS_A_BUTTON].string = "Bitte verwenden Sie die Schaltflächen: {labeles}."
    plural = german["{n} re-record allowed"]
    plural.string = ("{n} erneute Aufnahme", "{count} erneute Aufnahmen")
    assert problems(template(), {"de": german}) == [
        "de: 'Please use the buttons above: {labels}.' uses ['labeles'], not ['labels']",
        "de: '{n} re-record allowed' uses ['count'], not ['n']",
    ]


def _public_texts() -> dict[str, str]:
    """Every user-facing string core/texts.py defines: its constants and dict values."""
    out: dict[str, str] = {}
    for name in dir(texts):
        value = getattr(texts, name)
        if not name.isupper() or name in ("ZONE_CHOICES", "DEFAULT", "NAMES"):  # IANA names,
            continue  # a code, languages by their own names
        if isinstance(value, str):
            out[name] = value
        elif isinstance(value, dict):
            out.update({f"{name}[{k}]": v for k, v in value.items()})
    return out


def test_every_string_of_texts_is_in_the_catalog() -> None:
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in template() if m.id}
    strings = _public_texts()
    assert len(strings) > 40
    assert [name for name, value in strings.items() if value not in ids] == []


# Where the bot talks to people: all of core/ and the adapters' own texts. The modules left out
# speak to hiring admins on the command line (`check`, `report`, `results`), in English;
# channels' capability values are translated where they are said (`record_voice`).
SPOKEN = [p for p in sorted((ROOT / "core").glob("*.py")) if p.stem not in {
    "report", "fairness", "script", "script_problems", "script_translations", "script_fairness",
    "script_hiring", "script_choices", "review_settings", "durations", "outbox_runner",
    "i18n", "capabilities"}] + [
    ROOT / "bots" / "telegram" / name for name in ("translate.py", "channel.py")] + [
    ROOT / "bots" / "slack" / name for name in ("translate.py", "render.py")]
# Literals that are names, not sentences: audit actions and the kinds of written input.
NOT_SAID = {"answers, media and name", "deadline extended", "recording a take",
            "withdrawn by team", "accepted notice", "outcome sent", "outcome not sent",
            "outcome feedback", "rating changed", "follow-up asked", "follow-up question",
            "others revealed", "revised after reveal", "audio/ogg; codecs=opus", "not ready",
            "bad update", "bad request", "Invalid request signature detected",
            "/interview \\1",  # commands are not translated:
            "`/interview status` · `/interview withdraw` · `/interview delete` · `/interview help`"}


def loose_strings(path: Path) -> list[str]:
    """The sentences (two words or more) of a module that no N_/t/tn/tr call marks, leaving
    out docstrings, logs, exceptions and `AuditEntry` details."""
    tree = ast.parse(path.read_text())
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            skip.update(id(s.value) for s in body if isinstance(s, ast.Expr))
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) \
                else ""
            owner = f.value.id if isinstance(f, ast.Attribute) and isinstance(
                f.value, ast.Name) else ""
            if name in KEYWORDS or name == "AuditEntry" or owner in ("log", "logging"):
                skip.update(id(a) for a in ast.walk(node))
        if isinstance(node, ast.Raise) and node.exc is not None:
            skip.update(id(a) for a in ast.walk(node.exc))
    return [f"{path.name}:{node.lineno}: {node.value!r}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in skip and len(node.value.split()) >= 2
            and any(c.isalpha() for c in node.value) and not node.value.startswith("%")
            and node.value not in NOT_SAID]


def test_every_sentence_the_bot_says_is_marked_for_the_catalog() -> None:
    """A new sentence written inline anywhere in core/ or in an adapter's own texts fails."""
    assert len(SPOKEN) > 40
    assert [found for path in SPOKEN for found in loose_strings(path)] == []


def test_an_inline_sentence_is_found(tmp_path: Path) -> None:
    module = tmp_path / "flow.py"
    module.write_text('from core.i18n import N_, t\n'
                      'def f(fx, lang):\n'
                      '    """A docstring is not said."""\n'
                      '    fx.send(t(lang, N_("This is marked.")))\n'
                      '    fx.reply = f"You rated {lang} twice in a row."\n')
    assert [line.split(": ", 1)[1] for line in loose_strings(module)] == [
        "'You rated '", "' twice in a row.'"]


def test_the_template_is_current_with_the_code() -> None:
    extracted = set()
    for folder in (ROOT / "core", ROOT / "bots" / "telegram", ROOT / "bots" / "slack"):
        extracted |= {m[2] if isinstance(m[2], str) else m[2][0]
                      for m in extract_from_dir(str(folder), keywords=KEYWORDS)}
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in template() if m.id}
    assert extracted - ids == set(), "run `make i18n`"
    assert ids - extracted == set(), "run `make i18n`"


def test_the_compiled_catalogs_match_the_po_files() -> None:
    for lang in LANGUAGES:
        with (po_path(lang).with_suffix(".mo")).open("rb") as f:
            compiled = read_mo(io.BytesIO(f.read()))
        source = translations(lang)
        for message in source:
            if message.id:
                got, want = compiled[message.id].string, message.string
                assert (tuple(got) if isinstance(got, list) else got) == want, (lang, message.id)
        assert len([m for m in compiled if m.id]) == len([m for m in source if m.id]), lang


def test_translation_at_run_time() -> None:
    assert t("de", texts.STALE_BUTTON) == "Diese Schaltfläche ist nicht mehr aktiv."
    assert t("uk", texts.PRESS_A_BUTTON, labels="A") == "Будь ласка, скористайтеся кнопками " \
                                                         "вище: A."
    assert t("en", texts.STALE_BUTTON) == t(None, texts.STALE_BUTTON) == texts.STALE_BUTTON
    assert t("xx", texts.STALE_BUTTON) == texts.STALE_BUTTON  # no catalog: English
    allowed = ("{n} re-record allowed", "{n} re-records allowed")
    assert [tn("uk", *allowed, n) for n in (1, 3, 5, 21)] == [
        "дозволено 1 перезапис", "дозволено 3 перезаписи", "дозволено 5 перезаписів",
        "дозволено 21 перезапис"]
    assert tn("en", *allowed, 1) == "1 re-record allowed"
