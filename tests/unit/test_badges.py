"""Badge codes and the pure badge builders: every QR is read back by a real decoder (zxing-cpp)."""

from __future__ import annotations

import io
import re

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image

from app.badges.builders import (
    LAYOUTS,
    MIN_NAME_PT,
    QUIET_ZONE,
    ROLES,
    Badge,
    badge_pdf,
    badge_sheets_pdf,
    qr_data_uri,
    qr_matrix,
    qr_png,
)
from app.core.security import CODE_ALPHABET, CODE_PREFIX, new_badge_code

LOOK_ALIKES = set("0O1IL")


def decode(image: Image.Image) -> list[str]:
    return sorted(result.text for result in zxingcpp.read_barcodes(image))


def rasterise(pdf: bytes, dpi: int = 200) -> list[Image.Image]:
    document = pdfium.PdfDocument(pdf)
    return [document[i].render(scale=dpi / 72).to_pil() for i in range(len(document))]


def people(n: int) -> list[Badge]:
    roles = list(ROLES)
    names = [
        "Ada Lovelace",
        "Professor Dame Alexandra Montgomery-Smythe",
        "Łukasz Dvořák",
        "Bo Li",
        "Grace Hopper",
        "Siân O'Connor-Whitfield",
        "Zoë Adeyemi",
        "Tom Ng",
        "Kate Sheppard",
    ]
    return [
        Badge(
            name=names[i % len(names)],
            organisation="Suffolk County Council Adult and Community Services",
            code=new_badge_code(),
            role=roles[i % len(roles)],
            footer="Wednesday 14 October · Adastral Park",
        )
        for i in range(n)
    ]


# --- codes -----------------------------------------------------------------------------------------


def test_codes_are_prefixed_short_unambiguous_and_unique():
    codes = {new_badge_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert code.startswith(CODE_PREFIX + "-")
        assert len(code) <= 40
        body = code[len(CODE_PREFIX) + 1 :]
        assert set(body) <= set(CODE_ALPHABET)
        assert not set(body) & LOOK_ALIKES
    assert not set(CODE_ALPHABET) & LOOK_ALIKES
    # QR alphanumeric mode holds upper case, digits and '-': the code never needs byte mode.
    assert all(re.fullmatch(r"[0-9A-Z-]+", code) for code in codes)


def test_a_code_carries_at_least_128_bits():
    import math

    body_length = len(new_badge_code()) - len(CODE_PREFIX) - 1
    assert body_length * math.log2(len(CODE_ALPHABET)) >= 128


# --- the PNG ---------------------------------------------------------------------------------------


def test_png_decodes_back_to_the_code_with_its_quiet_zone():
    code = new_badge_code()
    image = Image.open(io.BytesIO(qr_png(code, box_size=10)))
    assert image.format == "PNG"
    assert decode(image.convert("L")) == [code]
    matrix = qr_matrix(code)
    assert image.size == (len(matrix) * 10, len(matrix) * 10)
    # Four modules of white all round.
    pixels = image.convert("L")
    border = QUIET_ZONE * 10
    for x in range(image.size[0]):
        for y in (0, border - 1, image.size[1] - 1):
            assert pixels.getpixel((x, y)) == 255
    assert not any(matrix[r][c] for r in range(QUIET_ZONE) for c in range(len(matrix)))


def test_the_qr_stays_small_at_level_m():
    # 31 alphanumeric characters fit version 2 (25 modules) at level M: big modules, easy to scan.
    assert len(qr_matrix(new_badge_code())) == 25 + 2 * QUIET_ZONE


def test_data_uri_is_the_same_png():
    code = new_badge_code()
    uri = qr_data_uri(code)
    assert uri.startswith("data:image/png;base64,")
    import base64

    assert decode(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))) == [code]


# --- the PDFs --------------------------------------------------------------------------------------


def test_single_badge_pdf_decodes_and_shows_the_name_large():
    badge = people(1)[0]
    pdf = badge_pdf(badge)
    assert pdf.startswith(b"%PDF")
    pages = rasterise(pdf)
    assert len(pages) == 1
    assert pages[0].size == (round(210 / 25.4 * 200), round(297 / 25.4 * 200))  # A4
    assert decode(pages[0]) == [badge.code]
    text = pdfium.PdfDocument(pdf)[0].get_textpage().get_text_range()
    assert "Ada Lovelace" in text and "DELEGATE" in text and "Suffolk County Council" in text


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_layout_decodes_every_badge_on_every_page(layout):
    per_page = LAYOUTS[layout].per_page
    badges = people(per_page + 1)  # a full page and one on the next
    pdf = badge_sheets_pdf(badges, layout)
    pages = rasterise(pdf)
    assert len(pages) == 2
    assert all(page.size == (1654, 2339) for page in pages)  # A4 at 200 dpi
    assert decode(pages[0]) == sorted(b.code for b in badges[:per_page])
    assert decode(pages[1]) == [badges[-1].code]
    document = pdfium.PdfDocument(pdf)
    first_page = document[0].get_textpage().get_text_range()
    for role in {ROLES[b.role][0].upper() for b in badges[:per_page]}:
        assert role in first_page


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_names_are_at_least_28pt_and_cut_marks_are_drawn(layout):
    pdf = badge_sheets_pdf(people(2), layout)
    page = pdfium.PdfDocument(pdf)[0]
    textpage = page.get_textpage()
    text = textpage.get_text_range()
    start = text.index("Ada")
    # The height of a capital in the name, in points: 28pt type has capitals about 20pt tall.
    left, bottom, right, top = textpage.get_charbox(start)
    assert top - bottom >= MIN_NAME_PT * 0.68
    # Cutting marks: thin lines in the margins outside the grid of cards.
    objects = list(page.get_objects())
    paths = [o for o in objects if o.type == pdfium.raw.FPDF_PAGEOBJ_PATH]
    width, height = page.get_size()
    layout_info = LAYOUTS[layout]
    grid_w = layout_info.card_w * 72 / 25.4 * layout_info.columns
    margin = (width - grid_w) / 2
    in_left_margin = [p for p in paths if p.get_bounds()[2] <= margin + 0.5]
    assert len(in_left_margin) >= layout_info.rows + 1


def test_an_empty_batch_is_one_blank_sheet_not_an_error():
    assert len(rasterise(badge_sheets_pdf([], "cards-2x4"), dpi=30)) == 1


def test_unknown_role_prints_as_a_delegate():
    badge = Badge(name="X Y", organisation="Z", code=new_badge_code(), role="astronaut")
    assert badge.role_label == "Delegate"
    assert decode(rasterise(badge_pdf(badge))[0]) == [badge.code]
