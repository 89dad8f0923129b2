"""The audit trail and the proof of its hash chain."""

from __future__ import annotations

from api.schemas.base import DomainOut
from daemon.audit import AuditEntry, VerifyResult


class AuditEntryOut(DomainOut, domain=AuditEntry):
    @classmethod
    def of(cls, entry: object) -> AuditEntryOut:
        """An ``AuditEntry``, or a row of the ``audit`` table (it has the same columns)."""
        return cls.from_domain(entry)


class VerifyOut(DomainOut, domain=VerifyResult):
    @classmethod
    def of(cls, result: VerifyResult) -> VerifyOut:
        return cls.from_domain(result)
