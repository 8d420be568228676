"""Simulated people and groups, and privacy mode."""

from __future__ import annotations

import bisect
import copy
import hashlib
import mimetypes

from .api import JSON, _utf16_len, _utf16_slice
from .objects import BotMessage, FakeGroup, FakeUser
from .state import _Pending, _Query
from .updates import Updates


class People(Updates):
    """Simulated people: users and groups, what they send, edit and tap; privacy mode decides
    which group messages reach the bot."""

    def user(
        self,
        id: int,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        started: bool = False,
    ) -> FakeUser:
        """Register a simulated user; `started=True` acts as if they had already written."""
        if id <= 0:
            raise ValueError("user ids are positive")
        user = FakeUser(id, first_name, last_name, username, language_code)
        self._users[id] = user
        if started:
            self._started.add(id)
        return user

    def group(self, id: int, title: str = "Reviewers") -> FakeGroup:
        """Register a group chat (negative id) that the bot is a member of."""
        if id >= 0:
            raise ValueError("group ids are negative")
        group = FakeGroup(id, title)
        self._groups[id] = group
        return group

    def block(self, user: FakeUser, *, notify: bool = True) -> JSON | None:
        """The user blocks the bot; with `notify`, a my_chat_member update is enqueued."""
        self._blocked.add(user.id)
        if not notify:
            return None
        return self._enqueue(
            "my_chat_member",
            {
                "chat": user.chat_dict(),
                "from": user.to_dict(),
                "date": int(self.wall_clock()),
                "old_chat_member": {"user": self.bot_user, "status": "member"},
                "new_chat_member": {"user": self.bot_user, "status": "kicked", "until_date": 0},
            },
            chat_id=user.id,
        )

    def send_text(
        self,
        user: FakeUser,
        text: str,
        *,
        chat: FakeGroup | None = None,
        reply_to: BotMessage | int | None = None,
        entities: list[JSON] | None = None,
    ) -> JSON:
        """The user sends a text message; returns the enqueued Update."""
        content: JSON = {"text": text}
        if entities:
            content["entities"] = entities
        return self._user_message(user, chat, content, reply_to)

    def send_command(
        self,
        user: FakeUser,
        command: str,
        payload: str | None = None,
        *,
        chat: FakeGroup | None = None,
        mention: bool = False,
    ) -> JSON:
        """The user sends `/command [payload]` (a deep link opens as `/start <payload>`)."""
        command = command if command.startswith("/") else f"/{command}"
        if mention:
            command = f"{command}@{self.bot_username}"
        text = f"{command} {payload}" if payload else command
        entities = [{"type": "bot_command", "offset": 0, "length": _utf16_len(command)}]
        return self._user_message(user, chat, {"text": text, "entities": entities}, None)

    def send_voice(
        self,
        user: FakeUser,
        data: bytes,
        duration: int = 3,
        mime: str = "audio/ogg",
        *,
        file_size: int | None = None,
        caption: str | None = None,
        chat: FakeGroup | None = None,
        reply_to: BotMessage | int | None = None,
    ) -> JSON:
        """The user sends a voice note made of `data`."""
        stored = self._store_file("voice", data, mime, None, file_size)
        voice = self._media_object(stored) | {"duration": duration}
        return self._user_message(user, chat, self._captioned({"voice": voice}, caption), reply_to)

    def send_audio(
        self,
        user: FakeUser,
        data: bytes,
        duration: int = 3,
        mime: str = "audio/mpeg",
        file_name: str = "audio.mp3",
        *,
        performer: str | None = None,
        title: str | None = None,
        file_size: int | None = None,
        caption: str | None = None,
        chat: FakeGroup | None = None,
        reply_to: BotMessage | int | None = None,
    ) -> JSON:
        """The user sends an audio file (a music-player attachment, not a voice note)."""
        stored = self._store_file("audio", data, mime, file_name, file_size)
        audio = self._media_object(stored) | {"duration": duration}
        if performer is not None:
            audio["performer"] = performer
        if title is not None:
            audio["title"] = title
        return self._user_message(user, chat, self._captioned({"audio": audio}, caption), reply_to)

    def send_video_note(
        self,
        user: FakeUser,
        data: bytes,
        duration: int = 3,
        *,
        length: int = 240,
        file_size: int | None = None,
        chat: FakeGroup | None = None,
    ) -> JSON:
        """The user sends a round video note."""
        stored = self._store_file("video_note", data, "video/mp4", None, file_size)
        note = self._media_object(stored) | {"duration": duration, "length": length}
        note.pop("mime_type", None)
        return self._user_message(user, chat, {"video_note": note}, None)

    def send_document(
        self,
        user: FakeUser,
        data: bytes,
        file_name: str = "document.pdf",
        mime: str | None = None,
        *,
        file_size: int | None = None,
        caption: str | None = None,
        chat: FakeGroup | None = None,
    ) -> JSON:
        """The user sends a file as a document."""
        mime = mime or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        stored = self._store_file("document", data, mime, file_name, file_size)
        content = self._captioned({"document": self._media_object(stored)}, caption)
        return self._user_message(user, chat, content, None)

    def send_photo(
        self,
        user: FakeUser,
        data: bytes = b"\xff\xd8\xff\xe0fake-jpeg",
        *,
        width: int = 1280,
        height: int = 960,
        caption: str | None = None,
        chat: FakeGroup | None = None,
    ) -> JSON:
        """The user sends a photo (Telegram lists several sizes, largest last)."""
        sizes = []
        for scale in (16, 4, 1):
            stored = self._store_file("photo", data, "image/jpeg", None, None)
            size = self._media_object(stored)
            size.pop("mime_type", None)
            size.update(width=max(1, width // scale), height=max(1, height // scale))
            sizes.append(size)
        return self._user_message(user, chat, self._captioned({"photo": sizes}, caption), None)

    def send_sticker(
        self,
        user: FakeUser,
        emoji: str = "👍",
        *,
        data: bytes = b"RIFF\x00\x00\x00\x00WEBPfake",
        set_name: str | None = "FakeStickers",
        chat: FakeGroup | None = None,
    ) -> JSON:
        """The user sends a sticker."""
        stored = self._store_file("sticker", data, "image/webp", None, None)
        sticker = self._media_object(stored)
        sticker.pop("mime_type", None)
        sticker.update(
            type="regular", width=512, height=512, is_animated=False, is_video=False, emoji=emoji
        )
        if set_name:
            sticker["set_name"] = set_name
        return self._user_message(user, chat, {"sticker": sticker}, None)

    def send_message(self, user: FakeUser, content: JSON, *, chat: FakeGroup | None = None) -> JSON:
        """The user sends a message with arbitrary content fields (location, contact, ...)."""
        return self._user_message(user, chat, dict(content), None)

    def edit_text(self, user: FakeUser, message: JSON | int, text: str) -> JSON:
        """The user edits one of their text messages (an `edited_message` update).

        `message` is the Update returned by `send_text`, its message, or a message_id in the
        user's private chat.
        """
        if isinstance(message, int):
            key = (user.id, message)
        else:
            inner = message.get("message", message)
            key = (int(inner["chat"]["id"]), int(inner["message_id"]))
        original = self._user_messages.get(key)
        if original is None:
            raise LookupError(f"no message {key[1]} from the user in chat {key[0]}")
        if original["from"]["id"] != user.id:
            raise ValueError("people can only edit their own messages")
        original.pop("entities", None)
        original.update(text=text, edit_date=int(self.wall_clock()))
        self._last_action[key[0]] = self._seq
        return self._enqueue("edited_message", copy.deepcopy(original), chat_id=key[0])

    def press_button(
        self,
        user: FakeUser,
        message: BotMessage,
        callback_data: str | None = None,
        *,
        label: str | None = None,
    ) -> JSON:
        """The user taps an inline button of a bot message (by data, or by label substring).

        Data is not checked against the current keyboard, so stale buttons can be pressed.
        """
        if callback_data is None:
            if label is None:
                raise ValueError("give callback_data or label")
            callback_data = message.button(label)
        query_id = f"{self.bot_id}{next(self._query_ids):010d}"
        self._queries[query_id] = _Query(user.id, callback_data, self.clock())
        digest = hashlib.sha1(f"{self.bot_id}:{message.chat_id}".encode()).hexdigest()
        query: JSON = {
            "id": query_id,
            "from": user.to_dict(),
            "message": copy.deepcopy(message.payload),
            "chat_instance": str(int(digest[:15], 16)),
            "data": callback_data,
        }
        self._last_action[message.chat_id] = self._seq
        return self._enqueue("callback_query", query, chat_id=message.chat_id)

    def inject(self, kind: str, payload: JSON) -> JSON:
        """Enqueue a raw update of any kind (`{"update_id": n, kind: payload}`)."""
        return self._enqueue(kind, payload)

    def redeliver(self, update_id: int) -> JSON:
        """Deliver an already injected update once more, identical, even if confirmed."""
        update = self._history[update_id]
        entry = _Pending(copy.deepcopy(update), redelivery=True)
        keys = [pending.update_id for pending in self._queue]
        self._queue.insert(bisect.bisect_right(keys, update_id), entry)
        self._signal_updates()
        return update

    def _user_message(
        self,
        user: FakeUser,
        chat: FakeGroup | None,
        content: JSON,
        reply_to: BotMessage | int | None,
    ) -> JSON:
        self._users.setdefault(user.id, user)
        if chat is None:
            chat_id, chat_obj = user.id, user.chat_dict()
            self._started.add(user.id)
            self._blocked.discard(user.id)
        else:
            self._groups.setdefault(chat.id, chat)
            chat_id, chat_obj = chat.id, chat.chat_dict()
        message: JSON = {
            "message_id": self._new_message_id(chat_id),
            "from": user.to_dict(),
            "chat": chat_obj,
            "date": int(self.wall_clock()),
            **content,
        }
        if reply_to is not None:
            reply_id = reply_to.message_id if isinstance(reply_to, BotMessage) else reply_to
            original = self._find_message(chat_id, reply_id)
            if original is None:
                raise LookupError(f"no message {reply_id} in chat {chat_id}")
            message["reply_to_message"] = {
                k: v for k, v in original.items() if k != "reply_to_message"
            }
        self._user_messages[(chat_id, message["message_id"])] = message
        if chat is not None and self.privacy_mode and not self._meant_for_bot(message):
            # privacy mode: the bot never receives this group message
            withheld = {"update_id": None, "message": copy.deepcopy(message)}
            self.withheld.append(withheld)
            return withheld
        return self._enqueue("message", copy.deepcopy(message), chat_id=chat_id)

    def _meant_for_bot(self, message: JSON) -> bool:
        """What a bot in privacy mode receives from a group: commands (a bare `/cmd` or
        `/cmd@thisbot`, not `/cmd@otherbot`), replies to its own messages, and messages that
        mention it."""
        text = str(message.get("text") or message.get("caption") or "")
        entities = message.get("entities") or message.get("caption_entities") or []
        me = f"@{self.bot_username}".lower()
        for entity in entities:
            part = _utf16_slice(text, int(entity["offset"]), int(entity["length"]))
            if entity.get("type") == "bot_command" and entity.get("offset") == 0:
                _, _, target = part.partition("@")
                if not target or f"@{target}".lower() == me:
                    return True
            if entity.get("type") == "mention" and part.lower() == me:
                return True
        reply = message.get("reply_to_message")
        if isinstance(reply, dict):
            author = reply.get("from")
            if isinstance(author, dict) and author.get("id") == self.bot_id:
                return True
        return False

    @staticmethod
    def _captioned(content: JSON, caption: str | None) -> JSON:
        if caption is not None:
            content["caption"] = caption
        return content
