"""Which container and codec an upload is: from its magic bytes first, its mime type second."""

from __future__ import annotations

import struct
from dataclasses import dataclass


@dataclass(frozen=True)
class Container:
    """An input format in ffmpeg's (and pydub's `from_file`) vocabulary.

    `codec` is the decoder to force, or None where the container's header names it (WAV).
    """

    format: str
    codec: str | None
    extension: str


OGG_OPUS = Container("ogg", "opus", "ogg")
OGG_VORBIS = Container("ogg", "vorbis", "ogg")
OGG_FLAC = Container("ogg", "flac", "ogg")
MP3 = Container("mp3", "mp3", "mp3")
MP4_AAC = Container("mp4", "aac", "m4a")
ADTS_AAC = Container("aac", "aac", "aac")
WEBM_OPUS = Container("webm", "opus", "webm")
WEBM_VORBIS = Container("webm", "vorbis", "webm")
WAV = Container("wav", None, "wav")
FLAC = Container("flac", "flac", "flac")

BY_MIME: dict[str, Container] = {
    "audio/ogg": OGG_OPUS,
    "audio/opus": OGG_OPUS,
    "application/ogg": OGG_OPUS,
    "audio/mpeg": MP3,
    "audio/mp3": MP3,
    "audio/mp4": MP4_AAC,
    "audio/m4a": MP4_AAC,
    "audio/x-m4a": MP4_AAC,
    "video/mp4": MP4_AAC,
    "audio/aac": ADTS_AAC,
    "audio/webm": WEBM_OPUS,
    "video/webm": WEBM_OPUS,
    "audio/wav": WAV,
    "audio/x-wav": WAV,
    "audio/wave": WAV,
    "audio/vnd.wave": WAV,
    "audio/flac": FLAC,
    "audio/x-flac": FLAC,
}


def sniff(data: bytes) -> Container | None:
    """Identify the container (and codec, for Ogg and WebM) from the first bytes."""
    head = data[:64]
    if head.startswith(b"OggS"):
        first_page = data[:512]
        if b"\x01vorbis" in first_page:
            return OGG_VORBIS
        if b"\x7fFLAC" in first_page:
            return OGG_FLAC
        return OGG_OPUS
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return WEBM_VORBIS if b"A_VORBIS" in data[:4096] else WEBM_OPUS
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"free", b"wide"):
        return MP4_AAC
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return WAV
    if head.startswith(b"fLaC"):
        return FLAC
    if head.startswith(b"ID3"):
        return MP3
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        layer = (head[1] >> 1) & 0x3
        return ADTS_AAC if layer == 0 else MP3
    return None


def resolve(mime: str, data: bytes) -> Container | None:
    """The container to decode `data` as: magic bytes win over a mislabelled mime type."""
    base = mime.split(";", 1)[0].strip().lower()
    return sniff(data) or BY_MIME.get(base)


def ogg_complete(data: bytes) -> bool:
    """True when `data` is a whole number of well-formed Ogg pages.

    ffmpeg decodes a cut Ogg file without complaint, so this is how a truncated upload shows.
    The end-of-stream flag is not required: some recorders never set it.
    """
    at = 0
    while at < len(data):
        if data[at : at + 4] != b"OggS" or len(data) - at < 27:
            return False
        segments = data[at + 26]
        table = data[at + 27 : at + 27 + segments]
        if len(table) < segments:
            return False
        at += 27 + segments + sum(table)
    return at == len(data) > 0


def wav_complete(data: bytes) -> bool:
    """True unless the WAV header announces more sample data than the file holds.

    A size of 0 or 0xFFFFFFFF (written by streaming recorders that never seek back) is accepted.
    """
    at = 12
    while at + 8 <= len(data):
        chunk, size = struct.unpack_from("<4sI", data, at)
        if chunk == b"data":
            return size in (0, 0xFFFFFFFF) or at + 8 + size <= len(data)
        at += 8 + size + (size & 1)
    return False


def complete(data: bytes) -> bool:
    """False when an Ogg or WAV upload is visibly cut short (other containers: ffmpeg tells)."""
    if data.startswith(b"OggS"):
        return ogg_complete(data)
    if data.startswith(b"RIFF") and data[8:12] == b"WAVE":
        return wav_complete(data)
    return True
