"""Script revisions on SQLite and PostgreSQL: kept once, read back, legacy rows pinned."""

from __future__ import annotations

from sqlalchemy import Engine, text

from bots.scripts import ScriptCatalog, ScriptSource, parse_yaml, retired_lines, sample_text
from core.commands import CreateInvitation, InviteAccepted, UserCommand
from core.ports import ScriptRevision
from core.refs import ChatRef, UserRef
from core.states import State
from core.vocabulary import Verb
from storage.scripts import live_by_script, pin_unpinned
from storage.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory
from tests.support.core_fakes import FakeCatalog, make_world
from tests.support.scripts import small_script

ADA, ADA_CHAT = UserRef("telegram", "42"), ChatRef("telegram", "42")


def test_a_revision_is_kept_once_and_read_back(db: Engine) -> None:
    first = ScriptRevision("a" * 64, "qa", "id: qa\n")
    for _ in range(2):  # two invitations, two transactions, one row
        with SqlUnitOfWork(db) as uow:
            uow.scripts.add(first)
            uow.scripts.add(first)
            uow.commit()
    with SqlUnitOfWork(db) as uow:
        uow.scripts.add(ScriptRevision("b" * 64, "qa", "id: qa\ntitle: later\n"))
        uow.commit()
    with SqlUnitOfWork(db) as uow:
        assert uow.scripts.get("a" * 64) == first
        assert uow.scripts.get("c" * 64) is None
        latest = uow.scripts.latest("qa")
        assert latest is not None and latest.hash == "b" * 64
        assert uow.scripts.latest("other") is None
    with db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM script_revision")).scalar() == 2


async def test_a_retired_script_is_read_from_the_database(db: Engine) -> None:
    world = make_world(small_script(), uow=SqlUnitOfWorkFactory(db))
    _, token = world.engine.invite(CreateInvitation("qa", "Ada", "telegram", "UTC"))
    await world.engine.handle(InviteAccepted(ADA, ADA_CHAT, token))
    catalog = world.engine.s.scripts
    assert isinstance(catalog, FakeCatalog)
    catalog.retire("qa")
    world.engine.s._pinned.clear()  # as a new process would start
    await world.engine.handle(UserCommand(ADA, ADA_CHAT, Verb.STATUS))
    assert "not available" not in world.telegram.texts(ADA_CHAT)[-1]
    assert live_by_script(db)["qa"].open == 1
    assert retired_lines(db, catalog) == [  # type: ignore[arg-type]
        "retired script 'qa': 1 open and 0 completed interview(s) go on with the revision "
        "they were invited to; new invitations are refused"]
    catalog.serve(small_script())
    assert retired_lines(db, catalog) == []  # type: ignore[arg-type]


def test_interviews_from_before_revisions_are_pinned_to_the_current_file(db: Engine) -> None:
    text_now = sample_text()
    catalog = ScriptCatalog([ScriptSource(parse_yaml(text_now, "be.yaml"), text_now, "be.yaml")])
    world = make_world(catalog.get("backend-engineer"),  # type: ignore[arg-type]
                       uow=SqlUnitOfWorkFactory(db))
    world.engine.s.scripts = catalog
    kept, _ = world.engine.invite(CreateInvitation("backend-engineer", "Ada", "console", None))
    erased, _ = world.engine.invite(CreateInvitation("backend-engineer", "Bo", "console", None))
    with db.begin() as conn:  # as rows written before the migration
        conn.execute(text("UPDATE interview SET script_revision = NULL"))
        conn.execute(text("UPDATE interview SET state = 'erased' WHERE id = :i"),
                     {"i": erased.id})
        conn.execute(text("INSERT INTO interview (id, script_id, number, candidate_name, "
                          "token_hash, invited_at, deadline, platform, tz, tz_confirmed, "
                          "state, awaiting_redo, version) SELECT 'gone', 'gone-role', 1, "
                          "candidate_name, 'x', invited_at, deadline, platform, tz, "
                          "tz_confirmed, state, awaiting_redo, 1 FROM interview WHERE id = :i"),
                     {"i": kept.id})
    assert pin_unpinned(db, catalog.revision) == 1
    assert pin_unpinned(db, catalog.revision) == 0
    revision = catalog.revision("backend-engineer")
    assert revision is not None
    with SqlUnitOfWork(db) as uow:
        pinned = uow.interviews.get(kept.id)
        assert pinned is not None and pinned.script_revision == revision.hash
        assert pinned.state is State.INVITED
        left = uow.interviews.get(erased.id)
        assert left is not None and left.script_revision is None
        unknown = uow.interviews.get("gone")
        assert unknown is not None and unknown.script_revision is None
        assert uow.scripts.get(revision.hash) == revision
