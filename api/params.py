"""Path parameters that several routes share.

Database row ids are 64-bit integers on both SQLite and PostgreSQL. An id beyond that range
names no row, and the database drivers cannot even bind it, so it is refused with a 422 while
the request is validated; the range is written into the OpenAPI document as well.
"""

from typing import Annotated

from fastapi import Path

from daemon.ledger.items import REF_PATTERN

MAX_ROW_ID = 2**63 - 1

RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="row id")]
RefPath = Annotated[str, Path(pattern=REF_PATTERN, description="archival reference code (档号)")]

TOTAL_HEADER = "X-Total-Count"
"""On a paged list: how many rows match in all (the body holds one page, ``limit``/``offset``)."""
