"""The one CSV writer of every report guidang writes (``guidang check --format csv``, and any later one).

A spreadsheet opens a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return as
a formula (CSV injection: ``=HYPERLINK(...)``, ``=cmd|' /c calc'!A0``). Vendors' names, titles and
file names are untrusted, so every such cell is written with a leading apostrophe, which the
spreadsheet shows as text and hides (the OWASP "CSV Injection" advice).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """``value`` as a cell's text that no spreadsheet runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A CSV document (RFC 4180 quoting, CRLF line ends) with every cell neutralised."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([neutralise(h) for h in header])
    for row in rows:
        w.writerow([neutralise(v) for v in row])
    return buf.getvalue()
