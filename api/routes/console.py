"""The staff console's pages, and the API routes it needs beyond the rest of the API.

Pages (``/console/...``) are the same for everyone and hold no data: each page's script logs
in with the staff token kept in the tab's ``sessionStorage`` and calls the REST API like any
client. So the pages need no authentication of their own and can never show what the token
may not see. They are sent with a strict Content-Security-Policy (scripts and styles from the
daemon's own files only, no inline script), which is what keeps a token in browser storage
safe from injected script.

The API routes: ``GET /api/v1/session`` (whose token is this, and what does the room have),
``GET /api/v1/search`` (find an item by part of its reference, title or EPC), and the live
feed: ``POST /api/v1/events/ticket`` then ``GET /api/v1/events/stream?ticket=...``
(server-sent events; see ``api.console.tickets`` for why a ticket).
"""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated

import jinja2
from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.sse import EventSourceResponse, ServerSentEvent
from fastapi.staticfiles import StaticFiles

from api.auth import Auth, bearer
from api.console import i18n
from api.console.live import FeedUnavailable, LiveFeed
from api.console.schemas import DeskReaderOut, SearchHitOut, SessionOut, TicketOut
from api.console.search import MAX_LENGTH, MIN_LENGTH, search_items
from api.console.tickets import Grant, Tickets
from api.schemas import PlaceOut
from daemon import __version__
from daemon.ledger.errors import Invalid
from daemon.ledger.whereabouts import Whereabout
from daemon.services import Services
from daemon.tokens import Principal, Role

HERE = Path(__file__).resolve().parent.parent / "console"
CONSOLE_ROLES = frozenset({Role.staff, Role.admin})
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
    "alarms": "page.alarms",
    "stacker": "page.stacker",
    "climate": "page.climate",
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
    feed = LiveFeed(svc.bus, svc.tokens)
    svc.stop_hooks.append(feed.close)
    anyone = auth.require(*Role)
    staff = auth.require(Role.staff)
    reader = auth.require(Role.staff, Role.catalogue)
    r.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")

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

    @r.get("/console/login", include_in_schema=False)
    async def login_page(request: Request) -> HTMLResponse:
        return page(request, "login")

    @r.get("/console/items", include_in_schema=False)
    async def items_page(request: Request) -> HTMLResponse:
        return page(request, "items")

    @r.get("/console/item", include_in_schema=False)
    async def item_page(request: Request) -> HTMLResponse:
        return page(request, "item")

    @r.get("/console/alarms", include_in_schema=False)
    async def alarms_page(request: Request) -> HTMLResponse:
        return page(request, "alarms")

    @r.get("/console/stacker", include_in_schema=False)
    async def stacker_page(request: Request) -> HTMLResponse:
        return page(request, "stacker")

    @r.get("/console/climate", include_in_schema=False)
    async def climate_page(request: Request) -> HTMLResponse:
        return page(request, "climate")

    # -- API ------------------------------------------------------------------------------

    @r.get("/api/v1/session")
    async def session(who: Annotated[Principal, Depends(anyone)]) -> SessionOut:
        """Who holds this token, whether the staff console is for them, what the room has."""
        desks = sorted(svc.desk.readers)
        return SessionOut(
            name=who.name,
            role=who.role,
            console=who.role in CONSOLE_ROLES,
            site=svc.config.site.id,
            room=svc.config.room,
            desk_readers=[DeskReaderOut(id=d, online=svc.readers.up.get(d, False)) for d in desks],
            stacker=svc.stacker is not None,
            climate=svc.climate is not None,
        )

    lookups = Whereabout(svc.reads)

    @r.get("/api/v1/search")
    async def search(
        _who: Annotated[Principal, Depends(reader)],
        q: Annotated[str, Query(min_length=MIN_LENGTH, max_length=MAX_LENGTH)],
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> list[SearchHitOut]:
        """Items whose reference, title or tag EPC contains ``q``; exact matches first."""
        hits = await search_items(svc.reads, q, limit=limit)
        found, _ = await lookups.locate([h.ref for h in hits])
        where = {w.ref: w for w in found}
        out = []
        for h in hits:
            w = where.get(h.ref)
            out.append(
                SearchHitOut(
                    ref=h.ref,
                    title=h.title,
                    kind=h.kind,
                    year=h.year,
                    epc=h.epc,
                    matched=h.matched,
                    location=PlaceOut(
                        code=w.location.code if w else "unknown",
                        kind=w.location.kind if w else "unknown",
                        room=w.location.room if w else None,
                    ),
                    on_loan=bool(w and w.loan),
                )
            )
        return out

    @r.post("/api/v1/events/ticket", status_code=status.HTTP_201_CREATED)
    async def ticket(
        who: Annotated[Principal, Depends(staff)],
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> TicketOut:
        """A single-use ticket, good for 30 s, that opens one live event stream."""
        assert credentials is not None  # the staff dependency refused the request otherwise
        return TicketOut(
            ticket=tickets.issue(who, credentials.credentials),
            expires_in_s=tickets.ttl_s,
            stream="/api/v1/events/stream",
        )

    async def stream_grant(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        ticket: Annotated[str | None, Query(max_length=100)] = None,
    ) -> Grant:
        if ticket is None:
            await staff(request, credentials)  # 401 without a token, 403 for another role
            raise Invalid(
                "the event stream opens with a ticket: POST /api/v1/events/ticket, "
                "then GET /api/v1/events/stream?ticket=..."
            )
        client = request.client.host if request.client else "?"
        if auth.limiter.blocked(client):
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                "too many failed authentication attempts; wait a minute",
            )
        grant = tickets.redeem(ticket)
        if grant is None:
            auth.limiter.failed(client)
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "the ticket is unknown, used or expired; ask for a new one",
                headers={"WWW-Authenticate": "Bearer"},
            )
        try:
            feed.admit()
        except FeedUnavailable as e:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(e)) from None
        return grant

    @r.get("/api/v1/events/stream", response_class=EventSourceResponse)
    async def events(
        grant: Annotated[Grant, Depends(stream_grant)],
    ) -> AsyncIterator[ServerSentEvent]:
        """The room's events as server-sent events (``event:`` is the MQTT event type)."""
        async for message in feed.stream(grant):
            yield message

    return r
