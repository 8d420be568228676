"""OutMessage → Block Kit, plus the reply modal and the App Home view."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bots.slack import CAPABILITIES
from bots.slack.translate import REPLY_BLOCK, REPLY_CALLBACK, REPLY_INPUT, modal_metadata
from bots.text_parts import split_text
from core import payloads as pl
from core.i18n import N_, t
from core.messages import Button, OutMessage
from core.vocabulary import Verb

Block = dict[str, Any]

SECTION_LIMIT = 3000  # characters of mrkdwn in one section block
BUTTON_LABEL_LIMIT = 75
ACTIONS_LIMIT = 25  # elements in one actions block
FALLBACK_LIMIT = 3900
REPLY_LABEL = N_("Write your reply")
HOME_COMMANDS = (Verb.STATUS, Verb.WITHDRAW, Verb.DELETE, Verb.HELP)  # listed on App Home


def escape(text: str) -> str:
    """Slack's three control characters, so nobody's text can @channel or fake a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_text(text: str) -> str:
    """Engine wording made safe for Slack (the engine writes commands as Slack declares
    them: `CAPABILITIES.command_syntax`)."""
    return escape(text)


def _plain(text: str, limit: int) -> dict[str, Any]:
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return {"type": "plain_text", "text": text, "emoji": True}


def _chunks(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Split long text so each part fits the platform's limit."""
    return split_text(text, limit)


def button(btn: Button, action_id: str) -> Block:
    element: Block = {"type": "button", "action_id": action_id,
                      "text": _plain(btn.label, BUTTON_LABEL_LIMIT), "value": btn.payload}
    if btn.style in ("primary", "danger"):
        element["style"] = btn.style
    return element


def blocks(message: OutMessage) -> list[Block]:
    """The message as Block Kit: header, text sections, fields, one actions block per row."""
    out: list[Block] = []
    if message.title:
        out.append({"type": "header", "text": _plain(message.title, 150)})
    text = slack_text(message.text)
    if text.strip():
        # verbatim: Slack must not turn "@here", "#channel" or URLs in people's text into links
        out.extend({"type": "section", "text": {"type": "mrkdwn", "text": chunk,
                                                "verbatim": True}}
                   for chunk in _chunks(text) if chunk.strip())
    if message.fields:
        fields = [{"type": "mrkdwn", "text": f"*{escape(k)}*\n{escape(v)}"}
                  for k, v in message.fields]
        for start in range(0, len(fields), 10):
            out.append({"type": "section", "fields": fields[start:start + 10]})
    number = 0
    rows = [list(row) for row in message.buttons]
    if message.ask_reply:
        rows.append([Button(REPLY_LABEL, message.ask_reply, "primary")])
    for index, row in enumerate(rows):
        for start in range(0, len(row), ACTIONS_LIMIT):
            elements = []
            for btn in row[start:start + ACTIONS_LIMIT]:
                elements.append(button(btn, f"ib-{number}"))
                number += 1
            out.append({"type": "actions", "block_id": f"ib-row-{index}-{start}",
                        "elements": elements})
    return out


def fallback(message: OutMessage) -> str:
    """The notification / screen-reader text that goes with the blocks (always set)."""
    text = slack_text(message.text).strip() or (message.title or N_("New message"))
    return text if len(text) <= FALLBACK_LIMIT else text[: FALLBACK_LIMIT - 1] + "…"


def as_text(rendered: Iterable[Block]) -> str:
    """A plain-text picture of blocks, for logs, tests and the README."""
    lines: list[str] = []
    for block in rendered:
        kind = block["type"]
        if kind == "header":
            lines.append(f"# {block['text']['text']}")
        elif kind == "section":
            if "text" in block:
                lines.extend(block["text"]["text"].split("\n"))
            for field in block.get("fields", []):
                lines.append(field["text"].replace("\n", ": "))
        elif kind == "actions":
            lines.append("  ".join(
                f"[{e['text']['text']}{'*' if e.get('style') == 'primary' else ''}"
                f"{'!' if e.get('style') == 'danger' else ''}]" for e in block["elements"]))
        elif kind == "context":
            lines.append("  ".join(e.get("text", "") for e in block["elements"]))
        elif kind == "divider":
            lines.append("---")
    return "\n".join(lines)


def reply_modal(target: str, channel: str, prompt: str, lang: str | None = None
                ) -> dict[str, Any]:
    """The modal a reviewer writes a follow-up question (or a reply) in, its title, buttons and
    label in `lang` (the team's review language)."""
    follow_up = pl.action(target) == pl.FOLLOW_UP
    return {
        "type": "modal",
        "callback_id": REPLY_CALLBACK,
        "private_metadata": modal_metadata(target, channel),
        "title": _plain(t(lang, N_("Ask a follow-up") if follow_up else N_("Reply to candidate")),
                        24),
        "submit": _plain(t(lang, N_("Send")), 24),
        "close": _plain(t(lang, N_("Cancel")), 24),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": slack_text(prompt)[:3000]}},
            {"type": "input", "block_id": REPLY_BLOCK,
             "label": _plain(t(lang, N_("Your question") if follow_up else N_("Your reply")),
                             2000),
             "element": {"type": "plain_text_input", "action_id": REPLY_INPUT,
                         "multiline": True, "min_length": 2, "max_length": 2000}},
        ],
    }


@dataclass(frozen=True)
class HomeItem:
    """One line of the App Home: a title and a detail."""

    title: str
    detail: str


def home_view(own: list[HomeItem], waiting: list[HomeItem]) -> dict[str, Any]:
    """The App Home tab: the person's own interviews and, for reviewers, what waits for them."""
    out: list[Block] = [{"type": "header", "text": _plain(N_("Your interviews"), 150)}]
    if own:
        out.extend({"type": "section", "text": {"type": "mrkdwn", "text":
                    f"*{escape(i.title)}*\n{escape(i.detail)}"}} for i in own[:10])
    else:
        out.append({"type": "context", "elements": [{"type": "mrkdwn", "text":
                    N_("No interviews for you. If you were invited, the questions arrive in "
                       "the Messages tab.")}]})
    if waiting:
        out.append({"type": "divider"})
        out.append({"type": "header", "text": _plain(N_("Waiting for your review"), 150)})
        out.extend({"type": "section", "text": {"type": "mrkdwn", "text":
                    f"*{escape(i.title)}*\n{escape(i.detail)}"}} for i in waiting[:20])
    out.append({"type": "context", "elements": [{"type": "mrkdwn", "text":
                " · ".join(f"`{CAPABILITIES.command(v)}`" for v in HOME_COMMANDS)}]})
    return {"type": "home", "blocks": out}
