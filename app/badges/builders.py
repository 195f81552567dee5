"""Pure builders: a badge's facts in, PNG or PDF bytes out. No request, no database."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdf_canvas

QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks

# The colour band: the role in words on it too, so a grey-scale print still says it.
ROLES = {
    "delegate": ("Delegate", "#0b5563", "#ffffff"),
    "leader": ("Leader", "#f2a541", "#1d1d1f"),
    "speaker": ("Speaker", "#5b2a86", "#ffffff"),
    "organiser": ("Organiser", "#b3261e", "#ffffff"),
}
DEFAULT_ROLE = "delegate"
MIN_NAME_PT = 28  # readable at two metres


@dataclass(frozen=True)
class Badge:
    name: str
    organisation: str
    code: str
    role: str = DEFAULT_ROLE
    event: str = "The Lives we Lead: New Horizons"
    footer: str = ""  # e.g. "Wednesday 14 October · Adastral Park"

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, ROLES[DEFAULT_ROLE])[0]

    @property
    def role_colours(self) -> tuple[str, str]:
        _, band, ink = ROLES.get(self.role, ROLES[DEFAULT_ROLE])
        return band, ink


# --- QR --------------------------------------------------------------------------------------


def qr_matrix(code: str) -> list[list[bool]]:
    """The code's modules, quiet zone included. Level M: codes stay small (version 2 for our 31 characters)."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE, box_size=1)
    qr.add_data(code)
    qr.make(fit=True)
    return qr.get_matrix()


def qr_png(code: str, box_size: int = 10) -> bytes:
    """Black on white PNG, `box_size` pixels per module, with the 4-module quiet zone."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_ZONE, box_size=box_size)
    qr.add_data(code)
    qr.make(fit=True)
    image = qr.make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def qr_data_uri(code: str, box_size: int = 10) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(code, box_size)).decode("ascii")


# --- fonts -----------------------------------------------------------------------------------

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
_fonts_ready: dict[str, str] = {}


def _font(bold: bool, text: str) -> str:
    """Helvetica for text it can show (cp1252); DejaVu Sans for any other name (Łukasz, Dvořák)."""
    try:
        text.encode("cp1252")
        return "Helvetica-Bold" if bold else "Helvetica"
    except UnicodeEncodeError:
        pass
    key = "bold" if bold else "regular"
    if key not in _fonts_ready:
        path = _DEJAVU / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
        if not path.is_file():
            _fonts_ready[key] = "Helvetica-Bold" if bold else "Helvetica"
        else:
            name = "NH-DejaVuSans-Bold" if bold else "NH-DejaVuSans"
            pdfmetrics.registerFont(TTFont(name, str(path)))
            _fonts_ready[key] = name
    return _fonts_ready[key]


def _wrap(text: str, font: str, size: float, width: float, scale: float) -> list[str]:
    """Greedy word wrap at a horizontal scale (1.0 = normal width)."""
    words = text.split()
    lines: list[str] = []
    line = ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if pdfmetrics.stringWidth(candidate, font, size) * scale <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines or [""]


def _fit(text: str, font: str, size: float, width: float, max_lines: int) -> tuple[list[str], float]:
    """Lines and a horizontal scale that fit `max_lines` without shrinking the type: narrower before smaller."""
    for scale in (1.0, 0.92, 0.84, 0.76, 0.7):
        lines = _wrap(text, font, size, width, scale)
        widest = max(pdfmetrics.stringWidth(line, font, size) for line in lines) * scale
        if len(lines) <= max_lines and widest <= width:
            return lines, scale
    lines = _wrap(text, font, size, width, 0.7)
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [" ".join(lines[max_lines - 1 :])]
    widest = max(pdfmetrics.stringWidth(line, font, size) for line in lines)
    return lines, min(0.7, width / widest) if widest else 0.7


def _text(
    c,
    x: float,
    y: float,
    lines: list[str],
    font: str,
    size: float,
    leading: float,
    scale: float = 1.0,
    colour: str = "#1d1d1f",
    align: str = "left",
    width: float = 0.0,
) -> float:
    """Draw lines downwards from baseline y; returns the baseline below the last line."""
    c.setFillColor(colour)
    for line in lines:
        text = c.beginText()
        text.setFont(font, size)
        text.setHorizScale(scale * 100)
        line_width = pdfmetrics.stringWidth(line, font, size) * scale
        left = (
            x + (width - line_width) / 2 if align == "center" else x + (width - line_width) if align == "right" else x
        )
        text.setTextOrigin(left, y)
        text.textOut(line)
        c.drawText(text)
        y -= leading
    return y


def _draw_qr(c, code: str, x: float, y: float, size: float) -> None:
    """The QR as vector squares (sharp at any printer resolution), quiet zone painted white."""
    matrix = qr_matrix(code)
    n = len(matrix)
    module = size / n
    c.setFillColor("#ffffff")
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColor("#000000")
    for row_index, row in enumerate(matrix):
        top = y + size - (row_index + 1) * module
        col = 0
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                # A hair of overlap so anti-aliased viewers show no seams between modules.
                c.rect(x + start * module, top, (col - start) * module + 0.01, module + 0.01, stroke=0, fill=1)
            else:
                col += 1


# --- one card --------------------------------------------------------------------------------


def draw_card(c, badge: Badge, x: float, y: float, w: float, h: float) -> None:
    """One badge in the box (x, y, w, h), in points. Portrait boxes get the A6 layout, landscape the card one."""
    band, band_ink = badge.role_colours
    name_font = _font(True, badge.name)
    org_font = _font(False, badge.organisation)
    if h >= w:
        _draw_portrait(c, badge, x, y, w, h, band, band_ink, name_font, org_font)
    else:
        _draw_landscape(c, badge, x, y, w, h, band, band_ink, name_font, org_font)


def _draw_band(c, badge: Badge, x, y, w, h, band, band_ink, role_size, event_size, pad):
    c.setFillColor(band)
    c.rect(x, y, w, h, stroke=0, fill=1)
    role = badge.role_label.upper()
    baseline = y + (h - role_size * 0.7) / 2
    _text(c, x + pad, baseline, [role], "Helvetica-Bold", role_size, 0, colour=band_ink)
    event = "NEW HORIZONS"
    _text(
        c,
        x + pad,
        baseline,
        [event],
        "Helvetica-Bold",
        event_size,
        0,
        colour=band_ink,
        align="right",
        width=w - 2 * pad,
    )


def _draw_portrait(c, badge, x, y, w, h, band, band_ink, name_font, org_font):
    pad = 6 * mm
    band_h = 16 * mm
    _draw_band(c, badge, x, y + h - band_h, w, band_h, band, band_ink, 16, 10, pad)
    inner = w - 2 * pad
    name_size = 36
    lines, scale = _fit(badge.name, name_font, name_size, inner, 3)
    baseline = y + h - band_h - 6 * mm - name_size * 0.75
    baseline = _text(c, x + pad, baseline, lines, name_font, name_size, name_size * 1.08, scale)
    org_size = 14
    org_lines, org_scale = _fit(badge.organisation, org_font, org_size, inner, 2)
    baseline = _text(
        c, x + pad, baseline - 2 * mm, org_lines, org_font, org_size, org_size * 1.25, org_scale, colour="#4a5056"
    )
    footer_size = 8
    # The QR centred in the room between the organisation and the footer, at most 48 mm.
    room_bottom, room_top = y + 6 * mm + footer_size, baseline + org_size * 0.5
    qr_size = min(48 * mm, room_top - room_bottom - 2 * mm)
    _draw_qr(c, badge.code, x + (w - qr_size) / 2, room_bottom + (room_top - room_bottom - qr_size) / 2, qr_size)
    footer = badge.footer or badge.event
    _text(
        c,
        x + pad,
        y + 5 * mm,
        [footer],
        _font(False, footer),
        footer_size,
        0,
        colour="#4a5056",
        align="center",
        width=inner,
    )


def _draw_landscape(c, badge, x, y, w, h, band, band_ink, name_font, org_font):
    pad = 4 * mm
    band_h = 8 * mm
    _draw_band(c, badge, x, y + h - band_h, w, band_h, band, band_ink, 10, 7, pad)
    inner = w - 2 * pad
    name_size = MIN_NAME_PT
    lines, scale = _fit(badge.name, name_font, name_size, inner, 2)
    baseline = y + h - band_h - 2.5 * mm - name_size * 0.75
    baseline = _text(c, x + pad, baseline, lines, name_font, name_size, name_size * 1.05, scale)
    # Below the name: the organisation on the left, the QR as large as the room left allows on the right.
    top_of_rest = baseline + name_size * 1.05 - name_size * 0.78 - 1.5 * mm
    qr_size = max(min(top_of_rest - y - 1.5 * mm, 30 * mm), 18 * mm)
    qr_x = x + w - qr_size - 1.5 * mm
    _draw_qr(c, badge.code, qr_x, y + 1.5 * mm, qr_size)
    org_size = 10
    org_width = qr_x - (x + pad) - 1 * mm
    org_lines, org_scale = _fit(badge.organisation, org_font, org_size, org_width, 3)
    _text(
        c, x + pad, top_of_rest - org_size, org_lines, org_font, org_size, org_size * 1.2, org_scale, colour="#4a5056"
    )


# --- pages -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    key: str
    label: str
    card_w: float  # mm
    card_h: float
    columns: int
    rows: int

    @property
    def per_page(self) -> int:
        return self.columns * self.rows


LAYOUTS = {
    "cards-2x4": Layout("cards-2x4", "Name cards, 90 × 55 mm, 8 to a sheet (2 × 4)", 90, 55, 2, 4),
    # A little under A6 (105 × 148) so the cutting marks fit in margins a printer can reach, and the cut badge
    # still slides into an A6 holder.
    "a6-2x2": Layout("a6-2x2", "A6 holders, 98 × 138 mm, 4 to a sheet (2 × 2)", 98, 138, 2, 2),
}
DEFAULT_LAYOUT = "cards-2x4"
MARK_GAP = 1.5 * mm
MARK_LENGTH = 5 * mm


def _cut_marks(c, xs: list[float], ys: list[float], left: float, right: float, bottom: float, top: float) -> None:
    """Short lines in the margins on every cut line, so a guillotine or a ruler can follow them."""
    c.setStrokeColor("#000000")
    c.setLineWidth(0.3)
    page_w, page_h = A4
    # Never longer than the margin allows: a mark in the last few millimetres would not print anyway.
    vertical = min(MARK_LENGTH, bottom - MARK_GAP - 2 * mm, page_h - top - MARK_GAP - 2 * mm)
    horizontal = min(MARK_LENGTH, left - MARK_GAP - 2 * mm, page_w - right - MARK_GAP - 2 * mm)
    for x in xs:
        c.line(x, top + MARK_GAP, x, top + MARK_GAP + vertical)
        c.line(x, bottom - MARK_GAP, x, bottom - MARK_GAP - vertical)
    for y in ys:
        c.line(left - MARK_GAP, y, left - MARK_GAP - horizontal, y)
        c.line(right + MARK_GAP, y, right + MARK_GAP + horizontal, y)


def _grid(c, layout: Layout, badges: list[Badge], page_w: float, page_h: float) -> None:
    card_w, card_h = layout.card_w * mm, layout.card_h * mm
    grid_w, grid_h = card_w * layout.columns, card_h * layout.rows
    left, bottom = (page_w - grid_w) / 2, (page_h - grid_h) / 2
    for index, badge in enumerate(badges):
        column, row = index % layout.columns, index // layout.columns
        x = left + column * card_w
        y = bottom + grid_h - (row + 1) * card_h
        draw_card(c, badge, x, y, card_w, card_h)
    xs = [left + i * card_w for i in range(layout.columns + 1)]
    ys = [bottom + i * card_h for i in range(layout.rows + 1)]
    _cut_marks(c, xs, ys, left, left + grid_w, bottom, bottom + grid_h)


def _new_canvas(buffer, title: str):
    c = pdf_canvas.Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1)
    c.setTitle(title)
    c.setAuthor("New Horizons organisers")
    c.setCreator("New Horizons registration")
    return c


def badge_sheets_pdf(badges: list[Badge], layout_key: str = DEFAULT_LAYOUT) -> bytes:
    """A4 sheets of badges in the chosen layout, with cutting marks; an empty list gives one empty sheet."""
    layout = LAYOUTS[layout_key]
    buffer = io.BytesIO()
    c = _new_canvas(buffer, f"New Horizons badges ({layout.label})")
    page_w, page_h = A4
    pages = [badges[i : i + layout.per_page] for i in range(0, len(badges), layout.per_page)] or [[]]
    for page in pages:
        _grid(c, layout, page, page_w, page_h)
        c.showPage()
    c.save()
    return buffer.getvalue()


SINGLE_W, SINGLE_H = 105, 148  # A6


def badge_pdf(badge: Badge) -> bytes:
    """One A6 badge on an A4 page, with cutting marks and a line on what to do with it."""
    buffer = io.BytesIO()
    c = _new_canvas(buffer, f"New Horizons badge: {badge.name}")
    page_w, page_h = A4
    card_w, card_h = SINGLE_W * mm, SINGLE_H * mm
    left, bottom = (page_w - card_w) / 2, page_h - 25 * mm - card_h
    draw_card(c, badge, left, bottom, card_w, card_h)
    c.setStrokeColor("#b0b8bc")
    c.setLineWidth(0.3)
    c.rect(left, bottom, card_w, card_h, stroke=1, fill=0)
    _cut_marks(c, [left, left + card_w], [bottom, bottom + card_h], left, left + card_w, bottom, bottom + card_h)
    note = (
        "Cut along the marks and slip the badge into a holder. Or simply show the QR code on your phone: "
        "either works at the door."
    )
    lines = _wrap(note, "Helvetica", 11, card_w + 20 * mm, 1.0)
    _text(c, left - 10 * mm, bottom - 15 * mm, lines, "Helvetica", 11, 14, colour="#1d1d1f")
    c.showPage()
    c.save()
    return buffer.getvalue()
