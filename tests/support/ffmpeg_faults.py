"""ffmpeg with faults: a wrapper in front of the real binary, for IMAGEIO_FFMPEG_EXE (which
each audio worker process reads when its pool starts)."""

from __future__ import annotations

from pathlib import Path

from bots.audio import ffmpeg


def ffmpeg_wrapper(tmp: Path, name: str, on_encode: str) -> Path:
    """An ffmpeg that runs the shell `on_encode` before each encoding run (one reading PCM from
    its standard input) and is the real ffmpeg otherwise; each encoding run is logged."""
    real = ffmpeg.configure()
    path = tmp / name
    path.write_text(f"""#!/bin/sh
case "$*" in
  *pipe:0*) echo encode >> "{tmp}/{name}.log"; {on_encode} ;;
esac
exec "{real}" "$@"
""")
    path.chmod(0o755)
    return path


def encodes(wrapper: Path) -> int:
    """How many encoding runs the wrapper has seen."""
    log = Path(f"{wrapper}.log")
    return len(log.read_text().splitlines()) if log.exists() else 0


KILL_WORKER = "kill -9 $PPID; sleep 5"  # the audio worker running ffmpeg dies, as if OOM-killed
