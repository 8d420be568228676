"""Benchmark bots in processes of their own: start one, wait until it receives, stop it.

Each bot runs in a fresh interpreter (spawn), so the CPU time read from /proc is its own; the
fake Bot API and the simulated people run in the benchmark's process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import queue
import signal
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from bench.common import ProcCpu, proc_cpu


def loopback_sites() -> None:
    """serve() binds its HTTP server (health, webhook) on 0.0.0.0: keep the bench on loopback."""
    from aiohttp import web

    class LoopbackSite(web.TCPSite):
        def __init__(self, runner: Any, host: Any = None, port: Any = None, **kw: Any) -> None:
            super().__init__(runner, "127.0.0.1", port, **kw)

    web.TCPSite = LoopbackSite  # type: ignore[misc]


def child_logging(log_file: str) -> None:
    # as `interviewbot run` configures it, but into a file
    logging.basicConfig(level=logging.INFO, filename=log_file, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


async def until_terminated() -> None:
    """Until SIGTERM/SIGINT, or until the benchmark process that started this one is gone."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    parent = os.getppid()
    while not stop.is_set() and os.getppid() == parent:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


@dataclass
class BotProcess:
    process: Any  # multiprocessing.Process (spawn context)

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return int(self.process.pid)

    def cpu(self) -> ProcCpu:
        return proc_cpu(self.pid)

    async def stop(self) -> None:
        """SIGTERM, then wait (in a thread: the fake in this loop must keep answering)."""
        if self.process.is_alive():
            os.kill(self.pid, signal.SIGTERM)
        await asyncio.to_thread(self.process.join, 30)
        if self.process.is_alive():
            self.process.kill()
            await asyncio.to_thread(self.process.join)


@contextlib.asynccontextmanager
async def bot_process(target: Callable[..., None], *args: Any,
                      module: str) -> AsyncIterator[BotProcess]:
    """Start `target(*args, ready)` (a function of `module`) in a fresh interpreter; yield once
    it is receiving."""
    import importlib

    # by module name: under `python -m bench` this file runs as __main__ via runpy
    target = getattr(importlib.import_module(module), target.__name__)
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Queue()
    # not a daemon: the bot runs its audio conversions in a process pool of its own, and a
    # daemonic process may not have children (AssertionError, "storing a recording failed");
    # it stops on SIGTERM (below) or when this process is gone (until_terminated)
    process = ctx.Process(target=target, args=(*args, ready), daemon=False)
    process.start()
    bot = BotProcess(process)
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(queue.Empty):
                await asyncio.to_thread(ready.get, True, 0.2)
                break
            if not process.is_alive():
                raise RuntimeError(f"{target.__name__} exited with {process.exitcode}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{target.__name__} did not start")
        yield bot
    finally:
        await bot.stop()
