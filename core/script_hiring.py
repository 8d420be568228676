"""Script fields of the hiring team: `outcome` and `webhooks`
(read by core/script.py's `parse_script`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.script_problems import Collector


@dataclass(frozen=True)
class Outcome:
    """The message each candidate gets once a decider has made the final call."""

    advance: str | None = None  # placeholders {name}, {booking_url}, {feedback}, {title}
    reject: str | None = None
    booking_url: str = ""


@dataclass(frozen=True)
class WebhookTarget:
    """A script's own webhook receiver (in addition to INTERVIEWBOT_WEBHOOK_URL)."""

    url: str
    secret_env: str  # the environment variable holding its whsec_ secret


OUTCOME_PLACEHOLDERS = {"name": "x", "booking_url": "x", "feedback": "x", "title": "x"}


def parse_outcome(c: Collector, raw: Mapping[str, Any]) -> Outcome | None:
    if not raw:
        return None
    for key in raw:
        if key not in ("advance", "reject", "booking_url"):
            c.add(("outcome", str(key)), "is not a known field (advance, reject, booking_url)")
    texts: dict[str, str | None] = {}
    for key in ("advance", "reject"):
        text = c.text(raw, key, ("outcome",), required=False) or None
        if text is not None:
            try:
                text.format(**OUTCOME_PLACEHOLDERS)
            except (KeyError, IndexError, ValueError) as exc:
                c.add(("outcome", key), f"has an unknown placeholder {exc}; use {{name}}, "
                                        "{booking_url}, {feedback} or {title}")
        texts[key] = text
    booking = c.text(raw, "booking_url", ("outcome",), required=False)
    if booking and not booking.startswith(("https://", "http://")):
        c.add(("outcome", "booking_url"), f"{booking!r} is not an http(s) link")
    if "{booking_url}" in (texts["advance"] or "") and not booking:
        c.add(("outcome", "booking_url"), "is required: the advance text uses {booking_url}")
    return Outcome(advance=texts["advance"], reject=texts["reject"], booking_url=booking)


def parse_webhooks(c: Collector, raw: Mapping[str, Any]) -> WebhookTarget | None:
    if not raw:
        return None
    url = c.text(raw, "url", ("webhooks",))
    secret_env = c.text(raw, "secret_env", ("webhooks",))
    if url and not url.startswith(("https://", "http://")):
        c.add(("webhooks", "url"), f"{url!r} is not an http(s) URL")
    return WebhookTarget(url, secret_env) if url and secret_env else None
