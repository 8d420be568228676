"""The console channel's output: messages printed with numbered buttons."""

from __future__ import annotations

import itertools
import mimetypes
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bots.console import CAPABILITIES
from core.messages import Button, OutMessage
from core.ports import MediaTooLarge
from core.refs import ChatRef, MediaRef, MessageRef, UserRef

CANDIDATE_CHAT = ChatRef(CAPABILITIES.platform, "candidate")
REVIEWER_CHAT = ChatRef(CAPABILITIES.platform, "reviewer")
LABELS = {"candidate": "bot", "reviewer": "to reviewer"}


class ConsoleMessenger:
    """`core.ports.Messenger` for the terminal. Every button gets a session-wide number."""

    platform = CAPABILITIES.platform

    def __init__(self, out: TextIO | None = None, write: Callable[[str], None] | None = None
                 ) -> None:
        self.out = out or sys.stdout
        # message ids stay unique across runs: review posts recorded earlier keep theirs
        self._session = secrets.token_hex(3)
        self._ids = (f"{self._session}-{n}" for n in itertools.count(1))
        self._numbers = itertools.count(1)
        self.buttons: dict[int, tuple[MessageRef, Button]] = {}
        self.asks: list[tuple[ChatRef, str]] = []  # pending reply boxes (chat, target)

    def _print(self, chat: ChatRef, message: OutMessage, note: str = "") -> None:
        prefix = f"{LABELS.get(chat.id, chat.id)}{note} > "
        lines = message.text.splitlines() or [""]
        out = [prefix + lines[0], *("    " + line for line in lines[1:])]
        if message.audio is not None:
            out.append(f"    [audio: {message.audio.title}, {message.audio.duration:.0f}s, "
                       f"{message.audio.path}]")
        self.out.write("\n".join(out) + "\n")

    def _print_buttons(self, ref: MessageRef, message: OutMessage,
                       reuse: dict[str, int] | None = None) -> None:
        for row in message.buttons:
            cells = []
            for button in row:
                number = (reuse or {}).get(button.payload) or next(self._numbers)
                self.buttons[number] = (ref, button)
                cells.append(f"[{number}] {button.label}")
            self.out.write("    " + "  ".join(cells) + "\n")
        if message.ask_reply:
            self.asks.append((ref.chat, message.ask_reply))
            self.out.write("    (type your text on the next line)\n")
        self.out.flush()

    async def send(self, chat: ChatRef, message: OutMessage) -> MessageRef:
        ref = MessageRef(chat, next(self._ids))
        self._print(chat, message)
        self._print_buttons(ref, message)
        return ref

    async def edit(self, ref: MessageRef, message: OutMessage) -> None:
        """Reprint a message; a button that stays keeps its number."""
        previous: dict[str, int] = {}
        for number, (old, button) in list(self.buttons.items()):
            if old == ref:
                previous[button.payload] = number
                del self.buttons[number]
        self._print(ref.chat, message, f" (message {ref.id} updated)")
        self._print_buttons(ref, message, previous)

    async def notify(self, chat: ChatRef, user: UserRef, text: str) -> None:
        self.out.write(f"(only you) > {text}\n")
        self.out.flush()

    async def delete(self, ref: MessageRef) -> list[MessageRef]:
        """Forget a message's buttons and say it is gone (a terminal cannot unprint)."""
        for number, (old, _button) in list(self.buttons.items()):
            if old == ref:
                del self.buttons[number]
        self.out.write(f"(message {ref.id} deleted)\n")
        self.out.flush()
        return []

    async def download(self, media: MediaRef, max_bytes: int) -> bytes:
        path = Path(media.file_id).expanduser()
        if path.stat().st_size > max_bytes:
            raise MediaTooLarge(f"{path.stat().st_size} bytes")
        return path.read_bytes()


def media_for(path: str) -> MediaRef:
    """A `MediaRef` for a local file, its type guessed from the name."""
    mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
    if path.lower().endswith((".ogg", ".oga", ".opus")):
        mime = "audio/ogg"
    kind = "voice" if mime.startswith(("audio/", "video/")) else "file"
    size = Path(path).expanduser().stat().st_size if Path(path).expanduser().exists() else None
    return MediaRef(CAPABILITIES.platform, path, kind, mime, size=size, name=Path(path).name)
