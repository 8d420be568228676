"""`SlackChannel`: Bolt (`AsyncApp`) in our loop, in Socket Mode or HTTP mode at /slack/events.

Every listener acknowledges at once and hands the work to a task of its own, so Slack gets
its answer well inside 3 s; `idle()` waits for those tasks (tests, shutdown).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError

from bots.channels import EngineObserver
from bots.settings import Settings
from bots.slack import lookup, render, translate
from bots.slack.hiring_commands import register as register_hiring
from bots.slack.messenger import SlackMessenger, make_client
from core import payloads as pl
from core.candidate import clean_text, unreadable
from core.commands import ButtonPressed, ReviewerText
from core.engine import Engine
from core.i18n import N_, t
from core.locks import KeyedLocks
from core.messages import OutMessage
from core.observe import Observer
from core.ports import Messenger
from core.refs import TRANSCRIPT_PENDING, ChatRef, UserRef
from core.vocabulary import Verb

log = logging.getLogger("interviewbot.slack")

EVENTS_PATH = "/slack/events"
SEEN_LIMIT = 10_000  # event ids remembered for skipping Slack's retries
HOME_PAGE = "home_page:"  # App Home pager buttons: action id prefix, value = page number


class _SkipRetries(AsyncMiddleware):
    """Answer a retry (`X-Slack-Retry-Num`) of an event we already have at once, unhandled.

    Runs after Bolt verified the signature. Redeliveries that still get through (Socket
    Mode, another process, a restart) are caught by the engine's delivery keys.
    """

    def __init__(self, seen: Callable[[str], bool]) -> None:
        self.seen = seen

    async def async_process(self, *, req: AsyncBoltRequest, resp: BoltResponse,
                            next: Callable[[], Awaitable[BoltResponse]]) -> BoltResponse | None:
        event_id = req.body.get("event_id") if isinstance(req.body, dict) else None
        retry = req.headers.get("x-slack-retry-num")
        if event_id and retry and self.seen(str(event_id)):
            log.info("skipping Slack retry %s of event %s", retry[0], event_id)
            return BoltResponse(status=200, body="")
        return await next()


class _NoRequestBodies(logging.Filter):
    """Bolt logs the whole body of a request whose signature it refuses, at INFO: a person's
    message when a genuine Slack retry arrives too late. Keep the line, drop the body."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Invalid request signature detected"):
            record.msg, record.args = "refused a Slack request: invalid or expired signature", None
        return True


def _modal_refusal(body: Mapping[str, Any], cmd: ReviewerText | None) -> str | None:
    """Why a follow-up / reply modal's text cannot be sent, shown in the modal itself.

    The rule is the engine's (control characters dropped, at least two letters or digits),
    which checks again; here it spares the reviewer a closed modal and a message in the
    channel.
    """
    text = translate.submitted_text(body.get("view") or {}) or ""
    target = pl.parse(cmd.target) if cmd is not None else None
    what = "reply" if target is not None and target.action == pl.REPLY else "follow-up question"
    return unreadable(clean_text(text), what)


def _quiet_request_bodies() -> None:
    bolt = logging.getLogger("slack_bolt.RequestVerification")
    if not any(isinstance(f, _NoRequestBodies) for f in bolt.filters):
        bolt.addFilter(_NoRequestBodies())


class SlackChannel:
    """Slack for interviewbot: candidates' DMs, review channels, `/interview`, App Home."""

    name = "slack"

    def __init__(self, settings: Settings, engine: Engine, *,
                 observer: Observer | None = None) -> None:
        """`observer` counts outbound retries; by default the engine's (`Services.observer`,
        looked up at each retry, so metrics the composition root installs later count)."""
        if not settings.slack_bot_token:
            raise ValueError("SLACK_BOT_TOKEN is not set")
        if not settings.slack_app_token and not settings.slack_signing_secret:
            raise ValueError("HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for "
                             "Socket Mode)")
        self.settings = settings
        self.engine = engine
        self.observer: Observer = observer or EngineObserver(engine)
        self.client = make_client(settings.slack_bot_token, settings.slack_api_url,
                                  self.observer)
        self.slack = SlackMessenger(self.client)
        self.messenger: Messenger = self.slack
        self.socket_mode = bool(settings.slack_app_token)
        self.processing_checks = 2  # files.info re-reads of a clip Slack is still processing
        self.processing_wait = 2.0  # seconds between them
        _quiet_request_bodies()
        self.bolt = AsyncApp(client=self.client, name="interviewbot",
                             signing_secret=settings.slack_signing_secret or "",
                             process_before_response=True, logger=log)
        self._tasks: set[asyncio.Task[None]] = set()
        self._inflight: set[str] = set()
        self._done: OrderedDict[str, None] = OrderedDict()
        self._chat_locks = KeyedLocks()
        self.directory = lookup.Directory(self.client)
        views = getattr(engine, "views", None)  # None in construction-only tests
        if views is not None:
            views.resolve_groups_with(self.directory.members)
        self._socket: Any = None
        self._started = False
        self._register()

    # -- Channel -------------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> bool:
        """HTTP mode: `POST /slack/events` for events, interactivity and slash commands."""
        if self.socket_mode:
            return False
        app.router.add_post(EVENTS_PATH, self._http)
        return True

    async def start(self) -> None:
        await self.slack.open()
        refused = await lookup.public_channels(self.client, self.engine.views.scripts())
        if refused:
            raise lookup.ReviewChannelRefused(lookup.public_channel_message(refused))
        if self.socket_mode:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            self._socket = AsyncSocketModeHandler(self.bolt, self.settings.slack_app_token)
            await self._socket.connect_async()
            log.info("Slack connected in Socket Mode")
        else:
            log.info("Slack in HTTP mode at %s", EVENTS_PATH)
        self._started = True

    async def stop(self) -> None:
        self._started = False
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        await self.idle(timeout=10)
        for task in list(self._tasks):
            task.cancel()
        await self.slack.close()

    def connected(self) -> bool:
        if self.socket_mode:
            return self._socket is not None and self._socket.client is not None and \
                not self._socket.client.closed
        return self._started

    async def open_outbound(self) -> None:
        """Make the messenger usable without receiving anything (CLI commands)."""
        await self.slack.open()

    async def close_outbound(self) -> None:
        await self.slack.close()

    async def idle(self, timeout: float | None = None) -> None:
        """Wait until every acknowledged request has been handled."""
        async def drain() -> None:
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)

        try:
            await asyncio.wait_for(drain(), timeout)
        except TimeoutError:
            log.warning("%d Slack tasks still running at shutdown", len(self._tasks))

    # -- plumbing ------------------------------------------------------------------------
    async def _http(self, request: web.Request) -> web.Response:
        try:  # Bolt parses the body before checking the signature: refuse what it cannot
            bolt_request = await to_bolt_request(request)
        except ValueError:  # a payload that is not JSON, a body that is not UTF-8
            return web.Response(status=400, text="bad request")
        response = await self.bolt.async_dispatch(bolt_request)
        return await to_aiohttp_response(response)

    def _seen(self, event_id: str) -> bool:
        return event_id in self._inflight or event_id in self._done

    def _spawn(self, work: Coroutine[Any, Any, None], key: str | None = None) -> None:
        """Run `work` after the ack; remember `key` (an event id) once it succeeded."""
        if key:
            self._inflight.add(key)
        task = asyncio.create_task(self._guard(work, key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _guard(self, work: Coroutine[Any, Any, None], key: str | None) -> None:
        try:
            await work
        except Exception:
            log.exception("Slack request failed after the ack")
            if key:
                self._inflight.discard(key)
            return
        if key:
            self._inflight.discard(key)
            self._done[key] = None
            while len(self._done) > SEEN_LIMIT:
                self._done.popitem(last=False)

    def _register(self) -> None:
        app = self.bolt
        app.middleware(_SkipRetries(self._seen))
        register_hiring(app, self)  # /interview invite|list, before the candidates' listener

        @app.event("message")
        async def on_message(body: dict[str, Any], context: Mapping[str, Any]) -> None:
            event_id = body.get("event_id")
            self._spawn(self._message(body, context.get("bot_user_id")), event_id)

        @app.event("app_home_opened")
        async def on_home(event: dict[str, Any]) -> None:
            if event.get("tab") == "home" and event.get("user"):
                self._spawn(self._publish_home(str(event["user"])))

        @app.action(re.compile(".*"))
        async def on_action(ack: Callable[..., Awaitable[None]], body: dict[str, Any]) -> None:
            await ack()
            self._spawn(self._action(body))

        @app.view(translate.REPLY_CALLBACK)
        async def on_view(ack: Callable[..., Awaitable[None]], body: dict[str, Any]) -> None:
            cmd = translate.view_submission(body)
            refusal = _modal_refusal(body, cmd)
            if refusal is not None:
                await ack(response_action="errors", errors={translate.REPLY_BLOCK: refusal})
                return
            await ack()
            if cmd is not None:
                self._spawn(self._engine(cmd))

        @app.command("/interview")
        async def on_command(ack: Callable[..., Awaitable[None]],
                             command: dict[str, Any]) -> None:
            words = str(command.get("text") or "").split()
            person = UserRef(translate.PLATFORM, str(command.get("user_id", "")))
            if not words or Verb.parse(words[0]) in (None, Verb.HELP):
                await ack(text=self.engine.words_for(person, translate.HELP))
                return
            if str(command.get("channel_id", "")).startswith("D"):
                await ack()
            else:
                await ack(text=self.engine.words_for(person, N_(
                    "I'll answer in our direct messages.")))
            self._spawn(self._command(command))

    # -- handlers (after the ack) ----------------------------------------------------------
    def _groups(self) -> list[str]:
        """Every Slack user group a script names (resolved before a reviewer's press)."""
        return self.engine.views.review_groups()

    async def _engine(self, cmd: Any) -> None:
        await self.directory.warm(self._groups())
        await self.engine.handle(cmd)

    async def _message(self, body: dict[str, Any], bot_user_id: str | None) -> None:
        event = dict(body.get("event") or {})
        channel = str(event.get("channel", ""))
        async with self._chat_locks[channel]:
            if event.get("files") and not str(event.get("subtype") or "").startswith("message_"):
                event["files"] = await self._full_files(event["files"])
            inbound = translate.message_event(event, event_id=body.get("event_id"),
                                              bot_user_id=bot_user_id)
            if isinstance(inbound, translate.Reply):
                await self.slack.send(inbound.chat, OutMessage(
                    self.engine.words_for(inbound.user, inbound.text)))
            elif inbound is not None:
                await self.engine.handle(inbound)

    async def _full_files(self, files: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Complete file stubs with `files.info`; give a clip Slack is still processing a
        few seconds to finish before the engine asks for it again."""
        out = []
        for file in files:
            if translate.needs_file_info(file):
                file = await self._file_info(file)
            checks = self.processing_checks if translate.is_audio(file) else 0
            while checks and translate.transcript(file) == TRANSCRIPT_PENDING:
                checks -= 1
                await asyncio.sleep(self.processing_wait)
                file = await self._file_info(file)
            out.append(file)
        return out

    async def _file_info(self, file: dict[str, Any]) -> dict[str, Any]:
        try:
            return await self.slack.file_info(str(file["id"]))
        except (SlackApiError, KeyError):
            log.warning("files.info failed for a shared file")
            return file

    async def _action(self, body: dict[str, Any]) -> None:
        action = (body.get("actions") or [{}])[0]
        if str(action.get("action_id", "")).startswith(HOME_PAGE) and body.get("user"):
            value = str(action.get("value", ""))
            page = int(value) if value.isdigit() else 0
            await self._publish_home(str(body["user"].get("id", "")), min(page, 10_000))
            return
        await self.directory.warm(self._groups())
        cmd = translate.block_action(body)
        if cmd is None:
            return
        if pl.asks_for_text(cmd.payload):  # a modal to write in
            await self._open_modal(cmd, str(body.get("trigger_id", "")))
            return
        async def answer(reply: str | None) -> None:
            if reply:
                await self.slack.notify(cmd.chat, cmd.user, reply)

        await self.engine.handle(cmd, answer)

    async def _open_modal(self, cmd: ButtonPressed, trigger_id: str) -> None:
        await self.directory.warm(self._groups())
        prompt = self.engine.views.modal_prompt(cmd.user, cmd.chat, cmd.payload)
        if not prompt.allowed:
            await self.slack.notify(cmd.chat, cmd.user, prompt.text)
            return
        view = render.reply_modal(cmd.payload, cmd.chat.id, prompt.text, prompt.language)
        try:
            await self.client.views_open(trigger_id=trigger_id, view=view)
        except SlackApiError as exc:
            log.warning("views.open failed: %s", exc.response.get("error"))
            await self.slack.notify(cmd.chat, cmd.user, t(prompt.language, N_(
                "That took too long; please press the button again.")))

    async def _command(self, command: dict[str, Any]) -> None:
        user = str(command["user_id"])
        dm = ChatRef("slack", await self.slack.open_dm(user))
        cmd = translate.slash_command(command, dm)
        if cmd is None:
            return
        async with self._chat_locks[dm.id]:
            await self.engine.handle(cmd)

    async def _publish_home(self, user_id: str, page: int = 0) -> None:
        """The viewer's App Home: their own interview and one page of the interviews they
        review (see `core.dashboards.home_page`), with Newer/Older buttons."""
        user = UserRef("slack", user_id)
        views = self.engine.views
        await self.directory.warm(views.review_groups())
        channels = await self.directory.my_channels(user, views.scripts(), views.destinations)
        found = views.home(user, channels, page)
        view = render.home_view([render.HomeItem(e.title, e.detail) for e in found.own],
                                [render.HomeItem(e.title, e.detail) for e in found.waiting])
        pager = [{"type": "button", "action_id": f"{HOME_PAGE}{n}", "value": str(n),
                  "text": {"type": "plain_text", "text": label}}
                 for n, label, show in ((found.page - 1, "Newer", found.page > 0),
                                        (found.page + 1, "Older", found.more)) if show]
        if pager:
            view["blocks"].insert(-1, {"type": "actions", "elements": pager})
        await self.client.views_publish(user_id=user_id, view=view)
