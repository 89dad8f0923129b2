"""People's accounts, for the security administrator alone (docs/security.md, 三员分立).

The ``security`` role creates accounts, gives them their roles and disables them; it may do
nothing else, and no other role (``admin`` included) may do this. Each change is an audit
entry that the ``auditor`` reads. The same is done on the server with ``archroom user``.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Auth
from daemon.accounts import totp
from daemon.accounts.passwords import PasswordRejected
from daemon.accounts.store import AccountError, AccountInfo
from daemon.clock import us_to_iso
from daemon.ledger.errors import Conflict, Invalid, NotFound
from daemon.services import Services
from daemon.tokens import Principal, Role


class AccountOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    role: Role
    state: str = Field(description="active, locked or disabled")
    second_factor: bool
    created_at: str
    password_changed_at: str

    @classmethod
    def of(cls, a: AccountInfo, now: int) -> "AccountOut":
        return cls(
            name=a.name,
            role=a.role,
            state=a.state(now),
            second_factor=a.second_factor,
            created_at=us_to_iso(a.created_us),
            password_changed_at=us_to_iso(a.password_changed_us),
        )


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    role: Role
    password: str = Field(min_length=1, max_length=1024, description="the first password")


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role


class AccountCreatedOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    role: Role
    totp_uri: str | None = Field(
        description="for an administrator's role: the otpauth:// URI for the authenticator "
        "app, shown this once"
    )


def router(svc: Services, auth: Auth) -> APIRouter:
    r = APIRouter(prefix="/api/v1", tags=["accounts"])
    security = auth.require(Role.security, superuser=False)

    @r.get("/accounts")
    async def list_accounts(_who: Annotated[Principal, Depends(security)]) -> list[AccountOut]:
        """Every account, with its role and state (never a hash or a secret)."""
        now = svc.accounts.clock()
        return [AccountOut.of(a, now) for a in await svc.accounts.list()]

    @r.post("/accounts", status_code=status.HTTP_201_CREATED)
    async def add_account(
        body: AccountIn, who: Annotated[Principal, Depends(security)]
    ) -> AccountCreatedOut:
        """Create a person's account (the password rules apply)."""
        try:
            secret = await svc.accounts.add(body.name, body.role, body.password, actor=who.name)
        except PasswordRejected as e:
            raise Invalid(str(e)) from None
        except AccountError as e:
            raise Conflict(str(e)) from None
        uri = totp.uri(secret, account=body.name) if secret else None
        return AccountCreatedOut(name=body.name, role=body.role, totp_uri=uri)

    @r.put("/accounts/{name}/role")
    async def set_role(
        name: Annotated[str, Path(max_length=100)],
        body: RoleIn,
        who: Annotated[Principal, Depends(security)],
    ) -> AccountCreatedOut:
        """Give an account another role; its sessions end. An administrator's role that had
        no second factor gets one: its ``totp_uri`` is shown this once."""
        if name == who.name:
            raise Invalid("a security administrator does not change their own role")
        try:
            secret = await svc.accounts.set_role(name, body.role, actor=who.name)
        except AccountError as e:
            raise NotFound(str(e)) from None
        uri = totp.uri(secret, account=name) if secret else None
        return AccountCreatedOut(name=name, role=body.role, totp_uri=uri)

    @r.post("/accounts/{name}/disable", status_code=status.HTTP_204_NO_CONTENT)
    async def disable_account(
        name: Annotated[str, Path(max_length=100)],
        who: Annotated[Principal, Depends(security)],
    ) -> None:
        """Disable an account and end its sessions."""
        if name == who.name:
            raise Invalid("a security administrator does not disable their own account")
        if not await svc.accounts.disable(name, actor=who.name):
            raise NotFound(f"no active account named {name!r}")

    return r
