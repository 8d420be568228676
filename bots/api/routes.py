"""The HTTP API under /api/v1: invitations, interviews, results, extension and erasure.

Every request but the OpenAPI document needs `Authorization: Bearer <key>` (bots/api/keys.py).
Bodies are validated with the pydantic models of bots/api/schemas.py; every read or change
of candidate data is written to the interview's audit log with the key's name.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from bots.api import schemas as s
from bots.api.keys import verify_key
from bots.api.openapi import openapi_document
from core.commands import CreateInvitation
from core.errors import DomainError
from core.model import AuditEntry
from core.queries import InterviewSummary
from core.results import scorecard
from core.states import State

if TYPE_CHECKING:
    from bots.app import App

log = logging.getLogger("interviewbot.api")
M = TypeVar("M", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
APP_KEY: web.AppKey[App] = web.AppKey("interviewbot_app")
KEY_NAME: web.RequestKey[str] = web.RequestKey("api_key_name", str)
MAX_BODY = 64 * 1024
PUBLIC = ("/api/v1/openapi.json",)
ENDED = (State.COMPLETED, State.WITHDRAWN, State.SCREENED_OUT)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str,
                 details: list[s.ErrorDetail] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.details = status, code, details or []


def reply(model: BaseModel, status: int = 200) -> web.Response:
    return web.json_response(model.model_dump(mode="json"), status=status)


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bearer key check first, then one JSON error shape for every failure."""
    try:
        if request.path not in PUBLIC:
            header = request.headers.get("Authorization", "")
            scheme, _, key = header.partition(" ")
            if scheme.lower() != "bearer" or not key.strip():
                raise ApiError(401, "unauthorized", "send an API key: Authorization: Bearer <key>")
            name = await asyncio.to_thread(verify_key, request.app[APP_KEY].db, key.strip())
            if name is None:
                raise ApiError(401, "unauthorized", "this API key is unknown or revoked")
            request[KEY_NAME] = name
        return await handler(request)
    except ApiError as exc:
        return web.json_response(s.error(exc.code, str(exc), exc.details), status=exc.status,
                                 headers={"WWW-Authenticate": "Bearer"} if exc.status == 401
                                 else None)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return web.json_response(s.error("not_found" if exc.status == 404 else "http_error",
                                         exc.reason), status=exc.status)


async def body(request: web.Request, model: type[M]) -> M:
    """The request body as `model`, or a 400 naming every bad field."""
    raw = await request.read()
    if len(raw) > MAX_BODY:
        raise ApiError(413, "body_too_large", f"the body is larger than {MAX_BODY} bytes")
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "the body is not JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_body", "the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [s.ErrorDetail(field=".".join(str(p) for p in e["loc"]) or "body",
                                 message=e["msg"].removeprefix("Value error, "))
                   for e in exc.errors()]
        raise ApiError(400, "invalid_body", "; ".join(f"{d.field}: {d.message}"
                                                      for d in details), details) from None


def actor(request: web.Request) -> str:
    return f"api:{request[KEY_NAME]}"


async def audit(app: App, request: web.Request, interview_ids: list[str], action: str
                ) -> None:
    """One audit entry per interview whose data this request reads or changes (one
    transaction, off the event loop)."""
    if not interview_ids:
        return
    who, what = actor(request), f"{request.method} {request.path}"[:200]

    def write() -> None:
        now = app.services.clock.now()
        with app.services.uow() as uow:
            for interview_id in interview_ids:
                uow.reviews.audit(AuditEntry(interview_id, who, action, what, now))
            uow.commit()

    await asyncio.to_thread(write)


def out(interview: InterviewSummary) -> s.InterviewOut:
    return s.InterviewOut(
        id=interview.id, script_id=interview.script_id, number=interview.number,
        state=interview.state.value,
        channel=interview.platform, name=interview.candidate_name or None,
        external_ref=interview.external_ref, tz=interview.tz, language=interview.language,
        invited_at=interview.invited_at,
        deadline=interview.deadline, accepted_at=interview.accepted_at,
        started_at=interview.started_at, completed_at=interview.completed_at,
        ended_at=interview.ended_at, answers=interview.answers)


class Api:
    """The handlers; one instance per server."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._username: str | None = None

    async def _get(self, interview_id: str) -> InterviewSummary:
        found = await asyncio.to_thread(self.app.engine.views.summary, interview_id)
        if found is None:
            raise ApiError(404, "not_found", f"no interview with id {interview_id!r}")
        return found

    async def _telegram_username(self) -> str:
        if self._username is None:
            from bots.links import bot_username

            self._username = await asyncio.to_thread(bot_username, self.app.settings)
        return self._username

    async def create_invitation(self, request: web.Request) -> web.Response:
        data = await body(request, s.InvitationIn)
        app = self.app
        if app.catalog.get(data.script_id) is None:
            raise ApiError(404, "unknown_script", f"no script with id {data.script_id!r}")
        if data.channel == "telegram" and not app.settings.telegram_bot_token:
            raise ApiError(400, "channel_unavailable", "Telegram is not configured on this "
                                                       "server (TELEGRAM_BOT_TOKEN)")
        if data.channel == "slack" and not app.settings.slack_bot_token:
            raise ApiError(400, "channel_unavailable", "Slack is not configured on this "
                                                       "server (SLACK_BOT_TOKEN)")
        username = None
        if data.channel == "telegram":
            try:
                username = await self._telegram_username()
            except RuntimeError as exc:
                raise ApiError(503, "channel_unavailable", str(exc)) from None
        try:
            interview, token = app.engine.invite(CreateInvitation(
                data.script_id, data.name, data.channel, data.tz, external_ref=data.external_ref,
                language=data.lang))
        except DomainError as exc:
            raise ApiError(400, "invalid_body", str(exc)) from None
        await audit(app, request, [interview.id], "api invite")
        if username is not None:
            from bots.links import telegram_link

            delivery = s.Delivery(status="link", link=telegram_link(username, token))
        else:
            delivery = await self._slack(token, data)
        found = await self._get(interview.id)
        return reply(s.InvitationOut(
            interview_id=found.id, number=found.number, script_id=found.script_id,
            state=found.state.value, deadline=found.deadline, external_ref=found.external_ref,
            delivery=delivery), 201)

    async def _slack(self, token: str, data: s.InvitationIn) -> s.Delivery:
        from bots.slack.invite import SlackInviteFailed, invite_slack_user

        assert data.slack_user is not None
        try:
            sent = await invite_slack_user(self.app, token, data.slack_user, data.tz)
        except SlackInviteFailed as exc:
            return s.Delivery(status="failed", detail=str(exc))
        return s.Delivery(status="sent", detail=f"DM {sent.dm.id}, time zone {sent.tz}")

    async def get_interview(self, request: web.Request) -> web.Response:
        interview = await self._get(request.match_info["id"])
        await audit(self.app, request, [interview.id], "api read")
        return reply(out(interview))

    async def list_interviews(self, request: web.Request) -> web.Response:
        query = request.query
        script, state = query.get("script"), query.get("state")
        try:
            limit = int(query.get("limit", "50"))
            offset = int(query.get("offset", "0"))
        except ValueError:
            raise ApiError(400, "invalid_query", "limit and offset must be whole numbers"
                           ) from None
        if not 1 <= limit <= 200 or offset < 0:
            raise ApiError(400, "invalid_query", "limit must be 1 to 200 and offset >= 0")
        if script is not None and self.app.catalog.get(script) is None:
            raise ApiError(404, "unknown_script", f"no script with id {script!r}")
        states = {x.value for x in State}
        if state is not None and state not in states:
            raise ApiError(400, "invalid_query",
                           f"state must be one of {', '.join(sorted(states))}")
        # the query side: a page of summaries in a constant number of statements, off the loop
        found = await asyncio.to_thread(
            self.app.engine.views.queries.page, script_id=script,
            state=State(state) if state else None, limit=limit, offset=offset)
        await audit(self.app, request, [i.id for i in found.items], "api list")
        items, total = [out(i) for i in found.items], found.total
        return reply(s.InterviewPage(items=items, total=total, limit=limit, offset=offset,
                                     next_offset=offset + limit if offset + limit < total
                                     else None))

    async def results(self, request: web.Request) -> web.Response:
        script = self.app.catalog.get(request.match_info["id"])
        if script is None:
            raise ApiError(404, "unknown_script",
                           f"no script with id {request.match_info['id']!r}")
        rows: list[s.ResultRow] = []
        with self.app.services.uow() as uow:
            for i in uow.interviews.for_script(script.id):
                card = scorecard(script, i, uow.reviews.ratings(i.id), uow.reviews.decisions(i.id))
                rows.append(s.ResultRow(
                    interview_id=i.id, number=i.number, candidate=card.candidate,
                    state=i.state.value,
                    external_ref=i.external_ref, completed_at=i.completed_at,
                    overall=None if card.overall is None else round(card.overall, 2),
                    decision=card.decision, reviewers=card.reviewers,
                    scores={k: None if v is None else round(v, 2)
                            for k, (v, _) in card.scores.items()}))
        await audit(self.app, request, [r.interview_id for r in rows], "api results")
        return reply(s.Results(script_id=script.id, items=rows))

    async def extend(self, request: web.Request) -> web.Response:
        interview = await self._get(request.match_info["id"])
        data = await body(request, s.ExtendIn)
        self._refuse_ended(interview, "extended")
        done = await self.app.engine.extend(interview.id, timedelta(hours=data.hours),
                                            actor(request))
        if done is None:
            raise ApiError(409, "not_extendable", f"interview {interview.id} is "
                                                  f"{(await self._get(interview.id)).state.value}")
        return reply(out(await self._get(interview.id)))

    @staticmethod
    def _refuse_ended(interview: InterviewSummary, what: str) -> None:
        if interview.state is State.ERASED:
            raise ApiError(410, "erased", f"interview {interview.id} was erased")
        if interview.state in ENDED:
            raise ApiError(409, "not_extendable", f"interview {interview.id} is "
                                                  f"{interview.state.value}: it cannot be {what}")

    async def delete(self, request: web.Request) -> web.Response:
        """Erase through core's erasure: answers, audio and name; an anonymous row stays."""
        interview_id = (await self._get(request.match_info["id"])).id
        if not await self.app.engine.erase(interview_id, actor(request)):
            raise ApiError(410, "erased", f"interview {interview_id} was erased already")
        return web.Response(status=204)


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(openapi_document())


def add_api(web_app: web.Application, app: App) -> None:
    """Mount the API under /api/v1 on the shared server."""
    api = web.Application(middlewares=[guard], client_max_size=MAX_BODY * 2)
    api[APP_KEY] = app
    handlers = Api(app)
    api.router.add_get("/openapi.json", openapi)
    api.router.add_post("/invitations", handlers.create_invitation)
    api.router.add_get("/interviews", handlers.list_interviews)
    api.router.add_get("/interviews/{id}", handlers.get_interview)
    api.router.add_post("/interviews/{id}/extend", handlers.extend)
    api.router.add_delete("/interviews/{id}", handlers.delete)
    api.router.add_get("/scripts/{id}/results", handlers.results)
    web_app.add_subapp("/api/v1", api)


__all__ = ["add_api"]
