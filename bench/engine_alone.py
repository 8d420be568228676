"""`Engine.handle` alone in the benchmark's process: no PTB, no HTTP, the scheduler on.

What the engine and storage cost per written answer (its text, then Submit on the receipt),
and the SQL each one runs.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.engine import SCRIPT_ID, our_env_files
from core.messages import OutMessage
from core.ports import Messenger
from core.refs import ChatRef, MediaRef, MessageRef, UserRef


class NullMessenger(Messenger):
    """Accepts every outbound message instantly (for timing the engine alone)."""

    platform = "telegram"

    def __init__(self) -> None:
        self.sent = 0
        self.latest: dict[str, tuple[MessageRef, OutMessage]] = {}  # by chat id

    async def send(self, chat: ChatRef, message: OutMessage) -> MessageRef:
        self.sent += 1
        ref = MessageRef(chat, str(self.sent))
        self.latest[chat.id] = (ref, message)
        return ref

    def button(self, chat: ChatRef, label: str) -> tuple[MessageRef, str]:
        """The latest message sent to `chat` and the payload of its button named `label`."""
        ref, message = self.latest[chat.id]
        return ref, next(b.payload for b in message.all_buttons() if b.label == label)

    async def edit(self, ref: MessageRef, message: OutMessage) -> None:
        return None

    async def notify(self, chat: ChatRef, user: UserRef, text: str) -> None:
        return None

    async def download(self, media: MediaRef, max_bytes: int) -> bytes:
        raise NotImplementedError

    async def delete(self, ref: MessageRef) -> list[MessageRef]:
        return []


@dataclass
class EngineOnly:
    answers: int
    cpu_ms: float
    statements: dict[str, float]
    transactions: float  # commits per answer
    together: bool = False  # every candidate's answer at once (else one after another)
    # per answer: statements + BEGIN and COMMIT per committed transaction (a read-only
    # transaction's BEGIN and ROLLBACK are not counted: at least this many)
    round_trips: float = 0.0

    def describe(self) -> str:
        sql = ", ".join(f"{v:.1f} {k}" for k, v in self.statements.items())
        how = "all candidates at once" if self.together else "one after another"
        return (f"{self.cpu_ms:.2f} ms CPU per written answer (text + Submit) over "
                f"{self.answers} ({how}); SQL per answer: {sql}; {self.transactions:.2f} "
                f"transactions per answer")


def bare_round_trip_us(database_url: str, count: int = 3000) -> float:
    """CPU (microseconds) of one `SELECT 1` round trip on a bare psycopg connection: what the
    driver alone costs per statement, without SQLAlchemy or the engine."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(database_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False)) as conn:
        for _ in range(200):  # warm up: prepared after a few runs, as in the pool
            conn.execute("SELECT 1")
        cpu = time.process_time()
        for _ in range(count):
            conn.execute("SELECT 1")
        return (time.process_time() - cpu) / count * 1e6


async def engine_only(args: argparse.Namespace, tmp: Path, database_url: str
                      ) -> list[EngineOnly]:
    """`Engine.handle` in this process with the scheduler running, no PTB, no HTTP: what the
    engine and storage cost per written answer (its text, `TextReceived`, then Submit on the
    receipt, `ButtonPressed`: an answer is a draft until submitted), and the SQL it runs;
    first one answer after another, then each round of answers all at once (every text, then
    every Submit, as the candidates of the saturated phase send them), where finished outbox
    entries are removed in batches."""
    from collections import Counter

    from sqlalchemy import event

    from bots.app import build
    from bots.scheduler import ReminderScheduler
    from bots.settings import Settings
    from core.commands import ButtonPressed, CreateInvitation, InviteAccepted, TextReceived
    from core.refs import ChatRef, UserRef

    env = our_env_files(tmp, database_url)
    messenger = NullMessenger()
    app = build(Settings(_env_file=None, **env), messengers={"telegram": messenger})
    scheduler = ReminderScheduler(app.db, app.engine, name="engine-only")
    await scheduler.start()
    people = min(args.candidates, 100)
    results = []
    try:
        refs = [(UserRef("telegram", str(9_000_000 + n)), ChatRef("telegram", str(9_000_000 + n)))
                for n in range(people)]
        for n, (user, chat) in enumerate(refs):
            interview, token = app.engine.invite(CreateInvitation(
                SCRIPT_ID, f"Solo {n}", "telegram", "Europe/Lisbon"))
            await app.engine.handle(InviteAccepted(user, chat, token, delivery=f"solo-a{n}"))
            await app.engine.handle(ButtonPressed(user, chat, f"cs:{interview.id}:y",
                                                  delivery=f"solo-b{n}"))
        await app.engine.idle()
        counts: Counter[str] = Counter()

        def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            counts[statement.lstrip().split(None, 1)[0].upper()] += 1

        def commit(_conn: Any) -> None:
            counts["COMMIT"] += 1

        for together in (False, True):
            counts.clear()
            event.listen(app.db, "before_cursor_execute", count)
            event.listen(app.db, "commit", commit)
            answers = 0
            cpu = time.process_time()
            for q in range(args.answers):
                def text(n: int, user: UserRef, chat: ChatRef, q: int = q,
                         together: bool = together) -> Any:
                    return app.engine.handle(TextReceived(
                        user, chat, f"My answer to question {q + 1}: it depends.",
                        delivery=f"solo-t{together}-{q}-{n}"))

                def submit(n: int, user: UserRef, chat: ChatRef, q: int = q,
                           together: bool = together) -> Any:
                    receipt, payload = messenger.button(chat, "Submit")
                    return app.engine.handle(ButtonPressed(
                        user, chat, payload, receipt, delivery=f"solo-s{together}-{q}-{n}"))

                if together:
                    await asyncio.gather(*(text(n, *ref) for n, ref in enumerate(refs)))
                    await asyncio.gather(*(submit(n, *ref) for n, ref in enumerate(refs)))
                else:
                    for n, ref in enumerate(refs):
                        await text(n, *ref)
                        await submit(n, *ref)
                answers += len(refs)
            await app.engine.idle()
            cpu = time.process_time() - cpu
            event.remove(app.db, "before_cursor_execute", count)
            event.remove(app.db, "commit", commit)
            commits = counts.pop("COMMIT", 0)
            trips = sum(counts.values()) + 2 * commits
            results.append(EngineOnly(answers, cpu / answers * 1000,
                                      {k: v / answers for k, v in sorted(counts.items())},
                                      commits / answers, together, trips / answers))
    finally:
        await scheduler.stop()
        app.db.dispose()
    return results
