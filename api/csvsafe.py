"""CSV that a spreadsheet opens as text, never as formulas.

A borrower's name or a purpose typed at the desk ends up in a cell; a spreadsheet treats a cell
that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some, a tab or carriage return) as a
formula, which can run commands or leak data when the export is opened (OWASP "CSV
injection"). Such a cell gets a leading apostrophe, which spreadsheets show as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def line(values: Iterable[object]) -> str:
    """One CSV record (RFC 4180 quoting, CRLF) of neutralised cells."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([cell(v) for v in values])
    return buffer.getvalue()
