"""``create_app(services)``: the FastAPI application over a running room.

Routes are built by factories that close over the services they need, so every dependency is
explicit and typed. Documentation (Swagger UI at ``/docs``, ReDoc at ``/redoc``) is served from
the daemon's own files: archive rooms are often on networks without internet access.
"""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from api.admission import Admission, Limit
from api.auth import Auth
from api.routes.locations import MAX_LOOKUP_BODY_BYTES
from daemon import __version__
from daemon.ledger.errors import Conflict, Invalid, LedgerError, NotFound
from daemon.messages import Message, key_and_params
from daemon.services import Services
from daemon.spool import is_unavailable

log = logging.getLogger(__name__)


class ComponentHealth(BaseModel):
    status: str
    detail: str
    since: float


class HealthResponse(BaseModel):
    status: str
    version: str
    room: str
    components: dict[str, ComponentHealth]


def create_app(services: Services) -> FastAPI:
    app = FastAPIOffline(
        title="archroom",
        version=__version__,
        description=(
            "RFID smart archive room: catalogue, locations, loans, stacker, climate, audit."
        ),
        static_url="/static/docs",
    )
    api = services.config.api
    auth = Auth(
        services.tokens,
        services.accounts,
        failed_per_minute=api.failed_auth_per_minute,
        failed_clients=api.failed_auth_clients,
        on_sign_in=services.signins.observe,
    )
    app.add_middleware(
        Admission,
        auth=auth,
        default=Limit(api.max_body_bytes, api.body_timeout_s),
        limits={
            "/api/v1/items/import": Limit(api.max_import_bytes, api.import_timeout_s),
            "/api/v1/locations/lookup": Limit(
                max(MAX_LOOKUP_BODY_BYTES, api.max_body_bytes), api.body_timeout_s
            ),
        },
    )
    _install_error_handlers(app)
    _declare_error_detail(app)
    _install_text_guard(app)

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> HealthResponse:
        """Liveness and per-component status (no token needed)."""
        return HealthResponse(
            status=services.health.overall(),
            version=__version__,
            room=services.config.room,
            components={
                name: ComponentHealth(status=c.status, detail=c.detail, since=c.since)
                for name, c in sorted(services.health.components.items())
            },
        )

    @app.get("/metrics", tags=["operations"], response_class=Response)
    async def metrics() -> Response:
        """Prometheus exposition (no token needed; bind the API to a trusted network)."""
        return Response(services.metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    from api.routes import alarms, audit, climate, console, items, loans, locations, stacker, tags

    for module in (items, tags, locations, loans, alarms, audit, stacker, climate, console):
        app.include_router(module.router(services, auth))
    from api.routes import (
        accounts,
        catalogue,
        climate_control,
        dispositions,
        epcis,
        labels,
        loan_requests,
        reconciliation,
        roommap,
        statistics,
    )

    app.include_router(reconciliation.router(services, auth))
    app.include_router(catalogue.router(services, auth))
    app.include_router(loan_requests.router(services, auth))
    app.include_router(statistics.router(services, auth))
    app.include_router(dispositions.router(services, auth))
    app.include_router(epcis.router(services, auth))
    app.include_router(labels.router(services, auth))
    app.include_router(roommap.router(services, auth))
    app.include_router(climate_control.router(services, auth))
    app.include_router(accounts.router(services, auth))
    return app


def _declare_error_detail(app: FastAPI) -> None:
    """A 422 carries either FastAPI's list of field errors or one sentence (``Invalid``): say
    so in the OpenAPI document, which otherwise promises the list only."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schemas = generate().get("components", {}).get("schemas", {})
            if "HTTPValidationError" in schemas:
                listed = schemas["HTTPValidationError"]["properties"]["detail"]
                schemas["HTTPValidationError"]["properties"]["detail"] = {
                    "title": "Detail",
                    "anyOf": [
                        {"type": "string", "description": "what is wrong, in words"},
                        {key: value for key, value in listed.items() if key != "title"},
                    ],
                }
        return app.openapi_schema or generate()

    app.openapi = openapi  # type: ignore[method-assign]


_LEDGER_STATUS = {NotFound: 404, Conflict: 409, Invalid: 422}


def error_body(detail: str, words: Message | None) -> dict[str, Any]:
    """``{"detail": English}``, plus ``message_key`` and ``params`` when the words have a key
    (docs/api.md#errors): the console says them in the reader's language."""
    key, params = key_and_params(words)
    if key is None:
        return {"detail": detail}
    return {"detail": detail, "message_key": key, "params": params}


def unstorable_text(exc: BaseException) -> bool:
    """The database refused a value's characters: a NUL (PostgreSQL has no NUL in text) or an
    unpaired surrogate (valid in a JSON string escape, not UTF-8 on either database)."""
    link: BaseException | None = exc
    for _ in range(8):
        if link is None:
            return False
        if isinstance(link, UnicodeEncodeError) or getattr(link, "sqlstate", None) == "22021":
            return True
        orig = getattr(link, "orig", None)
        link = orig if isinstance(orig, BaseException) else link.__cause__
    return False


def _unavailable() -> JSONResponse:
    # A connection lost during COMMIT leaves the write in doubt (with a synchronous standby it
    # may be on the promoted server): the retry answers whether it landed (a second check-out
    # of the item is refused with 409).
    return JSONResponse(
        {
            "detail": "the database is unreachable just now; try again (a write cut off "
            "mid-commit may have been recorded: the retry tells)"
        },
        status_code=503,
        headers={"Retry-After": "5"},
    )


def _install_text_guard(app: FastAPI) -> None:
    """Whatever route a request takes, such text is the client's error (422), not a 500."""

    @app.exception_handler(UnicodeEncodeError)
    @app.exception_handler(DBAPIError)
    async def _unstorable(_request: Request, exc: Exception) -> JSONResponse:
        if is_unavailable(exc):
            return _unavailable()
        if not unstorable_text(exc):
            raise exc
        return JSONResponse(
            {
                "detail": "the request holds a NUL character or an unpaired surrogate, "
                "which cannot be stored"
            },
            status_code=422,
        )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(OSError)
    async def _database_down(_request: Request, exc: Exception) -> JSONResponse:
        if not is_unavailable(exc):
            raise exc
        return _unavailable()

    @app.exception_handler(LedgerError)
    async def _ledger(_request: Request, exc: LedgerError) -> JSONResponse:
        code = next((c for t, c in _LEDGER_STATUS.items() if isinstance(exc, t)), 400)
        return JSONResponse(error_body(str(exc), exc.words), status_code=code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)
