"""Everything the bot says, in one place, so wording stays consistent across platforms."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from core.audio import RejectReason
from core.script import Question, Script

NO_INVITATION = (
    "Hi! I run job interviews for hiring teams, and I have no interview waiting for you here. "
    "If you were sent an invitation link, open it to begin; otherwise please contact the "
    "person who invited you."
)
TOKEN_UNKNOWN = (
    "This invitation link isn't valid. Please check you opened the whole link, or ask the "
    "person who invited you for a new one."
)
TOKEN_USED = (
    "This invitation has already been used. Each link works for one person only; please ask "
    "the person who invited you for a new one."
)
MOVED_ON = ("That recording arrived after your interview had moved on, so it was not used. "
            "Here is where you are:")
TOKEN_THROTTLED = "Too many invalid invitation links in a row. Please wait a few minutes."
NOT_YOUR_BUTTON = "This button isn't for you."
STALE_BUTTON = "This button is no longer active."
NOT_A_REVIEWER = "Only the reviewers of this interview can do that."
NOT_A_LISTED_MEMBER = ("Only the people listed as reviewers for this chat can rate here. "
                       "Nothing was changed.")
NOT_A_DECIDER = ("Only the named deciders make the decision on this interview; your ratings "
                 "are recorded.")
UNSUPPORTED = (
    "Sorry, I can't use a {what} as an answer. Please answer with {kinds}."
)
ONLY_TEXT_HERE = "Please type your message as text here."
PRESS_A_BUTTON = "Please use the buttons above: {labels}."
DOWNLOAD_FAILED = "I couldn't fetch that file. Please try sending it again."
AUDIO_FAILED = ("Something went wrong on our side while saving that recording, so it was not "
                "added. Your answers so far are kept. Please send it again.")
PROCESSING = "Slack is still processing that clip. Please send it again in a moment."

AUDIO_REJECTED = {
    RejectReason.CORRUPT: "I couldn't play that recording; the file seems damaged. "
    "Please record it again.",
    RejectReason.TOO_SHORT: "That recording is too short to be an answer. Please record again.",
    RejectReason.SILENT: "We could not hear anything in that recording. Please check your "
    "microphone and try again.",
    RejectReason.TOO_LONG: "That recording is longer than the {limit} limit for this question. "
    "Please record a shorter answer.",
    RejectReason.TOO_LARGE: "That file is too large for me to receive. Please send a shorter "
    "voice note.",
}

HELP = (
    "I ask the interview questions one at a time; answer each whenever it suits you.\n"
    "Commands:\n"
    "  /status - your progress and deadline\n"
    "  /withdraw - stop the interview\n"
    "  /delete - erase your answers and recordings\n"
    "  /help - this message"
)


ZONE_CHOICES = (
    "Europe/London", "Europe/Berlin", "Europe/Kyiv", "America/New_York", "America/Chicago",
    "America/Los_Angeles", "America/Sao_Paulo", "Asia/Kolkata", "Asia/Singapore", "Asia/Tokyo",
    "Australia/Sydney", "UTC",
)
ASK_ZONE = (
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


def local_time(moment: datetime, tz: str) -> str:
    """A moment as the person reads it, e.g. "Fri 27 Nov, 18:00 (Europe/Berlin)"."""
    return f"{moment.astimezone(zone(tz)):%a %d %b, %H:%M} ({tz})"


def clock(seconds: float | None) -> str:
    """Seconds as m:ss."""
    total = round(seconds or 0)
    return f"{total // 60}:{total % 60:02d}"


def limit(seconds: int) -> str:
    """A time limit as people say it: "3 min", "90 s"."""
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def kinds_phrase(kinds: tuple[str, ...]) -> str:
    names = {"voice": "a voice note", "text": "text", "choice": "a tap on one of the options"}
    return " or ".join(names[k] for k in kinds)


def question_label(script: Script, question: Question) -> str:
    """ "Question 2 of 4" (practice questions are not counted)."""
    if question.practice:
        return "Practice question (not reviewed)"
    scored = script.scored_questions
    return f"Question {scored.index(question) + 1} of {len(scored)}"


def question_text(script: Script, question: Question, retakes_left: int) -> str:
    rules = question.answer
    limits = [kinds_phrase(rules.kinds).capitalize()]
    if "voice" in rules.kinds:
        limits.append(f"up to {limit(rules.max_seconds)}")
    if rules.retakes:
        limits.append(f"{retakes_left} re-record{'s' if retakes_left != 1 else ''} allowed")
    return f"{question_label(script, question)} · {' · '.join(limits)}\n\n{question.text}"


def expectations(script: Script, deadline: datetime, tz: str) -> str:
    scored = len(script.scored_questions)
    practice = len(script.questions) - scored
    extra = f" (plus {practice} optional practice question)" if practice else ""
    kinds = sorted({k for q in script.questions for k in q.answer.kinds if k != "choice"},
                   reverse=True) or ["choice"]
    return (
        f"What to expect: {scored} questions{extra}, about {script.estimated_minutes()} minutes "
        f"in all. Answer with {kinds_phrase(tuple(kinds))}, one question at a time, whenever "
        f"it suits you.\nDeadline: {local_time(deadline, tz)}."
    )


def intro(script: Script, name: str, deadline: datetime, tz: str) -> str:
    return script.intro.format(
        name=name,
        deadline=local_time(deadline, tz),
        questions=len(script.scored_questions),
        minutes=script.estimated_minutes(),
    )


def team_invitation(name: str, number: int, interview_id: str, deadline: datetime,
                    link: str, title: str | None = None) -> str:
    """What a hiring manager gets after inviting from chat: the link to pass on."""
    to = f" to {title}" if title else ""
    return (f"Invitation for {name}{to} (#{number}, interview {interview_id}). Send them this "
            f"link; it works once and until {deadline:%Y-%m-%d %H:%M} UTC:\n{link}")
