"""Text in a parse mode (HTML, MarkdownV2, Markdown) turned into plain text and entities."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from .api import JSON, _bad, _utf16_len


class _EntityParseError(Exception):
    pass


_HTML_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


class _HtmlText(HTMLParser):
    """Telegram's HTML subset: plain text plus entities, strict about tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.parts: list[str] = []
        self.length = 0
        self.stack: list[tuple[str, int, dict[str, str | None]]] = []
        self.entities: list[JSON] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_ENTITY_TYPES:
            raise _EntityParseError(f'Unsupported start tag "{tag}"')
        attributes = dict(attrs)
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            raise _EntityParseError('Tag "span" must have class "tg-spoiler"')
        if tag == "a" and not attributes.get("href"):
            raise _EntityParseError('Tag "a" must have attribute "href"')
        self.stack.append((tag, self.length, attributes))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            raise _EntityParseError(f'Unmatched end tag "{tag}"')
        name, start, attributes = self.stack.pop()
        css = attributes.get("class") or ""
        if name == "code" and self.stack and self.stack[-1][0] == "pre":
            if css.startswith("language-"):
                self.stack[-1][2]["language"] = css.removeprefix("language-")
            return
        if self.length == start:
            return
        entity: JSON = {
            "type": _HTML_ENTITY_TYPES[name],
            "offset": start,
            "length": self.length - start,
        }
        if name == "a":
            entity["url"] = attributes["href"]
        elif name == "pre" and attributes.get("language"):
            entity["language"] = attributes["language"]
        elif name == "tg-emoji":
            entity["custom_emoji_id"] = attributes.get("emoji-id") or ""
        self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        if "<" in data:
            raise _EntityParseError('Unexpected "<": escape it as "&lt;"')
        self._emit(data)

    def handle_entityref(self, name: str) -> None:
        self._emit(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self._emit(html.unescape(f"&#{name};"))

    def _emit(self, text: str) -> None:
        self.parts.append(text)
        self.length += _utf16_len(text)

    def result(self, text: str) -> tuple[str, list[JSON]]:
        self.feed(text)
        self.close()
        if self.stack:
            raise _EntityParseError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"'
            )
        self.entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return "".join(self.parts), self.entities


_MD_MARKERS = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}
_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")


def _parse_markdown(text: str, *, legacy: bool) -> tuple[str, list[JSON]]:
    """MarkdownV2 (or legacy Markdown): plain text and entities, strict like Telegram."""
    out: list[str] = []
    length = 0
    entities: list[JSON] = []
    stack: list[tuple[str, int]] = []
    link_start: int | None = None

    def emit(chunk: str) -> None:
        nonlocal length
        out.append(chunk)
        length += _utf16_len(chunk)

    def close(start: int, kind: str, **extra: str) -> None:
        if length > start:
            entities.append({"type": kind, "offset": start, "length": length - start, **extra})

    def find_closing(fence: str, start: int) -> int:
        j = start
        while j < len(text):
            if text[j] == "\\" and not legacy:
                j += 2
            elif text.startswith(fence, j):
                return j
            else:
                j += 1
        return -1

    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and (not legacy or text[i + 1] in "_*`["):
            emit(text[i + 1])
            i += 2
            continue
        if text.startswith("```", i) or char == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = find_closing(fence, i + len(fence))
            if end < 0:
                kind = "Pre" if fence == "```" else "Code"
                raise _EntityParseError(f"Can't find end of {kind} entity at byte offset {i}")
            body = text[i + len(fence) : end]
            language = {}
            if fence == "```" and "\n" in body:
                first, rest = body.split("\n", 1)
                if re.fullmatch(r"[\w+#-]*", first):
                    body = rest
                    language = {"language": first} if first else {}
            if not legacy:
                body = re.sub(r"\\([`\\])", r"\1", body)
            start = length
            emit(body)
            close(start, "pre" if fence == "```" else "code", **language)
            i = end + len(fence)
            continue
        marker = next((m for m in ("__", "||", "*", "_", "~") if text.startswith(m, i)), None)
        if legacy and marker in ("__", "||", "~"):
            marker = "_" if marker == "__" else None
        if marker is not None:
            if stack and stack[-1][0] == marker:
                close(stack.pop()[1], _MD_MARKERS[marker])
            elif any(entry[0] == marker for entry in stack):
                raise _EntityParseError(f"Can't find end of {_MD_MARKERS[marker].title()} entity")
            else:
                stack.append((marker, length))
            i += len(marker)
            continue
        if char == "[" and link_start is None:
            link_start = length
            i += 1
            continue
        if char == "]" and link_start is not None:
            if not text.startswith("(", i + 1) or (end := text.find(")", i + 2)) < 0:
                raise _EntityParseError("Can't find end of a URL for a text link")
            url = text[i + 2 : end]
            if length > link_start:
                entities.append(
                    {
                        "type": "text_link",
                        "offset": link_start,
                        "length": length - link_start,
                        "url": url,
                    }
                )
            link_start = None
            i = end + 1
            continue
        if not legacy and char == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1
            continue
        if not legacy and char in _MD2_RESERVED:
            raise _EntityParseError(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        emit(char)
        i += 1
    if stack:
        raise _EntityParseError(f"Can't find end of {_MD_MARKERS[stack[-1][0]].title()} entity")
    if link_start is not None:
        raise _EntityParseError("Can't find end of a text link")
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return "".join(out), entities


def parse_formatted(
    text: str, parse_mode: str | None, entities: list[JSON] | None = None
) -> tuple[str, list[JSON]]:
    """Turn text in a parse mode into (plain text, entities) or raise a Telegram-style 400."""
    try:
        if not parse_mode:
            return text, list(entities or [])
        mode = parse_mode.lower()
        if mode == "html":
            return _HtmlText().result(text)
        if mode in ("markdownv2", "markdown"):
            return _parse_markdown(text, legacy=mode == "markdown")
    except _EntityParseError as exc:
        raise _bad(f"can't parse entities: {exc}") from None
    raise _bad("unsupported parse_mode")
