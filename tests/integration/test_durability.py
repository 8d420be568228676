"""Durable before acknowledged: an answer is committed (row and audio file) before the candidate
is told, and a crash between storing the audio and committing the row leaves no half answer.

The engine runs on a real database (SQLite, then PostgreSQL) with the real audio pipeline; the
messenger double looks at the database through a separate connection, and at the media folder,
at the moment each message is sent, and records the order of everything that happens.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bots.audio import PydubAudioProcessor
from core.audio import StoredAudio
from core.commands import (
    ButtonPressed,
    CreateInvitation,
    InviteAccepted,
    MediaReceived,
    TextReceived,
)
from core.engine import Engine as InterviewEngine
from core.messages import OutMessage
from core.ports import Messenger
from core.refs import ChatRef, MediaRef, MessageRef, UserRef
from core.script import parse_script
from core.services import Services
from storage.queries import SqlInterviewQueries
from storage.unit_of_work import SqlUnitOfWork
from tests.support.core_fakes import FakeCatalog, FakeClock

AUDIO = Path(__file__).resolve().parents[1] / "fixtures" / "audio"
ADA = UserRef("telegram", "42")
CHAT = ChatRef("telegram", "42")
SCRIPT = parse_script({
    "id": "durable",
    "title": "Durability",
    "consent": "We keep your answers for 90 days. OK?",
    "answer": {"kinds": ["voice", "text"], "max_seconds": 60, "retakes": 1},
    "questions": [
        {"id": "story", "text": "Tell us a story."},  # a receipt with Keep
        {"id": "quick", "text": "One more, no Start over.", "answer": {"retakes": 0}},
        {"id": "last", "text": "The last one."},
    ],
    "rubric": {"depth": "Depth", "scale": [1, 2, 3, 4, 5]},
    "review": {"reviewers": []},
})


class Crash(RuntimeError):
    """The process 'dies' here: nothing after this point in the command happens."""


@dataclass
class Journal:
    """Everything that happened, in order, with what was durable at each outbound send."""

    events: list[tuple[str, str]] = field(default_factory=list)
    # for each message sent: (text, takes committed in the database, media files on disk)
    sends: list[tuple[str, tuple[tuple[str, str, str | None], ...], tuple[str, ...]]] = field(
        default_factory=list)


class CrashOnce:
    """`UnitOfWorkFactory` on the real database whose next commit raises `Crash` when armed."""

    def __init__(self, db: Engine, journal: Journal) -> None:
        self.db = db
        self.journal = journal
        self.armed = False

    def __call__(self) -> SqlUnitOfWork:
        factory = self

        class Recording(SqlUnitOfWork):
            def commit(self) -> None:
                if factory.armed:
                    factory.armed = False
                    factory.journal.events.append(("commit", "crashed"))
                    raise Crash("killed between storing the audio and committing the row")
                super().commit()
                factory.journal.events.append(("commit", "ok"))

        return Recording(self.db)


class RecordingAudio(PydubAudioProcessor):
    """The real pipeline, noting when a file has been stored."""

    def __init__(self, root: Path, journal: Journal) -> None:
        super().__init__(root, review_formats=())  # the canonical file only: what is checked
        self.journal = journal

    async def ingest(self, data: bytes, mime: str, *, key: str, max_seconds: float,
                     max_bytes: int) -> StoredAudio:
        stored = await super().ingest(data, mime, key=key, max_seconds=max_seconds,
                                      max_bytes=max_bytes)
        self.journal.events.append(("audio stored", key))
        return stored


class WitnessMessenger(Messenger):
    """Messenger double: at every send, looks at committed rows and files, then records it."""

    platform = "telegram"

    def __init__(self, db: Engine, media: Path, journal: Journal) -> None:
        self.db = db
        self.media = media
        self.journal = journal
        self.files: dict[str, bytes] = {}
        self.outbox: list[OutMessage] = []
        self._next = 0

    def committed_takes(self) -> tuple[tuple[str, str, str | None], ...]:
        """Takes visible to another connection: (question, kind, media key)."""
        with self.db.connect() as conn:
            rows = conn.execute(text(
                "SELECT answer.question_id, take.kind, take.media_key FROM take "
                "JOIN answer ON take.answer_id = answer.id ORDER BY take.received_at")).all()
        return tuple((r[0], r[1], r[2]) for r in rows)

    def files_on_disk(self) -> tuple[str, ...]:
        return tuple(sorted(str(p.relative_to(self.media)) for p in self.media.rglob("*.ogg")
                            if ".staging" not in p.parts))

    async def send(self, chat: ChatRef, message: OutMessage) -> MessageRef:
        self.journal.events.append(("send", message.text.split("\n")[0]))
        self.journal.sends.append((message.text, self.committed_takes(), self.files_on_disk()))
        self.outbox.append(message)
        self._next += 1
        return MessageRef(chat, str(self._next))

    async def edit(self, ref: MessageRef, message: OutMessage) -> None:
        self.journal.events.append(("edit", message.text.split("\n")[0]))

    async def notify(self, chat: ChatRef, user: UserRef, text: str) -> None:
        self.journal.events.append(("notify", text))

    async def download(self, media: MediaRef, max_bytes: int) -> bytes:
        self.journal.events.append(("download", media.file_id))
        return self.files[media.file_id]

    async def delete(self, ref: MessageRef) -> list[MessageRef]:
        self.journal.events.append(("delete", ref.id))
        return []

    def button(self, label: str) -> tuple[str, MessageRef]:
        for number, message in reversed(list(enumerate(self.outbox, 1))):
            for button in message.all_buttons():
                if button.label.startswith(label):
                    return button.payload, MessageRef(CHAT, str(number))
        raise AssertionError(f"no {label!r} button")


@dataclass
class Rig:
    engine: InterviewEngine
    uow: CrashOnce
    messenger: WitnessMessenger
    journal: Journal
    media: Path
    db: Engine

    def takes(self) -> list[tuple[str, str, str | None]]:
        return list(self.messenger.committed_takes())


@pytest.fixture
def rig(db: Engine, tmp_path: Path) -> Iterator[Rig]:
    journal = Journal()
    media = tmp_path / "media"
    uow = CrashOnce(db, journal)
    messenger = WitnessMessenger(db, media, journal)
    services = Services(uow=uow, scripts=FakeCatalog(SCRIPT), clock=FakeClock(),
                        audio=RecordingAudio(media, journal), queries=SqlInterviewQueries(db),
                        messengers={"telegram": messenger})
    yield Rig(InterviewEngine(services), uow, messenger, journal, media, db)


async def _begin(rig: Rig) -> str:
    interview, token = rig.engine.invite(CreateInvitation("durable", "Ada", "telegram", "UTC"))
    await rig.engine.handle(InviteAccepted(ADA, CHAT, token, delivery="u-start"))
    payload, ref = rig.messenger.button("I agree")
    await rig.engine.handle(ButtonPressed(ADA, CHAT, payload, ref, "cbq-agree"))
    assert rig.messenger.outbox[-1].text.startswith("Question 1 of 3")
    return interview.id


def _voice(rig: Rig, file_id: str) -> MediaReceived:
    rig.messenger.files[file_id] = (AUDIO / "voice.ogg").read_bytes()
    return MediaReceived(ADA, CHAT, MediaRef("telegram", file_id, "voice", "audio/ogg",
                                             size=18214, duration=6.0), delivery=f"u-{file_id}")


async def test_row_and_audio_file_are_committed_before_the_receipt(rig: Rig) -> None:
    interview_id = await _begin(rig)
    rig.journal.events.clear()
    await rig.engine.handle(_voice(rig, "v1"))

    kinds = [kind for kind, _ in rig.journal.events]
    # the last commit marks the receipt, committed in the outbox with the take, as sent
    assert kinds == ["download", "audio stored", "commit", "send", "commit"], rig.journal.events
    receipt, takes, files = rig.journal.sends[-1]
    assert receipt.startswith("Got your voice answer")
    # when the receipt went out, another connection already saw the take and the file existed
    ((question, kind, key),) = takes
    assert (question, kind) == ("story", "voice") and key is not None
    assert key.startswith(f"{interview_id}/")
    assert files == (f"{key}.ogg",)
    stored = (rig.media / f"{key}.ogg").read_bytes()
    with SqlUnitOfWork(rig.db) as uow:
        interview = uow.interviews.get(interview_id)
        assert interview is not None
        answer = interview.answer_for("story")
        assert answer is not None and answer.takes[0].checksum == hashlib.sha256(
            stored).hexdigest()

    # Submit, then a text answer to a question without re-records: a draft (no Start over);
    # its receipt is sent only after the commit too.
    payload, ref = rig.messenger.button("Submit")
    await rig.engine.handle(ButtonPressed(ADA, CHAT, payload, ref, "cbq-keep"))
    rig.journal.events.clear()
    await rig.engine.handle(TextReceived(ADA, CHAT, "A short written answer.", "u-text"))
    assert [kind for kind, _ in rig.journal.events] == ["commit", "send", "commit"]
    receipt, takes, _ = rig.journal.sends[-1]
    assert receipt.startswith("Got your written answer (1 message, 4 words) to Question 2")
    assert ("quick", "text", None) in takes


async def test_crash_between_audio_and_commit_leaves_no_take_and_a_resend_counts_once(
        rig: Rig) -> None:
    interview_id = await _begin(rig)
    sent_before = len(rig.journal.sends)
    rig.journal.events.clear()
    rig.uow.armed = True
    with pytest.raises(Crash):
        await rig.engine.handle(_voice(rig, "v1"))

    # the audio was stored, the commit failed: no receipt, no take
    assert [kind for kind, _ in rig.journal.events] == ["download", "audio stored", "commit"]
    assert len(rig.journal.sends) == sent_before  # the candidate was told nothing
    assert rig.takes() == []
    with SqlUnitOfWork(rig.db) as uow:
        interview = uow.interviews.get(interview_id)
        assert interview is not None and interview.answers == []
        delivered = uow.session.execute(text("SELECT count(*) FROM delivery WHERE key = 'u-v1'"))
        assert delivered.scalar() == 0  # so Telegram's redelivery of the update is handled
    # What is true: the canonical file written before the crash stays behind, unreferenced.
    orphans = rig.messenger.files_on_disk()
    assert len(orphans) == 1 and orphans[0].startswith(f"{interview_id}/")

    # The update is delivered again (webhook redelivery; same update id): one take, a receipt.
    await rig.engine.handle(_voice(rig, "v1"))
    receipt, takes, files = rig.journal.sends[-1]
    assert receipt.startswith("Got your voice answer")
    ((question, kind, key),) = takes
    assert (question, kind) == ("story", "voice")
    assert f"{key}.ogg" in files and set(files) == {f"{key}.ogg", *orphans}
    # Delivered yet again: recorded once, acknowledged once.
    await rig.engine.handle(_voice(rig, "v1"))
    assert len(rig.takes()) == 1
    assert sum(text.startswith("Got your voice answer") for text, _, _ in rig.journal.sends) == 1
    with SqlUnitOfWork(rig.db) as uow:
        interview = uow.interviews.get(interview_id)
        assert interview is not None
        answer = interview.answer_for("story")
        assert answer is not None and [t.media_key for t in answer.takes] == [key]
        count = uow.session.execute(text("SELECT count(*) FROM take")).scalar()
        assert count == 1


async def test_crash_before_committing_a_text_answer_keeps_nothing(rig: Rig) -> None:
    await _begin(rig)
    rig.uow.armed = True
    sent_before = len(rig.journal.sends)
    with pytest.raises(Crash):
        await rig.engine.handle(TextReceived(ADA, CHAT, "Lost in the crash.", "u-1"))
    assert len(rig.journal.sends) == sent_before and rig.takes() == []
    # the person re-sends it (a new update): recorded once, and only then acknowledged
    await rig.engine.handle(TextReceived(ADA, CHAT, "Lost in the crash.", "u-2"))
    receipt, takes, _ = rig.journal.sends[-1]
    assert receipt.startswith("Got your written answer")
    assert takes == (("story", "text", None),)
