"""Telegram updates → core commands. Pure functions: no I/O, no state.

Private chats are where candidates talk to the bot: every message becomes a command. Group chats
are review destinations: only button presses, replies to the bot's recorded prompts and commands
addressed to the bot count; ordinary chatter is ignored (None).
"""

from __future__ import annotations

import datetime as dtm
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from telegram import Chat, Message, MessageEntity, Update, User
from telegram.warnings import PTBDeprecationWarning

from bots.telegram import CAPABILITIES
from core.commands import (
    ButtonPressed,
    Command,
    InviteAccepted,
    MediaReceived,
    ReviewerText,
    TextReceived,
    UnsupportedReceived,
    UserCommand,
)
from core.i18n import N_
from core.refs import ChatRef, MediaRef, MessageRef, UserRef
from core.vocabulary import Verb

PLATFORM = CAPABILITIES.platform
# What a reply to one of the bot's messages is for: (chat, replied-to message id) -> target,
# from the ids recorded when the bot sent its force-reply prompts (never from message text)
PromptLookup = Callable[[ChatRef, str], str | None]
EDITS_IGNORED = N_(
    "I don't pick up edited messages. If you want to change something, please send a new "
    "message."
)
REPLY_AS_TEXT = N_("Please reply to that prompt with text.")

# What people call the things the bot cannot take, as in "Sorry, I can't use a {what}".
_UNSUPPORTED = (
    ("sticker", N_("sticker")),
    ("photo", N_("photo")),
    ("animation", N_("GIF")),
    ("video", N_("video")),
    ("location", N_("location")),
    ("venue", N_("location")),
    ("contact", N_("contact")),
    ("poll", N_("poll")),
    ("dice", N_("dice")),
    ("game", N_("game")),
    ("story", N_("story")),
    ("paid_media", N_("paid media")),
    ("checklist", N_("checklist")),
    ("invoice", N_("invoice")),
)


@dataclass(frozen=True)
class Notice:
    """A reply the adapter gives itself, without the engine (e.g. to an edited message)."""

    chat: ChatRef
    text: str  # a catalog message, said in the user's interview language when `user` is set
    user: UserRef | None = None


Inbound = Command | Notice | None


def translate(update: Update, *, bot_username: str | None = None,
              bot_id: int | None = None, prompts: PromptLookup | None = None) -> Inbound:
    """The core command for an update; a `Notice` to answer directly; None to ignore it.

    `bot_username` lets group commands like `/help@other_bot` be told apart from ours;
    `bot_id` makes sure a prompt being replied to is really the bot's own message; `prompts`
    says what a reply to one of its messages is for, by the replied-to message id (text in a
    message, such as a planted "ref:" line, routes nothing).
    """
    if update.callback_query is not None:
        return _button(update)
    if update.edited_message is not None:
        edited = update.edited_message
        if edited.chat.type == Chat.PRIVATE and _person(edited.from_user):
            assert edited.from_user is not None
            return Notice(chat_ref(edited.chat), EDITS_IGNORED, user_ref(edited.from_user))
        return None
    message = update.message
    if message is None or not _person(message.from_user):
        return None  # channel posts, member updates, bots, service messages without a sender
    delivery = f"{PLATFORM}:update:{update.update_id}"
    assert message.from_user is not None
    user = user_ref(message.from_user)
    chat = chat_ref(message.chat)
    private = message.chat.type == Chat.PRIVATE

    target = _reply_target(message, bot_id, prompts)
    if target is not None:
        if message.text is None:
            return Notice(chat, REPLY_AS_TEXT)
        return ReviewerText(user, chat, target, message.text, delivery)

    if message.text is not None and _is_command(message):
        return _command(message.text, user, chat, delivery, private, bot_username,
                        message.from_user.language_code)
    if not private:
        return None
    if message.forward_origin is not None:
        return UnsupportedReceived(user, chat, N_("forwarded message"))
    if message.text is not None:
        return TextReceived(user, chat, message.text, delivery)
    media = media_ref(message)
    if media is not None:
        return MediaReceived(user, chat, media, delivery)
    return UnsupportedReceived(user, chat, _unsupported_kind(message))


def user_ref(user: User) -> UserRef:
    return UserRef(PLATFORM, str(user.id))


def chat_ref(chat: Chat) -> ChatRef:
    return ChatRef(PLATFORM, str(chat.id))


def media_ref(message: Message) -> MediaRef | None:
    """A `MediaRef` for a voice note, audio file, video note or audio/video document."""
    if message.voice is not None:
        v = message.voice
        return MediaRef(PLATFORM, v.file_id, "voice", v.mime_type or "audio/ogg",
                        size=v.file_size, duration=_seconds(v, "duration"))
    if message.audio is not None:
        a = message.audio
        return MediaRef(PLATFORM, a.file_id, "audio", a.mime_type or "audio/mpeg",
                        size=a.file_size, duration=_seconds(a, "duration"), name=a.file_name)
    if message.video_note is not None:
        n = message.video_note
        return MediaRef(PLATFORM, n.file_id, "video_note", "video/mp4", size=n.file_size,
                        duration=_seconds(n, "duration"))
    d = message.document
    if d is not None and message.animation is None and (d.mime_type or "").startswith(
            ("audio/", "video/")):
        return MediaRef(PLATFORM, d.file_id, "file", d.mime_type or "application/octet-stream",
                        size=d.file_size, name=d.file_name)
    return None


def _button(update: Update) -> Inbound:
    query = update.callback_query
    assert query is not None
    user = user_ref(query.from_user)
    message = query.message
    if message is not None:
        chat = chat_ref(message.chat)
        ref: MessageRef | None = MessageRef(chat, str(message.message_id))
    else:  # a button under an inline-mode message: no chat to edit in
        chat, ref = ChatRef(PLATFORM, str(query.from_user.id)), None
    return ButtonPressed(user, chat, query.data or "", ref, f"{PLATFORM}:cbq:{query.id}")


def _is_command(message: Message) -> bool:
    """Telegram marks a leading `/command` with a bot_command entity (so "/usr/bin" is text)."""
    return any(e.type == MessageEntity.BOT_COMMAND and e.offset == 0
               for e in message.entities or ())


def _command(text: str, user: UserRef, chat: ChatRef, delivery: str, private: bool,
             bot_username: str | None, locale: str | None = None) -> Inbound:
    head, _, rest = text.partition(" ")
    name, _, addressee = head[1:].partition("@")
    name = name.lower()
    if addressee and bot_username and addressee.lower() != bot_username.lower():
        return None  # meant for another bot in the same group
    if not private:
        # In a review group only /help (or /start) means anything; candidates use their DM.
        if addressee or name == "start" or Verb.parse(name) not in (None, Verb.ADJUST):
            return UserCommand(user, chat, Verb.HELP, delivery)
        return None
    if name == "start":
        return InviteAccepted(user, chat, rest.strip() or None, delivery=delivery,
                              locale=locale)
    return UserCommand(user, chat, Verb.parse(name) or Verb.HELP, delivery,
                       argument=rest.strip() or None)


def _reply_target(message: Message, bot_id: int | None,
                  prompts: PromptLookup | None) -> str | None:
    """What the bot prompt this message replies to was for, by its recorded message id."""
    replied = message.reply_to_message
    if prompts is None or replied is None or replied.from_user is None \
            or not replied.from_user.is_bot:
        return None
    if bot_id is not None and replied.from_user.id != bot_id:
        return None
    return prompts(chat_ref(message.chat), str(replied.message_id))


def _person(user: User | None) -> bool:
    return user is not None and not user.is_bot


def _unsupported_kind(message: Message) -> str:
    for attribute, what in _UNSUPPORTED:
        if getattr(message, attribute, None):
            return what
    if message.document is not None:
        return N_("document")
    return N_("message of this kind")


def _seconds(media: object, attribute: str) -> float | None:
    """A duration as float seconds; PTB 22 warns on int access, so read it quietly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = getattr(media, attribute, None)
    if value is None:
        return None
    if isinstance(value, dtm.timedelta):
        return value.total_seconds()
    return float(value)
