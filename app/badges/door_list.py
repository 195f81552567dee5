"""The door list: one event's expected people in alphabetical order on A4, a tick box each. Pure: facts in, PDF out.

Large type (nothing under 14 pt), so it reads at arm's length on a table by the door; the event's title, date
and "Page n of N" on every page, with the first and last surnames of each page in its heading, as a directory
has them, so a steward finds the right page without leafing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas as pdf_canvas

from app.badges.builders import typeface

INK = "#1d1d1f"
MUTED = "#4a5056"
RULE = "#b0b8bc"
TEAL = "#0b5563"

TEXT_PT = 14  # the smallest type on the page
NAME_PT = 16
TITLE_PT = 20
LEADING = 1.2

MARGIN = 15 * mm
TICK_W = 13 * mm
TICK_BOX = 7 * mm
NEEDS_W = 62 * mm
GUTTER = 4 * mm
ROW_PAD = 2.2 * mm


@dataclass(frozen=True)
class DoorRow:
    name: str  # as the list files it: "Lis, Łukasz"
    organisation: str
    needs: tuple[str, ...] = ()  # "Dietary: vegetarian", "Access: step-free route"
    surname: str = ""  # for the page's heading ("Ahmed to Lis"); the name's first part if not given

    @property
    def heading_word(self) -> str:
        return self.surname or self.name.split(",")[0]


@dataclass(frozen=True)
class DoorList:
    title: str
    when: str  # "Wednesday 14 October, 9:30am–4:30pm"
    where: str = ""
    rows: tuple[DoorRow, ...] = ()
    printed: str = ""  # "Printed Tuesday 13 October, 4:12pm"


@dataclass(frozen=True)
class _Placed:
    row: DoorRow
    name: list[tuple[str, float]]  # lines and their horizontal scale
    organisation: list[tuple[str, float]]
    needs: list[tuple[str, float]]
    height: float


def _lines(text: str, font: str, size: float, width: float) -> list[tuple[str, float]]:
    """Wrapped at spaces; a single word wider than the column is narrowed to fit (never smaller type)."""
    lines = simpleSplit(text, font, size, width) if text.strip() else []
    placed = []
    for line in lines:
        wide = pdfmetrics.stringWidth(line, font, size)
        placed.append((line, min(1.0, width / wide) if wide else 1.0))
    return placed


def _columns(page_w: float) -> tuple[float, float, float]:
    """x of the name column, its width, and x of the needs column."""
    name_x = MARGIN + TICK_W
    needs_x = page_w - MARGIN - NEEDS_W
    return name_x, needs_x - GUTTER - name_x, needs_x


def _place(row: DoorRow, page_w: float) -> _Placed:
    _, name_w, _ = _columns(page_w)
    name = _lines(row.name, typeface(True), NAME_PT, name_w) or [("", 1.0)]
    organisation = _lines(row.organisation, typeface(False), TEXT_PT, name_w)
    needs: list[tuple[str, float]] = []
    for need in row.needs:
        needs += _lines(need, typeface(False), TEXT_PT, NEEDS_W)
    left = len(name) * NAME_PT * LEADING + len(organisation) * TEXT_PT * LEADING
    right = len(needs) * TEXT_PT * LEADING
    height = max(left, right, TICK_BOX + 1 * mm) + 2 * ROW_PAD
    return _Placed(row, name, organisation, needs, height)


def _paginate(placed: list[_Placed], room: float) -> list[list[_Placed]]:
    pages: list[list[_Placed]] = [[]]
    used = 0.0
    for item in placed:
        if pages[-1] and used + item.height > room:
            pages.append([])
            used = 0.0
        pages[-1].append(item)
        used += item.height
    return pages


def _draw_lines(c, x: float, y: float, lines: list[tuple[str, float]], font: str, size: float, colour: str) -> float:
    """Lines downwards from the top `y` (capitals touching it); returns the y under the last line."""
    c.setFillColor(colour)
    baseline = y - size * 0.8
    for line, scale in lines:
        text = c.beginText()
        text.setFont(font, size)
        text.setHorizScale(scale * 100)
        text.setTextOrigin(x, baseline)
        text.textOut(line)
        c.drawText(text)
        baseline -= size * LEADING
    return y - len(lines) * size * LEADING


def _header(c, door: DoorList, page: list[_Placed], page_w: float, page_h: float) -> float:
    top = page_h - MARGIN
    width = page_w - 2 * MARGIN
    title = _lines(door.title, typeface(True), TITLE_PT, width)[:2]
    y = _draw_lines(c, MARGIN, top, title, typeface(True), TITLE_PT, TEAL)
    facts = " · ".join(part for part in (door.when, door.where) if part)
    y = _draw_lines(
        c, MARGIN, y - 1 * mm, _lines(facts, typeface(False), TEXT_PT, width)[:2], typeface(False), TEXT_PT, INK
    )
    count = len(door.rows)
    summary = f"Door list: {count} {'person' if count == 1 else 'people'} expected"
    if page:
        summary += f" · this page {page[0].row.heading_word} to {page[-1].row.heading_word}"
    y = _draw_lines(
        c, MARGIN, y - 1 * mm, _lines(summary, typeface(False), TEXT_PT, width)[:2], typeface(False), TEXT_PT, MUTED
    )
    # Column headings, then a rule.
    name_x, _, needs_x = _columns(page_w)
    y -= 2.5 * mm
    for x, label in ((MARGIN, "In"), (name_x, "Name and organisation"), (needs_x, "Needs")):
        _draw_lines(c, x, y, [(label, 1.0)], typeface(True), TEXT_PT, INK)
    y -= TEXT_PT * LEADING + 1 * mm
    c.setStrokeColor(INK)
    c.setLineWidth(1)
    c.line(MARGIN, y, page_w - MARGIN, y)
    return y


def _footer(c, door: DoorList, number: int, total: int, page_w: float) -> None:
    y = MARGIN
    if door.printed:
        _draw_lines(c, MARGIN, y + TEXT_PT, [(door.printed, 1.0)], typeface(False), TEXT_PT, MUTED)
    label = f"Page {number} of {total}"
    width = pdfmetrics.stringWidth(label, typeface(True), TEXT_PT)
    _draw_lines(c, page_w - MARGIN - width, y + TEXT_PT, [(label, 1.0)], typeface(True), TEXT_PT, INK)


def _row(c, item: _Placed, top: float, page_w: float) -> None:
    name_x, _, needs_x = _columns(page_w)
    inner = top - ROW_PAD
    c.setStrokeColor(INK)
    c.setLineWidth(1.2)
    c.rect(MARGIN + 1 * mm, inner - TICK_BOX, TICK_BOX, TICK_BOX, stroke=1, fill=0)
    y = _draw_lines(c, name_x, inner, item.name, typeface(True), NAME_PT, INK)
    _draw_lines(c, name_x, y, item.organisation, typeface(False), TEXT_PT, MUTED)
    _draw_lines(c, needs_x, inner, item.needs, typeface(False), TEXT_PT, INK)
    bottom = top - item.height
    c.setStrokeColor(RULE)
    c.setLineWidth(0.5)
    c.line(MARGIN, bottom, page_w - MARGIN, bottom)


def door_list_pdf(door: DoorList) -> bytes:
    """The list on A4 pages, rows in the order given (the caller sorts them: app.core.collation)."""
    buffer = io.BytesIO()
    c = pdf_canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    c.setTitle(f"Door list: {door.title}")
    c.setAuthor("The organisers")
    c.setCreator("Summit registration")
    page_w, page_h = A4
    placed = [_place(row, page_w) for row in door.rows]
    # The header's height depends on the title's lines; measure it once on a page with no rows.
    probe = pdf_canvas.Canvas(io.BytesIO(), pagesize=A4)
    header_bottom = _header(probe, door, [], page_w, page_h)
    room = header_bottom - (MARGIN + TEXT_PT * 2)
    pages = _paginate(placed, room)
    for number, page in enumerate(pages, start=1):
        y = _header(c, door, page, page_w, page_h)
        if not page:
            _draw_lines(
                c, MARGIN, y - 4 * mm, [("Nobody is expected at this event yet.", 1.0)], typeface(False), TEXT_PT, INK
            )
        for item in page:
            _row(c, item, y, page_w)
            y -= item.height
        _footer(c, door, number, len(pages), page_w)
        c.showPage()
    c.save()
    return buffer.getvalue()
