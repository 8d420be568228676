"""A local fake of the Telegram Bot API for end-to-end tests and benchmarks.

`FakeTelegram` serves the Bot API over HTTP on 127.0.0.1 closely enough that an unmodified
python-telegram-bot `Application` runs against it::

    async with FakeTelegram() as fake:
        app = (
            ApplicationBuilder().token(fake.token)
            .base_url(fake.api_url).base_file_url(fake.file_url)
            .job_queue(None).build()
        )
        ada = fake.user(1001, first_name="Ada")
        fake.send_command(ada, "/start", "invite-token")
        reply = await fake.wait_for_message(ada.id, contains="Hi Ada")
        fake.press_button(ada, reply, label="Yes")

The test side simulates people (`user`, `group`, `send_*`, `press_button`, ...), injects faults
(`fail_next`, `drop_next`, `delay_next`) and inspects what the bot did (`messages`, `calls`,
`callback_answers`, `wait_for*`).

Strict by default, as Telegram is: flood limits (`RateLimits`: 30 messages/s overall, about 1/s
per private chat after a short burst, 20/min per group; 429 with `retry_after`); callback
queries expire (`callback_query_ttl`, 15 s); privacy mode (`privacy_mode`, as `getMe` says) keeps
group messages from the bot except commands, replies to its messages and mentions
(`withheld` lists the rest); a user who blocked the bot gets every method acting in their chat
refused with 403 "Forbidden: bot was blocked by the user". A test that turns one off
(`rate_limits=None`, `callback_query_ttl=None`, `privacy_mode=False`) says why.

After `setWebhook`, updates are pushed to the URL (with the secret header) as Telegram does:
those of different chats concurrently, up to the webhook's `max_connections`; those of one chat
one at a time, the next only once the previous was answered. A non-2xx answer, a timeout
(`webhook_timeout`) or a refused connection is retried (`webhook_max_attempts`,
`webhook_retry_delay`); every attempt is in `webhook_deliveries`.
"""

from .api import (
    BLOCKED,
    CALLBACK_QUERY_TTL,
    DEFAULT_TOKEN,
    MAX_CALLBACK_DATA_BYTES,
    MAX_TEXT_LENGTH,
    QUERY_INVALID,
    STRICT_LIMITS,
    ApiError,
    RateLimits,
)
from .formatting import parse_formatted
from .objects import (
    ApiCall,
    BotMessage,
    CallbackAnswer,
    FakeGroup,
    FakeUser,
    StoredFile,
    Upload,
    WebhookDelivery,
    find_button,
    inline_buttons,
)
from .server import FakeTelegram

__all__ = [
    "BLOCKED",
    "CALLBACK_QUERY_TTL",
    "DEFAULT_TOKEN",
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_TEXT_LENGTH",
    "QUERY_INVALID",
    "STRICT_LIMITS",
    "ApiCall",
    "ApiError",
    "BotMessage",
    "CallbackAnswer",
    "FakeGroup",
    "FakeTelegram",
    "FakeUser",
    "RateLimits",
    "StoredFile",
    "Upload",
    "WebhookDelivery",
    "find_button",
    "inline_buttons",
    "parse_formatted",
]
