"""Admission: what every request must pass before a route reads a byte of its body.

FastAPI reads and parses a request's body before it runs the route's dependencies, the token
check among them. Left alone, a client without a token could make the daemon hold a 100 MB
body in memory, or hear 400/422 about its JSON, before being told 401. This layer sits in
front of the application at the raw ASGI level (no ``BaseHTTPMiddleware``, which would itself
buffer) and, for each request:

1. if the path is under ``/api/`` (every route there needs a bearer token or a console session,
   but the live event stream, which opens with a ticket, and the sign-in), checks the
   ``Authorization`` header, or else the session cookie and, for a state-changing request,
   its CSRF header, with the application's own ``Auth`` and answers 401, 403 or 429 at once,
   body unread. Deciding by path
   and not by route keeps this independent of the router's internals, and denies by default:
   a new API route is behind a token even before its role dependency is written. A test
   holds it to the OpenAPI document (every operation under ``/api/`` declares the bearer);
2. refuses a declared ``Content-Length`` above the route's limit with 413, unread;
3. counts the body while the route reads it, and stops it with 413 the moment it passes the
   limit (a chunked body declares no length), or with 408 when it has not all arrived within
   the route's time (a client trickling a body holds a connection and a task).

Limits are ``[api] max_body_bytes`` and ``body_timeout_s`` unless the path has its own (the
catalogue import, the batch location lookup). Whenever a response starts before the body was
read to its end, it carries ``Connection: close``: the unread rest is never read.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import HTTPException
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import CSRF_HEADER, PRINCIPAL_KEY, SESSION_COOKIE, SESSION_KEY, Auth
from daemon.spool import is_unavailable

API_PREFIX = "/api/"
TICKETED = frozenset({"/api/v1/events/stream", "/api/v1/session/sign-in"})
"""Paths under ``/api/`` that authenticate otherwise than with a bearer token or a session:
the live stream with a ticket, the sign-in with a password (or a token, in its body)."""


@dataclass(frozen=True, slots=True)
class Limit:
    """How large a request body may be, and how long it may take to arrive."""

    max_body_bytes: int
    body_timeout_s: float


def needs_token(path: str) -> bool:
    return path.startswith(API_PREFIX) and path not in TICKETED


class _Refused(Exception):
    """The body broke the route's limits; the layer answers ``status`` instead of the route."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    header = _header(scope, b"cookie")
    return cookie_parser(header).get(name) if header else None


async def _answer(
    send: Send, status: int, detail: str, headers: Mapping[str, str] | None = None
) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body, "more_body": False})


class Admission:
    def __init__(
        self, app: ASGIApp, *, auth: Auth, default: Limit, limits: Mapping[str, Limit]
    ) -> None:
        self.app = app
        self.auth = auth
        self.default = default
        self.limits = dict(limits)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if needs_token(path):
            client = scope["client"][0] if scope.get("client") else "?"
            try:
                admitted = await self.auth.admit(
                    client,
                    method=scope["method"],
                    authorization=_header(scope, b"authorization"),
                    cookie=_cookie(scope, SESSION_COOKIE),
                    csrf=_header(scope, CSRF_HEADER.encode()),
                )
            except HTTPException as e:
                await _answer(send, e.status_code, str(e.detail), e.headers)
                return
            except Exception as e:
                # a token not in the verifier's cache is looked up in the database: while it is
                # unreachable (an outage, a failover) the client hears 503, as from any route
                if not is_unavailable(e):
                    raise
                await _answer(
                    send,
                    503,
                    "the database is unreachable just now, so the token cannot be checked; "
                    "try again",
                    {"Retry-After": "5"},
                )
                return
            state = scope.setdefault("state", {})
            state[PRINCIPAL_KEY] = admitted.principal
            state[SESSION_KEY] = admitted.session
        limit = self.limits.get(path, self.default)
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit.max_body_bytes:
            await _answer(send, 413, _too_large(limit))
            return
        await _Exchange(self.app, scope, receive, send, limit).run()


def _too_large(limit: Limit) -> str:
    return f"the request body is larger than this route takes ({limit.max_body_bytes} bytes)"


class _Exchange:
    """One request's body, counted and timed, and its response, replaced when refused."""

    def __init__(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send, limit: Limit):
        self.app = app
        self.scope = scope
        self._receive = receive
        self._send = send
        self.limit = limit
        self.received = 0
        self.body_done = _header(scope, b"content-length") in (None, "0") and (
            _header(scope, b"transfer-encoding") is None
        )
        self.deadline = asyncio.get_running_loop().time() + limit.body_timeout_s
        self.refused: _Refused | None = None
        self.started = False
        self.answered = False

    async def receive(self) -> Message:
        if self.refused is not None:
            raise self.refused
        if self.body_done:
            return await self._receive()
        try:
            async with asyncio.timeout_at(self.deadline):
                message = await self._receive()
        except TimeoutError:
            self.refused = _Refused(
                408,
                f"the request body did not arrive within {self.limit.body_timeout_s:g} s",
            )
            raise self.refused from None
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit.max_body_bytes:
                self.refused = _Refused(413, _too_large(self.limit))
                raise self.refused
            if not message.get("more_body", False):
                self.body_done = True
        return message

    async def send(self, message: Message) -> None:
        if self.refused is not None:
            await self._refuse()
            return
        if message["type"] == "http.response.start":
            self.started = True
            if not self.body_done:
                message = {**message, "headers": [*message.get("headers", ()), _CLOSE]}
        await self._send(message)

    async def _refuse(self) -> None:
        if self.answered or self.started or self.refused is None:
            return
        self.answered = True
        await _answer(self._send, self.refused.status, self.refused.detail)

    async def run(self) -> None:
        try:
            await self.app(self.scope, self.receive, self.send)
        except Exception:
            if self.refused is None:
                raise
        if self.refused is not None:
            await self._refuse()


_CLOSE = (b"connection", b"close")
