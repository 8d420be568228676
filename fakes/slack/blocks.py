"""Block Kit: finding buttons and text in blocks, and validating blocks as Slack does."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from .api import JSON, MAX_MESSAGE_BLOCKS, MAX_VIEW_BLOCKS, _short_id

_INTERACTIVE_ELEMENTS = {
    "button",
    "checkboxes",
    "datepicker",
    "datetimepicker",
    "timepicker",
    "email_text_input",
    "number_input",
    "url_text_input",
    "plain_text_input",
    "rich_text_input",
    "file_input",
    "overflow",
    "radio_buttons",
    "static_select",
    "external_select",
    "users_select",
    "conversations_select",
    "channels_select",
    "multi_static_select",
    "multi_external_select",
    "multi_users_select",
    "multi_conversations_select",
    "multi_channels_select",
    "workflow_button",
}

_BLOCK_TYPES = {
    "actions",
    "context",
    "divider",
    "file",
    "header",
    "image",
    "input",
    "rich_text",
    "section",
    "video",
    "markdown",
    "context_actions",
    "table",
}


class ButtonRef(NamedTuple):
    """What a ``block_actions`` payload needs to press a button."""

    action_id: str
    value: str | None
    block_id: str


def _blocks_of(source: Any) -> list[JSON]:
    if hasattr(source, "blocks") and not isinstance(source, Mapping):
        return list(source.blocks or [])
    if isinstance(source, Mapping):
        if "blocks" in source:
            return list(source.get("blocks") or [])
        return [dict(source)]
    return list(source or [])


def iter_buttons(source: Any) -> Iterator[tuple[str, ButtonRef, JSON]]:
    """Yield ``(label, ref, element)`` for every button in blocks, a message or a view."""
    for block in _blocks_of(source):
        elements: list[JSON] = []
        if block.get("type") == "actions":
            elements = list(block.get("elements") or [])
        elif block.get("type") == "section" and isinstance(block.get("accessory"), Mapping):
            elements = [block["accessory"]]
        for element in elements:
            if element.get("type") != "button":
                continue
            label = str((element.get("text") or {}).get("text", ""))
            action_id = str(element.get("action_id", ""))
            ref = ButtonRef(action_id, element.get("value"), str(block.get("block_id", "")))
            yield label, ref, element


def find_button(source: Any, label: str) -> ButtonRef:
    """Find a button by label (exact match first, else a unique case-insensitive substring)."""
    found = list(iter_buttons(source))
    for text, ref, _ in found:
        if text == label:
            return ref
    needle = label.casefold()
    hits = [(text, ref) for text, ref, _ in found if needle in text.casefold()]
    if len(hits) == 1:
        return hits[0][1]
    labels = [text for text, _, _ in found]
    if not hits:
        raise LookupError(f"no button labelled {label!r}; buttons: {labels}")
    raise LookupError(f"ambiguous button label {label!r}; matches: {[h[0] for h in hits]}")


def block_text(blocks: Sequence[Mapping[str, Any]] | None) -> str:
    """All human-readable text inside blocks, newline separated."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            text = node.get("text")
            if isinstance(text, str):
                parts.append(text)
            for key, value in node.items():
                if key != "text" or not isinstance(value, str):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(list(blocks or []))
    return "\n".join(parts)


class _BlockChecker:
    def __init__(self, surface: str) -> None:
        self.surface = surface
        self.errors: list[str] = []
        self.action_ids: set[str] = set()
        self.block_ids: set[str] = set()

    def err(self, message: str, pointer: str) -> None:
        self.errors.append(f"{message} [json-pointer:{pointer}]")

    def text_obj(self, obj: Any, ptr: str, *, max_len: int, plain_only: bool = False) -> None:
        if not isinstance(obj, Mapping):
            self.err("must provide an object", ptr)
            return
        kind = obj.get("type")
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if kind not in allowed:
            self.err(f"must be one of {list(allowed)}", f"{ptr}/type")
        text = obj.get("text")
        if not isinstance(text, str):
            self.err("must provide a string", f"{ptr}/text")
        elif not text:
            self.err("must be more than 0 characters", f"{ptr}/text")
        elif len(text) > max_len:
            self.err(f"must be less than {max_len + 1} characters", f"{ptr}/text")

    def element(self, el: Any, ptr: str) -> None:
        if not isinstance(el, Mapping):
            self.err("must provide an object", ptr)
            return
        kind = el.get("type")
        if kind == "image":
            if not (el.get("image_url") or el.get("slack_file")):
                self.err("must provide image_url or slack_file", ptr)
            if not el.get("alt_text"):
                self.err("must provide alt_text", f"{ptr}/alt_text")
            return
        if kind in ("plain_text", "mrkdwn"):
            self.text_obj(el, ptr, max_len=3000)
            return
        if kind not in _INTERACTIVE_ELEMENTS:
            self.err(f"unsupported element type {kind!r}", f"{ptr}/type")
            return
        action_id = el.get("action_id")
        if action_id is not None:
            if not isinstance(action_id, str) or not action_id or len(action_id) > 255:
                self.err("must be 1 to 255 characters", f"{ptr}/action_id")
            elif action_id in self.action_ids:
                self.err(f"duplicate action_id {action_id!r}", f"{ptr}/action_id")
            else:
                self.action_ids.add(action_id)
        if kind == "button":
            self.text_obj(el.get("text"), f"{ptr}/text", max_len=75, plain_only=True)
            value = el.get("value")
            if value is not None and (not isinstance(value, str) or len(value) > 2000):
                self.err("must be a string of at most 2000 characters", f"{ptr}/value")
            url = el.get("url")
            if url is not None and (not isinstance(url, str) or len(url) > 3000):
                self.err("must be at most 3000 characters", f"{ptr}/url")
            style = el.get("style")
            if style is not None and style not in ("primary", "danger"):
                self.err("must be one of [primary, danger]", f"{ptr}/style")
        elif kind in (
            "static_select",
            "multi_static_select",
            "overflow",
            "radio_buttons",
            "checkboxes",
        ):
            options = el.get("options")
            groups = el.get("option_groups")
            if options is None and groups is None:
                self.err("must provide options", f"{ptr}/options")
            limit = {"overflow": 5, "radio_buttons": 10, "checkboxes": 10}.get(kind, 100)
            for i, opt in enumerate(options or []):
                if i >= limit:
                    self.err(f"must provide at most {limit} items", f"{ptr}/options")
                    break
                self.text_obj((opt or {}).get("text"), f"{ptr}/options/{i}/text", max_len=75)
                value = (opt or {}).get("value")
                if not isinstance(value, str) or len(value) > 150:
                    self.err(
                        "must be a string of at most 150 characters", f"{ptr}/options/{i}/value"
                    )

    def block(self, block: Any, ptr: str) -> None:
        if not isinstance(block, Mapping):
            self.err("must provide an object", ptr)
            return
        kind = block.get("type")
        if kind not in _BLOCK_TYPES:
            self.err(f"unsupported type {kind!r}", f"{ptr}/type")
            return
        block_id = block.get("block_id")
        if block_id is not None:
            if not isinstance(block_id, str) or not block_id or len(block_id) > 255:
                self.err("must be 1 to 255 characters", f"{ptr}/block_id")
            elif block_id in self.block_ids:
                self.err(f"duplicate block_id {block_id!r}", f"{ptr}/block_id")
            else:
                self.block_ids.add(block_id)
        if kind == "section":
            if block.get("text") is None and not block.get("fields"):
                self.err("must provide text or fields", ptr)
            if block.get("text") is not None:
                self.text_obj(block["text"], f"{ptr}/text", max_len=3000)
            fields = block.get("fields") or []
            if len(fields) > 10:
                self.err("must provide at most 10 items", f"{ptr}/fields")
            for i, f in enumerate(fields):
                self.text_obj(f, f"{ptr}/fields/{i}", max_len=2000)
            if block.get("accessory") is not None:
                self.element(block["accessory"], f"{ptr}/accessory")
        elif kind == "header":
            self.text_obj(block.get("text"), f"{ptr}/text", max_len=150, plain_only=True)
        elif kind in ("actions", "context"):
            elements = block.get("elements")
            limit = 25 if kind == "actions" else 10
            if not isinstance(elements, list) or not elements:
                self.err("must provide at least 1 item", f"{ptr}/elements")
                return
            if len(elements) > limit:
                self.err(f"must provide at most {limit} items", f"{ptr}/elements")
            for i, el in enumerate(elements):
                if kind == "context" and (el or {}).get("type") not in (
                    "image",
                    "plain_text",
                    "mrkdwn",
                ):
                    self.err("must be an image or text object", f"{ptr}/elements/{i}")
                    continue
                self.element(el, f"{ptr}/elements/{i}")
        elif kind == "input":
            if self.surface == "message":
                self.err("input blocks are only allowed in modals and home tabs", f"{ptr}/type")
            self.text_obj(block.get("label"), f"{ptr}/label", max_len=2000, plain_only=True)
            if block.get("element") is None:
                self.err("must provide an element", f"{ptr}/element")
            else:
                self.element(block["element"], f"{ptr}/element")
        elif kind == "image":
            if not (block.get("image_url") or block.get("slack_file")):
                self.err("must provide image_url or slack_file", ptr)
            if not block.get("alt_text"):
                self.err("must provide alt_text", f"{ptr}/alt_text")
        elif kind == "rich_text" and not isinstance(block.get("elements"), list):
            self.err("must provide elements", f"{ptr}/elements")

    def blocks(self, blocks: Any, limit: int) -> None:
        if not isinstance(blocks, list):
            self.err("must provide an array", "/blocks")
            return
        if len(blocks) > limit:
            self.err(f"must provide at most {limit} items", "/blocks")
        for i, block in enumerate(blocks):
            self.block(block, f"/blocks/{i}")


def validate_blocks(blocks: Any, surface: str = "message") -> list[str]:
    """Slack-style error strings for ``blocks`` on a surface (``message``, ``modal``, ``home``)."""
    checker = _BlockChecker(surface)
    checker.blocks(blocks, MAX_MESSAGE_BLOCKS if surface == "message" else MAX_VIEW_BLOCKS)
    return checker.errors


def _fill_ids(blocks: list[JSON]) -> list[JSON]:
    """Assign ``block_id``/``action_id`` where missing, as Slack does when storing a message."""
    out = copy.deepcopy(blocks)
    for block in out:
        block.setdefault("block_id", _short_id())
        elements: list[JSON] = []
        if isinstance(block.get("elements"), list) and block.get("type") == "actions":
            elements = block["elements"]
        if isinstance(block.get("accessory"), dict):
            elements = [block["accessory"]]
        if isinstance(block.get("element"), dict):
            elements = [block["element"]]
        for el in elements:
            if isinstance(el, dict) and el.get("type") in _INTERACTIVE_ELEMENTS:
                el.setdefault("action_id", _short_id())
    return out
