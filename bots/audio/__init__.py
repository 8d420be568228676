"""The audio pipeline: validate, store, normalise and join voice answers; transcribe them."""

from bots.audio.ffmpeg import configure as configure_ffmpeg
from bots.audio.processor import AudioStoreError, PydubAudioProcessor
from bots.audio.transcribe import NullTranscriber, PocketsphinxTranscriber, pocketsphinx_available

__all__ = [
    "AudioStoreError",
    "NullTranscriber",
    "PocketsphinxTranscriber",
    "PydubAudioProcessor",
    "configure_ffmpeg",
    "pocketsphinx_available",
]
