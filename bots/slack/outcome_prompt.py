"""The Slack side of a decider's "Edit feedback": may the modal open, and its prompt."""

from __future__ import annotations

from bots.slack.lookup import ReplyPrompt
from core import payloads as pl
from core.engine import Engine
from core.i18n import N_, t
from core.refs import ChatRef, UserRef
from core.review import candidate_label
from core.texts import review_lang


def feedback_prompt(engine: Engine, user: UserRef, chat: ChatRef, payload: pl.Payload
                    ) -> ReplyPrompt:
    """Checked like the engine checks the submitted text (decider, state, not yet sent)."""
    with engine.s.uow() as uow:
        checked = engine.outcomes.check(uow, user, chat, payload)
    if isinstance(checked, str):
        return ReplyPrompt(False, checked)
    script, interview, _ = checked
    return ReplyPrompt(True, t(review_lang(script), N_(
        "Written feedback for {label}: it takes the place of {{feedback}} in the message. A new "
        "preview follows; nothing is sent before you press Send."),
        label=candidate_label(script, interview)))
