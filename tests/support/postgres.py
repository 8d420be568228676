"""A throwaway PostgreSQL server in a temp dir on a free loopback port, for tests and benches."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """initdb / pg_ctl are not installed on this machine."""


def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(argv: list[str]) -> list[str]:
    """Server binaries refuse to run as root: run them as the postgres system user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


@dataclass
class PostgresServer:
    """A running throwaway cluster: its URL, and a restart as an operator would do one."""

    pg_ctl: str
    data: Path
    options: str
    log: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self._ctl("-o", self.options, "-l", str(self.log), "-w", "-t", "60", "start")
        self._wait_for_port()

    def restart(self) -> None:
        """`pg_ctl restart -m fast`: every session is told to end and closed, then the
        server starts again on the same port."""
        self._ctl("-o", self.options, "-l", str(self.log), "-m", "fast", "-w", "-t", "60",
                  "restart")
        self._wait_for_port()

    def stop(self) -> None:
        self._ctl("-m", "immediate", "stop", check=False)

    def _ctl(self, *args: str, check: bool = True) -> None:
        subprocess.run(_as_postgres([self.pg_ctl, "-D", str(self.data), *args]), check=check,
                       capture_output=True)

    def _wait_for_port(self) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Start a cluster in a temp dir, yield it, stop and delete it afterwards."""
    initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
    if not initdb or not pg_ctl:
        raise PostgresUnavailable("initdb/pg_ctl not found (install PostgreSQL server binaries)")
    root = Path(tempfile.mkdtemp(prefix="ib-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
    port = free_port()
    subprocess.run(_as_postgres([initdb, "-D", str(data), "-A", "trust", "-U", "postgres",
                                 "--no-sync", "-E", "UTF8"]),
                   check=True, capture_output=True)
    server = PostgresServer(pg_ctl, data, f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 "
                                          "-c fsync=off", root / "log", port)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Start a cluster, yield its SQLAlchemy URL, stop and delete it afterwards."""
    with postgres_server() as server:
        yield server.url
