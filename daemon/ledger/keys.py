"""The personal key fields of a paper record: checked on the way in, masked on the way out.

Resident identity numbers (GB 11643, ISO 7064 MOD 11-2 check digit) and unified social credit
codes (GB 32100) carry check characters, so a mistyped number is caught at entry instead of
silently breaking the reconciliation with the catalogue later. Since 2011 a person's
social-security number is their resident ID number and an employer's account is registered
under its credit code, so ``social_security_no`` must be one or the other.
"""

from __future__ import annotations

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
