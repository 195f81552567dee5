"""Page numbers from the query string, always a page that exists: the organisers' long lists use them."""

from __future__ import annotations

from flask import request


def page_count(total: int, page_size: int) -> int:
    return max((total + page_size - 1) // page_size, 1)


def requested_page(total: int, page_size: int) -> int:
    """`?page=` clamped to 1…the last page: a page past the end shows the last, and a negative, absurd
    (9223372036854775807, which no database offset holds) or non-numeric one the first, never an error."""
    text = request.args.get("page", "1").strip()
    last = page_count(total, page_size)
    try:
        page = int(text)
    except ValueError:  # words, or more digits than Python will read (past the end, then)
        page = last if text.isdecimal() else 1
    return min(max(page, 1), last)
