"""`FakeSlack`: the HTTP server that serves every part."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from types import TracebackType

from aiohttp import web

from .api import JSON, _SlackError
from .conversations import Conversations
from .objects import Call


class FakeSlack(Conversations):
    """A fake Slack workspace: Web API, private file hosting, upload URLs and response URLs."""

    def _handlers(self) -> dict[str, Callable[[JSON], JSON]]:
        return {
        "api.test": self._api_test,
        "auth.test": self._auth_test,
        "conversations.open": self._conversations_open,
        "conversations.info": self._conversations_info,
        "users.info": self._users_info,
        "chat.postMessage": self._chat_post_message,
        "chat.update": self._chat_update,
        "chat.postEphemeral": self._chat_post_ephemeral,
        "chat.delete": self._chat_delete,
        "chat.getPermalink": self._chat_get_permalink,
        "views.open": self._views_open,
        "views.push": self._views_push,
        "views.update": self._views_update,
        "views.publish": self._views_publish,
        "files.info": self._files_info,
        "files.delete": self._files_delete,
        "files.getUploadURLExternal": self._files_get_upload_url,
        "files.completeUploadExternal": self._files_complete_upload,
        "files.upload": self._files_upload_retired,
        "reactions.add": self._reactions_add,
        "usergroups.users.list": self._usergroups_users_list,
        "conversations.members": self._conversations_members,
        }

    async def start(self) -> FakeSlack:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/upload/v1/{upload_id}", self._handle_upload)
        app.router.add_get("/files-pri/{team_file}/download/{name}", self._handle_private_file)
        app.router.add_get("/files-pri/{team_file}/{name}", self._handle_private_file)
        app.router.add_post("/response/{response_id}", self._handle_response_url)
        if self.socket is not None:
            self.socket.install(app)
        self._changed = asyncio.Event()
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def stop(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params, body_token = await self._read_params(request)
        except _SlackError as exc:
            self.calls.append(Call(method, {}, exc.status, False, exc.error))
            self._notify()
            return self._error_response(exc)
        call = Call(method, params)
        self.calls.append(call)
        try:
            fault = self._take_fault(method)
            if fault is not None:
                headers = {}
                if fault.retry_after is not None:
                    headers["Retry-After"] = str(fault.retry_after)
                raise _SlackError(fault.error, fault.status, _headers=headers)
            handler = self._methods.get(method)
            if handler is None:
                raise _SlackError("unknown_method", req_method=method)
            self._authenticate(request, body_token)
            self._check_tier(method)
            result = handler(params)
            headers = {}
            if method == "auth.test":
                headers["x-oauth-scopes"] = ",".join(self.scopes)
            return web.json_response({"ok": True, **result}, headers=headers)
        except _SlackError as exc:
            call.ok, call.error, call.status = False, exc.error, exc.status
            return self._error_response(exc)
        finally:
            self._notify()

    @staticmethod
    def _error_response(exc: _SlackError) -> web.Response:
        extra = dict(exc.extra)
        headers = extra.pop("_headers", None) or {}
        body: JSON = {"ok": False, "error": exc.error, **extra}
        return web.json_response(body, status=exc.status, headers=headers)

    async def _read_params(self, request: web.Request) -> tuple[JSON, str | None]:
        params: JSON = dict(request.query)
        body_token: str | None = None
        if request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                try:
                    body = json.loads(await request.text() or "{}")
                except json.JSONDecodeError:
                    raise _SlackError("invalid_json") from None
                if not isinstance(body, dict):
                    raise _SlackError("invalid_json")
                body.pop("token", None)
                params.update(body)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                params.update(form.items())
                token = params.pop("token", None)
                body_token = token if isinstance(token, str) else None
        params.pop("token", None)
        for key in ("blocks", "attachments", "view", "files", "metadata"):
            if isinstance(params.get(key), str) and params[key]:
                try:
                    params[key] = json.loads(params[key])
                except json.JSONDecodeError:
                    err = "invalid_blocks_format" if key == "blocks" else "invalid_arguments"
                    raise _SlackError(err) from None
        return params, body_token

    def _authenticate(self, request: web.Request, body_token: str | None) -> None:
        header = request.headers.get("Authorization", "")
        token: str | None = None
        if header.startswith("Bearer "):
            token = header[len("Bearer ") :].strip()
        elif body_token:
            token = body_token
        if not token:
            raise _SlackError("not_authed")
        if request.match_info.get("method") == "apps.connections.open":
            if self.socket is None or token != self.socket.app_token:
                raise _SlackError("invalid_auth")  # Slack wants the app-level xapp- token
            return
        if token != self.bot_token:
            raise _SlackError("invalid_auth")
