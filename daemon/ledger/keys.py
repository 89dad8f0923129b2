"""The personal key fields of a paper record: checked on the way in, masked on the way out.

Resident identity numbers (GB 11643, ISO 7064 MOD 11-2 check digit) and unified social credit
codes (GB 32100) carry check characters, so a mistyped number is caught at entry instead of
silently breaking the reconciliation with the catalogue later. Since 2011 a person's
social-security number is their resident ID number and an employer's account is registered
under its credit code, so ``social_security_no`` must be one or the other.

:data:`ResidentId`, :data:`ApprovalNo` and :data:`SocialSecurityNo` are the field types of every
model that takes key fields in (the catalogue record, the catalogue service's copy): a blank
value means none, an identity number is upper-cased and checked, and text the database cannot
store is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field
from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError


def check_resident_id(value: str) -> str:
    try:
        return str(ric.validate(value))
    except ValidationError as e:
        raise ValueError(f"not a valid resident ID number (GB 11643): {e}") from None


def check_credit_code(value: str) -> str:
    try:
        return str(uscc.validate(value))
    except ValidationError as e:
        raise ValueError(f"not a valid unified social credit code (GB 32100): {e}") from None


def check_social_security_no(value: str) -> str:
    for check in (check_resident_id, check_credit_code):
        try:
            return check(value)
        except ValueError:
            continue
    raise ValueError(
        "neither a valid resident ID number (GB 11643) nor a unified social credit code (GB 32100)"
    )


def mask(value: str | None) -> str | None:
    """Keep enough to recognise a number, hide enough that it is not disclosed."""
    if value is None:
        return None
    if len(value) >= 12:
        return value[:6] + "*" * (len(value) - 10) + value[-4:]
    return "*" * max(len(value) - 2, 0) + value[-2:]


def blank_is_none(value: object) -> object:
    """An empty string means "none" (CSV cells, HTML forms)."""
    return None if value == "" else value


def storable(value: str | None) -> str | None:
    """Refuse text that PostgreSQL cannot hold in a ``text`` column (a NUL character)."""
    if value is not None and "\x00" in value:
        raise ValueError("holds a NUL character, which cannot be stored")
    return value


def _text(value: str | None) -> str | None:
    return storable(value) or None


def _checked(check: Callable[[str], str]) -> Callable[[str | None], str | None]:
    def validate(value: str | None) -> str | None:
        return check(value.upper()) if value else None

    return validate


ResidentId = Annotated[
    Annotated[str, Field(max_length=18)] | None,
    BeforeValidator(blank_is_none),
    AfterValidator(_checked(check_resident_id)),
]
"""A resident identity number (GB 11643), upper-cased and checked; blank means none."""

ApprovalNo = Annotated[
    Annotated[str, Field(max_length=100)] | None,
    BeforeValidator(blank_is_none),
    AfterValidator(_text),
]
"""An approval number (free text); blank means none."""

SocialSecurityNo = Annotated[
    Annotated[str, Field(max_length=100)] | None,
    BeforeValidator(blank_is_none),
    AfterValidator(_checked(check_social_security_no)),
]
"""A social-security number: a resident ID or a unified social credit code; blank means none."""
