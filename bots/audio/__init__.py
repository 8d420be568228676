"""The audio pipeline: validate, store, normalise and join voice answers; transcribe them."""

from bots.audio.bucket import ObjectStoreError, S3Bucket, S3Location
from bots.audio.ffmpeg import configure as configure_ffmpeg
from bots.audio.processor import AudioStoreError, PydubAudioProcessor
from bots.audio.sweep import ORPHAN_GRACE, SweepReport
from bots.audio.transcribe import NullTranscriber, PocketsphinxTranscriber, pocketsphinx_available

__all__ = [
    "ORPHAN_GRACE",
    "AudioStoreError",
    "NullTranscriber",
    "ObjectStoreError",
    "PocketsphinxTranscriber",
    "PydubAudioProcessor",
    "S3Bucket",
    "S3Location",
    "SweepReport",
    "configure_ffmpeg",
    "pocketsphinx_available",
]
