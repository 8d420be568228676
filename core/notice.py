"""The notice shown before consent, and the record of which notice a candidate accepted.

The consent message is the script's `notice` (what is assessed, who sees the answers, how long
they are kept, that people decide, how to ask for an adjustment) followed by its `consent`
question. When the candidate agrees, the SHA-256 of exactly that text and the time are kept
(`FairnessRecords.put_consent`, for every consent) and, when the script has a notice, written
to the audit log, so an auditor can match a candidate's consent to the notice they were shown.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from core import payloads as pl
from core.fairness_records import ConsentRecord
from core.model import AuditEntry, Interview
from core.payloads import Payload
from core.ports import UnitOfWork
from core.script import Script
from core.states import State
from core.texts import lang_for


def consent_text(script: Script, lang: str | None = None) -> str:
    """What the candidate reads before I agree / No thanks: the notice, then the consent, in
    `lang` (the script's default language when it has no translation)."""
    consent = script.text_in("consent", lang)
    return f"{script.text_in('notice', lang)}\n\n{consent}" if script.notice else consent


def notice_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def on_consent(uow: UnitOfWork, script: Script, interview: Interview, payload: Payload,
               now: datetime) -> None:
    """Record the notice accepted by an I agree that will be taken (nothing for No thanks,
    a stale button or an interview past consent)."""
    if (payload.action != pl.CONSENT or payload.arg(0) != "y"
            or interview.state is not State.INVITED or now >= interview.deadline):
        return
    digest = notice_sha256(consent_text(script, lang_for(script, interview.language)))
    uow.fairness.put_consent(ConsentRecord(interview.id, digest, now))
    if script.notice:
        uow.reviews.audit(AuditEntry(interview.id, str(interview.candidate), "accepted notice",
                                     f"sha256 {digest}", now))
