"""A candidate's first steps: the invitation link, time zone, expectations and consent, and
coming back later to where they stopped."""

from __future__ import annotations

from datetime import datetime, timedelta

from core import accommodations, language_choice, notice, texts
from core.capabilities import TimeZoneSource, capabilities
from core.commands import InviteAccepted
from core.effects import Effects
from core.i18n import available, choose
from core.model import Interview, hash_token, new_id
from core.payloads import Payload
from core.ports import UnitOfWork
from core.prompts import (
    ask,
    close,
    consent_message,
    repeat_prompt,
    status_text,
    zone_question,
)
from core.refs import MessageRef
from core.replies import verbatim
from core.script import Script
from core.services import Services
from core.states import State
from core.submitting import check_deadline

TOKEN_ATTEMPTS = 5  # wrong invitation tokens from one chat...
TOKEN_WINDOW = timedelta(minutes=10)  # ...within this window, then it has to wait


class Onboarding:
    """Handlers for the invitation, the time zone and consent."""

    def __init__(self, services: Services) -> None:
        self.s = services

    def _now(self) -> datetime:
        return self.s.clock.now()

    def accept(self, uow: UnitOfWork, cmd: InviteAccepted, fx: Effects) -> None:
        now = self._now()
        # Before an interview is known, the chat app's language is all there is to go by.
        hint = choose(cmd.locale, available())
        if cmd.token is None:
            current = uow.interviews.current_for(cmd.user)
            if current is None:
                fx.send(cmd.chat, texts.tr(hint, texts.NO_INVITATION))
            else:
                self.resume(current, fx)
            return
        misses = f"token-miss:{cmd.chat}:"  # kept in the database: every process counts them
        if uow.recent(misses, now - TOKEN_WINDOW) >= TOKEN_ATTEMPTS:
            fx.send(cmd.chat, texts.tr(hint, texts.TOKEN_THROTTLED))
            return
        interview = uow.interviews.by_token_hash(hash_token(cmd.token))
        if interview is None:
            uow.first_delivery(misses + new_id(), at=now)
            fx.send(cmd.chat, texts.tr(hint, texts.TOKEN_UNKNOWN))
            return
        if interview.candidate is not None:
            if interview.candidate == cmd.user:
                self.resume(interview, fx)
            else:
                fx.send(cmd.chat, texts.tr(hint, texts.TOKEN_USED))
            return
        if interview.state is State.EXPIRED or now >= interview.deadline:
            script = self.s.script(interview)
            lang = texts.lang_for(script, interview.language or choose(cmd.locale,
                                                                       script.languages))
            when = texts.local_time(interview.deadline, interview.tz, lang)
            fx.send(cmd.chat, texts.tr(lang, texts.INVITATION_EXPIRED, when=when))
            return
        if interview.state is not State.INVITED:
            fx.send(cmd.chat, texts.tr(hint, texts.TOKEN_USED))
            return
        interview.candidate = cmd.user
        interview.chat = cmd.chat
        interview.accepted_at = now
        interview.last_activity_at = now
        if cmd.tz:
            interview.tz = cmd.tz
            interview.tz_confirmed = True
        script = self.s.script(interview)
        language_choice.from_hint(script, interview, cmd.locale)
        fx.send(cmd.chat, texts.intro(script, interview.candidate_name, interview.deadline,
                                      interview.tz, texts.lang_for(script, interview.language)))
        if language_choice.needs_choice(script, interview):
            fx.send(cmd.chat, language_choice.question(script, interview))
        else:
            self.after_language(script, interview, fx)
        fx.changed.append(interview.id)

    def after_language(self, script: Script, interview: Interview, fx: Effects) -> None:
        """The time zone (asked where the channel does not know it), then expectations and
        consent."""
        assert interview.chat is not None
        if interview.tz_confirmed or capabilities(
                interview.chat.platform).time_zone is not TimeZoneSource.ASK:
            self._expectations_and_consent(script, interview, fx)
        else:
            fx.send(interview.chat, zone_question(interview,
                                                  texts.lang_for(script, interview.language)))

    def _expectations_and_consent(self, script: Script, interview: Interview, fx: Effects
                                  ) -> None:
        assert interview.chat is not None
        lang = texts.lang_for(script, interview.language)
        fx.send(interview.chat, accommodations.how_to_ask(script, interview, texts.expectations(
            script, interview.deadline, interview.tz, lang)))
        fx.send(interview.chat, consent_message(script, interview))

    def _set_zone(self, script: Script, interview: Interview, name: str, fx: Effects) -> None:
        interview.tz = name
        interview.tz_confirmed = True
        fx.changed.append(interview.id)
        self._expectations_and_consent(script, interview, fx)

    def resume(self, interview: Interview, fx: Effects) -> None:
        """Say where the candidate stands and repeat what is waiting for them."""
        assert interview.chat is not None
        script = self.s.script(interview)
        if not check_deadline(script, interview, self._now(), fx):
            return
        # an action: what an earlier process left unsent is restated here, not sent later
        interview.last_activity_at = self._now()
        fx.changed.append(interview.id)
        welcome = texts.tr(texts.lang_for(script, interview.language), texts.WELCOME_BACK,
                           name=interview.candidate_name)
        fx.send(interview.chat, f"{welcome} {status_text(script, interview, self._now())}")
        repeat_prompt(script, interview, fx)

    def text_before_consent(self, script: Script, interview: Interview, text: str,
                            fx: Effects) -> None:
        """Text before consent: a time zone typed by name, else a pointer to the buttons."""
        assert interview.chat is not None
        if language_choice.needs_choice(script, interview):
            self._typed_language(script, interview, text, fx)
            return
        lang = texts.lang_for(script, interview.language)
        if interview.tz_confirmed:
            fx.send(interview.chat, texts.tr(lang, texts.PRESS_A_BUTTON,
                                             labels=texts.consent_labels(lang)))
            return
        zone = texts.find_zone(text)
        if zone is None:
            fx.send(interview.chat, texts.tr(lang, texts.UNKNOWN_ZONE))
        else:
            self._set_zone(script, interview, zone, fx)

    # -- buttons -----------------------------------------------------------------------
    def on_consent(self, script: Script, interview: Interview, payload: Payload,
                   message: MessageRef | None, fx: Effects) -> None:
        assert interview.chat is not None
        if interview.state is not State.INVITED:
            fx.say(texts.STALE_BUTTON)
            return
        lang = texts.lang_for(script, interview.language)
        consent = notice.consent_text(script, lang)
        if payload.arg(0) == "y":
            interview.move_to(State.CONSENTED, self._now())
            interview.consented_at = self._now()
            fx.say(texts.THANK_YOU)
            close(message, f"{consent}\n\n{texts.tr(lang, texts.YOU_AGREED)}", fx)
            ask(script, interview, fx)
        else:
            interview.move_to(State.WITHDRAWN, self._now())
            fx.say(texts.UNDERSTOOD)
            close(message, f"{consent}\n\n{texts.tr(lang, texts.YOU_DECLINED)}", fx)
            fx.send(interview.chat, texts.tr(lang, texts.NOTHING_RECORDED))

    def on_zone(self, script: Script, interview: Interview, payload: Payload,
                message: MessageRef | None, fx: Effects) -> None:
        index = int(payload.arg(0)) if payload.arg(0).isdigit() else -1
        if interview.tz_confirmed or not 0 <= index < len(texts.ZONE_CHOICES):
            fx.say(texts.STALE_BUTTON)
            return
        name = texts.ZONE_CHOICES[index]
        lang = texts.lang_for(script, interview.language)
        fx.say(texts.ZONE_SET, zone=name)
        close(message, texts.tr(lang, texts.YOUR_ZONE, zone=name), fx)
        self._set_zone(script, interview, name, fx)

    def _typed_language(self, script: Script, interview: Interview, text: str, fx: Effects
                        ) -> None:
        """A language typed instead of pressed ("Deutsch", "de"), else a pointer to the
        buttons in every language offered."""
        assert interview.chat is not None
        chosen = language_choice.typed(script, text)
        if chosen is None:
            names = ", ".join(language_choice.name_of(lang) for lang in script.languages)
            fx.send(interview.chat, "\n".join(dict.fromkeys(
                texts.tr(lang, texts.PRESS_A_BUTTON, labels=names) for lang in script.languages)))
            return
        self._set_language(script, interview, chosen, fx)

    def _set_language(self, script: Script, interview: Interview, lang: str, fx: Effects
                      ) -> None:
        interview.language = lang
        fx.changed.append(interview.id)
        self.after_language(script, interview, fx)

    def on_language(self, script: Script, interview: Interview, payload: Payload,
                    message: MessageRef | None, fx: Effects) -> None:
        """A language button after the greeting: the rest of the interview is in it."""
        index = int(payload.arg(0)) if payload.arg(0).isdigit() else -1
        if (interview.state is not State.INVITED or not 0 <= index < len(script.languages)
                or not language_choice.needs_choice(script, interview)):
            fx.say(texts.STALE_BUTTON)
            return
        lang = script.languages[index]
        name = language_choice.name_of(lang)
        fx.reply = verbatim(name)
        close(message, f"{texts.tr(lang, texts.CHOOSE_LANGUAGE)}\n\n{name}", fx)
        self._set_language(script, interview, lang, fx)

    def on_continue(self, script: Script, interview: Interview, payload: Payload,
                    message: MessageRef | None, fx: Effects) -> None:
        fx.say(texts.WHERE_YOU_STOPPED)
        repeat_prompt(script, interview, fx)
