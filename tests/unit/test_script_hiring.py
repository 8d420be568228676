"""Script fields of the hiring team: review.deciders, outcome, webhooks."""

from __future__ import annotations

from typing import Any

import pytest

from core.script import ScriptInvalid, parse_script

BASE: dict[str, Any] = {
    "id": "hm", "title": "T", "consent": "OK?", "questions": [{"id": "one", "text": "Why?"}],
    "rubric": {"clarity": "Clear", "scale": [1, 2, 3]},
    "review": {"reviewers": ["slack:C1"], "deciders": ["slack:U0HM", "telegram:42"]},
}


def problems(**changes: Any) -> list[str]:
    with pytest.raises(ScriptInvalid) as caught:
        parse_script({**BASE, **changes})
    return [f"{'.'.join(str(p) for p in e.path)}: {e.message}" for e in caught.value.problems]


def test_deciders_outcome_and_webhooks_are_read() -> None:
    script = parse_script({**BASE, "outcome": {
        "advance": "Good news, {name}! {booking_url}", "reject": "Thanks, {name}. {feedback}",
        "booking_url": "https://cal.com/acme/x"},
        "webhooks": {"url": "https://hooks.example.org/x", "secret_env": "TEAM_SECRET"}})
    assert script.review.deciders == ("slack:U0HM", "telegram:42")
    assert script.outcome is not None and script.outcome.booking_url == "https://cal.com/acme/x"
    assert script.webhooks is not None and script.webhooks.secret_env == "TEAM_SECRET"
    plain = parse_script(BASE)
    assert plain.outcome is None and plain.webhooks is None


def test_each_mistake_is_named() -> None:
    assert problems(review={"reviewers": ["slack:C1"], "deciders": "slack:U1"}) == [
        "review.deciders: must be a list like [slack:U0ADA, slack:S0LEADS, telegram:123456]"]
    assert problems(review={"reviewers": ["slack:C1"], "deciders": ["U1"]}) == [
        "review.deciders.0: 'U1' is not slack:<channel, user or user group id> or "
        "telegram:<chat or user id>"]
    assert problems(outcome={"advance": "Hi {nme}"}) == [
        "outcome.advance: has an unknown placeholder 'nme'; use {name}, {booking_url}, "
        "{feedback} or {title}"]
    assert problems(outcome={"advance": "Book: {booking_url}"}) == [
        "outcome.booking_url: is required: the advance text uses {booking_url}"]
    assert problems(outcome={"reject": "No", "booking_url": "cal.com/x"}) == [
        "outcome.booking_url: 'cal.com/x' is not an http(s) link"]
    assert problems(outcome={"reject": "No", "colour": "blue"}) == [
        "outcome.colour: is not a known field (advance, reject, booking_url)"]
    assert problems(webhooks={"url": "ftp://x"}) == [
        "webhooks.secret_env: is required", "webhooks.url: 'ftp://x' is not an http(s) URL"]
