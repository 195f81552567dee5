"""Pure builders: a badge's facts in, PNG or PDF bytes out. No request, no database."""

from __future__ import annotations

import base64
import importlib.resources
import io
from dataclasses import dataclass

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as pdf_canvas

QUIET_ZONE = 4  # modules of white around the code, as the QR standard asks
QR_SYMBOL_MODULES = 25  # version 2: what our 32-character codes need at level M
# The printed symbol's width (without the quiet zone): at least 25 mm everywhere, so a phone reads it at arm's length.
MIN_QR_SYMBOL_MM = 25
CARD_QR_SYMBOL_MM = 26
PORTRAIT_QR_SYMBOL_MM = 34
CUT_ALLOWANCE = 1.5 * mm  # white kept between a quiet zone and the card's edge, for a cut a little inside the line

# The colour band: the role in words on it too, so a grey-scale print still says it.
ROLES = {
    "delegate": ("Delegate", "#0b5563", "#ffffff"),
    "leader": ("Leader", "#f2a541", "#1d1d1f"),
    "speaker": ("Speaker", "#5b2a86", "#ffffff"),
    "organiser": ("Organiser", "#b3261e", "#ffffff"),
}
DEFAULT_ROLE = "delegate"
# Badges for people who hold no delegate place (staff: organisers, stewards, leaders; named speakers and guests).
# They carry no code, so no QR: the door's scanner can't be shown one, and nobody is admitted by one.
NO_PLACE_BANDS = {
    "staff": ("Staff", "#1d1d1f", "#ffffff"),
    "speaker": ROLES["speaker"],
    "guest": ("Guest", "#4a5056", "#ffffff"),
}
BANDS = {**ROLES, **NO_PLACE_BANDS}
MIN_NAME_PT = 28  # readable at two metres
NO_PLACE_WORD_PT = 30  # "STAFF" where a delegate's badge has its QR


@dataclass(frozen=True)
class Badge:
    name: str
    organisation: str
    code: str  # "" for a badge with no delegate place: no QR is drawn
    role: str = DEFAULT_ROLE
    event: str = "The Lives we Lead: New Horizons"
    footer: str = ""  # e.g. "Wednesday 14 October · Adastral Park"

    @property
    def role_label(self) -> str:
        return BANDS.get(self.role, ROLES[DEFAULT_ROLE])[0]

    @property
    def role_colours(self) -> tuple[str, str]:
        _, band, ink = BANDS.get(self.role, ROLES[DEFAULT_ROLE])
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

# Be Vietnam Pro, from its package (fontpkg-be-vietnam-pro): every Latin name prints, Łukasz, Siân, Zoë and
# Nguyễn alike, on any machine the app is installed on. Embedded (subset) in each PDF, with its text map,
# so the names can be searched and copied from the file too.
_FONT_PACKAGE = "fontpkg_be_vietnam_pro"
_FONT_FILES = {"regular": "BeVietnamPro-Regular.ttf", "bold": "BeVietnamPro-Bold.ttf"}
_fonts_ready: dict[str, str] = {}


def _font(bold: bool, text: str = "") -> str:
    """The badge typeface's registered name (the text is any text; the one typeface shows them all)."""
    key = "bold" if bold else "regular"
    if key not in _fonts_ready:
        name = f"NH-BeVietnamPro-{key}"
        path = importlib.resources.files(_FONT_PACKAGE) / "files" / _FONT_FILES[key]
        with importlib.resources.as_file(path) as file:
            pdfmetrics.registerFont(TTFont(name, str(file)))
        _fonts_ready[key] = name
    return _fonts_ready[key]


def typeface(bold: bool = False) -> str:
    """The badges' typeface, registered with reportlab, for the other paper the door uses (the door list)."""
    return _font(bold)


def _words(text: str) -> list[str]:
    """Words, with a hyphenated one offered in pieces ("Montgomery-" "Smythe"), each but the last ending in '-'."""
    pieces: list[str] = []
    for word in text.split():
        parts = word.split("-")
        pieces.extend([f"{part}-" for part in parts[:-1] if part] + ([parts[-1]] if parts[-1] else []))
        pieces.append(" ")
    return pieces[:-1]


def _wrap(text: str, font: str, size: float, width: float, scale: float) -> list[str]:
    """Greedy word wrap at a horizontal scale (1.0 = normal width); a line may also break after a hyphen."""
    lines: list[str] = []
    line = ""
    for piece in _words(text):
        if piece == " ":
            line += " " if line else ""
            continue
        candidate = line + piece
        if pdfmetrics.stringWidth(candidate, font, size) * scale <= width or not line.strip():
            line = candidate
        else:
            lines.append(line.strip())
            line = piece
    if line.strip():
        lines.append(line.strip())
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
        rest = " ".join(lines[max_lines - 1 :]).replace("- ", "-")
        lines = lines[: max_lines - 1] + [rest]
    widest = max(pdfmetrics.stringWidth(line, font, size) for line in lines)
    return lines, min(0.7, width / widest) if widest else 0.7


@dataclass(frozen=True)
class Fitted:
    lines: list[str]
    size: float
    scale: float
    leading: float

    @property
    def height(self) -> float:
        """From the first line's capitals to the last line's descenders, about."""
        return self.size + (len(self.lines) - 1) * self.leading


NARROWEST = 0.7  # horizontal scale: type narrowed further than this looks broken


def _fit_box(
    text: str, font: str, size: float, width: float, height: float, max_lines: int, leading: float = 1.08
) -> Fitted:
    """The text in a box `width` x `height`: wrapped, then narrowed, then in smaller type (never below 40 %)."""
    floor = size * 0.4
    while size > floor:
        for scale in (1.0, 0.92, 0.84, 0.76, NARROWEST):
            lines = _wrap(text, font, size, width, scale)
            widest = max(pdfmetrics.stringWidth(line, font, size) for line in lines) * scale
            fitted = Fitted(lines, size, scale, size * leading)
            if len(lines) <= max_lines and widest <= width + 0.01 and fitted.height <= height:
                return fitted
        size -= 1
    lines, scale = _fit(text, font, floor, width, max_lines)
    return Fitted(lines, floor, scale, floor * leading)


def _name_and_organisation(c, x: float, top: float, name: Fitted, org: Fitted, gap: float, fonts) -> None:
    """The name from `top` down (capitals touching it), then the organisation `gap` below its descenders."""
    name_font, org_font = fonts
    baseline = top - name.size * 0.75
    _text(c, x, baseline, name.lines, name_font, name.size, name.leading, name.scale)
    baseline -= (len(name.lines) - 1) * name.leading + name.size * 0.25 + gap + org.size * 0.75
    _text(c, x, baseline, org.lines, org_font, org.size, org.leading, org.scale, colour="#4a5056")


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


def qr_block_size(symbol: float) -> float:
    """The QR's whole square, quiet zone included, for a symbol (the dark modules' square) `symbol` wide."""
    return symbol * (QR_SYMBOL_MODULES + 2 * QUIET_ZONE) / QR_SYMBOL_MODULES


def _draw_qr(c, code: str, x: float, y: float, size: float) -> None:
    """The QR as vector squares (sharp at any printer resolution), quiet zone painted white. `size` is the
    whole square, quiet zone included."""
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
    """One badge in the box (x, y, w, h), in points. Portrait boxes get the A6 layout, landscape the card one.
    The QR's size is decided first and never gives way: a long name wraps, narrows or shrinks instead."""
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
    _text(c, x + pad, baseline, [role], _font(True), role_size, 0, colour=band_ink)
    event = "NEW HORIZONS"
    _text(c, x + pad, baseline, [event], _font(True), event_size, 0, colour=band_ink, align="right", width=w - 2 * pad)


def _draw_portrait(c, badge, x, y, w, h, band, band_ink, name_font, org_font):
    pad = 6 * mm
    band_h = 16 * mm
    _draw_band(c, badge, x, y + h - band_h, w, band_h, band, band_ink, 16, 10, pad)
    inner = w - 2 * pad
    footer_size = 8
    # The QR's room first: its symbol 34 mm (block 45 mm) above the footer. The name and organisation share
    # what is left above it.
    qr_size = qr_block_size(PORTRAIT_QR_SYMBOL_MM * mm) if badge.code else NO_PLACE_WORD_PT * 1.6
    qr_floor = y + 6 * mm + footer_size + 1 * mm
    text_top = y + h - band_h - 6 * mm
    room = text_top - (qr_floor + qr_size) - 2 * mm
    org = _fit_box(badge.organisation, org_font, 14, inner, 14 * 2.25, 2, leading=1.25)
    name = _fit_box(badge.name, name_font, 36, inner, room - org.height - 2 * mm, 3)
    _name_and_organisation(c, x + pad, text_top, name, org, 2 * mm, (name_font, org_font))
    if not badge.code:
        # No QR: the role in large letters where it would be, so the door sees staff from across the room.
        word = badge.role_label.upper()
        _text(
            c,
            x + pad,
            qr_floor + 4 * mm,
            [word],
            _font(True),
            NO_PLACE_WORD_PT,
            0,
            colour=band,
            align="center",
            width=inner,
        )
        _portrait_footer(c, badge, x, y, pad, inner, footer_size)
        return
    # Centred in whatever the text left free below it.
    text_bottom = text_top - name.height - 2 * mm - org.height - 2 * mm
    qr_y = qr_floor + max(0.0, (text_bottom - qr_floor - qr_size) / 2)
    _draw_qr(c, badge.code, x + (w - qr_size) / 2, qr_y, qr_size)
    _portrait_footer(c, badge, x, y, pad, inner, footer_size)


def _portrait_footer(c, badge: Badge, x, y, pad, inner, footer_size) -> None:
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
    # The QR first, at the bottom right: symbol 26 mm, its quiet zone inside the card with a cutting allowance.
    if badge.code:
        qr_size = qr_block_size(CARD_QR_SYMBOL_MM * mm)
        qr_x, qr_y = x + w - qr_size - CUT_ALLOWANCE, y + CUT_ALLOWANCE
        _draw_qr(c, badge.code, qr_x, qr_y, qr_size)
    else:
        qr_x = x + w - pad  # no QR: the name has the card's whole width
    # The name and organisation in the column to its left, from under the band to the card's foot.
    column = qr_x - (x + pad)
    text_top = y + h - band_h - 2.5 * mm
    org = _fit_box(badge.organisation, org_font, 10, column, 10 * 3.4, 3, leading=1.2)
    name = _fit_box(badge.name, name_font, MIN_NAME_PT, column, text_top - (y + 3 * mm) - org.height - 1.5 * mm, 3)
    _name_and_organisation(c, x + pad, text_top, name, org, 1.5 * mm, (name_font, org_font))


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
    c.setAuthor("The organisers")
    c.setCreator("Summit registration")
    return c


def badge_sheets_pdf(badges: list[Badge], layout_key: str = DEFAULT_LAYOUT) -> bytes:
    """A4 sheets of badges in the chosen layout, with cutting marks; an empty list gives one empty sheet."""
    layout = LAYOUTS[layout_key]
    buffer = io.BytesIO()
    c = _new_canvas(buffer, f"{badges[0].event if badges else Badge.event} badges ({layout.label})")
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
    c = _new_canvas(buffer, f"{badge.event} badge: {badge.name}")
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
