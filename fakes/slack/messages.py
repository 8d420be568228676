"""chat.* methods, reactions and response URLs."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from .api import JSON, MAX_MESSAGE_TEXT, _flag, _SlackError, _str_or_none, next_ts
from .blocks import _fill_ids, validate_blocks
from .limits import Limits
from .objects import Ephemeral, PostedMessage, ResponsePost


class Messages(Limits):
    """Messages: post, update, delete, ephemeral messages, permalinks, reactions, response URLs."""

    def _resolve_channel(self, channel: Any) -> str:
        if not channel or not isinstance(channel, str):
            raise _SlackError("channel_not_found")
        if channel in self._channels:
            return channel
        if channel[0] in "UW" and channel in self._users:
            return self.dm_channel(channel)
        raise _SlackError("channel_not_found")

    def _can_post(self, channel_id: str) -> None:
        obj = self._channels[channel_id]
        if obj.get("is_im"):
            user = self._users.get(str(obj.get("user")))
            if user is not None and user.get("deleted"):
                raise _SlackError("user_disabled")
            return
        if obj.get("is_archived"):
            raise _SlackError("is_archived")
        if not obj.get("is_member"):
            raise _SlackError("not_in_channel")

    def _is_member(self, channel_id: str, user_id: str) -> bool:
        members = self._channels[channel_id].get("_members")
        return members is None or user_id in members

    def _check_blocks(self, params: Mapping[str, Any], surface: str = "message") -> list[JSON]:
        blocks = params.get("blocks")
        if blocks is None:
            return []
        errors = validate_blocks(blocks, surface)
        if errors:
            raise _SlackError(
                "invalid_blocks",
                errors=errors,
                response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
            )
        return list(blocks)

    def _message_content(self, params: Mapping[str, Any]) -> tuple[str, list[JSON]]:
        blocks = self._check_blocks(params)
        text = params.get("text")
        text = "" if text is None else str(text)
        if not text and not blocks and not params.get("attachments"):
            raise _SlackError("no_text")
        if len(text) > MAX_MESSAGE_TEXT:
            raise _SlackError("msg_too_long")
        return text, blocks

    def _store_message(
        self,
        channel: str,
        text: str,
        blocks: list[JSON],
        params: Mapping[str, Any],
        *,
        thread_ts: Any = None,
        files: list[JSON] | None = None,
    ) -> PostedMessage:
        msg = PostedMessage(
            channel=channel,
            ts=next_ts(),
            text=text,
            blocks=_fill_ids(blocks),
            user=self.bot_user_id,
            bot_id=self.bot_id,
            thread_ts=_str_or_none(thread_ts),
            files=files or [],
            attachments=list(params.get("attachments") or []),
            metadata=params.get("metadata") if isinstance(params.get("metadata"), dict) else None,
            params=dict(params),
        )
        self._messages.setdefault(channel, []).append(msg)
        return msg

    def _find(self, channel: str, ts: Any) -> PostedMessage:
        for msg in self._messages.get(channel, []):
            if msg.ts == ts and not msg.deleted:
                return msg
        raise _SlackError("message_not_found")

    def _replace(
        self, msg: PostedMessage, text: str, blocks: list[JSON], params: Mapping[str, Any]
    ) -> None:
        msg.versions.append({"text": msg.text, "blocks": copy.deepcopy(msg.blocks)})
        if "text" in params and params["text"] is not None:
            msg.text = text
        if params.get("blocks") is not None:
            msg.blocks = _fill_ids(blocks)
        if params.get("attachments") is not None:
            msg.attachments = list(params["attachments"])
        msg.edited = True
        msg.edited_ts = next_ts()

    def _chat_post_message(self, params: JSON) -> JSON:
        channel = self._resolve_channel(params.get("channel"))
        self._can_post(channel)
        text, blocks = self._message_content(params)
        self._track_pacing(channel)
        msg = self._store_message(channel, text, blocks, params, thread_ts=params.get("thread_ts"))
        return {"channel": channel, "ts": msg.ts, "message": msg.as_slack()}

    def _chat_update(self, params: JSON) -> JSON:
        channel = self._resolve_channel(params.get("channel"))
        if not params.get("ts"):
            raise _SlackError("message_not_found")
        msg = self._find(channel, params["ts"])
        if msg.user != self.bot_user_id:
            raise _SlackError("cant_update_message")
        blocks = self._check_blocks(params)
        text = "" if params.get("text") is None else str(params["text"])
        if len(text) > MAX_MESSAGE_TEXT:
            raise _SlackError("msg_too_long")
        if (
            params.get("text") is None
            and params.get("blocks") is None
            and not params.get("attachments")
        ):
            raise _SlackError("no_text")
        self._replace(msg, text, blocks, params)
        return {"channel": channel, "ts": msg.ts, "text": msg.text, "message": msg.as_slack()}

    def _chat_post_ephemeral(self, params: JSON) -> JSON:
        channel = self._resolve_channel(params.get("channel"))
        self._can_post(channel)
        user = str(params.get("user") or "")
        self._user_obj(user)
        if not self._is_member(channel, user):
            raise _SlackError("user_not_in_channel")
        text, blocks = self._message_content(params)
        eph = Ephemeral(
            channel,
            user,
            next_ts(),
            text,
            _fill_ids(blocks),
            _str_or_none(params.get("thread_ts")),
            dict(params),
        )
        self._ephemerals.append(eph)
        return {"message_ts": eph.ts}

    def _chat_delete(self, params: JSON) -> JSON:
        channel = self._resolve_channel(params.get("channel"))
        msg = self._find(channel, params.get("ts"))
        if msg.user != self.bot_user_id:
            raise _SlackError("cant_delete_message")
        msg.deleted = True
        return {"channel": channel, "ts": msg.ts}

    def _chat_get_permalink(self, params: JSON) -> JSON:
        channel = self._resolve_channel(params.get("channel"))
        msg = self._find(channel, params.get("message_ts"))
        return {
            "channel": channel,
            "permalink": f"https://{self.team_domain}.slack.com/archives/{channel}/"
            f"p{msg.ts.replace('.', '')}",
        }

    def _reactions_add(self, params: JSON) -> JSON:
        channel = self._resolve_channel(params.get("channel"))
        name = str(params.get("name") or "")
        if not name:
            raise _SlackError("invalid_name")
        msg = self._find(channel, params.get("timestamp"))
        users = msg.reactions.setdefault(name, [])
        if self.bot_user_id in users:
            raise _SlackError("already_reacted")
        users.append(self.bot_user_id)
        return {}

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        rid = request.match_info["response_id"]
        info = self._responses.get(rid)
        if info is None:
            return web.Response(status=404, text="no_active_hooks", content_type="text/plain")
        try:
            body = json.loads(await request.text() or "{}")
        except json.JSONDecodeError:
            return web.Response(status=400, text="invalid_payload", content_type="text/plain")
        channel, user, message_ts = info
        self.response_posts.append(ResponsePost(rid, channel, user, body))
        blocks = list(body.get("blocks") or [])
        text = str(body.get("text") or "")
        try:
            if _flag(body.get("delete_original")):
                if message_ts is not None:
                    self._find(channel, message_ts).deleted = True
            elif _flag(body.get("replace_original")) and message_ts is not None:
                self._replace(self._find(channel, message_ts), text, blocks, body)
            elif body.get("response_type") == "in_channel":
                self._store_message(channel, text, blocks, body, thread_ts=body.get("thread_ts"))
            else:
                self._ephemerals.append(
                    Ephemeral(channel, user, next_ts(), text, _fill_ids(blocks), None, body)
                )
        except _SlackError as exc:
            return web.Response(status=404, text=exc.error, content_type="text/plain")
        finally:
            self._notify()
        return web.Response(text="ok", content_type="text/plain")
