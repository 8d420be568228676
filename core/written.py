"""A person's written input: cleaned of control characters, and checked for words."""

from __future__ import annotations

import unicodedata

from core.i18n import N_, t

# Why a text is no written answer, reply, question or feedback: empty, or no words in it.
EMPTY = {
    "answer": N_("That answer is empty. Please write your answer."),
    "reply": N_("That reply is empty. Please write your reply."),
    "question": N_("That question is empty. Please write your question."),
    "feedback": N_("That feedback is empty. Please write your feedback."),
    "follow-up question": N_("That follow-up question is empty. Please write your follow-up "
                             "question."),
}
NO_WORDS = {
    "answer": N_("That answer has no words in it. Please write your answer in words."),
    "reply": N_("That reply has no words in it. Please write your reply in words."),
    "question": N_("That question has no words in it. Please write your question in words."),
    "feedback": N_("That feedback has no words in it. Please write your feedback in words."),
    "follow-up question": N_("That follow-up question has no words in it. Please write your "
                             "follow-up question in words."),
}


def clean_text(text: str) -> str:
    """A person's text without control characters (PostgreSQL cannot even store NUL), keeping
    line breaks and tabs, trimmed."""
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc"
                   ).strip()


def unreadable(text: str, what: str, lang: str | None = None) -> str | None:
    """Why `text` cannot be taken as a written `what` (a key of `EMPTY`), in `lang`, or None.

    Under two letters or digits is no answer: empty, only spaces or invisible characters
    (zero-width, control), or only emoji or punctuation.
    """
    if sum(ch.isalnum() for ch in text) >= 2:
        return None
    if not any(ch.isprintable() and not ch.isspace() for ch in text):
        return t(lang, EMPTY[what])
    return t(lang, NO_WORDS[what])
