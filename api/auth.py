"""Authentication (bearer tokens for systems, session cookies for people) and the role matrix.

401 when no valid token or session is presented, 403 when the role may not use the route, 429
after too many failed token attempts from one client within a minute (the counter forgets after
the minute; ``api.throttle`` says how it spares good tokens). The admission layer
(``api.admission``) calls ``Auth.authenticate`` for every ``/api/`` request before its body is
read; the route's dependency then checks the role.

A request with an ``Authorization`` header is a system's, judged by its token. Without one, the
``archroom_session`` cookie (HttpOnly, SameSite=Strict; daemon/accounts/store.py) names a
person's session. A cookie is sent by the browser on its own, so a state-changing request made
with it (anything but GET, HEAD, OPTIONS) must also carry the session's CSRF token in the
``X-CSRF-Token`` header, which only the console's own script can read (from the
``archroom_csrf`` cookie) and which is compared with the one stored for the session: a forged
request from another site has the cookie but not the token, and gets 403.

Roles: ``admin`` is the room's operational superuser and may use every route of the records
and the devices, but not the separated duties (docs/security.md, 三员分立): reading the audit
belongs to ``auditor`` alone and managing accounts to ``security`` alone
(``require(..., superuser=False)``), so no one can both act and read away or rewrite the trace
of acting.

Every token attempt, good, failed or throttled, is reported to ``on_sign_in`` (the daemon's
``SignInRecorder``, which audits them counted per client and minute); a person's sign-in
is audited by the accounts themselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from api.throttle import FailedAuthLimiter, GoodTokens
from daemon.accounts.store import SESSION_PREFIX, Accounts, ActiveSession, same_secret
from daemon.tokens import Principal, Role, Tokens

SignInObserver = Callable[[str, str, str], None]
"""Called with (client, token name or ``""``, outcome: ``ok``, ``failed``, ``throttled``)."""

bearer = HTTPBearer(auto_error=False, description="archroom API token (archroom token create)")


PRINCIPAL_KEY = "archroom.principal"
"""Where the admission layer (``api.admission``) leaves the principal it authenticated, in the
request's ASGI scope state, so the route's dependency does not check the token twice."""
SESSION_KEY = "archroom.session"
"""Where it leaves the person's session (``ActiveSession``) when the cookie authenticated."""
SESSION_COOKIE = "archroom_session"
CSRF_COOKIE = "archroom_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True, slots=True)
class Authenticated:
    principal: Principal
    session: ActiveSession | None


class Credentials:
    """Checks again a token or a session secret that authenticated earlier (the live feed
    does while a stream runs, to end it when the token is revoked or the session ends)."""

    def __init__(self, tokens: Tokens, accounts: Accounts) -> None:
        self.tokens = tokens
        self.accounts = accounts

    async def verify(self, credential: str) -> Principal | None:
        if credential.startswith(SESSION_PREFIX):
            return await self.accounts.verify(credential)
        return await self.tokens.verify(credential)


class Auth:
    def __init__(
        self,
        tokens: Tokens,
        accounts: Accounts,
        *,
        failed_per_minute: int = 30,
        failed_clients: int = 10_000,
        on_sign_in: SignInObserver | None = None,
    ) -> None:
        self.tokens = tokens
        self.accounts = accounts
        self.credentials = Credentials(tokens, accounts)
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

    async def admit(
        self,
        client: str,
        *,
        method: str,
        authorization: str | None,
        cookie: str | None,
        csrf: str | None,
    ) -> Authenticated:
        """A token when the request has an ``Authorization`` header, else the session cookie
        (with its CSRF check on state-changing methods), else 401."""
        if authorization or not cookie:
            return Authenticated(await self.authenticate(client, authorization), None)
        active = await self.accounts.check(cookie)
        if active is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "the session has ended (signed out, idle too long, or the account was "
                "disabled); sign in again",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if method not in SAFE_METHODS and not same_secret(csrf or "", active.csrf):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                "a request made with the session cookie needs the session's X-CSRF-Token header",
            )
        return Authenticated(active.principal, active)

    def require(self, *roles: Role, superuser: bool = True) -> Callable[..., Awaitable[Principal]]:
        """A dependency admitting ``roles``, and ``admin`` too unless ``superuser`` is False
        (the separated duties: the audit, the accounts)."""
        allowed = frozenset(roles) | ({Role.admin} if superuser else frozenset())

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
