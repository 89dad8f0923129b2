"""Bearer-token authentication and the role matrix.

401 when no valid token is presented, 403 when the token's role may not use the route, 429
after too many failed attempts from one client within a minute (the counter forgets after the
minute; ``api.throttle`` says how it spares good tokens). ``admin`` may use every route. The
admission layer (``api.admission``) calls ``Auth.authenticate`` for every ``/api/`` request
before its body is read; the route's dependency then checks the role.

Every attempt, good, failed or throttled, is reported to ``on_sign_in`` (the daemon's
``SignInRecorder``, which audits them counted per client and minute).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from api.throttle import FailedAuthLimiter, GoodTokens
from daemon.tokens import Principal, Role, Tokens

SignInObserver = Callable[[str, str, str], None]
"""Called with (client, token name or ``""``, outcome: ``ok``, ``failed``, ``throttled``)."""

bearer = HTTPBearer(auto_error=False, description="archroom API token (archroom token create)")


PRINCIPAL_KEY = "archroom.principal"
"""Where the admission layer (``api.admission``) leaves the principal it authenticated, in the
request's ASGI scope state, so the route's dependency does not check the token twice."""


class Auth:
    def __init__(
        self,
        tokens: Tokens,
        *,
        failed_per_minute: int = 30,
        failed_clients: int = 10_000,
        on_sign_in: SignInObserver | None = None,
    ) -> None:
        self.tokens = tokens
        self.on_sign_in = on_sign_in or (lambda _client, _name, _outcome: None)
        self.limiter = FailedAuthLimiter(failed_per_minute, max_clients=failed_clients)
        self.good = GoodTokens()

    async def authenticate(self, client: str, authorization: str | None) -> Principal:
        """The principal of an ``Authorization: Bearer`` header value, or HTTPException 401
        (no token, or an unknown, expired or revoked one) or 429 (too many failures)."""
        scheme, token = get_authorization_scheme_param(authorization)
        if not authorization or scheme.lower() != "bearer":
            token = ""
        if self.limiter.blocked(client) and token not in self.good:
            self.on_sign_in(client, "", "throttled")
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                "too many failed authentication attempts; wait a minute",
            )
        if not token:
            self.on_sign_in(client, "", "failed")
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "a bearer token is required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        principal = await self.tokens.verify(token)
        if principal is None:
            self.limiter.failed(client)
            self.on_sign_in(client, "", "failed")
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "the token is unknown, expired or revoked",
                headers={"WWW-Authenticate": "Bearer"},
            )
        self.good.remember(token)
        self.on_sign_in(client, principal.name, "ok")
        return principal

    def require(self, *roles: Role) -> Callable[..., Awaitable[Principal]]:
        allowed = frozenset(roles) | {Role.admin}

        async def dependency(
            request: Request,
            credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
        ) -> Principal:
            principal = request.scope.get("state", {}).get(PRINCIPAL_KEY)
            if not isinstance(principal, Principal):
                client = request.client.host if request.client else "?"
                header = f"Bearer {credentials.credentials}" if credentials else None
                principal = await self.authenticate(client, header)
            if principal.role not in allowed:
                names = ", ".join(sorted(r.value for r in allowed))
                raise HTTPException(
                    status.HTTP_403_FORBIDDEN,
                    f"role {principal.role.value!r} may not do this (needs one of: {names})",
                )
            return principal

        return dependency
