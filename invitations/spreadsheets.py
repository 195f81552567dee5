"""An uploaded invitee list read into a table of text cells: an Excel workbook (.xlsx, its first sheet) or CSV
as Excel saves it (UTF-8 with or without a byte-order mark, Windows-1252, commas, semicolons or tabs). A file
that is neither is named for what it is, with what to do."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

MAX_LINES = 100_000  # lines or sheet rows read, blank ones included: a 20,000-row list with room to spare
MAX_COLUMNS = 100
SAVE_AS = "Save it as .xlsx or CSV (in Excel: File > Save As > 'Excel Workbook (.xlsx)'), then upload it again."
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
_UNDEFINED_IN_CP1252 = {0x81, 0x8D, 0x8F, 0x90, 0x9D}


class UnreadableFile(ValueError):
    """The file can't be read as a table; the message says what it is and what to do, `line` where."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Table:
    headings: list[str]
    heading_line: int
    records: list[tuple[int, list[str]]]  # (line or sheet row, cells) for each row after the headings, blanks too
    read_as: str  # in words: "an Excel workbook (sheet 'People')", "CSV in Windows-1252, separated by semicolons"
    encoding: str = ""  # for CSV: utf-8, utf-8-sig or cp1252


def read_table(data: bytes | str) -> Table:
    """The file's first non-blank row as headings and every later row, or UnreadableFile."""
    if isinstance(data, str):
        return _read_csv(data.removeprefix("\ufeff"), "utf-8")
    if data.startswith(b"PK\x03\x04"):
        return _read_workbook(data)
    _refuse_other_formats(data)
    text, encoding = _decode(data)
    return _read_csv(text, encoding)


def _refuse_other_formats(data: bytes) -> None:
    head = data[:2048]
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise UnreadableFile(
            "This is an Excel 97–2003 workbook (.xls), or a workbook protected by a password, which we can't read. "
            + SAVE_AS
            + " Remove any password first."
        )
    if head.startswith(b"%PDF"):
        raise UnreadableFile("This is a PDF, not a spreadsheet. Upload the spreadsheet the list came from. " + SAVE_AS)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UnreadableFile("This is a UTF-16 text file (Excel's 'Unicode Text'), which we can't read. " + SAVE_AS)
    if head.startswith(b"{\\rtf"):
        raise UnreadableFile("This is a Word document (RTF), not a spreadsheet. " + SAVE_AS)
    lowered = head.lstrip().lower()
    if lowered.startswith((b"<html", b"<!doctype html", b"<table", b"<?xml")):
        raise UnreadableFile(
            "This is a web page or XML file saved with a spreadsheet's name, not a workbook or CSV. Open it in "
            "Excel and " + SAVE_AS[0].lower() + SAVE_AS[1:]
        )
    controls = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 13))
    if head and controls / len(head) > 0.1:  # text has a stray control character at most, not one in ten
        raise UnreadableFile("This isn't a spreadsheet or a CSV file (it holds binary data). " + SAVE_AS)


def _decode(data: bytes) -> tuple[str, str]:
    """UTF-8 (with or without Excel's byte-order mark), else Windows-1252 (Excel's 'CSV (Comma delimited)')."""
    try:
        if data.startswith(codecs.BOM_UTF8):
            return data.decode("utf-8-sig"), "utf-8-sig"
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        line = len(_LINE_BREAK.findall(data, 0, exc.start)) + 1
        line_start = max(data.rfind(b"\n", 0, exc.start), data.rfind(b"\r", 0, exc.start)) + 1
        before = data[line_start : exc.start].decode("cp1252", errors="replace")[-20:]
        after = f", just after “{before}”" if before.strip() else ""
        raise UnreadableFile(
            f"a character we can't read (the byte 0x{data[exc.start]:02X}{after}): the file is neither UTF-8 nor "
            "Windows-1252, the two ways Excel saves CSV. In Excel use File > Save As and choose 'CSV UTF-8 (Comma "
            "delimited)' or 'Excel Workbook (.xlsx)', then upload it again.",
            line,
        ) from None


def _delimiter(text: str) -> str:
    """The separator that splits the first non-blank line into the most fields: Excel's CSV uses commas, or
    semicolons where the comma is the decimal mark; 'Text (Tab delimited)' uses tabs."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    best, most = ",", 1
    for candidate in (",", ";", "\t"):
        try:
            fields = next(csv.reader([first], delimiter=candidate), [])
        except csv.Error:
            continue
        if len(fields) > most:
            best, most = candidate, len(fields)
    return best


_SEPARATORS = {",": "commas", ";": "semicolons", "\t": "tabs"}
_ENCODINGS = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8", "cp1252": "Windows-1252"}


def _read_csv(text: str, encoding: str) -> Table:
    delimiter = _delimiter(text)
    # newline="" lets csv see \r\n, \r and \n untouched, which it needs for quoted fields containing line breaks.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []
    previous_end = 0
    while True:
        start = previous_end + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise UnreadableFile(
                f"Line {start}: the file could not be read as CSV from this line on ({exc})."
            ) from None
        # line_num counts physical lines consumed, so a multi-line record starts right after the previous one ended.
        previous_end = reader.line_num
        if start > MAX_LINES:
            raise UnreadableFile(f"The file has more than {MAX_LINES:,} lines; split it into smaller files.")
        records.append((start, fields))
    read_as = f"CSV in {_ENCODINGS[encoding]}, separated by {_SEPARATORS[delimiter]}"
    return _table(records, read_as, encoding)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _read_workbook(data: bytes) -> Table:
    # Imported here: only a workbook needs it, and it takes a moment to load.
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, ValueError):
        raise UnreadableFile(
            "The file is damaged: it starts like an Excel workbook but can't be opened. " + SAVE_AS
        ) from None
    if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
        if "word/document.xml" in names:
            kind = "a Word document (.docx)"
        elif "content.xml" in names:
            kind = "an OpenDocument file (.ods, from LibreOffice or Google Sheets' download)"
        else:
            kind = "a zip archive"
        raise UnreadableFile(f"This is {kind}, not an Excel workbook. " + SAVE_AS)
    if "xl/workbook.bin" in names:
        raise UnreadableFile("This is an Excel binary workbook (.xlsb), which we can't read. " + SAVE_AS)
    try:
        # Read-only streams the sheet; data_only gives each formula's last calculated value, not the formula.
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise UnreadableFile(f"The workbook can't be opened ({exc}). " + SAVE_AS) from None
    try:
        sheet = workbook.worksheets[0]
        records: list[tuple[int, list[str]]] = []
        rows: Iterator = sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True)
        for number, values in enumerate(rows, start=1):
            if number > MAX_LINES:
                raise UnreadableFile(
                    f"The first sheet has more than {MAX_LINES:,} rows, blank ones included; "
                    "split it into smaller files."
                )
            records.append((number, [_cell_text(value) for value in values]))
        title = sheet.title
    finally:
        workbook.close()
    extra = " (the first of its sheets)" if len(workbook.sheetnames) > 1 else ""
    return _table(records, f"an Excel workbook, sheet “{title}”{extra}", "")


def _table(records: list[tuple[int, list[str]]], read_as: str, encoding: str) -> Table:
    for index, (line, cells) in enumerate(records):
        if any(cell.strip() for cell in cells):
            headings = list(cells)
            while headings and not headings[-1].strip():
                headings.pop()  # a sheet's empty columns after the last heading
            return Table(headings, line, records[index + 1 :], read_as, encoding)
    raise UnreadableFile("The file is empty. Upload a spreadsheet with a row of headings and one row per invitee.")
