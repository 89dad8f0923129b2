"""Paper and electronic kept as one archive: which categories pair, and how strictly.

A public body that keeps paper files in parallel with electronic records (双套制) creates
both together and checks them against each other in both directions (双向核对): a paper item
of a paired category names its electronic record (``record_id``), and an electronic record
of a category kept on paper has its paper original in the room. The rules are set per
category in ``[pairing]``; this module only answers questions about them, without I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from daemon.config import PairingConfig

RecordRule = Literal["require", "warn", "none"]


@dataclass(frozen=True, slots=True)
class Pairing:
    record_rules: Mapping[str, RecordRule] = field(default_factory=dict)
    """category -> what a paper item of it must say about its electronic record."""
    paper_categories: frozenset[str] = frozenset()
    """Categories whose electronic records have a paper original."""
    report_records_without_paper: bool = True

    @classmethod
    def of(cls, config: PairingConfig) -> Pairing:
        return cls(
            {c.category: c.electronic_record for c in config.categories},
            frozenset(c.category for c in config.categories if c.paper_original),
            config.report_records_without_paper,
        )

    def record_rule(self, category: str) -> RecordRule:
        return self.record_rules.get(category, "none")

    def needs_record(self, category: str) -> bool:
        """Is a paper item of this category expected to name its electronic record?"""
        return self.record_rule(category) != "none"

    def refusal(self, category: str, record_id: str | None) -> str | None:
        """Why a paper item may not be created like this, or None when it may."""
        if record_id is None and self.record_rule(category) == "require":
            return (
                f"record_id: items of category {category!r} must name their electronic record "
                "(pairing policy: require)"
            )
        return None
