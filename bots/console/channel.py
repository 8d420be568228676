"""The console channel: the person at the terminal is the candidate, then the reviewer."""

from __future__ import annotations

import asyncio
import shlex
import sys
from pathlib import Path
from typing import TextIO

from bots.console import CAPABILITIES
from bots.console.messenger import CANDIDATE_CHAT, REVIEWER_CHAT, ConsoleMessenger, media_for
from bots.console.review import show_cards, waiting
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
from core.vocabulary import Verb

CANDIDATE = UserRef(CAPABILITIES.platform, "candidate")
REVIEWER = UserRef(CAPABILITIES.platform, "reviewer")
# what the engine answers; /help is the console's own too (it adds CONSOLE_HELP)
COMMANDS = {CAPABILITIES.command(v): v for v in (Verb.STATUS, Verb.WITHDRAW, Verb.DELETE)}
CONSOLE_COMMANDS = ("/help", "/voice", "/redo", "/review", "/quit", "/exit")
USAGE = (
    "Console preview. You are the candidate: type answers as text (several lines make one "
    "answer until you press Submit), press a button by typing # and its number (#3). When "
    "the interview is complete, the review cards appear: rate them the same way. /help lists "
    "the commands."
)
CONSOLE_HELP = (
    "Console commands:\n"
    "  #N - press the button numbered [N]\n"
    "  /voice PATH - answer with an audio file (~, quotes and spaces are fine)\n"
    "  /redo - start the current answer over\n"
    "  /review - list completed interviews you have not finished rating, and show their cards\n"
    "  /quit - stop; run again to continue where you stopped\n"
    "Any other line, numbers and lines starting with / included, is sent as your answer."
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
        current = self.engine.views.has_interview(CANDIDATE)
        if waiting(self.engine, self.script_id, REVIEWER):
            await self.review(announce=True)
        if current:
            await self.engine.handle(InviteAccepted(CANDIDATE, CANDIDATE_CHAT, None))
            return
        _, token = self.engine.invite(CreateInvitation(self.script_id, "Console Candidate",
                                                       CAPABILITIES.platform))
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
        kept = self.engine.views.has_interview(CANDIDATE)
        if kept or waiting(self.engine, self.script_id, REVIEWER):
            self._say("Bye. Everything is saved; run again to continue where you stopped.")
        else:  # erased (or never begun): nothing of the candidate is kept
            self._say("Bye.")

    async def review(self, announce: bool = False) -> None:
        """List the completed interviews the reviewer has not finished, and show their cards."""
        found = waiting(self.engine, self.script_id, REVIEWER)
        if not found:
            self._say("(no completed interview is waiting for your review)")
            return
        self._say(("Waiting for your review:" if announce else "To review:") + "".join(
            f"\n  {w.label}: {w.rated} of {w.answers} answers rated" for w in found))
        for item in found:
            await show_cards(self.engine, self.messenger, item.interview_id)

    async def handle_line(self, text: str) -> None:
        if self.messenger.asks:
            chat, target = self.messenger.asks.pop(0)
            await self.engine.handle(ReviewerText(REVIEWER, chat, target, text))
            return
        word = text.split()[0]
        if word.startswith("#") and word[1:].isdigit() and len(text.split()) == 1:
            await self._press(int(word[1:]))
        elif word == CAPABILITIES.command(Verb.HELP):
            self._say(CONSOLE_HELP)
            await self.engine.handle(UserCommand(CANDIDATE, CANDIDATE_CHAT, Verb.HELP))
        elif word == "/redo":
            number = self._find_button("Start over")
            if number is None:
                self._say("(nothing to start over right now)")
            else:
                await self._press(number)
        elif word == "/review":
            await self.review()
        elif word == "/voice":
            await self._voice(text[len("/voice"):].strip())
        elif word in COMMANDS:
            await self.engine.handle(UserCommand(CANDIDATE, CANDIDATE_CHAT, COMMANDS[word]))
        else:  # an answer, even "2019" or "/etc/hosts is where..."
            await self.engine.handle(TextReceived(CANDIDATE, CANDIDATE_CHAT, text))

    async def _voice(self, argument: str) -> None:
        path = voice_path(argument)
        if not path:
            self._say("(usage: /voice PATH)")
            return
        try:
            media = media_for(path)
        except OSError:
            self._say(f"(cannot read {path!r})")
            return
        if media.size is None:
            self._say(f"(no such file: {path})")
            return
        if media.kind == "file":
            await self.engine.handle(UnsupportedReceived(CANDIDATE, CANDIDATE_CHAT, "document"))
            return
        await self.engine.handle(MediaReceived(CANDIDATE, CANDIDATE_CHAT, media))

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


def voice_path(argument: str) -> str:
    """The file a /voice line names: quotes removed, ~ expanded; an unquoted path with
    spaces is taken whole."""
    argument = argument.strip()
    if not argument:
        return ""
    try:
        parts = shlex.split(argument)
    except ValueError:
        parts = [argument]
    path = parts[0] if len(parts) == 1 else argument
    return str(Path(path).expanduser())
