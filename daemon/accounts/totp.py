"""Time-based one-time passwords (RFC 6238), the second factor of administrators.

The code is HOTP (RFC 4226) over the number of 30-second steps since the epoch: an HMAC-SHA1
of the step under a shared secret, dynamically truncated to six digits. Authenticator apps
read the secret from an ``otpauth://`` URI (usually shown as a QR code). A code is accepted
one step either side of now (clocks drift) and only once: the step of the last good code is
remembered, so a code seen over someone's shoulder cannot be used again.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import struct
from urllib.parse import quote

STEP_S = 30
DIGITS = 6
WINDOW = 1
"""Steps either side of now that are still accepted."""


def new_secret() -> str:
    """A random 160-bit secret, base32 (what authenticator apps take)."""
    return base64.b32encode(secrets.token_bytes(20)).decode()


def _key(secret: str) -> bytes:
    text = secret.replace(" ", "").upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


def hotp(key: bytes, counter: int, *, digits: int = DIGITS, digest: str = "sha1") -> str:
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def step_at(unix_s: float) -> int:
    return int(unix_s // STEP_S)


def code_at(secret: str, unix_s: float) -> str:
    return hotp(_key(secret), step_at(unix_s))


def matching_step(secret: str, code: str, unix_s: float, *, after: int | None = None) -> int | None:
    """The step whose code ``code`` is, within ``WINDOW`` of ``unix_s`` and later than
    ``after`` (the step of the last code used); None when it matches none."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    key = _key(secret)
    now = step_at(unix_s)
    found = None
    for step in range(now - WINDOW, now + WINDOW + 1):
        if hmac.compare_digest(hotp(key, step), code) and (after is None or step > after):
            found = step
    return found


def uri(secret: str, *, account: str, issuer: str = "archroom") -> str:
    """The ``otpauth://`` URI an authenticator app reads (as text or as a QR code)."""
    label = quote(f"{issuer}:{account}")
    query = f"secret={secret}&issuer={quote(issuer)}&digits={DIGITS}&period={STEP_S}"
    return f"otpauth://totp/{label}?{query}"


if __name__ == "__main__":  # python -m daemon.accounts.totp SECRET: the code now (for the demo)
    import sys
    import time

    print(code_at(sys.argv[1], time.time()))
