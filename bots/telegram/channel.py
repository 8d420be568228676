"""`TelegramChannel`: python-telegram-bot running inside interviewbot's own event loop.

Long polling by default; with `TELEGRAM_WEBHOOK_URL` set, Telegram pushes updates to
`POST /telegram/webhook` on the shared aiohttp server instead. Either way every update goes
through `translate` to the engine; the engine's answer to a button press becomes the callback
answer. Interview state lives in the database only, so any process can take any update.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import hmac
import logging
import traceback
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from bots.channels import EngineObserver
from bots.logs import webhook_secret_for
from bots.settings import Settings
from bots.telegram.invite import deep_link
from bots.telegram.invite_command import invite_handler
from bots.telegram.messenger import TelegramMessenger
from bots.telegram.pacing import ChatPacedRateLimiter, Pacing
from bots.telegram.translate import Notice, translate
from bots.telegram.transport import AiohttpRequest
from bots.telegram.updates import (
    PerChatUpdateProcessor,
    UpdatesBot,
    UpdatesRequest,
    parse_update,
)
from core.commands import ButtonPressed
from core.engine import Engine
from core.i18n import N_, available, choose, t
from core.messages import OutMessage
from core.observe import Observer
from core.refs import ChatRef, MessageRef
from core.vocabulary import Verb

log = logging.getLogger("interviewbot.telegram")

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
SORRY = N_("Sorry, something went wrong on my side. Please try again in a moment.")
MENU = (  # the menu Telegram shows next to the text box
    (Verb.STATUS, N_("Your progress and deadline")),
    (Verb.HELP, N_("How this works")),
    (Verb.WITHDRAW, N_("Stop the interview")),
    (Verb.DELETE, N_("Erase your answers and recordings")),
    (Verb.LANGUAGE, N_("Answer in another language")),
)


def commands(lang: str | None = None) -> list[BotCommand]:
    """The command menu, described in `lang` (Telegram shows the one of the user's language)."""
    return [BotCommand(name, t(lang, about)) for name, about in MENU]


COMMANDS = tuple(commands())

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def webhook_secret(settings: Settings) -> str:
    """The configured secret, else one derived from the bot token (same in every process)."""
    if settings.telegram_webhook_secret:
        return settings.telegram_webhook_secret
    return webhook_secret_for(settings.telegram_bot_token or "")


# Sends share this many connections, and no more requests than that are handed to the
# transport at once (ChatPacedRateLimiter); bots/telegram/transport.py says why it is aiohttp.
POOL_SIZE = 16


class TelegramChannel:
    """The Telegram side of `interviewbot run` (see `bots.channels.Channel`)."""

    name = "telegram"
    default_pacing = Pacing()  # Telegram's limits; tests swap in faster pacing here

    def __init__(self, settings: Settings, engine: Engine, *, pacing: Pacing | None = None,
                 workers: int = 32, poll_timeout: float = 10.0,
                 observer: Observer | None = None) -> None:
        """`observer` counts outbound retries; by default the engine's (`Services.observer`,
        looked up at each retry, so metrics the composition root installs later count)."""
        if not settings.telegram_bot_token:
            raise ValueError("TELEGRAM_BOT_TOKEN is not set")
        self.settings = settings
        self.engine = engine
        self.pacing = (pacing or self.default_pacing).shared_by(settings.telegram_processes)
        self.poll_timeout = poll_timeout
        self.webhook_url = settings.telegram_webhook_url or None
        self.processor = PerChatUpdateProcessor(workers)
        self.observer: Observer = observer or EngineObserver(engine)
        bot = UpdatesBot(
            settings.telegram_bot_token, base_url=settings.telegram_api_url,
            base_file_url=settings.telegram_file_url,
            request=AiohttpRequest(POOL_SIZE, pool_timeout=None),
            get_updates_request=UpdatesRequest(),
            rate_limiter=ChatPacedRateLimiter(self.pacing, self.observer, POOL_SIZE))
        builder = (
            ApplicationBuilder().bot(bot).job_queue(None).concurrent_updates(self.processor)
        )
        if self.webhook_url:
            builder = builder.updater(None)
        self.application: AnyApplication = builder.build()
        self.application.add_handler(invite_handler(engine, settings), group=-1)  # /invite
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        self.messenger = TelegramMessenger(self.application.bot, self.pacing, self.observer)
        self.messenger.prompts = self._record_prompt
        self._secret = webhook_secret(settings)
        self._accepting = False
        self._inflight: set[asyncio.Future[None]] = set()
        self.ready = asyncio.Event()  # set once updates are being received

    # -- Channel -----------------------------------------------------------------------
    def add_routes(self, app: web.Application) -> bool:
        """In webhook mode, route `POST /telegram/webhook` (and the URL's own path)."""
        if not self.webhook_url:
            return False
        paths = {WEBHOOK_PATH, urlsplit(self.webhook_url).path or WEBHOOK_PATH}
        for path in sorted(paths):
            app.router.add_post(path, self._webhook)
        return True

    async def start(self) -> None:
        """Connect: getMe, then polling or setWebhook. Raises if Telegram is unreachable."""
        logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the token
        app = self.application
        await app.initialize()
        await app.start()
        try:
            mode = await self._connect()
        except BaseException:
            await app.stop()
            await app.shutdown()
            raise
        self._accepting = True
        self.ready.set()
        log.info("telegram bot @%s ready (%s); invitation links look like %s",
                 app.bot.username, mode, deep_link(app.bot.username, "<token>"))

    async def _connect(self) -> str:
        app = self.application
        try:
            await app.bot.set_my_commands(COMMANDS)
            for lang in available()[1:]:  # English is the menu for every other language
                await app.bot.set_my_commands(commands(lang), language_code=lang)
        except TelegramError as exc:
            log.warning("setMyCommands failed: %s", exc.message)
        if self.webhook_url:
            await app.bot.set_webhook(self.webhook_url, secret_token=self._secret,
                                      allowed_updates=list(ALLOWED_UPDATES))
            return "webhook"
        assert app.updater is not None
        await app.updater.start_polling(
            timeout=dtm.timedelta(seconds=self.poll_timeout),
            allowed_updates=list(ALLOWED_UPDATES), drop_pending_updates=False,
            bootstrap_retries=3, error_callback=_polling_error)
        return "polling"

    async def stop(self) -> None:
        """Stop fetching, finish the updates already taken, then close the HTTP clients."""
        self._accepting = False
        self.ready.clear()
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if self._inflight:
            await asyncio.gather(*self._inflight, return_exceptions=True)
        if app.running:
            await app.stop()
        await app.shutdown()

    def connected(self) -> bool:
        app = self.application
        polling = app.updater is not None and app.updater.running
        return self._accepting and app.running and (polling or bool(self.webhook_url))

    async def open_outbound(self) -> None:
        """Make the messenger usable without receiving anything (CLI commands): getMe only."""
        await self.application.bot.initialize()

    async def close_outbound(self) -> None:
        await self.application.bot.shutdown()

    # -- webhook -----------------------------------------------------------------------
    async def _webhook(self, request: web.Request) -> web.Response:
        """Check the secret, then process the update before answering 200.

        Answering only after the engine committed means a crash makes Telegram deliver the
        update again; the engine's de-duplication keeps that from counting twice.
        """
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self._secret.encode()):
            return web.Response(status=403, text="forbidden")
        if not self._accepting:
            return web.Response(status=503, text="not ready")
        try:
            data = await request.json()
            update = parse_update(data, self.application.bot)
        except (ValueError, TypeError, KeyError, AttributeError):
            return web.Response(status=400, text="bad update")
        app = self.application
        work = asyncio.ensure_future(
            app.update_processor.process_update(update, app.process_update(update)))
        self._inflight.add(work)
        work.add_done_callback(self._inflight.discard)
        await asyncio.shield(work)
        return web.Response(text="ok")

    # -- handling ----------------------------------------------------------------------
    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        bot = self.application.bot
        inbound = translate(update, bot_username=bot.username, bot_id=bot.id,
                            prompts=self._prompt_target)
        query = update.callback_query
        if inbound is None:
            if query is not None:
                await self.messenger.answer_callback(query.id, None)
            return
        if isinstance(inbound, Notice):
            await self.messenger.send(inbound.chat, OutMessage(
                self.engine.words_for(inbound.user, inbound.text)))
            return
        if isinstance(inbound, ButtonPressed) and query is not None:
            query_id = query.id

            async def answer(reply: str | None) -> None:
                await self.messenger.answer_callback(query_id, reply)

            await self.engine.handle(inbound, answer)
        else:
            await self.engine.handle(inbound)

    def _record_prompt(self, ref: MessageRef, target: str) -> None:
        """Remember a force-reply prompt by its message id (see `_prompt_target`)."""
        self.engine.views.remember_prompt(ref.chat, ref.id, target)

    def _prompt_target(self, chat: ChatRef, message_id: str) -> str | None:
        return self.engine.views.prompt_target(chat, message_id)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the failure without personal data, and tell the person to try again."""
        error = context.error
        frames = "".join(traceback.format_tb(error.__traceback__)) if error else ""
        log.error("handling a telegram update failed: %s\n%s", type(error).__name__, frames)
        if not isinstance(update, Update):
            return
        # in the language the person's Telegram app is set to: the database, which knows
        # their interview's language, may be what failed
        person = update.effective_user
        sorry = t(choose(person.language_code if person else None, available()), SORRY)
        try:
            if update.callback_query is not None:
                await self.messenger.answer_callback(update.callback_query.id, sorry)
            elif update.effective_chat is not None:
                chat = ChatRef("telegram", str(update.effective_chat.id))
                await self.messenger.send(chat, OutMessage(sorry))
        except Exception as exc:  # the apology is best effort
            log.warning("could not tell the person about the failure: %s", type(exc).__name__)


def _polling_error(exc: TelegramError) -> None:
    log.warning("polling Telegram failed, retrying: %s", exc.message)
