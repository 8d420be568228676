"""Level analysis on decoded clips: speech detection, loudness, silence trim, normalisation.

All levels are RMS dBFS over 20 ms windows. The thresholds come from measurements on
tests/fixtures/audio (figures in docs/hiring-teams.md, "Audio answers").
"""

from __future__ import annotations

import audioop
import math

from bots.audio.ffmpeg import AudioSegment

WINDOW_MS = 20

# Speech detection (validation): a window carries speech when it is above an absolute floor and
# clearly above the clip's own noise floor (its 10th-percentile window), so that a steady hum or
# tone is not mistaken for a voice.
SPEECH_FLOOR_DBFS = -55.0
SPEECH_ABOVE_NOISE_DB = 6.0
MIN_SPEECH_SECONDS = 0.3

# Loudness: the speech level is the power mean of windows above an absolute gate and no more than
# `GATE_RELATIVE_DB` below the ungated mean (the two-stage gating of ITU-R BS.1770, on RMS).
GATE_ABSOLUTE_DBFS = -70.0
GATE_RELATIVE_DB = 10.0
TARGET_DBFS = -20.0
PEAK_CEILING_DBFS = -1.0
MAX_GAIN_DB = 40.0

# Trim: leading/trailing windows this far below the speech level are silence; keep a little air.
TRIM_BELOW_SPEECH_DB = 25.0
TRIM_PAD_MS = 200


def window_levels(segment: AudioSegment) -> list[float]:
    """RMS level of each 20 ms window, in dBFS (-inf for digital silence)."""
    raw, width = memoryview(segment.raw_data), segment.sample_width
    step = segment.frame_width * segment.frame_rate * WINDOW_MS // 1000
    full_scale = segment.max_possible_amplitude
    rms = (audioop.rms(raw[at : at + step], width) for at in range(0, len(raw), step))
    return [20 * math.log10(r / full_scale) if r else -math.inf for r in rms]


def noise_floor(levels: list[float]) -> float:
    """The clip's background level: its 10th-percentile window."""
    return sorted(levels)[len(levels) // 10] if levels else -math.inf


def speech_seconds(levels: list[float]) -> float:
    """How long the clip carries speech energy."""
    threshold = max(SPEECH_FLOOR_DBFS, noise_floor(levels) + SPEECH_ABOVE_NOISE_DB)
    return sum(1 for level in levels if level > threshold) * WINDOW_MS / 1000


def _power_mean(levels: list[float]) -> float:
    power = sum(10 ** (level / 10) for level in levels) / len(levels)
    return 10 * math.log10(power) if power > 0 else -math.inf


def speech_level(levels: list[float]) -> float | None:
    """Gated loudness of the clip in dBFS, or None when nothing passes the gates."""
    loud = [level for level in levels if level > GATE_ABSOLUTE_DBFS]
    if not loud:
        return None
    gate = _power_mean(loud) - GATE_RELATIVE_DB
    return _power_mean([level for level in loud if level > gate])


def trim_bounds(levels: list[float], threshold: float) -> tuple[int, int]:
    """(start, end) in ms without the leading/trailing windows under `threshold`, padded."""
    loud = [i for i, level in enumerate(levels) if level > threshold]
    if not loud:
        return 0, len(levels) * WINDOW_MS
    start = max(0, loud[0] * WINDOW_MS - TRIM_PAD_MS)
    return start, min(len(levels) * WINDOW_MS, (loud[-1] + 1) * WINDOW_MS + TRIM_PAD_MS)


def normalisation_gain(level: float, peak: float) -> float:
    """Gain in dB that brings `level` to the target without the peak passing the ceiling."""
    return min(TARGET_DBFS - level, PEAK_CEILING_DBFS - peak, MAX_GAIN_DB)


def prepare_for_review(segment: AudioSegment) -> AudioSegment:
    """Trim leading/trailing silence and normalise loudness, for fair listening."""
    levels = window_levels(segment)
    level = speech_level(levels)
    if level is None:
        return segment
    start, end = trim_bounds(levels, level - TRIM_BELOW_SPEECH_DB)
    trimmed = segment[start:end]
    return trimmed.apply_gain(normalisation_gain(level, trimmed.max_dBFS))
