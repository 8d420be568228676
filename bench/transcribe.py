"""Word error rate of the offline transcriber on the speech fixtures, through the real pipeline.

Run: .venv/bin/python -m bench.transcribe   (needs the optional `pocketsphinx` package)
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bots.audio import PocketsphinxTranscriber, PydubAudioProcessor, pocketsphinx_available

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "audio"
SPEECH = {"voice.ogg": "audio/ogg", "voice.mp3": "audio/mpeg", "voice.m4a": "audio/mp4",
          "videonote.mp4": "video/mp4", "clip.webm": "audio/webm", "voice.wav": "audio/wav",
          "quiet.ogg": "audio/ogg"}


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words."""
    ref, hyp = reference.lower().split(), hypothesis.lower().split()
    row = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, guess in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (word != guess))
    return row[-1] / len(ref)


async def run() -> None:
    reference = (FIXTURES / "voice.txt").read_text().strip().rstrip(".")
    print(f"reference: {reference}")
    with tempfile.TemporaryDirectory() as tmp:
        audio = PydubAudioProcessor(Path(tmp))
        transcriber = PocketsphinxTranscriber(Path(tmp))
        try:
            durations = {}
            for name, mime in SPEECH.items():
                stored = await audio.ingest((FIXTURES / name).read_bytes(), mime,
                                            key=name.replace(".", "_"), max_seconds=60,
                                            max_bytes=1 << 24)
                durations[name] = stored.duration
            await transcriber.transcribe("voice_ogg")  # start the worker and load the model
            rates = []
            for name, duration in durations.items():
                start = time.perf_counter()
                text = await transcriber.transcribe(name.replace(".", "_")) or ""
                elapsed = time.perf_counter() - start
                rates.append(word_error_rate(reference, text))
                print(f"{name:14s} WER {rates[-1]:5.0%}  {duration / elapsed:4.1f}x real time  "
                      f"{text!r}")
            print(f"mean WER {sum(rates) / len(rates):.0%} over {len(rates)} files")
        finally:
            transcriber.close()


if __name__ == "__main__":
    if not pocketsphinx_available():
        raise SystemExit("pocketsphinx is not installed (pip install 'interviewbot[transcribe]')")
    asyncio.run(run())
