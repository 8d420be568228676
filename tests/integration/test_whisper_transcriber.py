"""The multilingual transcriber's contract, with a fake model object in place of faster-whisper.

No Whisper model can be downloaded here, so the model is a stand-in with faster-whisper's
interface (`transcribe(path, language=, beam_size=) -> (segments, info)`); everything around
it (lazy loading, the worker thread, missing clips, failures, the detected language) is real.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bots.app import build
from bots.audio.store import MediaStore
from bots.audio.whisper import Transcript, WhisperTranscriber, faster_whisper_available
from bots.settings import Settings


@dataclass
class Segment:
    text: str


@dataclass
class Info:
    language: str
    language_probability: float


@dataclass
class FakeWhisper:
    """Speaks German unless told otherwise; records how it was called and on which thread."""

    heard: dict[str, tuple[list[str], str]] = field(default_factory=dict)
    calls: list[tuple[str, str | None, int]] = field(default_factory=list)
    threads: set[str] = field(default_factory=set)
    fail: bool = False

    def transcribe(self, path: str, *, language: str | None = None, beam_size: int = 5
                   ) -> tuple[Iterator[Segment], Info]:
        self.calls.append((Path(path).name, language, beam_size))
        self.threads.add(threading.current_thread().name)
        if self.fail:
            raise RuntimeError("model broke")
        words, detected = self.heard.get(Path(path).parent.name, ([" Guten Tag. ", "Ich bin "
                                                                   "Greta."], "de"))
        return (Segment(w) for w in words), Info(language or detected, 0.97)


def clip(root: Path, key: str) -> None:
    path = MediaStore(root).path(key, "ogg")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"OggS-not-decoded-by-the-fake")


@pytest.fixture
def loaded() -> list[str]:
    return []


def make(root: Path, model: FakeWhisper, loaded: list[str]) -> WhisperTranscriber:
    def loader(path: str) -> Any:
        loaded.append(path)
        return model

    return WhisperTranscriber(root, "/models/whisper-small-ct2", loader=loader)


async def test_the_model_loads_on_first_use_once_and_names_the_language(
        tmp_path: Path, loaded: list[str]) -> None:
    model = FakeWhisper()
    transcriber = make(tmp_path, model, loaded)
    assert loaded == []  # nothing loaded at start-up
    clip(tmp_path, "iv1/take1")
    clip(tmp_path, "iv2/take1")
    model.heard["iv2"] = (["Háblenos ", " de usted."], "es")
    try:
        assert await transcriber.transcribe("iv1/take1") == "Guten Tag. Ich bin Greta."
        found = await transcriber.transcribe_in("iv2/take1")
        assert found == Transcript("Háblenos de usted.", "es", 0.97)
        assert loaded == ["/models/whisper-small-ct2"]
        assert transcriber.languages == {"iv1/take1": "de", "iv2/take1": "es"}
        assert model.threads and all(t.startswith("whisper") for t in model.threads)
        hinted = await transcriber.transcribe_in("iv1/take1", language="uk")
        assert hinted is not None and hinted.language == "uk"
        assert model.calls[-1] == ("take1.ogg", "uk", 5)
    finally:
        transcriber.close()


async def test_failures_give_no_transcript_and_never_raise(tmp_path: Path,
                                                           loaded: list[str]) -> None:
    model = FakeWhisper()
    transcriber = make(tmp_path, model, loaded)
    try:
        assert await transcriber.transcribe("missing/key") is None
        assert loaded == []  # a missing clip does not load the model
        clip(tmp_path, "iv1/take1")
        model.fail = True
        assert await transcriber.transcribe("iv1/take1") is None
        model.fail = False
        model.heard["iv1"] = (["  "], "de")  # silence: no text
        assert await transcriber.transcribe("iv1/take1") is None
        model.heard["iv1"] = (["Hallo."], "de")
        assert await transcriber.transcribe("iv1/take1") == "Hallo."
    finally:
        transcriber.close()


async def test_a_model_that_cannot_load_fails_each_clip_quietly(tmp_path: Path) -> None:
    def broken(path: str) -> Any:
        raise OSError(f"no model.bin in {path}")

    transcriber = WhisperTranscriber(tmp_path, "/nowhere", loader=broken)
    clip(tmp_path, "iv1/take1")
    try:
        results = await asyncio.gather(*(transcriber.transcribe("iv1/take1") for _ in range(3)))
        assert results == [None, None, None]
    finally:
        transcriber.close()


def test_build_refuses_a_model_setting_it_cannot_honour(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite",
                        INTERVIEWBOT_DATA_DIR=str(tmp_path / "data"),
                        INTERVIEWBOT_TRANSCRIBE_MODEL=str(tmp_path / "no-model"))
    expected = ("no model folder at" if faster_whisper_available()
                else "pip install 'interviewbot\\[whisper\\]'")
    with pytest.raises(RuntimeError, match=expected):
        build(settings)
