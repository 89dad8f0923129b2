"""Password rules and hashing.

Rules (after NIST SP 800-63B, which MLPS assessors accept for "complexity"): at least
``MIN_LENGTH`` characters, at most ``MAX_LENGTH`` (hashing a megabyte is a denial of service),
not the user name nor containing it, and not one of the common passwords bundled in
``common_passwords.txt`` (compared without case, and without the digits and symbols people
add at the end: ``Password123!`` is ``password``). No rules about character classes: they
make passwords harder to remember, not to guess.

Passwords are stored as argon2id hashes (``argon2-cffi``, its recommended parameters; the
parameters travel in the hash, so raising them later re-hashes at the next sign-in). Hashing
takes tens of milliseconds and 64 MiB on purpose: callers on the event loop run it in a
thread (``hash_password`` / ``verify_password`` are the blocking functions).
"""

from __future__ import annotations

import functools
import re
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 128

_hasher = PasswordHasher()
_DUMMY = _hasher.hash("archroom: a hash to compare against when the user is unknown")


class PasswordRejected(ValueError):
    """The password breaks a rule; the message says which, in words."""


@functools.cache
def common_passwords() -> frozenset[str]:
    text = resources.files(__package__).joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def _core(password: str) -> str:
    return re.sub(r"[\d\W_]+$", "", password.lower())


def check_rules(user: str, password: str) -> None:
    """Raise PasswordRejected when ``password`` may not be ``user``'s password."""
    if len(password) < MIN_LENGTH:
        raise PasswordRejected(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordRejected(f"a password has at most {MAX_LENGTH} characters")
    if user and user.lower() in password.lower():
        raise PasswordRejected("a password may not contain the user name")
    common = common_passwords()
    if password.lower() in common or _core(password) in common:
        raise PasswordRejected("that password is on the list of common passwords; choose another")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored`` (argon2id). With ``stored`` None (no such
    user) a dummy hash is checked, so the answer takes as long either way."""
    try:
        return _hasher.verify(stored or _DUMMY, password[:MAX_LENGTH]) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)
