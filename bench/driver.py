"""Simulated people on the fake Bot API: take a step, wait for the bot's reply, time it.

A step is one update in (a message, a button press) and the bot's reply out (a message, or
the pressed message edited). Latency runs from when the fake made the update available to the
bot's first successful call in that chat afterwards, on the fake's clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bench.common import ProcCpu, percentile
from bench.processes import BotProcess

STEP_TIMEOUT = 300.0
SORRY = "Sorry, something went wrong"  # bots.telegram.channel: a handler raised
FAILURES = (SORRY, "Something went wrong on our side")  # ... or storing a recording failed
# what the person sees as the bot's reply: a message in their chat, or one edited there
REPLY_METHODS = frozenset({"sendmessage", "sendvoice", "sendaudio", "senddocument", "sendphoto",
                           "copymessage", "forwardmessage", "editmessagetext",
                           "editmessagecaption", "editmessagereplymarkup"})


@dataclass
class Phase:
    bot: str
    name: str
    answers: int = 0
    failed: int = 0  # the bot answered with its apology: the handler raised
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    bot_cpu: ProcCpu = field(default_factory=lambda: ProcCpu(0.0, 0.0))
    fake_cpu: float = 0.0
    offered: float | None = None
    calls: int = 0  # Bot API calls the bot made during the phase, getUpdates aside
    chat_calls: int = 0  # of those, calls naming one of the phase's people's chats
    callbacks: int = 0  # answerCallbackQuery: a press's answer, not a message in the chat

    @property
    def calls_per_answer(self) -> float:
        """Bot API calls in the people's chats per step (`answers` counts steps)."""
        return self.chat_calls / self.answers if self.answers else float("nan")

    @property
    def rate(self) -> float:
        return self.answers / self.seconds if self.seconds else float("nan")

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) * 1000

    @property
    def cpu_ms(self) -> float:
        return self.bot_cpu.own / self.answers * 1000 if self.answers else float("nan")

    @property
    def cpu_with_children_ms(self) -> float:
        total = self.bot_cpu.own + self.bot_cpu.children
        return total / self.answers * 1000 if self.answers else float("nan")


class StepFailed(Exception):
    """The bot apologised (or said storing failed) instead of answering: this person stops."""


Send = Callable[[], dict[str, Any]]
Done = Callable[[Any], bool]


class Driver:
    """Simulated people on the fake: send, wait for the bot's reply, time it."""

    def __init__(self, fake: Any) -> None:
        self.fake = fake

    async def step(self, chat_id: int, send: Send, done: Done, phase: Phase) -> Any:
        """One step: send one update (a message, a button press), wait until the bot's reply
        satisfies `done`, and time the step to the bot's first reply in that chat.

        The reply is a new message or, for a press, the pressed message edited (into its
        result with the next question): both count, and the time is that of the first
        successful Bot API call naming the chat after the update was sent."""
        mark, calls = self.fake.mark(), len(self.fake.calls)
        update = send()
        available = self.fake.update_times[update["update_id"]]
        reply = await self.fake.wait_for_message(
            chat_id, since=mark, include_edits=True,
            predicate=lambda m: done(m) or _failure(m), timeout=STEP_TIMEOUT)
        if _failure(reply):
            phase.failed += 1
            raise StepFailed(chat_id)
        phase.latencies.append(self.first_reply(chat_id, calls, reply) - available)
        phase.answers += 1
        return reply

    def first_reply(self, chat_id: int, calls: int, reply: Any) -> float:
        """When the first message or edit reached the fake in `chat_id` after call `calls`."""
        for call in self.fake.calls[calls:]:
            if (call.status == 200 and call.method.lower() in REPLY_METHODS
                    and str(call.params.get("chat_id")) == str(chat_id)):
                return float(call.at)
        return float(reply.at)  # not expected: the reply was made by a call

    async def quiet(self, idle: float = 0.3) -> None:
        """Wait until the bot has made no API call for `idle` seconds (long polls aside)."""
        while True:
            before = len(self.fake.calls)
            await asyncio.sleep(idle)
            if len(self.fake.calls) == before:
                return

    async def run_phase(self, phase: Phase, bot: BotProcess,
                        work: list[Callable[[Phase], Awaitable[None]]],
                        chats: set[int] | None = None) -> Phase:
        profiled = os.environ.get("BENCH_PROFILE") and (
            f"{phase.bot}:{phase.name}" == os.environ.get("BENCH_PROFILE_PHASE"))
        if profiled:
            os.kill(bot.pid, signal.SIGUSR1)
        cpu0, fake0, t0 = bot.cpu(), time.process_time(), time.perf_counter()
        calls0 = len(self.fake.calls)

        async def person(w: Callable[[Phase], Awaitable[None]]) -> None:
            with contextlib.suppress(StepFailed):
                await w(phase)

        await asyncio.gather(*(person(w) for w in work))
        phase.seconds = time.perf_counter() - t0
        await self.quiet()
        if profiled:
            os.kill(bot.pid, signal.SIGUSR2)
        phase.bot_cpu = bot.cpu() - cpu0
        phase.fake_cpu = time.process_time() - fake0
        made = [c for c in self.fake.calls[calls0:] if c.method != "getUpdates"]
        phase.calls = len(made)
        named = {str(chat) for chat in chats or ()}
        phase.chat_calls = sum(str(c.params.get("chat_id")) in named for c in made)
        phase.callbacks = sum(c.method == "answerCallbackQuery" for c in made)
        return phase


def _failure(message: Any) -> bool:
    return any(text in (message.text or "") for text in FAILURES)


def text_is(text: str) -> Done:
    return lambda m: m.text == text


def contains(fragment: str) -> Done:
    return lambda m: fragment in (m.text or "")


def has_button(label: str) -> Done:
    return lambda m: any(label in b for b in m.button_labels)


async def pause(rng: random.Random, mean: float) -> None:
    if mean > 0:
        await asyncio.sleep(rng.uniform(0, 2 * mean))
