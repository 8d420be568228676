"""The HTTP API's refusals: no key, a revoked key, bad bodies, unknown scripts and ids, an
erased interview. Each gets a clear JSON error and changes nothing (no interview, no webhook,
no audit entry). Also the OpenAPI document (validated) and the `api-key` / `webhooks` CLI."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from openapi_spec_validator import validate
from sqlalchemy import func, select

from bots.api.keys import create_key, revoke_key
from bots.app import App, build, serve
from fakes.telegram import FakeTelegram
from storage.tables import ApiKeyRow, AuditRow, InterviewRow, WebhookDeliveryRow
from tests.e2e.ats_support import SECRET, AtsStandIn
from tests.e2e.slack_support import _wait_until_up
from tests.e2e.telegram_support import free_port
from tests.e2e.test_ats_api import settings_for
from tests.support.console import run_cli


@dataclass
class Api:
    app: App
    base: str
    http: aiohttp.ClientSession
    ats: AtsStandIn

    async def call(self, method: str, path: str, key: str | None = None, **kw: Any
                   ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        async with self.http.request(method, self.base + "/api/v1" + path, headers=headers,
                                     **kw) as r:
            return r.status, (await r.json() if r.content_type == "application/json" else None)

    def counts(self) -> tuple[int, ...]:
        with self.app.db.connect() as conn:
            return tuple(int(conn.execute(select(func.count()).select_from(t)).scalar() or 0)
                         for t in (InterviewRow, WebhookDeliveryRow, AuditRow))


@asynccontextmanager
async def running_api(tmp: Path) -> AsyncIterator[Api]:
    async with FakeTelegram() as tg, AtsStandIn() as ats:
        port = free_port()
        app = build(settings_for(tmp, tg, None, port, ats.url))
        stop = asyncio.Event()
        server = asyncio.create_task(serve(app, [], stop))
        try:
            base = f"http://127.0.0.1:{port}"
            await _wait_until_up(base, server)
            async with aiohttp.ClientSession() as http:
                yield Api(app, base, http, ats)
        finally:
            stop.set()
            await server


def invitation(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"script_id": "ats", "name": "Grace Hopper", "channel": "telegram",
                            "tz": "America/New_York", "external_ref": "lever:opp:77"}
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


async def test_refused_requests_answer_clearly_and_change_nothing(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        key = create_key(api.app.db, "lever")
        old = create_key(api.app.db, "old")
        revoke_key(api.app.db, "old")
        before = api.counts()

        status, body = await api.call("POST", "/invitations", json=invitation())
        assert status == 401 and "Authorization: Bearer" in body["error"]["message"]
        status, body = await api.call("POST", "/invitations", old, json=invitation())
        assert status == 401 and body["error"]["message"] == "this API key is unknown or revoked"
        status, body = await api.call("GET", "/interviews", "ibk_made-up")
        assert status == 401

        async def bad(payload: Any, *fields: str, raw: bytes | None = None) -> str:
            kw = {"data": raw} if raw is not None else {"json": payload}
            status, body = await api.call("POST", "/invitations", key, **kw)
            assert status == 400, body
            named = {d["field"] for d in body["error"]["details"]}
            assert set(fields) <= named, (fields, body)
            return str(body["error"]["message"])

        assert "not JSON" in await bad(None, raw=b"{name: 'x'")
        assert "JSON object" in await bad([1, 2])
        await bad(invitation(name=None, channel="email"), "name", "channel")
        assert "needs slack_user" in await bad(invitation(channel="slack"))
        assert "only for channel slack" in await bad(invitation(slack_user="U0ABC"))
        assert "unknown time zone 'Mars/Olympus'" in await bad(invitation(tz="Mars/Olympus"), "tz")
        await bad(invitation(name="   "), "name")
        await bad(invitation(colour="blue"), "colour")
        await bad(invitation(lang="Deutsch"), "lang")
        assert "is not offered in 'de'; its languages: en" in await bad(invitation(lang="de"))
        status, body = await api.call("POST", "/invitations", key,
                                      json=invitation(script_id="astronaut"))
        assert status == 404 and body["error"]["code"] == "unknown_script"
        status, body = await api.call("GET", "/interviews/0123456789abcdef", key)
        assert status == 404 and "no interview with id" in body["error"]["message"]
        status, body = await api.call("GET", "/scripts/astronaut/results", key)
        assert status == 404
        for query in ("state=bogus", "limit=0", "limit=x", "offset=-1"):
            status, body = await api.call("GET", f"/interviews?{query}", key)
            assert status == 400, query
        status, _ = await api.call("GET", "/interviews?script=astronaut", key)
        assert status == 404
        assert api.counts() == before

        # an erased interview: its data is gone, and it cannot be extended or erased again
        status, created = await api.call("POST", "/invitations", key, json=invitation())
        assert status == 201, created
        interview_id = created["interview_id"]
        status, _ = await api.call("POST", f"/interviews/{interview_id}/extend", key,
                                   json={"hours": 0})
        assert status == 400
        status, body = await api.call("POST", f"/interviews/{interview_id}/extend", key,
                                      json={"hours": 48})
        assert status == 200 and body["state"] == "invited"
        status, _ = await api.call("DELETE", f"/interviews/{interview_id}", key)
        assert status == 204
        await api.ats.wait_for("interview.erased")
        erased = api.counts()
        status, body = await api.call("DELETE", f"/interviews/{interview_id}", key)
        assert status == 410 and body["error"]["code"] == "erased"
        status, body = await api.call("POST", f"/interviews/{interview_id}/extend", key,
                                      json={"hours": 24})
        assert status == 410
        assert api.counts() == erased
        status, body = await api.call("GET", f"/interviews/{interview_id}", key)
        assert status == 200 and body["state"] == "erased" and body["name"] is None
        assert body["external_ref"] == "lever:opp:77"
        (event,) = api.ats.of_type("interview.erased")
        assert event.event["data"]["interview_id"] == interview_id
        assert "Grace" not in repr([r.event for r in api.ats.events.values()])

        # a language the script offers is kept on the interview
        status, created = await api.call("POST", "/invitations", key, json=invitation(lang="en"))
        assert status == 201, created
        status, body = await api.call("GET", f"/interviews/{created['interview_id']}", key)
        assert status == 200 and body["language"] == "en"


async def test_list_pages_and_the_openapi_document(tmp_path: Path) -> None:
    async with running_api(tmp_path) as api:
        key = create_key(api.app.db, "ats")
        for name in ("A One", "B Two", "C Three"):
            status, _ = await api.call("POST", "/invitations", key, json=invitation(name=name))
            assert status == 201
        status, page = await api.call("GET", "/interviews?script=ats&limit=2", key)
        assert status == 200 and page["total"] == 3 and page["next_offset"] == 2
        assert [i["number"] for i in page["items"]] == [1, 2]
        status, page = await api.call("GET", "/interviews?script=ats&state=invited&offset=2", key)
        assert [i["name"] for i in page["items"]] == ["C Three"] and page["next_offset"] is None
        status, document = await api.call("GET", "/openapi.json")  # public: no key
        assert status == 200
        validate(document)
        assert "InvitationIn" in document["components"]["schemas"]
        assert set(document["paths"]) == {"/invitations", "/interviews", "/interviews/{id}",
                                          "/interviews/{id}/extend", "/scripts/{id}/results"}


async def test_api_key_and_webhook_cli(tmp_path: Path) -> None:
    async with AtsStandIn() as ats:
        env = {"INTERVIEWBOT_WEBHOOK_URL": ats.url, "INTERVIEWBOT_WEBHOOK_SECRET": SECRET}
        # reading commands never create a database: a wrong data directory is an error
        for command in (("list",), ("revoke", "workable")):
            missing = await asyncio.to_thread(run_cli, tmp_path, "api-key", *command)
            assert missing.returncode == 1 and "no database at" in missing.stderr
        assert not (tmp_path / "ib.db").exists()
        created = await asyncio.to_thread(run_cli, tmp_path, "api-key", "create", "workable")
        assert created.returncode == 0, created.stderr
        key = created.stdout.strip()
        assert key.startswith("ibk_") and "not shown again" in created.stderr
        listed = await asyncio.to_thread(run_cli, tmp_path, "api-key", "list")
        assert "workable" in listed.stdout and key not in listed.stdout
        assert key[:10] in listed.stdout and "active" in listed.stdout
        again = await asyncio.to_thread(run_cli, tmp_path, "api-key", "create", "workable")
        assert again.returncode == 1 and "exists already" in again.stderr
        revoked = await asyncio.to_thread(run_cli, tmp_path, "api-key", "revoke", "workable")
        assert revoked.returncode == 0
        twice = await asyncio.to_thread(run_cli, tmp_path, "api-key", "revoke", "workable")
        assert twice.returncode == 1 and "no active key" in twice.stderr
        from storage.db import make_engine

        db = make_engine(f"sqlite:///{tmp_path / 'ib.db'}")
        with db.connect() as conn:
            (stored,) = conn.execute(select(ApiKeyRow.__table__)).all()  # type: ignore[attr-defined]
        db.dispose()
        assert stored.key_hash != key and key not in repr(stored)

        pinged = await asyncio.to_thread(run_cli, tmp_path, "webhooks", "test", **env)
        assert pinged.returncode == 0, pinged.stderr
        (ping,) = ats.events.values()
        assert ping.event["type"] == "ping" and "delivered" in pinged.stdout
        ats.fail_first = 10**6
        failed = await asyncio.to_thread(run_cli, tmp_path, "webhooks", "test", **env)
        assert failed.returncode == 1 and "HTTP 500" in failed.stderr
        nosecret = await asyncio.to_thread(run_cli, tmp_path, "webhooks", "test",
                                           INTERVIEWBOT_WEBHOOK_URL=ats.url)
        assert nosecret.returncode == 1 and "whsec_" in nosecret.stderr


async def test_listing_costs_the_same_few_statements_for_any_page_off_the_event_loop(
        tmp_path: Path) -> None:
    """`GET /interviews` reads a page with a constant number of SELECTs (not one per row),
    and none of them runs on the event loop's thread."""
    import threading

    from sqlalchemy import event

    async with running_api(tmp_path) as api:
        key = create_key(api.app.db, "ats")
        selects: list[int] = []  # the thread of each SELECT

        def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            # the server's own background work (webhook sender, scheduler) is not the request's
            if statement.lstrip().upper().startswith("SELECT") and not any(
                    t in statement for t in ("webhook_delivery", "apscheduler", "outbox")):
                selects.append(threading.get_ident())

        async def listing(limit: int) -> int:
            selects.clear()
            status, page = await api.call("GET", f"/interviews?limit={limit}", key)
            assert status == 200 and len(page["items"]) == limit
            assert all(i["answers"] == 0 for i in page["items"])
            return len(selects)

        for n in range(12):
            status, _ = await api.call("POST", "/invitations", key,
                                       json=invitation(name=f"Person {n}"))
            assert status == 201
        event.listen(api.app.db, "before_cursor_execute", seen)
        try:
            # the fewest of two runs: a background query may still land in one of them
            few = min(await listing(2), await listing(2))
            many = min(await listing(12), await listing(12))
            loop_thread = threading.get_ident()
            assert selects and loop_thread not in selects, "a query ran on the event loop"
        finally:
            event.remove(api.app.db, "before_cursor_execute", seen)
        assert few == many, f"{few} SELECTs for 2 rows, {many} for 12"
