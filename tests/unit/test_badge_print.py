"""Badges that read at arm's length, measured on the printed page: every layout is rendered at a known
resolution, each QR is found and read by zxing-cpp, its width measured in millimetres and its quiet zone
checked for white; names beyond ASCII are read back out of the PDF's text, in the typeface that draws them."""

from __future__ import annotations

from dataclasses import dataclass

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image
from reportlab.pdfbase import pdfmetrics

from app.badges.builders import (
    LAYOUTS,
    MIN_QR_SYMBOL_MM,
    QR_SYMBOL_MODULES,
    QUIET_ZONE,
    Badge,
    _font,
    badge_pdf,
    badge_sheets_pdf,
)
from app.core.security import new_badge_code

DPI = 300
MM_PER_PX = 25.4 / DPI
NAMES = [
    "Łukasz Wróblewski",
    "Siân Llewellyn",
    "Zoë Adeyemi",
    "Nguyễn Thị Minh Khai",
    "Professor Dame Alexandra Montgomery-Smythe",  # two lines and more: the name gives way, not the code
    "Bo Li",
    "Bartholomew Featherstonehaugh-Cholmondeley",
    "Søren Kierkegaard-Ødegård",
]
SHEETS = {"badge.pdf": None, **{key: key for key in sorted(LAYOUTS)}}


@dataclass(frozen=True)
class Found:
    text: str
    left: int
    top: int
    right: int
    bottom: int

    @property
    def width_mm(self) -> float:
        return (self.right - self.left) * MM_PER_PX

    @property
    def height_mm(self) -> float:
        return (self.bottom - self.top) * MM_PER_PX


def badges() -> list[Badge]:
    return [
        Badge(
            name=name,
            organisation="Cyngor Sir Ynys Môn · Suffolk County Council Adult and Community Services",
            code=new_badge_code(),
            footer="Wednesday 14 October · Adastral Park",
        )
        for name in NAMES
    ]


def pdf_for(layout: str | None, people: list[Badge]) -> list[bytes]:
    if layout is None:
        return [badge_pdf(person) for person in people]
    return [badge_sheets_pdf(people, layout)]


def pages(pdf: bytes) -> list[Image.Image]:
    document = pdfium.PdfDocument(pdf)
    return [document[i].render(scale=DPI / 72, grayscale=True).to_pil().convert("L") for i in range(len(document))]


def find_codes(page: Image.Image) -> list[Found]:
    found = []
    for result in zxingcpp.read_barcodes(page, formats=zxingcpp.BarcodeFormat.QRCode):
        corners = [result.position.top_left, result.position.top_right, result.position.bottom_right]
        corners.append(result.position.bottom_left)
        xs, ys = [p.x for p in corners], [p.y for p in corners]
        found.append(Found(result.text, min(xs), min(ys), max(xs), max(ys)))
    return found


# zxing-cpp's corners can sit a pixel off the symbol's edge: the ring checked starts and ends 2 px (1/8 of
# a module at 300 dpi) inside the 4 modules.
POSITION_SLACK_PX = 2


def quiet_zone_is_white(page: Image.Image, code: Found, modules: int = QUIET_ZONE) -> bool:
    """Every pixel of the ring `modules` wide around the symbol is white (a little less for anti-aliasing)."""
    module = (code.right - code.left) / QR_SYMBOL_MODULES
    margin = round(modules * module) - POSITION_SLACK_PX
    outer = (code.left - margin, code.top - margin, code.right + margin, code.bottom + margin)
    assert outer[0] >= 0 and outer[1] >= 0 and outer[2] <= page.width and outer[3] <= page.height
    ring = page.crop(outer)
    slack = POSITION_SLACK_PX
    inner_box = (
        margin - slack,
        margin - slack,
        margin + code.right - code.left + slack,
        margin + code.bottom - code.top + slack,
    )
    pixels = ring.load()
    for y in range(ring.height):
        for x in range(ring.width):
            inside = inner_box[0] <= x < inner_box[2] and inner_box[1] <= y < inner_box[3]
            if not inside and pixels[x, y] < 200:
                return False
    return True


def squeeze(text: str) -> str:
    # pdfium marks a hyphen that ends a line (Montgomery-/Smythe) as U+FFFE: it is the hyphen printed there.
    return "".join(text.replace("\ufffe", "-").split())


@pytest.fixture(scope="module")
def measured() -> dict[str, list[Found]]:
    """Every layout's QRs as found on its pages: {layout: [Found, …]}, with the badges they should carry."""
    people = badges()
    result = {}
    for label, layout in SHEETS.items():
        found = []
        for pdf in pdf_for(layout, people):
            for page in pages(pdf):
                found.extend((code, page) for code in find_codes(page))
        result[label] = (people, found)
    return result


@pytest.mark.parametrize("label", list(SHEETS))
def test_every_layout_prints_every_code_at_least_25_mm_wide_with_its_quiet_zone(measured, label):
    people, found = measured[label]
    # Every badge's code is read back from the printed page, long names and all.
    assert sorted(code.text for code, _ in found) == sorted(p.code for p in people)
    widths = [code.width_mm for code, _ in found]
    print(f"{label}: QR symbol {min(widths):.1f}–{max(widths):.1f} mm wide, {len(found)} codes")
    for code, page in found:
        assert code.width_mm >= MIN_QR_SYMBOL_MM, (label, code.width_mm)
        assert code.height_mm >= MIN_QR_SYMBOL_MM, (label, code.height_mm)
        assert quiet_zone_is_white(page, code), (label, code.text)
    # A long name never takes room from its code: every code on a layout is the same size (to within zxing-cpp's
    # corner estimate, a few pixels; a code that gave way to a name lost millimetres).
    assert max(widths) - min(widths) <= 0.5


def test_the_quiet_zone_check_sees_a_code_printed_without_one():
    # The measure itself: a code whose quiet zone is cut to one module fails it.
    code = new_badge_code()
    import io

    from app.badges.builders import qr_png

    full = Image.open(io.BytesIO(qr_png(code, box_size=12))).convert("L")
    cut = full.crop((36, 36, full.width - 36, full.height - 36))  # 3 of the 4 modules gone on each side
    page = Image.new("L", (cut.width + 200, cut.height + 200), 0)
    page.paste(cut, (100, 100))
    [found] = find_codes(page)
    assert not quiet_zone_is_white(page, found)
    whole = Image.new("L", (full.width + 200, full.height + 200), 0)  # all 4 modules, then black
    whole.paste(full, (100, 100))
    [found] = find_codes(whole)
    assert quiet_zone_is_white(whole, found)


@pytest.mark.parametrize("label", list(SHEETS))
def test_names_beyond_ascii_print_and_read_back_from_every_pdf(label):
    people = badges()
    text = ""
    for pdf in pdf_for(SHEETS[label], people):
        document = pdfium.PdfDocument(pdf)
        text += "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    for person in people:
        assert squeeze(person.name) in squeeze(text), (label, person.name)
    assert squeeze("Cyngor Sir Ynys Môn") in squeeze(text)
    # And the typeface that draws them has a glyph for every letter (no empty boxes where ễ should be).
    for bold in (True, False):
        face = pdfmetrics.getFont(_font(bold)).face
        missing = {
            char for person in people for char in person.name + person.organisation if ord(char) not in face.charToGlyph
        }
        assert missing == set()


def test_the_typeface_comes_from_its_package_not_the_system():
    face = pdfmetrics.getFont(_font(True)).face
    assert "site-packages" in face.filename or "dist-packages" in face.filename
    assert "fontpkg_be_vietnam_pro" in face.filename
