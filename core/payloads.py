"""Button payloads: short opaque strings ("action:id:..."), parsed and checked server-side."""

from __future__ import annotations

from dataclasses import dataclass

# candidate actions
CONSENT = "cs"
KEEP = "kp"
REDO = "rr"
SKIP = "sk"
DONE = "dn"
FEEDBACK = "fb"
WITHDRAW = "wd"
ERASE = "er"
CANCEL = "cx"
CONTINUE = "go"
TIMEZONE = "tz"
SELF_ID = "si"  # a voluntary self-identification answer (core/self_id.py)
ADJUST = "aj"  # a request for adjustments (core/accommodations.py)
CHOOSE = "ch"  # an option of a choice question (question position, option index or "d")
LANGUAGE = "lg"  # the interview's language, chosen after the greeting (its index in the script)
# reviewer actions
RATE = "rt"
DECIDE = "dc"
FOLLOW_UP = "fu"
REPLY = "rq"
EXTEND = "ex"
# a decider's outcome preview (core/outcome.py)
OUTCOME_SEND = "os"
OUTCOME_FEEDBACK = "of"
OUTCOME_SKIP = "on"
ADJUST_DECIDE = "ad"  # approve or decline a request for adjustments

CANDIDATE_ACTIONS = frozenset({CONSENT, KEEP, REDO, SKIP, DONE, FEEDBACK, WITHDRAW, ERASE, CANCEL,
                               CONTINUE, TIMEZONE, CHOOSE, LANGUAGE})
REVIEWER_ACTIONS = frozenset({RATE, DECIDE, FOLLOW_UP, REPLY, EXTEND})
OUTCOME_ACTIONS = frozenset({OUTCOME_SEND, OUTCOME_FEEDBACK, OUTCOME_SKIP})
FAIRNESS_ACTIONS = frozenset({SELF_ID, ADJUST, ADJUST_DECIDE})  # handled by core/fair_flow.py
# buttons the hiring team presses (their answers are in the script's review language)
TEAM_ACTIONS = REVIEWER_ACTIONS | OUTCOME_ACTIONS | {ADJUST_DECIDE}
# buttons whose press asks for text (a force-reply, a modal) instead of acting at once
ASKS_FOR_TEXT = frozenset({FOLLOW_UP, REPLY, OUTCOME_FEEDBACK})


@dataclass(frozen=True)
class Payload:
    """A parsed button payload: the action, the interview it concerns, and further arguments."""

    action: str
    interview_id: str
    args: tuple[str, ...] = ()

    def arg(self, index: int) -> str:
        return self.args[index] if index < len(self.args) else ""


def make(action: str, interview_id: str, *args: str | int) -> str:
    """Encode a payload; the result is at most 64 bytes for the ids this project generates."""
    return ":".join((action, interview_id, *(str(a) for a in args)))


def action(text: str) -> str:
    """The action of an encoded payload (or of a reply target), without checking the rest."""
    return text.partition(":")[0]


def asks_for_text(text: str) -> bool:
    """Whether pressing this button asks the person to write something (`ASKS_FOR_TEXT`)."""
    return action(text) in ASKS_FOR_TEXT


def parse(text: str) -> Payload | None:
    """Decode a payload, or None if it is not one of ours (tampered, stale format, foreign)."""
    parts = text.split(":")
    if len(parts) < 2 or parts[0] not in (CANDIDATE_ACTIONS | REVIEWER_ACTIONS | OUTCOME_ACTIONS
                                          | FAIRNESS_ACTIONS):
        return None
    if not parts[1] or len(text) > 64 or not all(p.replace("-", "").isalnum() for p in parts[1:]):
        return None
    return Payload(parts[0], parts[1], tuple(parts[2:]))
