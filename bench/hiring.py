"""Benchmark: the HTTP API and webhook delivery on SQLite, against local receivers.

Run: .venv/bin/python -m bench.hiring [--requests 200] [--events 300]

- API: `POST /api/v1/invitations` (Telegram link, bot username cached after the first) and
  `GET /api/v1/interviews/{id}`, one request at a time, latency per request.
- Webhooks: `--events` invitations created back to back; the time from each commit to its
  arrival at a local receiver (the sender polls every 0.5 s), and the delivery rate.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from bench.common import median, percentile
from bots.api.keys import create_key
from bots.app import build, serve
from bots.settings import Settings
from core.commands import CreateInvitation
from storage.db import make_engine
from storage.migrate import upgrade

SECRET = "whsec_" + "c2VjcmV0LXNpZ25pbmcta2V5LWZvci10aGUtdGVzdHMh"
SCRIPT = """\
id: bench
title: Bench
consent: "OK?"
questions:
  - {id: one, text: "Why?"}
rubric: {clarity: "Clear", scale: [1, 2, 3]}
review: {reviewers: ["slack:C1"]}
"""


def ms(values: list[float]) -> str:
    return (f"median {median(values) * 1000:.1f} ms · p90 {percentile(values, 90) * 1000:.1f} ms"
            f" · n={len(values)}")


async def main(requests: int, events: int) -> None:
    from fakes.telegram import FakeTelegram
    from tests.e2e.telegram_support import free_port

    arrived: dict[str, float] = {}

    async def receive(request: web.Request) -> web.Response:
        body = await request.json()
        arrived[body["data"]["interview_id"]] = time.perf_counter()
        return web.Response(status=204)

    receiver = web.Application()
    receiver.router.add_post("/hook", receive)
    runner = web.AppRunner(receiver)
    await runner.setup()
    hook_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", hook_port).start()
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        (tmp / "bench.yaml").write_text(SCRIPT)
        db = make_engine(f"sqlite:///{tmp / 'ib.db'}")
        upgrade(db)
        db.dispose()
        async with FakeTelegram() as tg:
            port = free_port()
            settings = Settings(
                _env_file=None, DATABASE_URL=f"sqlite:///{tmp / 'ib.db'}",
                INTERVIEWBOT_DATA_DIR=str(tmp / "data"),
                INTERVIEWBOT_SCRIPTS=str(tmp / "bench.yaml"), INTERVIEWBOT_HTTP_PORT=port,
                TELEGRAM_BOT_TOKEN=tg.token, TELEGRAM_API_URL=f"{tg.url}/bot",
                INTERVIEWBOT_WEBHOOK_URL=f"http://127.0.0.1:{hook_port}/hook",
                INTERVIEWBOT_WEBHOOK_SECRET=SECRET)
            app = build(settings)
            key = create_key(app.db, "bench")
            stop = asyncio.Event()
            server = asyncio.create_task(serve(app, [], stop))
            base = f"http://127.0.0.1:{port}/api/v1"
            async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as http:
                for _ in range(200):
                    try:
                        async with http.get(base + "/openapi.json") as ok:
                            if ok.status == 200:
                                break
                    except aiohttp.ClientConnectionError:
                        await asyncio.sleep(0.05)
                posts, gets, ids = [], [], []
                for n in range(requests):
                    started = time.perf_counter()
                    async with http.post(base + "/invitations", json={
                            "script_id": "bench", "name": f"C {n}", "channel": "telegram"}) as r:
                        ids.append((await r.json())["interview_id"])
                    posts.append(time.perf_counter() - started)
                for interview_id in ids:
                    started = time.perf_counter()
                    async with http.get(f"{base}/interviews/{interview_id}") as r:
                        await r.read()
                    gets.append(time.perf_counter() - started)
            await wait_for(lambda: len(arrived) >= requests, 120)
            arrived.clear()
            committed: dict[str, float] = {}
            first = time.perf_counter()
            for n in range(events):
                interview, _ = app.engine.invite(CreateInvitation("bench", f"W {n}", "telegram"))
                committed[interview.id] = time.perf_counter()
            await wait_for(lambda: len(arrived) >= events, 300)
            last = max(arrived.values())
            lags = [arrived[i] - at for i, at in committed.items()]
            single: list[float] = []
            for n in range(30):  # one event at a time: the commit wakes the sender
                interview, _ = app.engine.invite(CreateInvitation("bench", f"S {n}", "telegram"))
                at = time.perf_counter()
                await wait_for(lambda i=interview.id: i in arrived, 30)
                single.append(arrived[interview.id] - at)
            stop.set()
            await server
    await runner.cleanup()
    print(f"POST /invitations       {ms(posts)}")
    print(f"GET /interviews/{{id}}   {ms(gets)}")
    print(f"webhook, one at a time  {ms(single)}")
    print(f"webhook, {events} at once   {ms(lags)} (commit to receipt)")
    print(f"webhook delivery rate   {events / (last - first):.0f} events/s "
          f"({events} events, one sender, sequential POSTs)")


async def wait_for(condition: object, timeout: float) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():  # type: ignore[operator]
        if time.perf_counter() > deadline:
            raise TimeoutError("benchmark condition not met")
        await asyncio.sleep(0.01)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--events", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.events))
