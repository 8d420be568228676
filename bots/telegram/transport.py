"""The Bot API transport: python-telegram-bot's requests carried by aiohttp.

PTB's default transport is httpx. Measured against the fake Bot API (bench/engine.py), one
httpx request costs about 0.7 ms of CPU one at a time and 1.5 ms when 16 are in flight (httpcore
scans its pool and its queue of waiting requests on every request and every release); aiohttp
costs 0.15 to 0.25 ms either way. The bot sends to many chats at once, so the transport was most
of its CPU per message. PTB takes any `BaseRequest` (its documented seam for another HTTP
library); this one keeps PTB's behaviour: the same default timeouts, `TimedOut` for a timeout,
`NetworkError` for a failed connection, status and body handed back for PTB to interpret.

Parameters travel as a JSON body (the Bot API accepts JSON, form fields or multipart); a request
with files goes as multipart, the parameters as form fields beside the files.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

JSON_HEADERS = {"Content-Type": "application/json", "User-Agent": BaseRequest.USER_AGENT}
FORM_HEADERS = {"User-Agent": BaseRequest.USER_AGENT}


def _given(value: Any, default: float | None) -> float | None:
    """A timeout PTB passed, or ours when it passed `DEFAULT_NONE`."""
    return default if value is BaseRequest.DEFAULT_NONE else value


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` on one `aiohttp.ClientSession` with at most `connection_pool_size`
    connections; timeouts default as PTB's `HTTPXRequest` (5 s, 1 s to get a connection, 20 s
    to upload media)."""

    __slots__ = (
        "_connect",
        "_media_write",
        "_pool",
        "_pool_wait",
        "_read",
        "_session",
        "_write",
    )

    def __init__(self, connection_pool_size: int = 1, *, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0,
                 media_write_timeout: float | None = 20.0) -> None:
        self._pool = connection_pool_size
        self._read = read_timeout
        self._write = write_timeout
        self._connect = connect_timeout
        self._pool_wait = pool_timeout
        self._media_write = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool, limit_per_host=self._pool),
                skip_auto_headers=("User-Agent",))

    async def shutdown(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data is not None and request_data.contains_files
        read = _given(read_timeout, self._read)
        write = _given(write_timeout, self._media_write if files else self._write)
        connect = _given(connect_timeout, self._connect)
        pool = _given(pool_timeout, self._pool_wait)
        # aiohttp has no write timeout of its own: a total bounds the whole request by the
        # sum of PTB's four, so an upload that stalls still ends
        total = (None if read is None or write is None or connect is None or pool is None
                 else read + write + connect + pool)
        timeout = aiohttp.ClientTimeout(
            total=total, connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect, sock_read=read)
        body: Any = None
        headers = FORM_HEADERS
        if request_data is not None:
            if files:
                body = aiohttp.FormData(request_data.json_parameters)
                for name, (filename, content, mime) in request_data.multipart_data.items():
                    body.add_field(name, content, filename=filename, content_type=mime)
            else:
                body, headers = request_data.json_payload, JSON_HEADERS
        try:
            async with session.request(method, url, data=body, headers=headers,
                                       timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err
