"""The bot's messages: sending, copying, editing and deleting."""

from __future__ import annotations

import copy
import re
from typing import Any

from .api import (
    _BUTTON_ACTIONS,
    BLOCKED,
    CANT_INITIATE,
    CHAT_NOT_FOUND,
    JSON,
    MAX_CALLBACK_DATA_BYTES,
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    NOT_MODIFIED,
    ApiError,
    _bad,
)
from .formatting import parse_formatted
from .limits import Limits
from .objects import BotMessage, StoredFile, Upload

DELETE_WINDOW = 48 * 3600  # seconds in which a bot may delete its own messages (not admin)


class Messages(Limits):
    """The bot's messages: send, copy, forward, edit, delete; chats it may write to, inline
    keyboards, replies."""

    def grant_delete_rights(self, chat_id: int) -> None:
        """Make the bot an admin of a group with the right to delete messages: it may then
        delete messages of any age there (otherwise only its own, within 48 hours)."""
        self.delete_rights.add(chat_id)

    def _chat_for_sending(self, params: JSON) -> JSON:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad("chat_id is empty")
        if not isinstance(chat_id, int):
            raise ApiError(400, CHAT_NOT_FOUND)
        if chat_id in self._groups:
            return self._groups[chat_id].chat_dict()
        user = self._users.get(chat_id)
        if user is None:
            raise ApiError(400, CHAT_NOT_FOUND)
        if chat_id in self._blocked:
            raise ApiError(403, BLOCKED)
        if chat_id not in self._started:
            raise ApiError(403, CANT_INITIATE)
        return user.chat_dict()

    @staticmethod
    def _check_markup(markup: Any) -> JSON | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            return None
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad(
                'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
            )
        for button in (button for row in rows for button in row):
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise _bad("can't parse inline keyboard button: Text buttons are unallowed")
            if not _BUTTON_ACTIONS & button.keys():
                raise _bad(
                    "can't parse inline keyboard button: Text buttons are unallowed in "
                    "the inline keyboard"
                )
            if "callback_data" in button:
                size = len(str(button["callback_data"]).encode())
                if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                    raise _bad("BUTTON_DATA_INVALID")
            if "url" in button and not re.match(r"(https?|tg)://", str(button["url"])):
                raise _bad("BUTTON_URL_INVALID")
        return {"inline_keyboard": [[dict(button) for button in row] for row in rows]}

    def _reply_to(self, chat_id: int, params: JSON) -> JSON | None:
        reply = params.get("reply_parameters")
        message_id = params.get("reply_to_message_id")
        allow = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow = allow or bool(reply.get("allow_sending_without_reply"))
        if message_id is None:
            return None
        original = self._find_message(chat_id, int(message_id))
        if original is None:
            if allow:
                return None
            raise _bad("message to be replied not found")
        return {k: v for k, v in original.items() if k != "reply_to_message"}

    def _record_bot_message(
        self,
        method: str,
        chat: JSON,
        params: JSON,
        content: JSON,
        stored: StoredFile | None = None,
        extra: JSON | None = None,
    ) -> BotMessage:
        chat_id = int(chat["id"])
        markup = self._check_markup(params.get("reply_markup"))
        reply = self._reply_to(chat_id, params)
        payload: JSON = {
            "message_id": self._new_message_id(chat_id),
            "from": self.bot_user,
            "chat": chat,
            "date": int(self.wall_clock()),
            **(extra or {}),
            **content,
        }
        if markup is not None:
            payload["reply_markup"] = markup
        if reply is not None:
            payload["reply_to_message"] = reply
        self._seq += 1
        message = BotMessage(
            chat_id=chat_id,
            message_id=payload["message_id"],
            method=method,
            payload=payload,
            seq=self._seq,
            at=self.clock(),
            media=stored.data if stored else None,
            media_kind=stored.kind if stored else None,
            file_id=stored.file_id if stored else None,
            updated_seq=self._seq,
        )
        self._bot_messages[(chat_id, message.message_id)] = message
        self._bot_log.append(message)
        self._chat_logs.setdefault(chat_id, []).append(message)
        self._signal_chat(chat_id)
        return message

    @staticmethod
    def _formatted(
        params: JSON, text_key: str, entities_key: str, limit: int, too_long: str
    ) -> JSON:
        text = params.get(text_key)
        if text is None:
            return {}
        plain, entities = parse_formatted(
            str(text), params.get("parse_mode"), params.get(entities_key)
        )
        if len(plain) > limit:
            raise _bad(too_long)
        content: JSON = {text_key: plain}
        if entities:
            content[entities_key] = entities
        return content

    def _text_content(self, params: JSON) -> JSON:
        content = self._formatted(
            params, "text", "entities", MAX_TEXT_LENGTH, "message is too long"
        )
        if not content.get("text", "").strip():
            raise _bad("message text is empty")
        return content

    def _message_for_edit(self, params: JSON) -> BotMessage:
        if "inline_message_id" in params:
            raise _bad("MESSAGE_ID_INVALID")
        chat_id, message_id = params.get("chat_id"), params.get("message_id")
        if message_id is None:
            raise _bad("message identifier is not specified")
        if not isinstance(chat_id, int) or (
            chat_id not in self._groups and chat_id not in self._users
        ):
            raise _bad("chat not found")
        message = self._bot_messages.get((chat_id, int(message_id)))
        if message is None or message.deleted:
            if (chat_id, int(message_id)) in self._user_messages:
                raise _bad("message can't be edited")
            raise _bad("message to edit not found")
        return message

    def _apply_edit(self, message: BotMessage, changes: JSON, markup: JSON | None) -> JSON:
        current = {key: message.payload.get(key) for key in changes}
        if current == changes and message.reply_markup == markup:
            raise ApiError(400, NOT_MODIFIED)
        message.history.append(copy.deepcopy(message.payload))
        for key, value in changes.items():
            if value is None:
                message.payload.pop(key, None)
            else:
                message.payload[key] = value
        if markup is None:
            message.payload.pop("reply_markup", None)
        else:
            message.payload["reply_markup"] = markup
        message.payload["edit_date"] = int(self.wall_clock())
        self._seq += 1
        message.updated_seq = self._seq
        self._signal_chat(message.chat_id)
        return message.payload

    async def _send_message(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        chat = self._chat_for_sending(params)
        content = self._text_content(params)
        return self._record_bot_message("sendMessage", chat, params, content).payload

    def _source_message(self, params: JSON) -> tuple[JSON, BotMessage | None]:
        from_chat = params.get("from_chat_id")
        message_id = params.get("message_id")
        if not isinstance(from_chat, int) or message_id is None:
            raise _bad("message to copy not found")
        original = self._find_message(from_chat, int(message_id))
        if original is None:
            raise _bad("message to copy not found")
        return original, self._bot_messages.get((from_chat, int(message_id)))

    def _copy_content(self, original: JSON) -> tuple[JSON, StoredFile | None]:
        keys = (
            "text",
            "entities",
            "caption",
            "caption_entities",
            "voice",
            "audio",
            "document",
            "photo",
            "video_note",
            "sticker",
            "video",
            "location",
            "contact",
        )
        content = {key: copy.deepcopy(original[key]) for key in keys if key in original}
        stored = None
        for key in ("voice", "audio", "document", "video_note", "sticker", "video"):
            if key in content:
                stored = self.files.get(content[key]["file_id"])
        if "photo" in content:
            stored = self.files.get(content["photo"][-1]["file_id"])
        return content, stored

    async def _copy_message(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        chat = self._chat_for_sending(params)
        original, _ = self._source_message(params)
        content, stored = self._copy_content(original)
        if "caption" in params:
            content.pop("caption_entities", None)
            content.update(
                self._formatted(
                    params,
                    "caption",
                    "caption_entities",
                    MAX_CAPTION_LENGTH,
                    "message caption is too long",
                )
            )
        message = self._record_bot_message("copyMessage", chat, params, content, stored)
        return {"message_id": message.message_id}

    async def _forward_message(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        chat = self._chat_for_sending(params)
        original, _ = self._source_message(params)
        content, stored = self._copy_content(original)
        sender = original.get("from", self.bot_user)
        origin = {"type": "user", "sender_user": sender, "date": original["date"]}
        message = self._record_bot_message(
            "forwardMessage", chat, params, content, stored, {"forward_origin": origin}
        )
        return message.payload

    async def _edit_message_text(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        message = self._message_for_edit(params)
        if "text" not in message.payload:
            raise _bad("there is no text in the message to edit")
        content = self._text_content(params)
        changes = {"text": content["text"], "entities": content.get("entities")}
        markup = self._check_markup(params.get("reply_markup"))
        return self._apply_edit(message, changes, markup)

    async def _edit_message_caption(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        message = self._message_for_edit(params)
        if "text" in message.payload:
            raise _bad("there is no caption in the message to edit")
        content = self._formatted(
            params, "caption", "caption_entities", MAX_CAPTION_LENGTH, "message caption is too long"
        )
        changes = {
            "caption": content.get("caption"),
            "caption_entities": content.get("caption_entities"),
        }
        markup = self._check_markup(params.get("reply_markup"))
        return self._apply_edit(message, changes, markup)

    async def _edit_message_reply_markup(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        message = self._message_for_edit(params)
        markup = self._check_markup(params.get("reply_markup"))
        return self._apply_edit(message, {}, markup)

    async def _delete_message(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        chat_id, message_id = params.get("chat_id"), params.get("message_id")
        if not isinstance(chat_id, int) or message_id is None:
            raise _bad("message to delete not found")
        key = (chat_id, int(message_id))
        bot_message = self._bot_messages.get(key)
        if bot_message is not None and not bot_message.deleted:
            age = self.wall_clock() - float(bot_message.payload.get("date", 0))
            if age > DELETE_WINDOW and chat_id not in self.delete_rights:
                raise _bad("message can't be deleted for everyone")
            bot_message.deleted = True
            self._seq += 1
            bot_message.updated_seq = self._seq
            self._signal_chat(chat_id)
            return True
        if self._user_messages.pop(key, None) is not None:
            return True
        raise _bad("message to delete not found")
