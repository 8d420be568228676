"""The audio pipeline end to end on committed fixtures (real ffmpeg, no mocks)."""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import stat
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from bots.audio import NullTranscriber, PocketsphinxTranscriber, PydubAudioProcessor, ffmpeg
from bots.audio.decode import (
    BY_MIME,
    MP3,
    MP4_AAC,
    OGG_OPUS,
    WAV,
    WEBM_OPUS,
    ogg_complete,
    resolve,
    wav_complete,
)
from bots.audio.levels import (
    PEAK_CEILING_DBFS,
    TARGET_DBFS,
    TRIM_BELOW_SPEECH_DB,
    TRIM_PAD_MS,
    WINDOW_MS,
    prepare_for_review,
    speech_level,
    window_levels,
)
from bots.audio.processor import GRACE_SECONDS
from bots.audio.review import separator, voice_bitrate
from core.audio import AudioRejected, RejectReason
from core.capabilities import AudioFormat, capabilities

FIXTURES = Path(__file__).parent.parent / "fixtures" / "audio"
MAX_BYTES = 20 * 1024 * 1024
SPEECH_SECONDS = 5.92  # length of the speech fixtures (0.6 s lead-in + sentence + tail)

FORMATS = [
    ("voice.ogg", "audio/ogg"),
    ("voice.mp3", "audio/mpeg"),
    ("voice.m4a", "audio/x-m4a"),
    ("videonote.mp4", "video/mp4"),
    ("clip.webm", "audio/webm"),
    ("voice.wav", "audio/wav"),
    ("quiet.ogg", "audio/ogg"),
]


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def decode_ogg(path: Path | str) -> ffmpeg.AudioSegment:
    return ffmpeg.decode(Path(path), fmt="ogg", codec="opus")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "media"


@pytest.fixture
def audio(root: Path) -> PydubAudioProcessor:
    return PydubAudioProcessor(root)


async def ingest(audio: PydubAudioProcessor, name: str, mime: str = "audio/ogg", *,
                 key: str = "interview1/take1", max_seconds: float = 180,
                 max_bytes: int = MAX_BYTES) -> Path:
    await audio.ingest(fixture(name), mime, key=key, max_seconds=max_seconds, max_bytes=max_bytes)
    return audio.path(key)


# -- formats in -----------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "mime"), FORMATS)
async def test_every_format_is_stored_as_private_ogg_opus(audio: PydubAudioProcessor, root: Path,
                                                          name: str, mime: str) -> None:
    stored = await audio.ingest(fixture(name), mime, key="interview1/take1", max_seconds=180,
                                max_bytes=MAX_BYTES)

    canonical = root / "interview1" / "take1.ogg"
    # the original is gone once the copy is verified; the review copies were made with it
    assert files_under(root) == [canonical, *(root / "interview1" / f"take1.review.{ext}"
                                               for ext in ("m4a", "ogg"))]
    data = canonical.read_bytes()
    assert data.startswith(b"OggS") and b"OpusHead" in data[:100] and ogg_complete(data)
    assert stored.key == "interview1/take1"
    assert stored.size == len(data)
    assert stored.checksum == hashlib.sha256(data).hexdigest()
    assert stored.duration == pytest.approx(SPEECH_SECONDS, abs=0.05)
    assert decode_ogg(canonical).duration_seconds == pytest.approx(stored.duration, abs=0.001)
    for path in files_under(root):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(canonical.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(root.stat().st_mode) == 0o700


async def test_magic_bytes_win_over_a_wrong_mime_type(audio: PydubAudioProcessor) -> None:
    stored = await audio.ingest(fixture("voice.m4a"), "audio/ogg", key="k", max_seconds=60,
                                max_bytes=MAX_BYTES)
    assert stored.duration == pytest.approx(SPEECH_SECONDS, abs=0.05)


async def test_keep_originals_keeps_the_upload(root: Path) -> None:
    audio = PydubAudioProcessor(root, keep_originals=True, review_formats=())
    await ingest(audio, "voice.mp3", "audio/mpeg", key="i/t")
    assert [p.name for p in files_under(root)] == ["t.ogg", "t.orig.mp3"]


def test_mime_and_magic_mapping() -> None:
    assert BY_MIME["audio/ogg"] == OGG_OPUS
    assert BY_MIME["audio/mpeg"] == MP3
    assert BY_MIME["audio/mp4"] == BY_MIME["audio/x-m4a"] == BY_MIME["video/mp4"] == MP4_AAC
    assert BY_MIME["audio/webm"] == BY_MIME["video/webm"] == WEBM_OPUS
    assert BY_MIME["audio/wav"] == WAV
    for name, expected in [("voice.ogg", OGG_OPUS), ("voice.mp3", MP3), ("voice.m4a", MP4_AAC),
                           ("videonote.mp4", MP4_AAC), ("clip.webm", WEBM_OPUS),
                           ("voice.wav", WAV)]:
        assert resolve("application/octet-stream", fixture(name)) == expected, name
    assert resolve("audio/ogg; codecs=opus", b"not audio") == OGG_OPUS
    assert resolve("application/octet-stream", b"not audio") is None


# -- validation -----------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "max_seconds", "max_bytes", "reason"), [
    ("truncated.ogg", 180, MAX_BYTES, RejectReason.CORRUPT),
    ("notaudio.ogg", 180, MAX_BYTES, RejectReason.CORRUPT),
    ("short.ogg", 180, MAX_BYTES, RejectReason.TOO_SHORT),
    ("silence.ogg", 180, MAX_BYTES, RejectReason.SILENT),
    ("tone.ogg", 180, MAX_BYTES, RejectReason.SILENT),  # steady energy, no speech
    ("long.ogg", 180, MAX_BYTES, RejectReason.TOO_LONG),
    ("voice.ogg", 5, MAX_BYTES, RejectReason.TOO_LONG),
    ("voice.ogg", 180, 10_000, RejectReason.TOO_LARGE),
])
async def test_each_rejection_has_its_reason_and_stores_nothing(
        audio: PydubAudioProcessor, root: Path, name: str, max_seconds: float, max_bytes: int,
        reason: RejectReason) -> None:
    with pytest.raises(AudioRejected) as caught:
        await ingest(audio, name, max_seconds=max_seconds, max_bytes=max_bytes)
    assert caught.value.reason is reason
    assert not root.exists() or list(root.iterdir()) == []


@pytest.mark.parametrize(("name", "mime"), FORMATS[1:6])
async def test_uploads_cut_in_half_are_corrupt(audio: PydubAudioProcessor, root: Path, name: str,
                                               mime: str) -> None:
    data = fixture(name)
    with pytest.raises(AudioRejected) as caught:
        await audio.ingest(data[: len(data) // 2], mime, key="k", max_seconds=60,
                           max_bytes=MAX_BYTES)
    assert caught.value.reason is RejectReason.CORRUPT
    assert files_under(root) == []


def test_ogg_page_check() -> None:
    data = fixture("voice.ogg")
    assert ogg_complete(data)
    assert not ogg_complete(data[:-1])
    assert not ogg_complete(data + b"junk")
    assert not ogg_complete(b"")
    last = data.rfind(b"OggS")
    without_eos = data[: last + 5] + bytes([data[last + 5] & ~0x04]) + data[last + 6 :]
    assert ogg_complete(without_eos)  # some recorders never mark the end of the stream


def test_wav_size_check() -> None:
    data = fixture("voice.wav")
    assert wav_complete(data)
    assert not wav_complete(data[:-2])
    assert not wav_complete(data[:40])
    streamed = data.replace(b"data" + data[data.index(b"data") + 4 : data.index(b"data") + 8],
                            b"data\xff\xff\xff\xff")
    assert wav_complete(streamed[:-100])


async def test_empty_upload_is_too_short(audio: PydubAudioProcessor, root: Path) -> None:
    with pytest.raises(AudioRejected) as caught:
        await audio.ingest(b"", "audio/ogg", key="k", max_seconds=60, max_bytes=MAX_BYTES)
    assert caught.value.reason is RejectReason.TOO_SHORT
    assert files_under(root) == []


async def test_grace_admits_a_clip_just_at_the_limit(audio: PydubAudioProcessor) -> None:
    stored = await audio.ingest(fixture("voice.ogg"), "audio/ogg", key="k",
                                max_seconds=SPEECH_SECONDS - GRACE_SECONDS / 2,
                                max_bytes=MAX_BYTES)
    assert stored.duration > SPEECH_SECONDS - GRACE_SECONDS / 2


@pytest.mark.parametrize("key", ["../x", "/etc/passwd", "a/../b", "a/./b", "a b", "a.b", "",
                                 "a//b", "a/", "ключ", "a\\b", "x" * 201])
async def test_unsafe_keys_are_refused(audio: PydubAudioProcessor, root: Path, key: str) -> None:
    with pytest.raises(ValueError, match="invalid media key"):
        await audio.ingest(fixture("voice.ogg"), "audio/ogg", key=key, max_seconds=60,
                           max_bytes=MAX_BYTES)
    with pytest.raises(ValueError, match="invalid media key"):
        await audio.review_copy(key, fmt=AudioFormat.OGG_OPUS)
    with pytest.raises(ValueError, match="invalid media key"):
        await audio.reel([("Q", key)], key="reel")
    with pytest.raises(ValueError, match="invalid media key"):
        audio.delete(key)
    assert files_under(root) == []


# -- review copies ----------------------------------------------------------------------------

async def test_quiet_answer_is_normalised_to_the_target(audio: PydubAudioProcessor) -> None:
    canonical = await ingest(audio, "quiet.ogg")
    before = decode_ogg(canonical)
    path, _ = await audio.review_copy("interview1/take1", fmt=AudioFormat.OGG_OPUS)
    after = decode_ogg(path)

    level_before = speech_level(window_levels(before))
    level_after = speech_level(window_levels(after))
    assert level_before is not None and level_after is not None
    assert level_before < TARGET_DBFS - 20  # the fixture is 30 dB quieter than normal speech
    assert level_after == pytest.approx(TARGET_DBFS, abs=2.0)
    assert after.dBFS - before.dBFS > 20  # whole-file RMS, silence included
    assert after.max_dBFS <= PEAK_CEILING_DBFS + 1.0  # lossy coding may overshoot slightly


async def test_normal_and_quiet_answers_sound_equally_loud(audio: PydubAudioProcessor) -> None:
    levels = []
    for name in ("voice.ogg", "quiet.ogg"):
        await ingest(audio, name, key=name.replace(".", "_"))
        path, _ = await audio.review_copy(name.replace(".", "_"), fmt=AudioFormat.OGG_OPUS)
        levels.append(speech_level(window_levels(decode_ogg(path))))
    assert levels[0] == pytest.approx(levels[1], abs=1.0)


async def test_leading_and_trailing_silence_is_trimmed(audio: PydubAudioProcessor) -> None:
    canonical = decode_ogg(await ingest(audio, "voice.ogg"))
    path, _ = await audio.review_copy("interview1/take1", fmt=AudioFormat.OGG_OPUS)
    review = decode_ogg(path)

    levels = window_levels(review)
    level = speech_level(levels)
    assert level is not None
    loud = [i for i, window in enumerate(levels) if window > level - TRIM_BELOW_SPEECH_DB]
    lead_ms, tail_ms = loud[0] * WINDOW_MS, (len(levels) - 1 - loud[-1]) * WINDOW_MS
    assert lead_ms <= TRIM_PAD_MS + WINDOW_MS
    assert tail_ms <= TRIM_PAD_MS + WINDOW_MS
    assert canonical.duration_seconds - review.duration_seconds > 0.7  # 0.6 s lead-in, 0.6 s tail


async def test_review_copy_formats_per_platform(audio: PydubAudioProcessor) -> None:
    await ingest(audio, "clip.webm", "audio/webm")

    ogg_path, ogg_mime = await audio.review_copy("interview1/take1", fmt=AudioFormat.OGG_OPUS)
    data = Path(ogg_path).read_bytes()
    assert ogg_mime == "audio/ogg" and ogg_path.endswith(".ogg")
    assert data.startswith(b"OggS") and b"OpusHead" in data[:100] and ogg_complete(data)
    assert len(data) < 1_000_000  # shown as a voice message by Telegram
    assert decode_ogg(ogg_path).duration_seconds > 4

    m4a_path, m4a_mime = await audio.review_copy("interview1/take1", fmt=AudioFormat.M4A_AAC)
    data = Path(m4a_path).read_bytes()
    assert m4a_mime == "audio/mp4" and m4a_path.endswith(".m4a")
    assert data[4:8] == b"ftyp" and data[8:12] == b"M4A " and b"mp4a" in data
    assert data.index(b"moov") < data.index(b"mdat")  # starts playing before fully loaded
    decoded = ffmpeg.decode(Path(m4a_path), fmt="mp4", codec="aac")
    assert decoded.duration_seconds == pytest.approx(decode_ogg(ogg_path).duration_seconds,
                                                     abs=0.05)

    console = capabilities("console").inline_audio  # what each channel declares
    other_path, other_mime = await audio.review_copy("interview1/take1", fmt=console)
    assert (other_path, other_mime) == (ogg_path, "audio/ogg")
    for path in (ogg_path, m4a_path):
        assert stat.S_IMODE(Path(path).stat().st_mode) == 0o600


async def test_review_copy_is_reused_until_the_clip_changes(audio: PydubAudioProcessor) -> None:
    await ingest(audio, "voice.ogg")
    path, _ = await audio.review_copy("interview1/take1", fmt=AudioFormat.OGG_OPUS)
    made = Path(path).stat().st_mtime_ns
    assert (await audio.review_copy("interview1/take1", fmt=AudioFormat.OGG_OPUS))[0] == path
    assert Path(path).stat().st_mtime_ns == made
    before = decode_ogg(path)
    await ingest(audio, "quiet.ogg")  # a new clip under the same key replaces the copy
    assert (await audio.review_copy("interview1/take1", fmt=AudioFormat.OGG_OPUS))[0] == path
    assert decode_ogg(path).raw_data != before.raw_data


async def test_a_clip_without_copies_made_loses_a_stale_one(root: Path) -> None:
    both = PydubAudioProcessor(root)
    await ingest(both, "voice.ogg")
    stale = root / "interview1" / "take1.review.m4a"
    assert stale.is_file()
    await ingest(PydubAudioProcessor(root, review_formats=(AudioFormat.OGG_OPUS,)), "quiet.ogg")
    assert not stale.exists()
    assert (root / "interview1" / "take1.review.ogg").is_file()


@pytest.fixture
def counted_ffmpeg(tmp_path: Path) -> Iterator[Path]:
    """ffmpeg behind a wrapper that logs each run (one line per run) before running it."""
    real = ffmpeg.configure()
    log = tmp_path / "ffmpeg-runs.log"
    wrapper = tmp_path / "ffmpeg"
    wrapper.write_text(f'#!/bin/sh\necho run >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(0o755)
    ffmpeg._exe = str(wrapper)
    try:
        yield log
    finally:
        ffmpeg._exe = real


def runs(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


async def test_one_decode_and_one_encode_make_the_canonical_file_and_both_copies(
        audio: PydubAudioProcessor, counted_ffmpeg: Path) -> None:
    """Convert once: no measuring pass, no re-decoding to verify, no run per review copy."""
    await ingest(audio, "voice.m4a", "audio/mp4")
    assert runs(counted_ffmpeg) == 2
    for fmt in AudioFormat:
        await audio.review_copy("interview1/take1", fmt=fmt)
    assert runs(counted_ffmpeg) == 2  # made with the canonical file: nothing more to run


async def test_copies_made_with_the_clip_match_copies_made_later(root: Path) -> None:
    """The copies of the single run sound like those made on demand from the stored file."""
    early = PydubAudioProcessor(root.parent / "early")
    late = PydubAudioProcessor(root.parent / "late", review_formats=())
    for audio in (early, late):
        await ingest(audio, "quiet.ogg")
    for review, fmt, codec in ((AudioFormat.OGG_OPUS, "ogg", "opus"),
                               (AudioFormat.M4A_AAC, "mp4", "aac")):
        made = [ffmpeg.decode(Path((await audio.review_copy("interview1/take1",
                                                            fmt=review))[0]),
                              fmt=fmt, codec=codec) for audio in (early, late)]
        assert made[0].duration_seconds == pytest.approx(made[1].duration_seconds, abs=0.03)
        levels = [speech_level(window_levels(m)) for m in made]
        assert levels[0] == pytest.approx(levels[1], abs=0.3)


async def test_review_copy_of_a_missing_clip_raises(audio: PydubAudioProcessor) -> None:
    with pytest.raises(FileNotFoundError):
        await audio.review_copy("nothing/here", fmt=AudioFormat.M4A_AAC)


def test_voice_bitrate_keeps_long_answers_under_a_megabyte() -> None:
    assert voice_bitrate(60) == "32k"
    assert voice_bitrate(300) == "24k"
    assert voice_bitrate(3600) == "12k"


# -- reel ---------------------------------------------------------------------------------------

async def test_reel_chapters_start_after_each_answer_and_tone(audio: PydubAudioProcessor,
                                                             root: Path) -> None:
    answers = [("Warm-up", "i/a1", "voice.ogg"), ("Trade-off", "i/a2", "quiet.ogg"),
               ("Questions", "i/a3", "voice.mp3")]
    for _, key, name in answers:
        await ingest(audio, name, key=key)

    reel = await audio.reel([(title, key) for title, key, _ in answers], key="i/reel")

    gap = separator().duration_seconds
    assert gap == pytest.approx(1.05)
    durations = [prepare_for_review(decode_ogg(audio.path(key))).duration_seconds
                 for _, key, _ in answers]
    expected = [0.0, durations[0] + gap, durations[0] + durations[1] + 2 * gap]
    assert [c.title for c in reel.chapters] == ["Warm-up", "Trade-off", "Questions"]
    assert [c.start for c in reel.chapters] == pytest.approx(expected, abs=0.001)
    assert reel.duration == pytest.approx(sum(durations) + 2 * gap, abs=0.001)
    assert reel.key == "i/reel"
    assert decode_ogg(root / "i" / "reel.ogg").duration_seconds == pytest.approx(reel.duration,
                                                                                  abs=0.01)
    path, mime = await audio.review_copy("i/reel", fmt=AudioFormat.M4A_AAC)
    assert mime == "audio/mp4" and Path(path).is_file()


async def test_reel_needs_clips(audio: PydubAudioProcessor) -> None:
    with pytest.raises(ValueError):
        await audio.reel([], key="i/reel")


# -- erasure ------------------------------------------------------------------------------------

async def test_delete_removes_every_derived_file(root: Path) -> None:
    audio = PydubAudioProcessor(root, keep_originals=True)
    await ingest(audio, "voice.m4a", "audio/mp4", key="i1/a1")
    await ingest(audio, "voice.ogg", key="i2/a1")
    await ingest(audio, "voice.ogg", key="i2/a10")
    for key in ("i1/a1", "i2/a1"):
        for fmt in AudioFormat:
            await audio.review_copy(key, fmt=fmt)
    assert len(files_under(root / "i1")) == 4  # canonical, original, two review copies

    audio.delete("i1/a1")
    audio.delete("i2/a1")
    audio.delete("i2/a1")  # idempotent

    assert not (root / "i1").exists()
    assert [p.name for p in files_under(root)] == ["a10.ogg", "a10.orig.ogg", "a10.review.m4a",
                                                    "a10.review.ogg"]


# -- event loop ---------------------------------------------------------------------------------

async def test_event_loop_keeps_running_during_a_long_ingest(audio: PydubAudioProcessor) -> None:
    """The loop is never blocked: the longest gap between two ticks of a 5 ms ticker, while
    ffmpeg decodes 200 s of audio, stays far below the ingest's own duration."""
    gaps: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    began = time.perf_counter()
    stored = await audio.ingest(fixture("long.ogg"), "audio/ogg", key="k", max_seconds=300,
                                max_bytes=MAX_BYTES)
    took = time.perf_counter() - began
    stop.set()
    await task
    assert stored.duration == pytest.approx(200, abs=0.1)
    # A blocking decode would show as one gap about as long as the ingest. On a loaded machine
    # a tick can wait for the CPU, so the bound is generous: a quarter of the ingest, at most 1 s.
    assert len(gaps) >= 2
    assert max(gaps) < min(1.0, max(0.25 * took, 0.2)), (max(gaps), took)


async def test_a_process_pool_works_too(root: Path) -> None:
    with ProcessPoolExecutor(max_workers=1,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        audio = PydubAudioProcessor(root, executor=pool)
        stored = await audio.ingest(fixture("voice.ogg"), "audio/ogg", key="i/a", max_seconds=60,
                                    max_bytes=MAX_BYTES)
        with pytest.raises(AudioRejected) as caught:
            await ingest(audio, "silence.ogg", key="i/b")
        path, _ = await audio.review_copy("i/a", fmt=AudioFormat.M4A_AAC)
        reel = await audio.reel([("Q", "i/a")], key="i/reel")
    assert caught.value.reason is RejectReason.SILENT
    assert stored.duration == pytest.approx(SPEECH_SECONDS, abs=0.05)
    assert Path(path).is_file() and reel.chapters[0].start == 0


# -- transcription ------------------------------------------------------------------------------

def word_error_rate(reference: str, hypothesis: str) -> float:
    ref, hyp = reference.lower().split(), hypothesis.lower().split()
    row = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, guess in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (word != guess))
    return row[-1] / len(ref)


def test_word_error_rate() -> None:
    assert word_error_rate("a b c d", "a b c d") == 0
    assert word_error_rate("a b c d", "a x c") == 0.5


async def test_null_transcriber() -> None:
    assert await NullTranscriber().transcribe("any/key") is None


async def test_pocketsphinx_transcribes_and_never_raises(audio: PydubAudioProcessor,
                                                         root: Path) -> None:
    reference = (FIXTURES / "voice.txt").read_text().strip().rstrip(".")
    await ingest(audio, "voice.ogg")
    transcriber = PocketsphinxTranscriber(root)
    try:
        text = await transcriber.transcribe("interview1/take1")
        assert text is not None
        assert word_error_rate(reference, text) <= 0.5
        assert await transcriber.transcribe("missing/key") is None
        assert await transcriber.transcribe("../escape") is None
    finally:
        transcriber.close()
