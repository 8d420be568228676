"""Everything the bot says, in one place, so wording stays consistent across platforms.

Every constant is the English text and the msgid of its catalog entry (marked with `N_` for
extraction); `tr(lang, TEXT, **values)` gives it in a candidate's language. Functions take an
optional `lang` (English when omitted, as before languages existed).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from core.audio import RejectReason
from core.capabilities import with_commands
from core.i18n import DEFAULT, N_, NAMES, local_date, t, tn
from core.script import Question, Script
from core.vocabulary import Verb


def tr(lang: str | None, text: str, **values: object) -> str:
    """A text of this module (or any catalog msgid) in `lang`, placeholders filled."""
    return t(lang, text, **values)


NO_INVITATION = N_(
    "Hi! I run job interviews for hiring teams, and I have no interview waiting for you here. "
    "If you were sent an invitation link, open it to begin; otherwise please contact the "
    "person who invited you."
)
TOKEN_UNKNOWN = N_(
    "This invitation link isn't valid. Please check you opened the whole link, or ask the "
    "person who invited you for a new one."
)
TOKEN_USED = N_(
    "This invitation has already been used. Each link works for one person only; please ask "
    "the person who invited you for a new one."
)
MOVED_ON = N_("That recording arrived after your interview had moved on, so it was not used. "
              "Here is where you are:")
CANDIDATE_NUMBER = N_("Candidate #{number}")
UNAVAILABLE = N_("Sorry, this interview is not available right now. Please contact the person "
                 "who invited you.")
TOKEN_THROTTLED = N_("Too many invalid invitation links in a row. Please wait a few minutes.")
NOT_YOUR_BUTTON = N_("This button isn't for you.")
STALE_BUTTON = N_("This button is no longer active.")
NOT_A_REVIEWER = N_("Only the reviewers of this interview can do that.")
NOT_A_LISTED_MEMBER = N_("Only the people listed as reviewers for this chat can rate here. "
                         "Nothing was changed.")
NOT_A_DECIDER = N_("Only the named deciders make the decision on this interview; your ratings "
                   "are recorded.")
UNSUPPORTED = N_(
    "Sorry, I can't use a {what} as an answer. Please answer with {kinds}."
)
ONLY_TEXT_HERE = N_("Please type your message as text here.")
PRESS_A_BUTTON = N_("Please use the buttons above: {labels}.")
DOWNLOAD_FAILED = N_("I couldn't fetch that file. Please try sending it again.")
AUDIO_FAILED = N_("Something went wrong on our side while saving that recording, so it was "
                  "not added. Your answers so far are kept. Please send it again.")
PROCESSING = N_("That clip is still being processed. Please send it again in a moment.")

AUDIO_REJECTED = {
    RejectReason.CORRUPT: N_("I couldn't play that recording; the file seems damaged. "
                             "Please record it again."),
    RejectReason.TOO_SHORT: N_("That recording is too short to be an answer. "
                               "Please record again."),
    RejectReason.SILENT: N_("We could not hear anything in that recording. Please check your "
                            "microphone and try again."),
    RejectReason.TOO_LONG: N_("That recording is longer than the {limit} limit for this "
                              "question. Please record a shorter answer."),
    RejectReason.TOO_LARGE: N_("That file is too large for me to receive. Please send a "
                               "shorter voice note."),
}

HELP = N_(
    "I ask the interview questions one at a time; answer each whenever it suits you.\n"
    "Commands:\n"
    "  {status} - your progress and deadline\n"
    "  {withdraw} - stop the interview\n"
    "  {delete} - erase your answers and recordings\n"
    "  {help} - this message"
)
HELP_LANGUAGE = N_("  {language} - answer in another language (for example {language} "
                   "{example})")

# Status, reminders and the deadline (core/candidate.py, core/deadlines.py, core/timers.py).
STATUS_COMPLETE = N_("Your interview is complete and with the hiring team. Thank you!")
STATUS_CLOSED = N_("This interview is {state}.")
STATUS_PROGRESS = N_("{done} of {total} questions answered, {left} left. Due {due}.")
STATES = {
    "invited": N_("invited"), "consented": N_("consented"), "in_progress": N_("in progress"),
    "completed": N_("completed"), "expired": N_("expired"), "withdrawn": N_("withdrawn"),
    "declined": N_("declined"), "erased": N_("erased"),
}
WELCOME_BACK = N_("Welcome back, {name}!")
PROGRESS = N_("{left} of {total} questions left, due {due} your time.")
REMIND_NOT_STARTED = N_("A reminder: your interview for {title} is waiting for you.")
REMIND_IDLE = N_("A reminder: you stopped part-way through your interview.")
REMIND_BEFORE_DEADLINE = N_("Your interview deadline is near.")
CONTINUE = N_("Continue")
DEADLINE_PASSED = N_("The deadline for your interview has passed, so it is now closed. If you "
                     "need more time, please contact the hiring team.")
DEADLINE_EXTENDED = N_("Good news: you have more time. New deadline: {deadline}.")
INVITATION_EXPIRED = N_("This invitation expired on {when}. Please ask the person who invited "
                        "you for a new one.")

# Consent, the time zone and the practice question (core/onboarding.py, core/prompts.py).
AGREE = N_("I agree")
NO_THANKS = N_("No thanks")
THANK_YOU = N_("Thank you!")
YOU_AGREED = N_("You agreed.")
UNDERSTOOD = N_("Understood.")
NOTHING_CHANGED = N_("Nothing was changed.")
CANCEL = N_("Cancel")
DONE = N_("Done")
SUBMIT = N_("Submit")
DOCUMENT = N_("document")
YOU_CHOSE = N_("You chose: {options}")
CHOOSE_AN_OPTION = N_("Please choose one of the options: {options}.")
FOLLOW_UP_QUESTION = N_("The team has a follow-up question on your answer to {label}:\n\n"
                        "\"{question}\"\n\nPlease reply with {kinds}.")
YOU_DECLINED = N_("You declined.")
NOTHING_RECORDED = N_("Understood: nothing has been recorded. If you change your mind, contact "
                      "the person who invited you.")
UNKNOWN_ZONE = N_("I don't know that time zone. Tap one of the buttons, or type a city such as "
                  "Lisbon or a zone such as America/Denver.")
ZONE_SET = N_("Time zone: {zone}.")
YOUR_ZONE = N_("Your time zone: {zone}.")
WHERE_YOU_STOPPED = N_("Here is where you stopped.")
SKIP_PRACTICE = N_("Skip practice")
SKIPPED = N_("Skipped.")
PRACTICE_SKIPPED = N_("Practice question skipped.")

# Defaults a script may leave out (core/script.py keeps the same English text).
DEFAULT_INTRO = N_("Hi {name}! Thanks for your time.")
DEFAULT_OUTRO = N_("Thank you! Any questions for the team? Send them now, or tap Done.")

# Choosing the language (buttons after the greeting, the language command).
CHOOSE_LANGUAGE = N_("Please choose the language of your interview.")
LANGUAGE_SET = N_("From now on I will write in {name}.")
LANGUAGE_UNKNOWN = N_("This interview is not available in \"{code}\". You can choose: {choices}. "
                      "Send for example {language} {example}.")
LANGUAGE_ONLY_ONE = N_("This interview is available in {name} only.")
LANGUAGE_CURRENT = N_("This interview is in {name}. You can choose: {choices}. "
                      "Send for example {language} {example}.")


ZONE_CHOICES = (
    "Europe/London", "Europe/Berlin", "Europe/Kyiv", "America/New_York", "America/Chicago",
    "America/Los_Angeles", "America/Sao_Paulo", "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo",
    "Australia/Sydney", "UTC",
)
ASK_ZONE = N_(
    "Which time zone are you in? I'll show your deadline and send reminders in your time. "
    "Tap one, or type your city or zone (for example Lisbon or America/Denver)."
)


def find_zone(text: str) -> str | None:
    """An IANA zone from what a person typed: a full name or its city part, any case."""
    wanted = text.strip().replace(" ", "_").lower()
    if not wanted or len(wanted) > 64:
        return None
    names = available_timezones()
    for name in names:
        if name.lower() == wanted:
            return name
    cities = sorted(n for n in names if n.lower().rsplit("/", 1)[-1] == wanted)
    return cities[0] if cities else None


def zone(name: str) -> ZoneInfo:
    """A time zone by IANA name, UTC when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(moment: datetime, tz: str, lang: str | None = None) -> str:
    """A moment as the person reads it, e.g. "Fri 27 Nov, 18:00 (Europe/Berlin)".

    Other languages use the installed locale formatter ("Fr., 27. Nov., 18:00 (Europe/Berlin)"),
    or a numeric date when none is installed."""
    local = moment.astimezone(zone(tz))
    if lang and lang != DEFAULT:
        written = local_date(moment, tz, lang)
        return f"{written or f'{local:%Y-%m-%d %H:%M}'} ({tz})"
    return f"{local:%a %d %b, %H:%M} ({tz})"


def clock(seconds: float | None) -> str:
    """Seconds as m:ss."""
    total = round(seconds or 0)
    return f"{total // 60}:{total % 60:02d}"


def limit(seconds: int, lang: str | None = None) -> str:
    """A time limit as people say it: "3 min", "90 s"."""
    if seconds % 60 == 0:
        return t(lang, N_("{n} min"), n=seconds // 60)
    return t(lang, N_("{n} s"), n=seconds)


KINDS = {"voice": N_("a voice note"), "text": N_("text"),
         "choice": N_("a tap on one of the options")}


def kinds_phrase(kinds: tuple[str, ...], lang: str | None = None) -> str:
    names = [t(lang, KINDS[k]) for k in kinds]
    if len(names) == 2:
        return t(lang, N_("{first} or {second}"), first=names[0], second=names[1])
    return " / ".join(names)


def question_label(script: Script, question: Question, lang: str | None = None) -> str:
    """ "Question 2 of 4" (practice questions are not counted)."""
    if question.practice:
        return t(lang, N_("Practice question (not reviewed)"))
    scored = script.scored_questions
    return t(lang, N_("Question {number} of {total}"), number=scored.index(question) + 1,
             total=len(scored))


def question_text(script: Script, question: Question, retakes_left: int,
                  lang: str | None = None) -> str:
    rules = question.answer
    phrase = kinds_phrase(rules.kinds, lang)
    limits = [phrase[:1].upper() + phrase[1:]]
    if "voice" in rules.kinds:
        limits.append(t(lang, N_("up to {limit}"), limit=limit(rules.max_seconds, lang)))
    if rules.retakes:
        limits.append(tn(lang, "{n} re-record allowed", "{n} re-records allowed",
                         retakes_left))
    body = question.text_in(lang)
    return f"{question_label(script, question, lang)} · {' · '.join(limits)}\n\n{body}"


def expectations(script: Script, deadline: datetime, tz: str, lang: str | None = None) -> str:
    scored = len(script.scored_questions)
    practice = len(script.questions) - scored
    kinds = sorted({k for q in script.questions for k in q.answer.kinds if k != "choice"},
                   reverse=True) or ["choice"]
    values = {"n": scored, "practice": practice, "minutes": script.estimated_minutes(),
              "kinds": kinds_phrase(tuple(kinds), lang), "deadline": local_time(deadline, tz, lang)}
    if practice:
        return tn(lang, "What to expect: {n} question (plus {practice} optional practice "
                           "question), about {minutes} minutes in all. Answer with {kinds}, one "
                           "question at a time, whenever it suits you.\nDeadline: {deadline}.",
                  "What to expect: {n} questions (plus {practice} optional practice "
                     "question), about {minutes} minutes in all. Answer with {kinds}, one "
                     "question at a time, whenever it suits you.\nDeadline: {deadline}.",
                  scored, **{k: v for k, v in values.items() if k != "n"})
    return tn(lang, "What to expect: {n} question, about {minutes} minutes in all. Answer with "
                       "{kinds}, one question at a time, whenever it suits you.\n"
                       "Deadline: {deadline}.",
              "What to expect: {n} questions, about {minutes} minutes in all. Answer with "
                 "{kinds}, one question at a time, whenever it suits you.\nDeadline: {deadline}.",
              scored, **{k: v for k, v in values.items() if k not in ("n", "practice")})


def for_channel(lang: str | None, message: str, platform: str, **values: object) -> str:
    """`message` in `lang` with its placeholders filled from `values` and its command
    placeholders (`{delete}`, `{language}`, ...) written as `platform`'s channel types them."""
    keep = {verb.value: "{" + verb.value + "}" for verb in Verb}  # for with_commands
    return with_commands(t(lang, message, **keep, **values), platform)


def help_text(script: Script | None, lang: str | None, platform: str) -> str:
    """The help, with the language command when the script offers several languages, in
    the command syntax of `platform`'s channel."""
    text = for_channel(lang, HELP, platform)
    if script is not None and len(script.languages) > 1:
        text += "\n" + for_channel(lang, HELP_LANGUAGE, platform, example=script.languages[1])
    return text


def intro(script: Script, name: str, deadline: datetime, tz: str,
          lang: str | None = None) -> str:
    template = script.text_in("intro", lang)
    if template == DEFAULT_INTRO:
        template = t(lang, DEFAULT_INTRO)
    return template.format(
        name=name,
        deadline=local_time(deadline, tz, lang),
        questions=len(script.scored_questions),
        minutes=script.estimated_minutes(),
    )


def consent_labels(lang: str | None) -> str:
    """ "I agree or No thanks", for "Please use the buttons above: …"."""
    return t(lang, N_("{first} or {second}"), first=t(lang, AGREE), second=t(lang, NO_THANKS))


def lang_for(script: Script, chosen: str | None) -> str:
    """The language to speak: the candidate's when the script offers it, else the default."""
    return chosen if chosen is not None and script.offers(chosen) else script.language


def review_lang(script: Script) -> str:
    """The language of the script's review destinations: `review.language`, else the default."""
    chosen = script.review.language
    return chosen if chosen is not None and script.offers(chosen) else script.language


def language_name(lang: str | None) -> str:
    """A language by its own name and code, for a reviewer: "Deutsch (de)"."""
    code = lang or DEFAULT
    return f"{NAMES.get(code, code)} ({code})"


def team_invitation(name: str, number: int, interview_id: str, deadline: datetime,
                    link: str, title: str | None = None) -> str:
    """What a hiring manager gets after inviting from chat: the link to pass on."""
    when = f"{deadline:%Y-%m-%d %H:%M}"
    if title:
        return t(None, N_("Invitation for {name} to {title} (#{number}, interview {id}). Send "
                          "them this link; it works once and until {when} UTC:\n{link}"),
                 name=name, title=title, number=number, id=interview_id, when=when, link=link)
    return t(None, N_("Invitation for {name} (#{number}, interview {id}). Send them this link; "
                      "it works once and until {when} UTC:\n{link}"),
             name=name, number=number, id=interview_id, when=when, link=link)
