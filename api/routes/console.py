"""The staff console's pages, and the API routes it needs beyond the rest of the API.

Pages (``/console/...``) are the same for everyone and hold no data: each page's script calls
the REST API like any client, with the session cookie that signing in set (HttpOnly, so no
script can read it; SameSite=Strict, Secure over TLS) and the CSRF token header that
``api.auth`` asks of every state-changing request made with a cookie. So the pages need no
authentication of their own and can never show what the session may not see. They are sent
with a strict Content-Security-Policy (scripts and styles from the daemon's own files only, no
inline script).

People sign in with ``POST /api/v1/session/sign-in`` (user name, password, and the one-time
code of an administrator's role; daemon/accounts); a shared desk may sign in with its staff
token instead, and its session lasts as long as the token. ``POST /api/v1/session/sign-out``
ends the session, ``POST /api/v1/session/password`` changes one's own password.

The API routes: ``GET /api/v1/session`` (who is signed in, and what does the room have),
``GET /api/v1/search`` (find an item by part of its reference, title or EPC), and the live
feed: ``POST /api/v1/events/ticket`` then ``GET /api/v1/events/stream?ticket=...``
(server-sent events; see ``api.console.tickets`` for why a ticket).
"""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import jinja2
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.sse import EventSourceResponse, ServerSentEvent
from fastapi.staticfiles import StaticFiles

from api.auth import CSRF_COOKIE, SESSION_COOKIE, SESSION_KEY, Auth, bearer
from api.console import i18n
from api.console.live import FeedUnavailable, LiveFeed, Slot
from api.console.schemas import (
    DeskReaderOut,
    PasswordIn,
    SearchHitOut,
    SessionOut,
    SignInIn,
    TicketOut,
)
from api.console.search import MAX_LENGTH, MIN_LENGTH, search_items, search_text
from api.console.tickets import Grant, Tickets
from api.params import TOTAL_HEADER
from api.schemas.locations import PlaceOut
from daemon import __version__
from daemon.accounts.passwords import PasswordRejected
from daemon.accounts.store import AccountError, ActiveSession, NewSession, SignInRefused
from daemon.ledger.errors import Invalid
from daemon.ledger.whereabouts import UNKNOWN_PLACE, Whereabout
from daemon.services import Services
from daemon.tokens import Principal, Role

HERE = Path(__file__).resolve().parent.parent / "console"
CONSOLE_ROLES = frozenset({Role.staff, Role.admin, Role.approver})
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
# page name -> message key of its title; the template is <page>.html, the script <page>.js
PAGES = {
    "login": "page.login",
    "items": "page.items",
    "item": "page.item",
    "loans": "page.loans",
    "cart": "page.cart",
    "alarms": "page.alarms",
    "stacker": "page.stacker",
    "climate": "page.climate",
    "statistics": "page.statistics",
    "approvals": "page.approvals",
    "map": "page.map",
}


def _same_page(request: Request, lang: str) -> str:
    """This page's address (path and query, no host: proxies) in another language."""
    url = request.url.include_query_params(lang=lang)
    return f"{url.path}?{url.query}"


def router(svc: Services, auth: Auth) -> APIRouter:
    r = APIRouter(tags=["console"])
    messages = i18n.Messages.load(HERE / "messages")
    templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    for name in PAGES:
        templates.get_template(f"{name}.html")  # a broken template stops start-up, not a page
    tickets = Tickets()
    feed = LiveFeed(svc.bus, auth.credentials)
    svc.stop_hooks.append(feed.close)
    anyone = auth.require(*Role)
    staff = auth.require(Role.staff)
    reader = auth.require(Role.staff, Role.catalogue)
    r.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")

    # Room names for the location names the pages show: {id: {"zh": ..., "en": ...}}.
    room_names: dict[str, dict[str, str]] = {svc.config.room: {}}
    for room in svc.config.rooms:
        room_names[room.id] = {
            lang: name
            for lang, name in (("zh", room.name), ("en", room.name_en or room.name))
            if name
        }

    def page(request: Request, name: str) -> HTMLResponse:
        switch = request.query_params.get("lang")
        lang = i18n.choose(
            switch=switch,
            cookie=request.cookies.get(i18n.COOKIE),
            accept_language=request.headers.get("accept-language"),
        )
        html = templates.get_template(f"{name}.html").render(
            page=name,
            lang=lang,
            html_lang=i18n.HTML_LANG[lang],
            title=messages.translate(lang, PAGES[name]),
            t=lambda key, **values: messages.translate(lang, key, **values),
            messages=dict(messages.catalogue(lang)),
            rooms=room_names,
            switch={other: _same_page(request, other) for other in i18n.LANGS if other != lang},
            version=__version__,
        )
        response = HTMLResponse(html, headers=SECURITY_HEADERS)
        if i18n.as_lang(switch) is not None:
            response.set_cookie(
                i18n.COOKIE, lang, max_age=LANG_COOKIE_MAX_AGE, path="/console", samesite="lax"
            )
        return response

    @r.get("/console", include_in_schema=False)
    async def console_home() -> Response:
        return RedirectResponse("/console/items", status.HTTP_303_SEE_OTHER)

    def serve(name: str) -> None:
        async def show(request: Request) -> HTMLResponse:
            return page(request, name)

        r.add_api_route(
            f"/console/{name}",
            show,
            methods=["GET"],
            response_class=HTMLResponse,
            include_in_schema=False,
            name=f"console_{name}",
        )

    for name in PAGES:  # every page is served the same way: its template, in the reader's words
        serve(name)

    # -- API ------------------------------------------------------------------------------

    def session_of(who: Principal) -> SessionOut:
        desks = sorted(svc.desk.readers)
        return SessionOut(
            name=who.name,
            role=who.role,
            scope=who.scope,
            console=who.role in CONSOLE_ROLES,
            site=svc.config.site.id,
            room=svc.config.room,
            desk_readers=[DeskReaderOut(id=d, online=svc.readers.up.get(d, False)) for d in desks],
            stacker=svc.stacker is not None,
            climate=svc.climate is not None,
        )

    @r.get("/api/v1/session")
    async def session(who: Annotated[Principal, Depends(anyone)]) -> SessionOut:
        """Who is signed in (or holds this token), whether the staff console is for them, and
        what the room has."""
        return session_of(who)

    def set_cookies(request: Request, response: Response, new: NewSession) -> None:
        tls = request.url.scheme == "https"
        response.set_cookie(
            SESSION_COOKIE, new.secret, path="/", httponly=True, secure=tls, samesite="strict"
        )
        response.set_cookie(CSRF_COOKIE, new.csrf, path="/", secure=tls, samesite="strict")

    @r.post(
        "/api/v1/session/sign-in",
        responses={401: {"description": "wrong credentials"}, 429: {"description": "locked"}},
    )
    async def sign_in(request: Request, response: Response, body: SignInIn) -> SessionOut:
        """Open a console session: a person's user name and password (and the one-time code
        of an administrator's role), or a shared desk's token. Sets the HttpOnly session
        cookie and the CSRF cookie whose value goes back in ``X-CSRF-Token``."""
        if body.token is not None:
            client = request.client.host if request.client else "?"
            principal = await auth.authenticate(client, f"Bearer {body.token}")
            new = await svc.accounts.open_for_token(principal, body.token)
        elif body.user is not None and body.password is not None:
            try:
                new = await svc.accounts.sign_in(body.user, body.password, body.code)
            except SignInRefused as e:
                headers = {"WWW-Authenticate": "Bearer"}
                if e.retry_after_s is not None:
                    headers["Retry-After"] = str(e.retry_after_s)
                raise HTTPException(e.status, e.detail, headers=headers) from None
        else:
            raise Invalid("sign in with a user name and a password, or with a token")
        set_cookies(request, response, new)
        return session_of(new.principal)

    def current_session(request: Request) -> ActiveSession | None:
        active = request.scope.get("state", {}).get(SESSION_KEY)
        return active if isinstance(active, ActiveSession) else None

    @r.post("/api/v1/session/sign-out", status_code=status.HTTP_204_NO_CONTENT)
    async def sign_out(
        request: Request, response: Response, _who: Annotated[Principal, Depends(anyone)]
    ) -> None:
        """End this console session (with a token: nothing to end) and clear its cookies."""
        active = current_session(request)
        if active is not None:
            await svc.accounts.sign_out(active.secret)
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie(CSRF_COOKIE, path="/")

    @r.post("/api/v1/session/password", status_code=status.HTTP_204_NO_CONTENT)
    async def change_password(
        request: Request, body: PasswordIn, who: Annotated[Principal, Depends(anyone)]
    ) -> None:
        """Change one's own password (a person signed in with a password; not a token)."""
        active = current_session(request)
        if active is None or not active.account:
            raise Invalid("only a person signed in with a password can change it here")
        try:
            await svc.accounts.change_password(who.name, body.current, body.new)
        except (AccountError, PasswordRejected) as e:
            raise Invalid(str(e)) from None

    lookups = Whereabout(svc.reads)

    @r.get("/api/v1/search")
    async def search(
        who: Annotated[Principal, Depends(reader)],
        response: Response,
        q: Annotated[str, Query(min_length=MIN_LENGTH, max_length=MAX_LENGTH)],
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    ) -> list[SearchHitOut]:
        """Items whose reference, title or tag EPC contains ``q``; exact matches first.

        One page (``limit``, ``offset``); the ``X-Total-Count`` header says how many match.
        A room-scope principal finds the items of this room (and those not yet placed in any);
        a bureau-scope one those of every room sharing the database."""
        room = who.room_filter(svc.config.room)
        matches = await search_items(
            svc.reads, search_text(q), limit=limit, offset=offset, room=room
        )
        response.headers[TOTAL_HEADER] = str(matches.total)
        hits = matches.hits
        found, _ = await lookups.locate([h.ref for h in hits], room=room)
        where = {w.ref: w for w in found}
        out = []
        for h in hits:
            w = where.get(h.ref)
            out.append(
                SearchHitOut.from_domain(
                    h,
                    location=PlaceOut.from_domain(w.location if w else UNKNOWN_PLACE),
                    on_loan=bool(w and w.loan),
                )
            )
        return out

    @r.post("/api/v1/events/ticket", status_code=status.HTTP_201_CREATED)
    async def ticket(
        request: Request,
        who: Annotated[Principal, Depends(staff)],
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> TicketOut:
        """A single-use ticket, good for 30 s, that opens one live event stream."""
        active = current_session(request)
        credential = credentials.credentials if credentials else active and active.secret
        assert credential  # the staff dependency refused the request otherwise
        return TicketOut(
            ticket=tickets.issue(who, credential),
            expires_in_s=tickets.ttl_s,
            stream="/api/v1/events/stream",
        )

    async def stream_grant(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        ticket: Annotated[str | None, Query(max_length=100)] = None,
    ) -> AsyncIterator[tuple[Grant, Slot]]:
        if ticket is None:
            await staff(request, credentials)  # 401 without a token, 403 for another role
            raise Invalid(
                "the event stream opens with a ticket: POST /api/v1/events/ticket, "
                "then GET /api/v1/events/stream?ticket=..."
            )
        client = request.client.host if request.client else "?"
        grant = tickets.redeem(ticket)  # a good ticket came from a good token: never refused
        if grant is None and auth.limiter.blocked(client):
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                "too many failed authentication attempts; wait a minute",
            )
        if grant is None:
            auth.limiter.failed(client)
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "the ticket is unknown, used or expired; ask for a new one",
                headers={"WWW-Authenticate": "Bearer"},
            )
        try:
            slot = feed.admit()
        except FeedUnavailable as e:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(e)) from None
        try:
            yield grant, slot
        finally:
            slot.release()  # also when the stream never started (the client left at once)

    @r.get("/api/v1/events/stream", response_class=EventSourceResponse)
    async def events(
        admitted: Annotated[tuple[Grant, Slot], Depends(stream_grant)],
    ) -> AsyncIterator[ServerSentEvent]:
        """The room's events as server-sent events (``event:`` is the MQTT event type)."""
        async for message in feed.stream(*admitted):
            yield message

    return r
