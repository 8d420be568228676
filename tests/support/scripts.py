"""Small interview scripts for tests."""

from __future__ import annotations

from typing import Any

from core.script import Script, parse_script


def script_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "qa",
        "title": "QA Engineer",
        "intro": "Hi {name}! {questions} questions, about {minutes} minutes, due {deadline}.",
        "consent": "We keep your answers for 90 days. OK?",
        "deadline": "7d",
        "answer": {"kinds": ["voice", "text"], "max_seconds": 60, "retakes": 1},
        "questions": [
            {"id": "warmup", "text": "Warm up: say hello.", "practice": True},
            {"id": "bug", "text": "Tell us about a bug you found.", "rubric": ["depth"]},
            {"id": "voice", "text": "Why testing?", "answer": {"kinds": ["voice"]}},
        ],
        "rubric": {"depth": "Technical depth", "clarity": "Clear", "scale": [1, 2, 3, 4, 5]},
        "review": {"reviewers": ["slack:CREV", "telegram:-100"], "blind": True,
                   "independent": True},
    }
    data.update(overrides)
    return data


def small_script(**overrides: Any) -> Script:
    return parse_script(script_data(**overrides))
