"""Raw Slack payloads → core commands. Pure functions: no I/O, no Slack SDK objects."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bots.slack import CAPABILITIES
from core.commands import (
    ButtonPressed,
    Command,
    MediaReceived,
    ReviewerText,
    TextReceived,
    UnsupportedReceived,
    UserCommand,
)
from core.i18n import N_
from core.refs import TRANSCRIPT_PENDING, ChatRef, MediaRef, MessageRef, UserRef
from core.vocabulary import Verb

PLATFORM = CAPABILITIES.platform
command = CAPABILITIES.command  # how a person types a command here
REPLY_CALLBACK = "ib-reply"  # callback_id of the follow-up / reply modal
REPLY_BLOCK = "ib-text"
REPLY_INPUT = "ib-text-input"

# Containers the audio pipeline decodes; anything else audio-like is refused as a file.
AUDIO_MIMES = frozenset({
    "audio/mp4", "audio/m4a", "audio/x-m4a", "audio/aac", "audio/webm", "audio/ogg",
    "audio/opus", "audio/mpeg", "audio/mp3", "audio/wav", "audio/x-wav", "audio/wave",
    "audio/flac", "audio/x-flac", "video/mp4", "video/webm",
})
CLIP_SUBTYPES = frozenset({"slack_audio", "slack_video"})
# Subtypes of DM message events that are not something the person said.
IGNORED_SUBTYPES = frozenset({
    "bot_message", "channel_join", "channel_leave", "message_replied", "ekm_access_denied",
    "me_message", "pinned_item", "unpinned_item", "huddle_thread", "assistant_app_thread",
})

EDITED = N_(
    "I noticed you edited an earlier message. Edits aren't picked up: what you first sent is "
    "what I received. To change an answer, use Re-record while it is offered, or send a new "
    "message."
)
DELETED = N_(
    "I noticed you deleted a message. Deleting it in Slack doesn't remove anything I already "
    "received; use `{delete}` to erase your answers and recordings."
)
HELP = N_(
    "I run asynchronous interviews in our direct messages: answer each question with an audio "
    "clip or text, whenever it suits you.\n"
    "`{status}` - your progress and deadline\n"
    "`{withdraw}` - stop the interview\n"
    "`{delete}` - erase your answers and recordings\n"
    "`{language} es` - answer in another language the interview offers\n"
    "`{help}` - this message"
)


@dataclass(frozen=True)
class Reply:
    """Something the adapter answers by itself, without the engine (e.g. an edit notice)."""

    chat: ChatRef
    text: str  # a catalog message, said in the user's interview language when `user` is set
    user: UserRef | None = None


Inbound = Command | Reply | None


def _user(ident: str) -> UserRef:
    return UserRef(PLATFORM, ident)


def _chat(ident: str) -> ChatRef:
    return ChatRef(PLATFORM, ident)


def _is_dm(event: Mapping[str, Any]) -> bool:
    return event.get("channel_type") == "im" or str(event.get("channel", "")).startswith("D")


def _from_bot(message: Mapping[str, Any], bot_user_id: str | None) -> bool:
    return bool(message.get("bot_id") or message.get("bot_profile")
                or message.get("subtype") == "bot_message"
                or (bot_user_id is not None and message.get("user") == bot_user_id))


# -- message events ------------------------------------------------------------------------
def message_event(event: Mapping[str, Any], *, event_id: str | None,
                  bot_user_id: str | None = None) -> Inbound:
    """A `message` event in a DM with the app → the command it stands for (None: ignore it)."""
    if event.get("type") != "message" or not _is_dm(event):
        return None
    chat = _chat(str(event["channel"]))
    subtype = event.get("subtype")
    if subtype == "message_changed":
        return _edited(event, chat, bot_user_id)
    if subtype == "message_deleted":
        previous = event.get("previous_message") or {}
        if previous.get("user") and not _from_bot(previous, bot_user_id):
            return Reply(chat, DELETED, _user(str(previous["user"])))
        return None
    if subtype in IGNORED_SUBTYPES or _from_bot(event, bot_user_id) or not event.get("user"):
        return None
    if event.get("hidden"):
        return None
    user = _user(str(event["user"]))
    delivery = f"slack:event:{event_id}" if event_id else None
    files = event.get("files") or []
    if subtype == "file_share" or files:
        return _files(files, user, chat, delivery)
    if subtype not in (None, "thread_broadcast"):
        return None
    return TextReceived(user, chat, str(event.get("text") or ""), delivery)


def _edited(event: Mapping[str, Any], chat: ChatRef, bot_user_id: str | None) -> Inbound:
    """Only a person's own change of text is an edit; Slack also sends this for unfurls,
    finished transcriptions and the bot's own `chat.update`."""
    message = event.get("message") or {}
    previous = event.get("previous_message") or {}
    if _from_bot(message, bot_user_id) or not message.get("user"):
        return None
    if message.get("text") == previous.get("text") or not message.get("edited"):
        return None
    return Reply(chat, EDITED, _user(str(message["user"])))


def _files(files: list[Mapping[str, Any]], user: UserRef, chat: ChatRef,
           delivery: str | None) -> Command | None:
    if not files:
        return None
    for file in files:
        media = media_ref(file)
        if media is not None:
            return MediaReceived(user, chat, media, delivery)
    return UnsupportedReceived(user, chat, unsupported_what(files[0]))


def is_audio(file: Mapping[str, Any]) -> bool:
    """A Slack audio/video clip, or an uploaded audio file in a format we decode."""
    mime = str(file.get("mimetype") or "").split(";")[0].strip().lower()
    return file.get("subtype") in CLIP_SUBTYPES or mime in AUDIO_MIMES


def needs_file_info(file: Mapping[str, Any]) -> bool:
    """Slack sends a stub (`file_access: check_file_info`) when the event cannot carry the file."""
    return file.get("file_access") == "check_file_info" or "mimetype" not in file


def media_ref(file: Mapping[str, Any]) -> MediaRef | None:
    """A Slack file object → `MediaRef`, or None when it is not audio we can take."""
    if not is_audio(file):
        return None
    mime = str(file.get("mimetype") or "").split(";")[0].strip().lower()
    if not mime:
        mime = "video/mp4" if file.get("subtype") == "slack_video" else "audio/mp4"
    duration_ms = file.get("duration_ms")
    size = file.get("size")
    return MediaRef(
        platform=PLATFORM,
        file_id=str(file["id"]),
        kind="voice" if file.get("subtype") in CLIP_SUBTYPES else "audio",
        mime=mime,
        size=int(size) if isinstance(size, int | float) else None,
        duration=duration_ms / 1000 if isinstance(duration_ms, int | float) else None,
        name=file.get("name"),
        transcript=transcript(file),
        url=file.get("url_private_download") or file.get("url_private"),
    )


def transcript(file: Mapping[str, Any]) -> str | None:
    """Slack's own transcript when complete, `TRANSCRIPT_PENDING` while Slack works on it,
    else None."""
    info = file.get("transcription") or {}
    status = info.get("status")
    if status == "processing":
        return TRANSCRIPT_PENDING
    if status == "complete":
        content = (info.get("preview") or {}).get("content")
        return str(content).strip() or None if content else None
    return None


def unsupported_what(file: Mapping[str, Any]) -> str:
    """How to name a file we cannot take, for "Sorry, I can't use a {what} as an answer"."""
    mime = str(file.get("mimetype") or "")
    if mime.startswith("image/"):
        return N_("picture")
    if mime.startswith("video/"):
        return N_("video of that format")
    if mime.startswith("audio/"):
        return N_("recording in that format")
    return N_("document")


# -- interactivity ---------------------------------------------------------------------------
def block_action(body: Mapping[str, Any]) -> ButtonPressed | None:
    """A `block_actions` press on one of our message buttons → `ButtonPressed`."""
    actions = body.get("actions") or []
    container = body.get("container") or {}
    user = (body.get("user") or {}).get("id")
    if not actions or not user or container.get("type") != "message":
        return None
    action = actions[0]
    if action.get("type") != "button":
        return None
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    if not channel:
        return None
    chat = _chat(str(channel))
    ts = container.get("message_ts")
    message = MessageRef(chat, str(ts)) if ts and not container.get("is_ephemeral") else None
    action_ts = action.get("action_ts") or body.get("trigger_id")
    return ButtonPressed(_user(str(user)), chat, str(action.get("value") or ""), message,
                         delivery=f"slack:action:{action_ts}:{user}")


def modal_metadata(target: str, channel: str) -> str:
    """What the reply modal carries: the opaque target and the chat it was asked from."""
    return json.dumps({"target": target, "channel": channel}, separators=(",", ":"))


def view_submission(body: Mapping[str, Any]) -> ReviewerText | None:
    """The follow-up / reply modal's submission → `ReviewerText`."""
    view = body.get("view") or {}
    user = (body.get("user") or {}).get("id")
    if view.get("callback_id") != REPLY_CALLBACK or not user:
        return None
    try:
        meta = json.loads(view.get("private_metadata") or "")
        target, channel = str(meta["target"]), str(meta["channel"])
    except (ValueError, KeyError, TypeError):
        return None
    text = submitted_text(view)
    if text is None:
        return None
    return ReviewerText(_user(str(user)), _chat(channel), target, text,
                        delivery=f"slack:view:{view.get('id')}:{view.get('hash')}")


def submitted_text(view: Mapping[str, Any]) -> str | None:
    values = ((view.get("state") or {}).get("values") or {}).get(REPLY_BLOCK) or {}
    value = (values.get(REPLY_INPUT) or {}).get("value")
    return str(value) if value is not None else None


def slash_command(body: Mapping[str, Any], dm: ChatRef) -> UserCommand | None:
    """`/interview status|withdraw|delete` → `UserCommand` answered in the DM `dm`.

    None for `help`, no argument or anything unknown: the adapter shows `HELP` itself.
    """
    words = str(body.get("text") or "").strip().split()
    name = Verb.parse(words[0]) if words else None
    if name is None or name is Verb.HELP:
        return None
    user = str(body["user_id"])
    return UserCommand(_user(user), dm, name,
                       delivery=f"slack:command:{body.get('trigger_id')}",
                       argument=words[1] if len(words) > 1 else None)
