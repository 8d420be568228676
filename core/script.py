"""Interview scripts: the questions, answer rules, rubric, reminders and review settings.

`parse_script` turns plain data (as loaded from YAML) into a validated `Script`, collecting every
problem with the path of the field it concerns, so a loader can point at file and line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from typing import Any

from core.i18n import N_
from core.review_settings import ReviewSettings, parse_review
from core.script_choices import choice_options, knockout_options
from core.script_fairness import FIELDS as FAIRNESS_FIELDS
from core.script_fairness import Accommodations, SelfIdCategory, parse_fairness
from core.script_hiring import Outcome, WebhookTarget, parse_outcome, parse_webhooks
from core.script_problems import Collector, Path
from core.script_problems import Problem as Problem  # re-exported: loaders use them
from core.script_problems import ScriptInvalid as ScriptInvalid
from core.script_translations import Text, localized, parse_languages
from core.vocabulary import Verb

ANSWER_KINDS = ("voice", "text", "choice")
DEFAULT_KNOCKOUT_MESSAGE = N_(
    "Thank you for your time, {name}. This role has a requirement your answer does not meet, "
    "so the interview ends here and your answers will not be reviewed. You can use {delete} "
    "to erase them."
)
MAX_QUESTIONS = 50  # an asynchronous interview longer than this is a mistake, not a plan
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class AnswerRules:
    """How a question may be answered."""

    kinds: tuple[str, ...] = ("voice", "text")
    max_seconds: int = 180
    retakes: int = 2
    options: tuple[str, ...] = ()  # a choice question's options, in the order shown
    multiple: bool = False  # a choice question takes several options

    def allows(self, kind: str) -> bool:
        return kind in self.kinds

    @property
    def is_choice(self) -> bool:
        return "choice" in self.kinds

    def option(self, typed: str) -> str | None:
        """The option a typed text names (case-insensitive, spaces trimmed), or None."""
        wanted = " ".join(typed.split()).casefold()
        return next((o for o in self.options if " ".join(o.split()).casefold() == wanted), None)


@dataclass(frozen=True)
class Question:
    """One interview question."""

    id: str
    text: str
    answer: AnswerRules
    practice: bool = False
    rubric: tuple[str, ...] = ()
    knockout: tuple[str, ...] = ()  # choice options that end the interview

    def text_in(self, lang: str | None) -> str:
        """The question in `lang`, or in the script's default language."""
        return localized(self.text, lang)

    @property
    def rated(self) -> bool:
        """Reviewers rate it: not practice, and a choice question only with its own rubric."""
        return not self.practice and (not self.answer.is_choice or bool(self.rubric))


@dataclass(frozen=True)
class Rubric:
    """Named criteria (name → description) rated on a fixed scale."""

    criteria: Mapping[str, str]
    scale: tuple[int, ...] = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class QuietHours:
    """A daily window (local time) in which no reminder is sent; may wrap past midnight."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


@dataclass(frozen=True)
class Reminders:
    """When candidates and reviewers are nudged."""

    not_started: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=72))
    idle: timedelta | None = timedelta(hours=24)
    before_deadline: timedelta | None = timedelta(hours=24)
    reviewer_after: timedelta | None = timedelta(hours=48)
    quiet_hours: QuietHours | None = None


@dataclass(frozen=True)
class Script:
    """A complete, validated interview script."""

    id: str
    title: str
    intro: str
    consent: str
    deadline: timedelta
    questions: tuple[Question, ...]
    rubric: Rubric
    review: ReviewSettings
    reminders: Reminders = field(default_factory=Reminders)
    outro: str = N_("Thank you! Any questions for the team? Send them now, or tap Done.")
    outcome: Outcome | None = None
    webhooks: WebhookTarget | None = None
    notice: str = ""  # shown before consent (core/notice.py)
    self_id: tuple[SelfIdCategory, ...] = ()  # the voluntary survey (core/self_id.py)
    accommodations: Accommodations | None = None  # adjustments on request
    knockout_message: str = DEFAULT_KNOCKOUT_MESSAGE
    languages: tuple[str, ...] = ("en",)  # the first is the default

    @property
    def language(self) -> str:
        """The default language: the first the script lists."""
        return self.languages[0]

    def text_in(self, name: str, lang: str | None) -> str:
        """A script-level text ("title", "intro", "consent", "outro", "notice",
        "knockout_message") in `lang`; the default language's when it has no translation."""
        value = getattr(self, name)
        assert isinstance(value, str)
        return localized(value, lang)

    def offers(self, lang: str | None) -> bool:
        return lang is not None and lang in self.languages

    def question(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(question_id)

    @property
    def scored_questions(self) -> tuple[Question, ...]:
        """Questions reviewers rate (practice questions are never reviewed)."""
        return tuple(q for q in self.questions if not q.practice)

    @property
    def rated_questions(self) -> tuple[Question, ...]:
        """Questions reviewers score (choice questions only when they name a rubric)."""
        return tuple(q for q in self.questions if q.rated)

    def criteria_for(self, question: Question) -> tuple[str, ...]:
        """Rubric criteria a question is rated on: its own list, else every criterion."""
        return question.rubric or tuple(self.rubric.criteria)

    def estimated_minutes(self) -> int:
        """Rough time to complete: each question's answer limit plus a minute to think."""
        seconds = sum(15 if q.answer.is_choice else q.answer.max_seconds + 60
                      for q in self.questions)
        return max(1, round(seconds / 60))


def _answer_rules(c: Collector, raw: Any, path: Path, base: AnswerRules) -> AnswerRules:
    if raw is None:
        return base
    if not isinstance(raw, Mapping):
        c.add(path, "must be a mapping")
        return base
    kinds = base.kinds
    if "kinds" in raw:
        value = raw["kinds"]
        if not isinstance(value, list) or not value:
            c.add((*path, "kinds"), "must be a non-empty list of voice, text or choice")
        else:
            good = []
            for i, kind in enumerate(value):
                if kind not in ANSWER_KINDS:
                    c.add((*path, "kinds", i), f"{kind!r} is not one of {', '.join(ANSWER_KINDS)}")
                elif kind not in good:
                    good.append(kind)
            kinds = tuple(good) or kinds
            if "choice" in kinds and len(kinds) > 1:
                c.add((*path, "kinds"), "choice cannot be combined with voice or text")
                kinds = ("choice",)
    max_seconds = base.max_seconds
    if "max_seconds" in raw:
        max_seconds = c.integer(raw["max_seconds"], (*path, "max_seconds"), low=5, high=1800) or (
            max_seconds
        )
    retakes = base.retakes
    if "retakes" in raw:
        found = c.integer(raw["retakes"], (*path, "retakes"), low=0, high=10)
        retakes = retakes if found is None else found
    options = choice_options(c, raw, path, kinds)
    multiple = c.flag(raw.get("multiple"), (*path, "multiple"), False)
    if "multiple" in raw and "choice" not in kinds:
        c.add((*path, "multiple"), "applies only to kinds: [choice]")
    for key in raw:
        if key not in ("kinds", "max_seconds", "retakes", "options", "multiple"):
            c.add((*path, key), "is not a known setting (kinds, max_seconds, retakes, options, "
                                "multiple)")
    return AnswerRules(kinds=kinds, max_seconds=max_seconds, retakes=retakes, options=options,
                       multiple=multiple)


def _rubric(c: Collector, raw: Any) -> Rubric:
    if not isinstance(raw, Mapping) or not raw:
        c.add(("rubric",), "is required: criteria with descriptions, and a scale")
        return Rubric(criteria={})
    criteria: dict[str, str] = {}
    scale: tuple[int, ...] = (1, 2, 3, 4, 5)
    for key, value in raw.items():
        if key == "scale":
            if (
                not isinstance(value, list)
                or len(value) < 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
                or sorted(set(value)) != list(value)
            ):
                c.add(("rubric", "scale"), "must be increasing whole numbers, e.g. [1,2,3,4,5]")
            elif len(value) > 10:
                c.add(("rubric", "scale"), "has more than 10 points")
            else:
                scale = tuple(value)
        elif not isinstance(key, str) or not _ID.match(key):
            c.add(("rubric", str(key)), "criterion names are lower-case words (a-z, 0-9, _ or -)")
        elif not isinstance(value, str) or not value.strip():
            c.add(("rubric", key), "needs a description")
        else:
            criteria[key] = value.strip()
    if not criteria:
        c.add(("rubric",), "needs at least one criterion")
    return Rubric(criteria=criteria, scale=scale)


def _questions(c: Collector, raw: Any, base: AnswerRules, rubric: Rubric) -> tuple[Question, ...]:
    if not isinstance(raw, list) or not raw:
        c.add(("questions",), "must be a non-empty list")
        return ()
    if len(raw) > MAX_QUESTIONS:
        c.add(("questions",), f"has {len(raw)} questions; at most {MAX_QUESTIONS} are allowed")
        return ()
    out: list[Question] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        path: Path = ("questions", i)
        if not isinstance(item, Mapping):
            c.add(path, "must be a mapping with id and text")
            continue
        qid = item.get("id")
        if not isinstance(qid, str) or not _ID.match(qid):
            c.add((*path, "id"), "is required: lower-case letters, digits, _ or -")
            qid = f"q{i + 1}"
        elif qid in seen:
            c.add((*path, "id"), f"{qid!r} is used twice")
        seen.add(qid)
        text = c.text(item, "text", path)
        rules = _answer_rules(c, item.get("answer"), (*path, "answer"), base)
        practice = c.flag(item.get("practice"), (*path, "practice"), False)
        criteria: tuple[str, ...] = ()
        if "rubric" in item:
            value = item["rubric"]
            if not isinstance(value, list) or not value:
                c.add((*path, "rubric"), "must be a non-empty list of rubric criteria")
            else:
                for j, name in enumerate(value):
                    if name not in rubric.criteria:
                        known = ", ".join(rubric.criteria) or "none defined"
                        c.add((*path, "rubric", j), f"{name!r} is not a rubric criterion ({known})")
                criteria = tuple(n for n in value if n in rubric.criteria)
        knockout = knockout_options(c, item, path, rules)
        for key in item:
            if key not in ("id", "text", "answer", "practice", "rubric", "knockout"):
                c.add((*path, key), "is not a known field (id, text, answer, practice, rubric, "
                                    "knockout)")
        out.append(Question(id=qid, text=text, answer=rules, practice=practice, rubric=criteria,
                            knockout=knockout))
    if out and all(q.practice for q in out):
        c.add(("questions",), "every question is a practice question: nothing would be reviewed")
    return tuple(out)


def _clock(text: str) -> time:
    hours, _, minutes = text.partition(":")
    return time(int(hours), int(minutes))


def _reminders(c: Collector, raw: Mapping[str, Any]) -> Reminders:
    base = Reminders()
    path: Path = ("reminders",)
    not_started = base.not_started
    if "not_started" in raw:
        value = raw["not_started"]
        items = value if isinstance(value, list) else [value]
        found = [c.duration(v, (*path, "not_started", i)) for i, v in enumerate(items)]
        not_started = tuple(sorted(d for d in found if d is not None))

    def optional(key: str, default: timedelta | None) -> timedelta | None:
        if key not in raw:
            return default
        if raw[key] in (None, False, "off"):
            return None
        return c.duration(raw[key], (*path, key))

    quiet = None
    if raw.get("quiet_hours") is not None:
        value = raw["quiet_hours"]
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)-([01]?\d|2[0-3]):([0-5]\d)", str(value))
        if not match:
            c.add((*path, "quiet_hours"), f"{value!r} is not a window like 21:00-08:00")
        else:
            start, end = str(value).split("-")
            quiet = QuietHours(_clock(start), _clock(end))
    for key in raw:
        if key not in ("not_started", "idle", "before_deadline", "reviewers", "quiet_hours"):
            c.add((*path, key), "is not a known reminder (not_started, idle, before_deadline, "
                                "reviewers, quiet_hours)")
    return Reminders(
        not_started=not_started,
        idle=optional("idle", base.idle),
        before_deadline=optional("before_deadline", base.before_deadline),
        reviewer_after=optional("reviewers", base.reviewer_after),
        quiet_hours=quiet,
    )


KNOWN_FIELDS = (
    "id", "title", "intro", "consent", "deadline", "answer", "reminders", "questions", "rubric",
    "review", "outro", "outcome", "webhooks", "knockout_message", "languages", *FAIRNESS_FIELDS,
)


def parse_script(raw: Any) -> Script:
    """Validate plain data into a `Script`; raise `ScriptInvalid` listing every problem."""
    if not isinstance(raw, Mapping):
        raise ScriptInvalid([Problem((), "a script must be a mapping of fields")])
    c = Collector()
    c.languages = parse_languages(c, raw.get("languages"))
    sid = raw.get("id")
    if sid is None or sid == "":
        c.add(("id",), "is required: lower-case letters, digits, _ or - (e.g. backend-engineer)")
        sid = "invalid"
    elif not isinstance(sid, str) or not _ID.match(sid):
        c.add(("id",), f"{sid!r} must be lowercase letters, digits and dashes (or _), "
                       "at most 64, e.g. backend-engineer")
        sid = "invalid"
    title = c.text(raw, "title", ())
    intro = c.text(raw, "intro", (), required=False, default=N_("Hi {name}! Thanks for your time."))
    consent = c.text(raw, "consent", ())
    outro = c.text(raw, "outro", (), required=False, default=Script.outro)
    knockout_message = c.text(raw, "knockout_message", (), required=False,
                              default=DEFAULT_KNOCKOUT_MESSAGE)
    deadline = c.duration(raw.get("deadline", "7d"), ("deadline",)) or timedelta(days=7)
    base = _answer_rules(c, raw.get("answer"), ("answer",), AnswerRules())
    rubric = _rubric(c, raw.get("rubric"))
    questions = _questions(c, raw.get("questions"), base, rubric)
    reminders = _reminders(c, c.mapping(raw, "reminders", ()))
    review = parse_review(c, c.mapping(raw, "review", ()))
    outcome = parse_outcome(c, c.mapping(raw, "outcome", ()))
    webhooks = parse_webhooks(c, c.mapping(raw, "webhooks", ()))
    fair = parse_fairness(raw, c.add)
    notice = (c.text(raw, "notice", (), required=False) if isinstance(raw.get("notice"), Mapping)
              else fair.notice)
    for key in raw:
        if key not in KNOWN_FIELDS:
            c.add((str(key),), f"is not a known field ({', '.join(KNOWN_FIELDS)})")
    for key, value in (("intro", intro), ("outro", outro),
                       ("knockout_message", knockout_message)):
        commands = {v.value: "x" for v in Verb} if key == "knockout_message" else {}
        for text in (value.translations.values() if isinstance(value, Text) else [value]):
            try:
                text.format(name="x", deadline="x", questions="x", minutes="x", **commands)
            except (KeyError, IndexError, ValueError) as exc:
                c.add((key,), f"has an unknown placeholder {exc}; use {{name}}, {{deadline}}, "
                              "{questions} or {minutes}"
                              + (" (or a command: {delete}, {status})" if commands else ""))
                break
    if c.problems:
        raise ScriptInvalid(c.problems)
    return Script(
        id=sid, title=title, intro=intro, consent=consent, deadline=deadline, questions=questions,
        rubric=rubric, review=review, reminders=reminders, outro=outro, outcome=outcome,
        webhooks=webhooks,
        notice=notice, self_id=fair.self_id, accommodations=fair.accommodations,
        knockout_message=knockout_message, languages=c.languages,
    )

