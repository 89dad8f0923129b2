"""Reading a record of an item: its table's columns named as its dataclass's fields.

A record the ledger returns (``Loan``, ``LoanRequest``) is built as ``Record(**row._asdict())``
from a query whose columns are the dataclass's fields, in their order: the table's column of
the same name, and for ``ref`` the reference code of the item the row's ``item_id`` points at.
A field added to the dataclass is read once the table has its column; nothing else to change.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import Select, Table, select

from daemon.store.schema import items


def select_of_item(table: Table, record: type[Any]) -> Select[Any]:
    """The rows of ``table`` as ``record`` reads them, each with its item's ``ref``."""
    columns = [
        items.c.ref if f.name == "ref" else table.c[f.name] for f in dataclasses.fields(record)
    ]
    return select(*columns).select_from(table.join(items, items.c.id == table.c.item_id))
