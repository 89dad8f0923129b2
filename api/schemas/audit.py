"""The audit trail and the proof of its hash chain."""

from __future__ import annotations

from api.schemas.base import DomainOut
from daemon.audit import AuditEntry, VerifyResult


# built from an ``AuditEntry``, or a row of the ``audit`` table (it has the same columns)
class AuditEntryOut(DomainOut, domain=AuditEntry):
    pass


class VerifyOut(DomainOut, domain=VerifyResult):
    pass
