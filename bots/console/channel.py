"""The console channel: the person at the terminal is the candidate, then the reviewer."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bots.console.messenger import CANDIDATE_CHAT, REVIEWER_CHAT, ConsoleMessenger, media_for
from core.commands import (
    ButtonPressed,
    CreateInvitation,
    InviteAccepted,
    MediaReceived,
    ReviewerText,
    TextReceived,
    UnsupportedReceived,
    UserCommand,
)
from core.engine import Engine
from core.refs import UserRef

CANDIDATE = UserRef("console", "candidate")
REVIEWER = UserRef("console", "reviewer")
COMMANDS = {"/help": "help", "/status": "status", "/withdraw": "withdraw", "/delete": "delete"}
USAGE = (
    "Console preview. You are the candidate: type answers as text, `/voice PATH` to answer "
    "with an audio file, a button's number to press it, /redo to re-record, /status, /help, "
    "/quit. When the interview is complete, the review cards appear: rate them by number."
)


class ConsoleChannel:
    """Reads lines from stdin (a TTY or a pipe) and turns them into engine commands."""

    def __init__(self, engine: Engine, messenger: ConsoleMessenger, script_id: str,
                 stdin: TextIO | None = None) -> None:
        self.engine = engine
        self.messenger = messenger
        self.script_id = script_id
        self.stdin = stdin or sys.stdin

    def _say(self, text: str) -> None:
        self.messenger.out.write(text + "\n")
        self.messenger.out.flush()

    async def start(self) -> None:
        """Resume the console candidate's interview, or invite them to the sample script."""
        self._say(USAGE)
        with self.engine.s.uow() as uow:
            current = uow.interviews.current_for(CANDIDATE)
        if current is not None:
            await self.engine.handle(InviteAccepted(CANDIDATE, CANDIDATE_CHAT, None))
            return
        _, token = self.engine.invite(CreateInvitation(self.script_id, "Console Candidate",
                                                       "console"))
        await self.engine.handle(InviteAccepted(CANDIDATE, CANDIDATE_CHAT, token))

    async def run(self) -> None:
        """Start, then handle lines until /quit or end of input."""
        await self.start()
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, self.stdin.readline)
            if not line:
                break
            text = line.strip()
            if text in ("/quit", "/exit"):
                break
            if text:
                await self.handle_line(text)
        self._say("Bye. Everything is saved; run again to continue where you stopped.")

    async def handle_line(self, text: str) -> None:
        if self.messenger.asks:
            chat, target = self.messenger.asks.pop(0)
            await self.engine.handle(ReviewerText(REVIEWER, chat, target, text))
            return
        if text.isdigit():
            await self._press(int(text))
        elif text == "/redo":
            number = self._find_button("Re-record")
            if number is None:
                self._say("(nothing to re-record right now)")
            else:
                await self._press(number)
        elif text.startswith("/voice"):
            path = text[len("/voice"):].strip()
            try:
                media = media_for(path)
            except OSError:
                self._say(f"(cannot read {path!r})")
                return
            if media.size is None:
                self._say(f"(no such file: {path})")
                return
            if media.kind == "file":
                await self.engine.handle(UnsupportedReceived(CANDIDATE, CANDIDATE_CHAT,
                                                             "document"))
                return
            await self.engine.handle(MediaReceived(CANDIDATE, CANDIDATE_CHAT, media))
        elif text.split()[0] in COMMANDS:
            await self.engine.handle(UserCommand(CANDIDATE, CANDIDATE_CHAT,
                                                 COMMANDS[text.split()[0]]))
        elif text.startswith("/"):
            self._say(f"(unknown command {text.split()[0]}; try /help)")
        else:
            await self.engine.handle(TextReceived(CANDIDATE, CANDIDATE_CHAT, text))

    def _find_button(self, label: str) -> int | None:
        matches = [n for n, (_, b) in self.messenger.buttons.items() if b.label.startswith(label)]
        return matches[-1] if matches else None

    async def _press(self, number: int) -> None:
        found = self.messenger.buttons.get(number)
        if found is None:
            self._say(f"(no button [{number}] on screen)")
            return
        ref, button = found
        user = REVIEWER if ref.chat == REVIEWER_CHAT else CANDIDATE
        reply = await self.engine.handle(ButtonPressed(user, ref.chat, button.payload, ref))
        if reply:
            self._say(f"(only you) > {reply}")
