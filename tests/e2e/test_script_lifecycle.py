"""Editing and retiring a script while interviews run: the real bot against FakeTelegram.

The bot is restarted on an edited scripts folder, then on one without the script, as an
operator would deploy those changes. Running interviews keep the questions they were invited
to; after retirement candidates can still check, finish and erase, reviewers still rate, and
`interviewbot results` still works; a new invitation is refused.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from bots.telegram.channel import TelegramChannel
from core.commands import CreateInvitation
from core.errors import ScriptRetired
from core.states import State
from fakes.telegram import FakeTelegram
from tests.e2e.telegram_support import (
    FAST,
    REVIEW_GROUP,
    SCRIPT,
    SCRIPT_ID,
    Session,
    settings_for,
    start_bot,
)
from tests.support.console import run_cli

UNAVAILABLE = "not available right now"
EDITED = (SCRIPT.replace("Describe a trade-off you made.", "EDITED: your worst outage?")
          .replace("How do you test your code?", "EDITED: how do you deploy?"))


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(TelegramChannel, "default_pacing", FAST)
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


def folder(tmp: Path, name: str, text: str | None) -> Path:
    path = tmp / name
    path.mkdir()
    if text is not None:
        (path / f"{SCRIPT_ID}.yaml").write_text(text)
    return path


async def restart(session: Session, scripts: Path) -> None:
    await session.bot.stop()
    session.bot = await start_bot(settings_for(session.tmp, session.fake,
                                               INTERVIEWBOT_SCRIPTS=str(scripts)))


async def test_edit_then_retire_a_script_with_interviews_in_progress(tmp_path: Path) -> None:
    async with FakeTelegram() as fake:
        group = fake.group(REVIEW_GROUP, "Backend reviews")
        session = Session(fake, await start_bot(settings_for(tmp_path, fake)), tmp_path)
        ada, eve, rita = fake.user(1001, "Ada"), fake.user(1002, "Eve"), fake.user(2001, "Rita")
        try:
            # Ada completes; Eve is at question 2 of 3
            await session.to_question(ada, question="testing")
            fake.send_text(ada, "Unit tests first, then end-to-end tests against fakes.")
            receipt = await session.reply(ada, "Got your written answer")
            assert await session.press(ada, receipt, "Submit") == "Submitted."
            await fake.wait_for(lambda: len(fake.messages(REVIEW_GROUP)) >= 4, timeout=30)
            eve_interview = await session.to_question(eve, "Eve", question="tradeoff")

            # the script is edited: Eve keeps her questions, a new candidate gets the edit
            await restart(session, folder(tmp_path, "edited", EDITED))
            fake.send_text(eve, "I chose SQLite over PostgreSQL for a single-user tool.")
            receipt = await session.reply(eve, "Got your written answer")
            assert await session.press(eve, receipt, "Submit") == "Submitted."
            third = await session.reply(eve, "Question 3 of 3")
            assert "How do you test your code?" in (third.text or "")
            assert not any("EDITED" in (m.text or "") for m in fake.messages(eve.id))
            bob, token = session.app.engine.invite(
                CreateInvitation(SCRIPT_ID, "Bob", "telegram", "UTC"))
            assert token
            # ...while a new invitation gets the edited script
            new_script = session.app.services.script(bob)
            assert [q.text for q in new_script.questions if q.text.startswith("EDITED")] == [
                "EDITED: your worst outage?", "EDITED: how do you deploy?"]
            assert bob.script_revision != session.interview(eve_interview.id).script_revision

            # the script is removed from INTERVIEWBOT_SCRIPTS: retired
            await restart(session, folder(tmp_path, "retired", None))
            assert session.app.catalog.get(SCRIPT_ID) is None
            fake.send_command(eve, "/status")
            status = await session.reply(eve, "2 of 3")
            assert UNAVAILABLE not in (status.text or "")
            fake.send_text(eve, "Property tests for the parser, fakes for the network.")
            receipt = await session.reply(eve, "Got your written answer")
            assert await session.press(eve, receipt, "Submit") == "Submitted."
            await session.reply(eve, "That was the last question")
            # Eve's cards reach the reviewers, with the questions she was asked
            await fake.wait_for(lambda: len(fake.messages(REVIEW_GROUP)) >= 8, timeout=30)
            eve_cards = fake.messages(REVIEW_GROUP)[4:8]
            assert "Candidate #2" in (eve_cards[0].text or "")
            assert "How do you test your code?" in (eve_cards[3].text or "")

            # a reviewer rates Ada's answer on the retired script
            project = fake.messages(REVIEW_GROUP)[1]
            rated = await session.press(rita, project, "depth 1")
            assert rated is not None and rated.startswith("You rated Question 1 of 3 depth: 1")
            assert group.id == REVIEW_GROUP

            # results still work, from the command line too
            env = {"DATABASE_URL": session.app.settings.database_url,
                   "INTERVIEWBOT_DATA_DIR": str(session.app.settings.data_dir),
                   "INTERVIEWBOT_SCRIPTS": str(tmp_path / "retired")}
            results = run_cli(tmp_path, "results", SCRIPT_ID, **env)
            assert results.returncode == 0, results.stderr
            rows = list(csv.DictReader(io.StringIO(results.stdout)))
            assert [r["number"] for r in rows] == ["1", "2", "3"]
            assert rows[0]["project.depth.mean"] == "1"
            assert rows[1]["interview_id"] == eve_interview.id
            assert "testing.answer" in rows[1] and "Property tests" in rows[1]["testing.answer"]

            # new invitations are refused, in the engine and on the command line
            with pytest.raises(ScriptRetired, match="retired"):
                session.app.engine.invite(CreateInvitation(SCRIPT_ID, "Cy", "telegram", "UTC"))
            refused = run_cli(tmp_path, "invite", SCRIPT_ID, "--name", "Cy", "--console", **env)
            assert refused.returncode == 1 and "retired" in refused.stderr
            listed = run_cli(tmp_path, "list", SCRIPT_ID, **env)
            assert listed.stdout.count(SCRIPT_ID) >= 1 and "Cy" not in listed.stdout
            assert len(listed.stdout.strip().splitlines()) == 4  # header + 3 interviews

            # both candidates can still erase their data
            for person in (eve, ada):
                fake.send_command(person, "/delete")
                confirm = await session.reply(person, "Erase your answers")
                assert await session.press(person, confirm, "Yes, erase everything") == "Erased."
            assert session.interview(eve_interview.id).state is State.ERASED
            assert not any(UNAVAILABLE in (m.text or "") for m in
                           fake.messages(eve.id) + fake.messages(ada.id))
        finally:
            await session.bot.stop()
