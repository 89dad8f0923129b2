"""How the API is served: uvicorn's settings, and a deadline for a request's headers.

uvicorn times out an idle keep-alive connection (``timeout_keep_alive``) and bounds the size
of a request's line and headers (``h11_max_incomplete_event_size``), but a connection that
sends half a request line, or nothing at all, is held for ever: a few hundred of them hold as
many sockets and file descriptors. So the HTTP protocol here is uvicorn's h11 protocol with one
addition, a timer from the moment a connection opens (or the next request's first byte
arrives) to the end of that request's headers: when it fires, the client gets 408 and the
connection is closed. The body's own deadline is the admission layer's (``api.admission``),
since it depends on the route.

Forwarded headers (``X-Forwarded-For``, ``X-Forwarded-Proto``) are believed only from the
addresses in ``[api] trusted_proxies`` (none by default). uvicorn's own default trusts
127.0.0.1, which would let any local client name whatever address it likes and so dodge, or
aim, the failed-authentication limit.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from daemon.config import ApiConfig

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 16 * 1024
"""Request line and headers together; a longer head is refused with 400."""

_TIMEOUT_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: application/json\r\n"
    b"connection: close\r\n"
    b'content-length: 57\r\n\r\n{"detail": "the request headers did not arrive in time"}\n'
)


class HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol, with a deadline for each request's line and headers."""

    header_timeout_s: float = 15.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._partial = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(partial=False)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            self._disarm()
        elif self._deadline is None or not self._partial:
            self._arm(partial=True)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            pipelined, _ = self.conn.trailing_data
            if pipelined:  # the next request's first bytes arrived with the last one
                self._arm(partial=True)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, *, partial: bool) -> None:
        self._disarm()
        self._partial = partial
        self._deadline = self.loop.call_later(self.header_timeout_s, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        if self._partial:
            log.debug("closing a connection from %s: request headers too slow", self.client)
            self.transport.write(_TIMEOUT_RESPONSE)
        self.transport.close()


def protocol_for(header_timeout_s: float) -> type[HeaderDeadlineProtocol]:
    """The protocol class uvicorn instantiates per connection, with this deadline."""
    return type(
        "ApiHttpProtocol", (HeaderDeadlineProtocol,), {"header_timeout_s": header_timeout_s}
    )


def server_config(api: ApiConfig, app: Any) -> uvicorn.Config:
    """uvicorn's configuration for the daemon's API (the daemon owns logging and signals)."""
    return uvicorn.Config(
        app,
        http=protocol_for(api.header_timeout_s),
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
        timeout_keep_alive=api.keep_alive_s,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        proxy_headers=bool(api.trusted_proxies),
        forwarded_allow_ips=list(api.trusted_proxies),
        ssl_certfile=str(api.tls_cert_file) if api.tls_cert_file else None,
        ssl_keyfile=str(api.tls_key_file) if api.tls_key_file else None,
    )
