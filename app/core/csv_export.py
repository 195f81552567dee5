"""CSV out: rows to bytes, with cells that a spreadsheet would run as formulas defused."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    # OWASP's advice: a leading quote makes Excel and LibreOffice show the text instead of evaluating it.
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def to_csv(header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    # A byte-order mark so Excel opens UTF-8 names correctly.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
