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
        if not name.isupper() or name in ("ZONE_CHOICES", "DEFAULT"):  # IANA names, a code
            continue
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


def test_every_string_literal_in_the_functions_of_texts_is_marked() -> None:
    """A new sentence written inline in core/texts.py (not passed through N_/t/tn) fails."""
    tree = ast.parse((ROOT / "core" / "texts.py").read_text())
    marked: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
                node.func.id in KEYWORDS):
            marked.update(id(a) for a in ast.walk(node) if isinstance(a, ast.Constant))
    loose = []
    for fn in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        for node in ast.walk(fn):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and id(node) not in marked and " " in node.value.strip()
                    and not node.value.startswith("%")  # strftime formats
                    and not node.value.startswith(("A ", "An ", "The ", "Every ", "Set "))
                    and node is not (fn.body[0].value if isinstance(fn.body[0], ast.Expr)
                                     else None)):
                loose.append(f"{fn.name}: {node.value!r}")
    assert loose == []


def test_the_template_is_current_with_the_code() -> None:
    extracted = {m[2] if isinstance(m[2], str) else m[2][0]
                 for m in extract_from_dir(str(ROOT / "core"), keywords=KEYWORDS)}
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
