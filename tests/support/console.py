"""Drive `interviewbot run` (console channel) in a subprocess through a pipe."""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path

BUTTON = re.compile(r"\[(\d+)\] (.+?)(?=\s{2}\[\d+\]|$)")
BIN = Path(sys.executable).parent / "interviewbot"


def cli_env(tmp: Path, **extra: str) -> dict[str, str]:
    """Environment for the CLI on a temp SQLite database and data dir, no chat credentials."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TELEGRAM_", "SLACK_", "INTERVIEWBOT_", "DATABASE_URL"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp / 'ib.db'}", INTERVIEWBOT_DATA_DIR=str(tmp / "data"),
               PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def run_cli(tmp: Path, *args: str, input_text: str = "", **extra: str
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], env=cli_env(tmp, **extra), capture_output=True,
                          text=True, timeout=120, cwd=tmp, input=input_text)


class ConsoleSession:
    """A running console preview: send lines, wait for output, press buttons by label."""

    def __init__(self, tmp: Path, **extra: str) -> None:
        self.proc = subprocess.Popen(
            [str(BIN), "run"], env=cli_env(tmp, **extra), cwd=tmp, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.transcript: list[str] = []
        self.buttons: dict[str, int] = {}  # the candidate's buttons shown since the last input
        self.speaker = ""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _next(self, waiting_for: str, timeout: float) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no {waiting_for!r} in output:\n" + "\n".join(
                self.transcript[-30:])) from None
        if line is None:
            raise AssertionError(f"process ended before {waiting_for!r}:\n" + "\n".join(
                self.transcript[-30:]))
        self.transcript.append(line)
        if not line.startswith("    "):
            self.speaker = line.split(" >", 1)[0].split(" (", 1)[0]
        elif line.startswith("    [") and self.speaker == "bot":
            for number, label in BUTTON.findall(line.strip()):
                self.buttons[label.strip()] = int(number)
        return line

    def expect(self, text: str, timeout: float = 60) -> list[str]:
        """Read output until a line contains `text`; return the lines read."""
        got: list[str] = []
        while True:
            line = self._next(text, timeout)
            got.append(line)
            if text in line:
                return got

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        self.buttons.clear()  # press() waits for buttons shown after this input

    def press(self, label: str) -> None:
        """Press the candidate's newest button whose label starts with `label`."""
        while not (matches := [n for lab, n in self.buttons.items() if lab.startswith(label)]):
            self._next(f"button {label}", 60)
        self.send(f"#{max(matches)}")

    def close(self) -> int:
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            return self.proc.wait(timeout=60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


def cards(lines: list[str], prefix: str = "to reviewer > ") -> list[tuple[str, list[list[int]]]]:
    """Split output into messages sent to `prefix`; each with its rows of button numbers."""
    found: list[tuple[str, list[list[int]]]] = []
    current: tuple[str, list[list[int]]] | None = None
    for line in lines:
        if line.startswith(prefix):
            current = (line[len(prefix):], [])
            found.append(current)
        elif current is not None and line.startswith("    ["):
            row = [int(n) for n, _ in BUTTON.findall(line.strip())]
            if row:
                current[1].append(row)
        elif not line.startswith("    "):
            current = None
    return found
