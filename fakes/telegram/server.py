"""`FakeTelegram`: the HTTP server that serves every part."""

from __future__ import annotations

import json
import re
from typing import Any, Self

import aiohttp
from aiohttp import web

from .api import (
    _BOOL_PARAMS,
    _FLOAT_PARAMS,
    _INT_PARAMS,
    _JSON_PARAMS,
    JSON,
    MAX_UPLOAD_SIZE,
    ApiError,
    _bad,
)
from .chats import Chats
from .limits import _RATE_LIMITED
from .objects import ApiCall, Upload
from .state import Handler


class FakeTelegram(Chats):
    """An in-process Telegram Bot API server with simulated users and inspection helpers."""

    def _handlers(self) -> dict[str, Handler]:
        return {
        "getMe": self._get_me,
        "logOut": self._true,
        "close": self._true,
        "getUpdates": self._get_updates,
        "setWebhook": self._set_webhook,
        "deleteWebhook": self._delete_webhook,
        "getWebhookInfo": self._get_webhook_info,
        "sendMessage": self._send_message,
        "sendVoice": self._send_voice,
        "sendAudio": self._send_audio,
        "sendDocument": self._send_document,
        "sendPhoto": self._send_photo,
        "copyMessage": self._copy_message,
        "forwardMessage": self._forward_message,
        "editMessageText": self._edit_message_text,
        "editMessageCaption": self._edit_message_caption,
        "editMessageReplyMarkup": self._edit_message_reply_markup,
        "deleteMessage": self._delete_message,
        "answerCallbackQuery": self._answer_callback_query,
        "getFile": self._get_file,
        "sendChatAction": self._send_chat_action,
        "setMyCommands": self._set_my_commands,
        "getMyCommands": self._get_my_commands,
        "deleteMyCommands": self._delete_my_commands,
        "getChat": self._get_chat,
        "getChatMember": self._get_chat_member,
        }

    async def start(self) -> Self:
        """Start serving; `port=0` picks a free port (see `url`)."""
        app = web.Application(client_max_size=MAX_UPLOAD_SIZE + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_download)
        self._runner = web.AppRunner(
            app, handle_signals=False, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self._session = aiohttp.ClientSession()
        self._closing = False
        return self

    async def stop(self) -> None:
        """Release waiting long polls, stop webhook delivery and the server."""
        self._closing = True
        self._signal_updates()
        await self._stop_webhook_worker()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._error_response(ApiError(401, "Unauthorized"))
        name = request.match_info["method"]
        known = self._methods.get(name.lower())
        try:
            params, uploads = await self._read_params(request)
        except ApiError as exc:
            return self._error_response(exc)
        except ConnectionResetError:
            return web.Response()
        call = ApiCall(known[0] if known else name, params, uploads, self.clock())
        self.calls.append(call)
        response = await self._dispatch(request, call, known)
        if response is None:
            return web.Response()
        call.status = response.status
        self._signal()
        return response

    async def _dispatch(
        self, request: web.Request, call: ApiCall, known: tuple[str, Handler] | None
    ) -> web.Response | None:
        if known is None:
            call.description = "Not Found"
            return self._error_response(ApiError(404, "Not Found"))
        fault = self._take_fault(call.method) or self._take_chat_fault(call.params)
        try:
            if fault is not None:
                await self._apply_fault(request, fault)
                if fault.drop:
                    return None
            self._check_blocked(call)
            if call.method.lower() in _RATE_LIMITED:
                self._check_rate(call.params)
            call.result = await known[1](call.params, call.files)
        except ApiError as exc:
            call.description = exc.description
            return self._error_response(exc)
        return self._json_response({"ok": True, "result": call.result})

    async def _read_params(self, request: web.Request) -> tuple[JSON, dict[str, Upload]]:
        raw: JSON = dict(request.query)
        uploads: dict[str, Upload] = {}
        if request.body_exists:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    raise _bad("can't parse JSON object") from None
                if not isinstance(body, dict):
                    raise _bad("can't parse JSON object")
                raw.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        uploads[key] = Upload(value.file.read(), value.filename, value.content_type)
                    else:
                        raw[key] = value
        return {key: self._coerce(key, value) for key, value in raw.items()}, uploads

    @staticmethod
    def _coerce(key: str, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if key in _JSON_PARAMS:
            try:
                return json.loads(value)
            except ValueError:
                raise _bad(f"can't parse {key} JSON object") from None
        if key in _INT_PARAMS or key in _FLOAT_PARAMS:
            try:
                return int(value) if key in _INT_PARAMS else float(value)
            except ValueError:
                raise _bad(f'field "{key}" must be a Number') from None
        if key in _BOOL_PARAMS:
            return value.lower() in ("true", "1")
        if key == "chat_id" and re.fullmatch(r"-?\d+", value):
            return int(value)
        return value
