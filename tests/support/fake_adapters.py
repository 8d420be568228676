"""In-memory platform sides of core's ports: messengers that record what a chat shows, the
audio processor, the script catalog.

Each fake names the port it implements as a base class, so mypy checks it still matches the
port. Used through `tests/support/core_fakes.py` (`make_world`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from core.audio import (
    AudioProcessor,
    AudioRejected,
    Chapter,
    Reel,
    RejectReason,
    StoredAudio,
)
from core.capabilities import AudioFormat
from core.errors import ScriptError
from core.messages import OutMessage
from core.ports import (
    DeliveryFailed,
    MediaTooLarge,
    Messenger,
    ScriptCatalog,
    ScriptRevision,
)
from core.refs import ChatRef, MediaRef, MessageRef, UserRef
from core.script import Script


@dataclass
class Sent:
    chat: ChatRef
    message: OutMessage  # as shown now, edits applied
    ref: MessageRef
    before: list[OutMessage] = field(default_factory=list)  # what it showed before each edit


class FakeMessenger(Messenger):
    """Records everything sent, as a chat shows it (edits applied in place; `edits` keeps each
    edit too); serves downloads from a dict of file ids."""

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.sent: list[Sent] = []
        self.edits: list[tuple[MessageRef, OutMessage]] = []
        self.notes: list[tuple[ChatRef, UserRef, str]] = []
        self.deleted: list[MessageRef] = []
        self.files: dict[str, bytes] = {}
        self._next = 0

    async def send(self, chat: ChatRef, message: OutMessage) -> MessageRef:
        self._next += 1
        ref = MessageRef(chat, str(self._next))
        self.sent.append(Sent(chat, message, ref))
        return ref

    async def edit(self, ref: MessageRef, message: OutMessage) -> None:
        self.edits.append((ref, message))
        for sent in self.sent:
            if sent.ref == ref:
                sent.before.append(sent.message)
                sent.message = message

    async def notify(self, chat: ChatRef, user: UserRef, text: str) -> None:
        self.notes.append((chat, user, text))

    async def delete(self, ref: MessageRef) -> list[MessageRef]:
        self.deleted.append(ref)
        return []

    async def download(self, media: MediaRef, max_bytes: int) -> bytes:
        data = self.files[media.file_id]
        if len(data) > max_bytes:
            raise MediaTooLarge(str(len(data)))
        return data

    def texts(self, chat: ChatRef) -> list[str]:
        return [s.message.text for s in self.sent if s.chat == chat]

    def last(self, chat: ChatRef) -> Sent:
        return [s for s in self.sent if s.chat == chat][-1]

    def button(self, chat: ChatRef, label: str) -> tuple[str, MessageRef]:
        """The payload and message of the newest button in `chat` whose label starts so:
        among the buttons shown now, else among those an edit removed (a stale press)."""
        mine = [sent for sent in reversed(self.sent) if sent.chat == chat]
        for shown in ([(s, s.message) for s in mine],
                      [(s, m) for s in mine for m in reversed(s.before)]):
            for sent, message in shown:
                for button in message.all_buttons():
                    if button.label.startswith(label):
                        return button.payload, sent.ref
        raise AssertionError(f"no button {label!r} in {chat}")


class FlakyMessenger(FakeMessenger):
    """Fails the next `failures` sends with `error` (the platform unreachable, by default)."""

    def __init__(self, platform: str, error: Exception | None = None) -> None:
        super().__init__(platform)
        self.failures = 0
        self.error = error or DeliveryFailed(f"{platform} is down")

    async def send(self, chat: ChatRef, message: OutMessage) -> MessageRef:
        if self.failures:
            self.failures -= 1
            raise self.error
        return await super().send(chat, message)


class FakeAudio(AudioProcessor):
    """Audio port double: the bytes say what they are ("speech:<seconds>", "silence", ...)."""

    def __init__(self) -> None:
        self.stored: dict[str, bytes] = {}
        self.deleted: list[str] = []

    async def ingest(self, data: bytes, mime: str, *, key: str, max_seconds: float,
                     max_bytes: int) -> StoredAudio:
        text = data.decode(errors="replace")
        if len(data) > max_bytes:
            raise AudioRejected(RejectReason.TOO_LARGE)
        if text == "silence":
            raise AudioRejected(RejectReason.SILENT)
        if not text.startswith("speech:"):
            raise AudioRejected(RejectReason.CORRUPT)
        seconds = float(text.split(":")[1])
        if seconds < 1:
            raise AudioRejected(RejectReason.TOO_SHORT)
        if seconds > max_seconds:
            raise AudioRejected(RejectReason.TOO_LONG)
        self.stored[key] = data
        return StoredAudio(key, seconds, hashlib.sha256(data).hexdigest(), len(data))

    async def review_copy(self, key: str, *, fmt: AudioFormat) -> tuple[str, str]:
        return f"/review/{key}.ogg", "audio/ogg"

    async def reel(self, keys: list[tuple[str, str]], *, key: str) -> Reel:
        chapters = tuple(Chapter(title, i * 11.0) for i, (title, _) in enumerate(keys))
        self.stored[key] = b"reel"
        return Reel(key, 11.0 * len(keys), chapters)

    async def join(self, keys: list[str], *, key: str) -> StoredAudio:
        seconds = sum(float(self.stored[k].decode().split(":")[1]) for k in keys)
        data = f"speech:{seconds}".encode()
        self.stored[key] = data
        return StoredAudio(key, seconds, hashlib.sha256(data).hexdigest(), len(data))

    def delete(self, key: str) -> None:
        self.stored.pop(key, None)
        self.deleted.append(key)


class FakeCatalog(ScriptCatalog):
    """Served scripts that a test can edit (`serve`) or retire (`retire`); a revision's
    "source" is the script's repr, which `parse_revision` maps back to the script."""

    def __init__(self, *scripts: Script) -> None:
        self.scripts = {s.id: s for s in scripts}
        self.known: dict[str, Script] = {}
        for script in scripts:
            self.serve(script)

    def serve(self, script: Script) -> None:
        """Serve `script` (a new one, or an edit of a served one)."""
        self.scripts[script.id] = script
        self.known[repr(script)] = script

    def retire(self, script_id: str) -> None:
        del self.scripts[script_id]

    def get(self, script_id: str) -> Script | None:
        return self.scripts.get(script_id)

    def all(self) -> list[Script]:
        return list(self.scripts.values())

    def revision(self, script_id: str) -> ScriptRevision | None:
        script = self.scripts.get(script_id)
        if script is None:
            return None
        source = repr(script)
        return ScriptRevision(hashlib.sha256(source.encode()).hexdigest(), script_id, source)

    def parse_revision(self, revision: ScriptRevision) -> Script:
        script = self.known.get(revision.source)
        if script is None:
            raise ScriptError(f"unknown revision {revision.hash[:12]}")
        return script
