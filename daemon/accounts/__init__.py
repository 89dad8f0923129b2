"""Personal accounts for people (tokens stay for systems).

A person signs in to the console with a user name and a password, and with a one-time code
from an authenticator app when their role administers the room (MLPS level 3 asks two factors
of administrators; docs/security.md). The modules:

- ``passwords.py``: the password rules and argon2id hashing;
- ``totp.py``: RFC 6238 one-time codes, the second factor;
- ``lockout.py``: how long an account waits after failed sign-ins (per account, not per address);
- ``store.py``: accounts and console sessions in the database, signing in and out;
- ``cli.py``: ``archroom user add|passwd|disable|list``.
"""
