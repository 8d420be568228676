"""getMe, getChat, getChatMember, chat actions, commands, callback answers."""

from __future__ import annotations

from .api import (
    _CHAT_ACTIONS,
    _COMMAND_RE,
    CHAT_NOT_FOUND,
    JSON,
    MAX_CALLBACK_ANSWER_LENGTH,
    QUERY_INVALID,
    ApiError,
    _bad,
)
from .objects import CallbackAnswer, Upload
from .people import People


class Chats(People):
    """The bot itself and its chats: getMe, getChat, getChatMember, chat actions, the command
    menu, and answers to callback queries (which expire)."""

    async def _true(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        return True

    async def _get_me(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        return self.bot_user | {
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_chat(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int) and chat_id in self._groups:
            return self._groups[chat_id].chat_dict() | {
                "accent_color_id": 0,
                "max_reaction_count": 11,
            }
        if isinstance(chat_id, int) and chat_id in self._users and chat_id in self._started:
            return self._users[chat_id].chat_dict() | {
                "accent_color_id": 0,
                "max_reaction_count": 11,
            }
        raise _bad("chat not found")

    async def _get_chat_member(self, params: JSON, uploads: dict[str, Upload]) -> JSON:
        """The bot's own membership of a group: an administrator with only the right to
        delete messages where `grant_delete_rights` was called, else a plain member."""
        chat_id, user_id = params.get("chat_id"), params.get("user_id")
        if not isinstance(chat_id, int) or chat_id not in self._groups:
            raise ApiError(400, CHAT_NOT_FOUND)
        if str(user_id) != str(self.bot_id):
            raise _bad("PARTICIPANT_ID_INVALID")
        if chat_id not in self.delete_rights:
            return {"status": "member", "user": self.bot_user}
        rights = dict.fromkeys((
            "can_be_edited", "is_anonymous", "can_manage_chat", "can_manage_video_chats",
            "can_restrict_members", "can_promote_members", "can_change_info",
            "can_invite_users", "can_post_stories", "can_edit_stories", "can_delete_stories"),
            False)
        return {"status": "administrator", "user": self.bot_user, **rights,
                "can_delete_messages": True}

    async def _send_chat_action(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        self._chat_for_sending(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    @staticmethod
    def _commands_key(params: JSON) -> tuple[str, str]:
        scope = params.get("scope")
        scope_type = scope.get("type", "default") if isinstance(scope, dict) else "default"
        return str(scope_type), str(params.get("language_code") or "")

    async def _set_my_commands(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("commands must be an array of at most 100 BotCommand")
        for command in commands:
            if not isinstance(command, dict) or not _COMMAND_RE.fullmatch(
                str(command.get("command", ""))
            ):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise _bad("command description is empty or too long")
        self.commands[self._commands_key(params)] = [dict(command) for command in commands]
        return True

    async def _get_my_commands(self, params: JSON, uploads: dict[str, Upload]) -> list[JSON]:
        return self.commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _answer_callback_query(self, params: JSON, uploads: dict[str, Upload]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        query = self._queries.get(query_id)
        expired = (
            query is not None
            and self.callback_query_ttl is not None
            and self.clock() - query.at > self.callback_query_ttl
        )
        if query is None or query.answered or expired:
            raise ApiError(400, QUERY_INVALID)
        text = params.get("text")
        if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad("MESSAGE_TOO_LONG")
        query.answered = True
        self.callback_answers.append(
            CallbackAnswer(
                callback_query_id=query_id,
                text=None if text is None else str(text),
                show_alert=bool(params.get("show_alert")),
                url=params.get("url"),
                cache_time=params.get("cache_time"),
                user_id=query.user_id,
                data=query.data,
            )
        )
        return True
