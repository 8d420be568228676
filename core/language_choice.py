"""The candidate's language: from the chat app's hint when they arrive, or the language
command (`/language xx` on a channel with slash commands)."""

from __future__ import annotations

from core import payloads as pl
from core import texts
from core.effects import Effects
from core.i18n import NAMES, choose
from core.messages import Button, OutMessage
from core.model import Interview
from core.script import Script


def name_of(lang: str) -> str:
    """A language by its own name ("Deutsch"), or its code when the bot has no name for it."""
    return NAMES.get(lang, lang)


def in_sentence(lang: str) -> str:
    """A language's name inside a sentence written in that language: "Deutsch", "English",
    but "español", "français", "português", "українська"."""
    name = name_of(lang)
    return name if lang in ("en", "de") else name.lower()


def needs_choice(script: Script, interview: Interview) -> bool:
    """A script in several languages, and nobody has chosen one yet: ask after the greeting."""
    return len(script.languages) > 1 and interview.language is None


def question(script: Script, interview: Interview) -> OutMessage:
    """"Please choose the language of your interview." in every language the script offers
    (the candidate may read only one of them), and one button per language, by its own name."""
    lines = dict.fromkeys(texts.tr(lang, texts.CHOOSE_LANGUAGE) for lang in script.languages)
    buttons = [Button(name_of(lang), pl.make(pl.LANGUAGE, interview.id, i))
               for i, lang in enumerate(script.languages)]
    return OutMessage("\n".join(lines), tuple(tuple(buttons[i:i + 3])
                                              for i in range(0, len(buttons), 3)))


def typed(script: Script, text: str) -> str | None:
    """A language the candidate typed instead of pressing a button ("Deutsch", "de")."""
    return _parse(script, text) if text.strip() else None


def from_hint(script: Script, interview: Interview, locale: str | None) -> None:
    """Take the language the chat app reports for the person (its language hint) when the
    script offers it and nobody has chosen one yet (an invitation's `--lang` wins)."""
    if interview.language is None and len(script.languages) > 1:
        interview.language = choose(locale, script.languages)


def _parse(script: Script, argument: str) -> str | None:
    wanted = argument.strip().lower()
    for lang in script.languages:
        if wanted == NAMES.get(lang, "").lower():
            return lang
    return choose(wanted, script.languages)  # "de", "DE", "de-AT"


def change(script: Script, interview: Interview, argument: str | None, fx: Effects) -> bool:
    """Handle `/language [code]`; True when the language changed (repeat the prompt then)."""
    assert interview.chat is not None
    lang = texts.lang_for(script, interview.language)
    if len(script.languages) == 1:
        fx.send(interview.chat, texts.tr(lang, texts.LANGUAGE_ONLY_ONE, name=in_sentence(lang)))
        return False
    choices = ", ".join(f"{name_of(code)} ({code})" for code in script.languages)
    example = next(code for code in script.languages if code != lang)
    if not argument:
        fx.send(interview.chat, texts.for_channel(
            lang, texts.LANGUAGE_CURRENT, interview.chat.platform, name=in_sentence(lang),
            choices=choices, example=example))
        return False
    wanted = _parse(script, argument)
    if wanted is None:
        fx.send(interview.chat, texts.for_channel(
            lang, texts.LANGUAGE_UNKNOWN, interview.chat.platform, code=argument.strip()[:20],
            choices=choices, example=example))
        return False
    interview.language = wanted
    fx.changed.append(interview.id)
    fx.send(interview.chat, texts.tr(wanted, texts.LANGUAGE_SET, name=in_sentence(wanted)))
    return True
