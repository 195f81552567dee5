"""The door list PDF (app.badges.door_list): the order read back from the file, large type, and every page
saying which event, when, and which page it is."""

from __future__ import annotations

import re

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from app.badges.door_list import TEXT_PT, DoorList, DoorRow, door_list_pdf
from app.core.collation import by_surname, split_name

NAMES = [
    "Zara Ahmed",
    "Łukasz Lis",
    "Aaron Lewis",
    "Óscar Ortiz",
    "Olga Oakes",
    "María de la Cruz",
    "Søren Østergaard",
    "Siân Davies",
    "Cllr Jane Smith",
]


def rows(names: list[str], needs: dict[str, tuple[str, ...]] | None = None) -> tuple[DoorRow, ...]:
    needs = needs or {}
    ordered = by_surname(names, lambda n: n)
    return tuple(
        DoorRow(split_name(n).filed_as, "Suffolk County Council", needs.get(n, ()), split_name(n).surname)
        for n in ordered
    )


def door(names: list[str], **kwargs) -> DoorList:
    return DoorList(
        title="The Lives we Lead: New Horizons",
        when="Wednesday 14 October, 9:30am–4:30pm",
        where="Adastral Park",
        rows=rows(names, kwargs.pop("needs", None)),
        printed="Printed Monday 12 October, 4:10pm",
    )


def page_texts(pdf: bytes) -> list[str]:
    document = pdfium.PdfDocument(pdf)
    return [document[i].get_textpage().get_text_range().replace("\r\n", "\n") for i in range(len(document))]


def test_the_names_read_back_from_the_file_in_surname_order_accents_with_their_letters():
    text = "\n".join(page_texts(door_list_pdf(door(NAMES))))
    found = [line for line in text.split("\n") if "," in line and "·" not in line and "Printed" not in line]
    assert found == [
        "Ahmed, Zara",
        "Cruz, María de la",
        "Davies, Siân",
        "Lewis, Aaron",
        "Lis, Łukasz",  # with the Ls, not after Z
        "Oakes, Olga",
        "Ortiz, Óscar",
        "Østergaard, Søren",
        "Smith, Cllr Jane",
    ]


def test_every_page_has_the_event_its_date_and_its_number_and_nothing_is_under_14_pt():
    many = [f"Person{n:03d} Surname{n:03d}" for n in range(60)] + NAMES
    pdf = door_list_pdf(door(many, needs={"Łukasz Lis": ("Dietary: vegetarian", "Access: step-free entrance")}))
    texts = page_texts(pdf)
    assert len(texts) >= 3
    for number, text in enumerate(texts, start=1):
        assert "The Lives we Lead: New Horizons" in text
        assert "Wednesday 14 October, 9:30am–4:30pm" in text
        assert f"Page {number} of {len(texts)}" in text
        # The heading says whose surnames the page holds, as a directory does.
        assert re.search(r"this page \S+ to \S+", text)
    whole = " ".join(" ".join(texts).split())  # a long need wraps onto a second line
    assert "Dietary: vegetarian" in whole and "Access: step-free entrance" in whole
    assert f"Door list: {len(many)} people expected" in texts[0]

    document = pdfium.PdfDocument(pdf)
    for i in range(len(document)):
        textpage = document[i].get_textpage()
        sizes = {
            round(pdfium_c.FPDFText_GetFontSize(textpage.raw, c), 1)
            for c in range(textpage.count_chars())
            if not textpage.get_text_range(c, 1).isspace()
        }
        assert min(sizes) >= TEXT_PT, (i, sorted(sizes))


def test_each_person_has_a_tick_box():
    pdf = door_list_pdf(door(NAMES))
    page = pdfium.PdfDocument(pdf)[0]
    squares = []
    for obj in page.get_objects():
        if obj.type == pdfium_c.FPDF_PAGEOBJ_PATH:
            left, bottom, right, top = obj.get_bounds()
            if 18 <= right - left <= 23 and abs((right - left) - (top - bottom)) < 0.5:
                squares.append(obj)
    assert len(squares) == len(NAMES)


def test_an_empty_list_is_one_page_that_says_so():
    texts = page_texts(door_list_pdf(door([])))
    assert len(texts) == 1
    assert "Nobody is expected at this event yet." in texts[0] and "Page 1 of 1" in texts[0]


def test_a_long_name_or_organisation_wraps_instead_of_running_off_the_page():
    long_org = "Suffolk County Council Adult and Community Services Directorate, Transformation and Innovation Unit"
    pdf = door_list_pdf(
        DoorList(
            "Warm-up", "Monday 5 October", rows=(DoorRow("Montgomery-Smythe-Fotheringham, Bartholomew", long_org),)
        )
    )
    page = pdfium.PdfDocument(pdf)[0]
    width, _ = page.get_size()
    textpage = page.get_textpage()
    for c in range(textpage.count_chars()):
        left, _, right, _ = textpage.get_charbox(c)
        assert right <= width - 15 * 72 / 25.4 + 1
    assert "Transformation" in textpage.get_text_range()
