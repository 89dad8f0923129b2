"""Circulation rules per category: who may borrow, for how long, how often renewed, and
whether an approval must come first.

Archives do not lend every file alike: a personnel or arbitration file leaves the room only
with an approval, for a short term, to an internal borrower; a routine record goes to anyone
for the usual month. The rules come from ``[[loan_rules]]``; categories without a rule follow
``[ledger]``'s term and renewals. This module answers, without I/O, whether a loan may be
opened or renewed, and if not, gives the rule in words for the 409.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from daemon.config import ArchroomConfig
from daemon.ledger.errors import Conflict, Invalid
from daemon.messages import Message, say


@dataclass(frozen=True, slots=True)
class LoanTerms:
    category: str
    """The category whose rule these are; empty for the defaults of ``[ledger]``, whose
    term is only the default due date, not a limit."""
    approval: bool
    max_days: int
    max_renewals: int
    borrower_kinds: frozenset[str]

    def name(self) -> Message:
        """The rule, named in a refusal: of its category, or the default one."""
        if self.category:
            return say("loan_rule.category", category=self.category)
        return say("loan_rule.any")

    def refusal(self, *, borrower_kind: str | None, due: date, today: date) -> Message | None:
        """Why a loan (or a request) on these terms is refused, or None when it may go ahead."""
        name = self.name()
        if self.borrower_kinds:
            allowed = ", ".join(sorted(self.borrower_kinds))
            if borrower_kind is None:
                return say("loan_rule.kind_missing", rule=name, allowed=allowed)
            if borrower_kind not in self.borrower_kinds:
                return say("loan_rule.kind_refused", rule=name, kind=borrower_kind, allowed=allowed)
        if self.category and (due - today).days > self.max_days:
            latest = (today + timedelta(days=self.max_days)).isoformat()
            return say("loan_rule.max_days", rule=name, days=self.max_days, latest=latest)
        return None


@dataclass(frozen=True, slots=True)
class LoanRules:
    default: LoanTerms
    by_category: Mapping[str, LoanTerms] = field(default_factory=dict)

    @classmethod
    def of(cls, config: ArchroomConfig) -> LoanRules:
        ledger = config.ledger
        default = LoanTerms("", False, ledger.loan_days, ledger.max_renewals, frozenset())
        return cls(
            default,
            {
                r.category: LoanTerms(
                    r.category,
                    r.approval,
                    r.max_days or ledger.loan_days,
                    ledger.max_renewals if r.max_renewals is None else r.max_renewals,
                    frozenset(r.borrower_kinds),
                )
                for r in config.loan_rules
            },
        )

    def terms(self, category: str) -> LoanTerms:
        return self.by_category.get(category, self.default)

    def check(
        self, category: str, borrower_kind: str | None, due: date | None, *, on: date | None = None
    ) -> tuple[date, LoanTerms]:
        """The due date of a loan (or request) of ``category`` and its terms; Invalid for a
        date in the past, Conflict with the rule in words when the rule refuses."""
        today = on or datetime.now(tz=UTC).date()
        if due is not None and due < today:
            raise Invalid(say("loan_rule.due_in_past", due=due.isoformat()))
        terms = self.terms(category)
        due = due or (today + timedelta(days=terms.max_days))
        refusal = terms.refusal(borrower_kind=borrower_kind, due=due, today=today)
        if refusal is not None:
            raise Conflict(refusal)
        return due, terms
