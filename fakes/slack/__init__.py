"""In-process fake of the Slack Web API, file hosting and response URLs for end-to-end tests,
with the requests Slack sends to an app.

Point a real ``AsyncWebClient(token=..., base_url=fake.api_url)`` at `FakeSlack`. State is kept
in memory and can be inspected (``calls``, ``messages``, ``ephemerals``, ``views``, ``uploads``)
or awaited (``wait_for``, ``wait_for_message``). Faults are injected with ``fail_next``.

Strict by default, as Slack is: ``chat.postMessage`` is held to one message a second per channel
(``enforce_pacing``) and every method to its rate tier (``enforce_tiers``), both answered with
429 ``ratelimited`` and ``Retry-After``. A test that turns one off says why.

Slack request payloads are built as Slack sends them (`events`, `interactions`): Events API
envelopes are JSON; interactions are form-encoded ``payload=<json>``; slash commands are plain
form fields. ``SlackSender`` (`sender`) signs each body with ``v0=HMAC-SHA256(secret,
"v0:{ts}:{body}")`` and POSTs it to ``/slack/events``; `socket_mode` delivers the same over a
Socket Mode WebSocket. Tests use the package as one namespace::

    from fakes import slack as ev
    await sender.event(ev.message(user="U1", channel="D1", text="hi"))
"""

from .blocks import ButtonRef, block_text, find_button, iter_buttons, validate_blocks
from .events import (
    DEFAULT_APP,
    DEFAULT_BOT_USER,
    DEFAULT_TEAM,
    VERIFICATION_TOKEN,
    app_home_opened,
    event_callback,
    file_share,
    message,
    message_changed,
    message_deleted,
    new_event_id,
    new_trigger_id,
    url_verification,
)
from .interactions import block_actions, press, slash_command, view_state, view_submission
from .objects import (
    Call,
    Download,
    Ephemeral,
    PacingViolation,
    PostedMessage,
    ResponsePost,
    Upload,
    View,
)
from .sender import ACK_DEADLINE, MAX_RETRIES, SlackReply, SlackSender, sign
from .server import FakeSlack
from .socket_mode import Envelope, SocketModeServer, SocketSender

__all__ = [
    "ACK_DEADLINE",
    "DEFAULT_APP",
    "DEFAULT_BOT_USER",
    "DEFAULT_TEAM",
    "MAX_RETRIES",
    "VERIFICATION_TOKEN",
    "ButtonRef",
    "Call",
    "Download",
    "Envelope",
    "Ephemeral",
    "FakeSlack",
    "PacingViolation",
    "PostedMessage",
    "ResponsePost",
    "SlackReply",
    "SlackSender",
    "SocketModeServer",
    "SocketSender",
    "Upload",
    "View",
    "app_home_opened",
    "block_actions",
    "block_text",
    "event_callback",
    "file_share",
    "find_button",
    "iter_buttons",
    "message",
    "message_changed",
    "message_deleted",
    "new_event_id",
    "new_trigger_id",
    "press",
    "sign",
    "slash_command",
    "url_verification",
    "validate_blocks",
    "view_state",
    "view_submission",
]
