"""The invitee list's check, without a database: formats, encodings, headings by meaning, and every row's rules."""

import io
import re
import time
import zipfile

import openpyxl

from invitations.import_check import (
    MAX_ERRORS,
    MAX_ROWS,
    InviteeRow,
    RowError,
    UnknownChampion,
    check_invitee_file,
    import_notes,
)

HEADER = "email,name,organisation,job_title,champion_email"
CHAMPIONS = {"lead@summit.org"}


def parse(text_or_bytes, champions=CHAMPIONS):
    return check_invitee_file(text_or_bytes, champions)


def only_error(result) -> RowError:
    assert not result.ok
    assert len(result.errors) == 1, [str(e) for e in result.errors]
    return result.errors[0]


def test_good_file():
    result = parse(
        f"{HEADER}\n"
        "  Alice@Example.COM ,Alice Smith,Acme Ltd,CEO,Lead@Summit.org\n"
        "bob@example.com,Bob Jones,Beta plc,,\n"
    )
    assert result.ok
    assert result.errors == []
    assert result.rows == [
        InviteeRow(2, "alice@example.com", "Alice Smith", "Acme Ltd", "CEO", "lead@summit.org"),
        InviteeRow(3, "bob@example.com", "Bob Jones", "Beta plc", "", None),
    ]


def test_values_are_not_altered_apart_from_whitespace():
    result = parse(f"{HEADER}\nx@example.com,=Eve,+Org,-Boss,\n")
    assert result.ok
    row = result.rows[0]
    assert (row.name, row.organisation, row.job_title) == ("=Eve", "+Org", "-Boss")


def test_header_is_case_and_space_insensitive():
    result = parse(" Email , NAME,Organisation ,Job_Title,champion_EMAIL\nx@example.com,X,Y,,\n")
    assert result.ok


def test_byte_order_mark_is_stripped():
    data = ("\ufeff" + f"{HEADER}\nx@example.com,X,Y,,\n").encode("utf-8")
    result = parse(data)
    assert result.ok
    assert result.rows[0].email == "x@example.com"
    # A str that still carries the BOM is handled the same way.
    assert parse(data.decode("utf-8")).ok


def test_crlf_and_old_mac_line_endings():
    for newline in ("\r\n", "\r"):
        data = newline.join([HEADER, "a@example.com,A,Org,,", "b@example.com,B,Org,,", ""]).encode()
        result = parse(data)
        assert result.ok, newline
        assert [row.line for row in result.rows] == [2, 3]


def test_quoted_fields_with_commas_and_line_breaks_keep_start_line():
    result = parse(
        f"{HEADER}\r\n"
        'a@example.com,"Smith, Alice","Acme, Inc.",CEO,\r\n'
        'b@example.com,Bob,"Multi\r\nline org",,\r\n'
        "c@example.com,Carol,Org,,\r\n"
    )
    assert result.ok
    assert result.rows[0].name == "Smith, Alice"
    assert result.rows[0].organisation == "Acme, Inc."
    assert result.rows[1].organisation == "Multi line org"  # one line: the break becomes a space
    assert [row.line for row in result.rows] == [2, 3, 5]


def test_blank_lines_are_skipped_and_line_numbers_stay_physical():
    result = parse(f"{HEADER}\n\nx@example.com,X,Y,,\n   \n,,,,\ny@example.com,Y,Z,,\n\n")
    assert result.ok
    assert [row.line for row in result.rows] == [3, 6]


def test_a_missing_required_column_asks_which_column_is_which():
    result = parse("email,name\nx@example.com,X\n")
    assert not result.ok and result.needs_columns and result.rows == []
    assert result.columns.problems == ["No column is the organisation: choose which one is."]


def test_job_title_and_champion_columns_are_optional_and_then_left_alone():
    result = parse("email,name,organisation\nx@example.com,X,Org\n")
    assert result.ok
    assert result.rows == [InviteeRow(2, "x@example.com", "X", "Org", None, None)]


def test_an_extra_column_is_not_imported_and_said_so():
    result = parse(f"{HEADER},Notes\nx@example.com,X,Y,,,hello\n")
    assert result.ok
    assert "Not imported: column F “Notes”." in import_notes(result)


def test_two_columns_for_one_field_ask_which():
    result = parse(f"{HEADER},Name\nx@example.com,X,Y,,,X\n")
    assert result.needs_columns and not result.ok
    assert result.columns.problems == ["Both column B “name” and column F “Name” could be the name: choose one."]


def test_bad_email_quotes_the_value():
    result = parse(f"{HEADER}\nok@example.com,A,Org,,\nbob@,Bob,Org,,\n")
    error = only_error(result)
    assert (error.line, error.column) == (3, "email")
    assert error.reason.startswith("'bob@' is not a valid email address:")
    assert str(error).startswith("Line 3, column email: 'bob@'")
    assert [row.line for row in result.rows] == [2]


def test_missing_email_and_name_and_organisation():
    # Line 2 has a job title, so it is not a blank line that would be skipped.
    result = parse(f"{HEADER}\n ,  ,,Boss,\nx@example.com, ,,,\n")
    assert [(e.line, e.column) for e in result.errors] == [
        (2, "email"),
        (2, "name"),
        (2, "organisation"),
        (3, "name"),
        (3, "organisation"),
    ]
    assert result.errors[3].reason == "A name is required."


def test_missing_name():
    result = parse(f"{HEADER}\nx@example.com,,Org,CEO,\n")
    error = only_error(result)
    assert (error.line, error.column, error.reason) == (2, "name", "A name is required.")


def test_field_longer_than_200_characters():
    result = parse(f"{HEADER}\nx@example.com,{'n' * 201},Org,{'j' * 200},\n")
    error = only_error(result)
    assert (error.line, error.column) == (2, "name")
    assert "201 characters" in error.reason


def test_a_repeated_email_keeps_the_later_line_and_says_so():
    result = parse(
        f"{HEADER}\nalice@example.com,A,Org,,\nb@example.com,B,Org,,\nALICE@Example.com,A2,Org,,\n"
        "b@example.com,B,Org,,\n"
    )
    assert result.ok and result.errors == []
    assert [(row.line, row.name) for row in result.rows] == [(4, "A2"), (5, "B")]
    assert result.duplicates == [
        "Line 4 repeats line 2 (alice@example.com): the later one is used.",
        "Line 5 repeats line 3 (b@example.com): with the same details: counted once.",
    ]


def test_an_unknown_champion_in_twelve_rows_is_one_line():
    rows = "".join(f"p{i}@example.com,P {i},Org,,jo@council.gov.uk\n" for i in range(12))
    result = parse(f"{HEADER}\n{rows}x@example.com,X,Org,,stranger@example.com\n")
    assert not result.ok and result.errors == []
    assert result.unknown_champions == [
        UnknownChampion("jo@council.gov.uk", list(range(2, 14))),
        UnknownChampion("stranger@example.com", [14]),
    ]
    assert str(result.unknown_champions[0]) == "Unknown champion jo@council.gov.uk (12 rows: lines 2, 3, 4, 5, 6 …)"
    assert result.problem_count == 2


def test_invalid_champion_email():
    result = parse(f"{HEADER}\nx@example.com,X,Org,,not-an-email\n")
    error = only_error(result)
    assert (error.line, error.column) == (2, "champion_email")
    assert "'not-an-email' is not a valid email address" in error.reason and error.reason.endswith("(1 row).")


def test_champion_matching_ignores_case():
    result = parse(f"{HEADER}\nx@example.com,X,Org,,LEAD@summit.org\n", champions=["Lead@Summit.ORG "])
    assert result.ok
    assert result.rows[0].champion_email == "lead@summit.org"


def test_blank_champion_is_allowed():
    result = parse(f"{HEADER}\nx@example.com,X,Org,Boss,   \n", champions=[])
    assert result.ok
    assert result.rows[0].champion_email is None


def test_empty_file():
    for data in (b"", "", b"   \r\n\n  ", "\ufeff", b"\xef\xbb\xbf"):
        error = only_error(parse(data))
        assert error.line == 1
        assert error.reason.startswith("The file is empty")


def test_header_only():
    for data in (f"{HEADER}", f"{HEADER}\r\n\r\n,,,,\r\n"):
        error = only_error(parse(data))
        assert error.line == 1
        assert "has headings but no invitees" in error.reason


def test_utf16_file_is_explained():
    error = only_error(parse(f"{HEADER}\nx@example.com,X,Org,,\n".encode("utf-16")))
    assert "UTF-16" in error.reason and "Save it as .xlsx or CSV" in error.reason


def test_wrong_field_count():
    result = parse(f"{HEADER}\nx@example.com,X,Org,\ny@example.com,Y,Org,,,extra\n")
    assert [(e.line, e.column) for e in result.errors] == [(2, None), (3, None)]
    assert "Expected 5 fields" in result.errors[0].reason
    assert "found 4" in result.errors[0].reason
    assert "found 6" in result.errors[1].reason


def test_unclosed_quote_is_hinted():
    result = parse(f'{HEADER}\nx@example.com,"X,Org,,\ny@example.com,Y,Org,,\n')
    error = only_error(result)
    assert error.line == 2
    assert "missing closing quote" in error.reason


def test_ten_thousand_rows_parse_quickly():
    lines = [HEADER] + [f"user{i}@example.com,User {i},Org {i % 50},Role,lead@summit.org" for i in range(10_000)]
    data = "\r\n".join(lines).encode()
    # CPU time, not the clock: on a loaded machine the clock also counts other processes' turns.
    started = time.process_time()
    result = parse(data)
    elapsed = time.process_time() - started
    assert result.ok
    assert len(result.rows) == 10_000
    assert result.rows[-1].line == 10_001
    assert elapsed < 2.0


def test_more_than_max_rows_is_one_error():
    lines = [HEADER] + [f"user{i}@example.com,U,O,," for i in range(MAX_ROWS + 5)]
    result = parse("\n".join(lines))
    error = only_error(result)
    assert error.line == 1
    assert "more than 20,000" in error.reason


def test_errors_are_capped_with_a_summary():
    lines = [HEADER] + [f"bad{i}@,U,O,," for i in range(MAX_ERRORS + 50)]
    result = parse("\n".join(lines))
    assert not result.ok
    assert len(result.errors) == MAX_ERRORS + 1
    assert result.errors[0].line == 2
    assert result.errors[MAX_ERRORS - 1].line == MAX_ERRORS + 1
    assert "50 more error(s) were not listed" in result.errors[-1].reason


def test_ok_requires_rows_and_no_errors():
    assert not parse(HEADER).ok
    assert parse(f"{HEADER}\nx@example.com,X,Org,,\n").ok


# --- files as Excel and the councils save them, made here ---------------------------------------------------

COUNCIL_HEADINGS = ["Email address", "Full name", "Council", "Job title", "Champion email"]


def workbook(*rows, title: str = "Invitees", formula_values: dict[str, str] | None = None) -> bytes:
    """An .xlsx made with openpyxl; formula_values gives formula cells the value Excel would have saved with them."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    book.create_sheet("Notes")["A1"] = "not read: only the first sheet is"
    out = io.BytesIO()
    book.save(out)
    data = out.getvalue()
    if not formula_values:
        return data
    # openpyxl saves no calculated values; put in what Excel stores beside each formula.
    source = zipfile.ZipFile(io.BytesIO(data))
    patched = io.BytesIO()
    with zipfile.ZipFile(patched, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = content.decode()
                for cell, value in formula_values.items():
                    text = re.sub(rf'(<c r="{cell}")(>(<f>[^<]*</f>))<v\s*/>', rf'\1 t="str"\2<v>{value}</v>', text)
                content = text.encode()
            target.writestr(item, content)
    return patched.getvalue()


def test_an_xlsx_with_council_headings_is_read_from_its_first_sheet_with_values_not_formulas():
    data = workbook(
        COUNCIL_HEADINGS,
        ["ann@council.gov.uk", '=PROPER("ann smith")', "Suffolk County Council", "Officer", "lead@summit.org"],
        [None, None, None, None, None],
        [" Bob@Council.gov.uk ", "Bob  Jones", "Ipswich Borough Council", 42, None],
        formula_values={"B2": "Ann Smith"},
    )
    assert data.startswith(b"PK\x03\x04")
    result = parse(data)
    assert result.ok, result.all_problems()
    assert result.rows == [
        InviteeRow(2, "ann@council.gov.uk", "Ann Smith", "Suffolk County Council", "Officer", "lead@summit.org"),
        InviteeRow(4, "bob@council.gov.uk", "Bob Jones", "Ipswich Borough Council", "42", None),
    ]
    assert result.blank_rows == 1 and result.trimmed_cells == 2
    notes = import_notes(result)
    assert notes[0] == "Read as an Excel workbook, sheet “Invitees” (the first of its sheets)."
    assert "1 blank row skipped." in notes and "Stray spaces or line breaks taken out of 2 cells." in notes


def test_a_windows_1252_csv_keeps_its_accents():
    text = "Email,Name,Organisation\r\nsian@example.com,Siân Jones,Gwynedd\r\nzoe@example.com,Zoë Renée,Suffolk\r\n"
    data = text.encode("cp1252")
    assert b"\xe2" in data  # the â of Siân, which isn't UTF-8 on its own
    result = parse(data)
    assert result.ok, result.all_problems()
    assert [row.name for row in result.rows] == ["Siân Jones", "Zoë Renée"]
    assert import_notes(result)[0] == "Read as CSV in Windows-1252, separated by commas."


def test_a_utf8_csv_with_a_byte_order_mark_and_a_semicolon_csv():
    bom = ("\ufeffE-mail;Name;Organisation\r\nlukasz@example.com;Łukasz Nowak;Suffolk CC\r\n").encode()
    assert bom.startswith(b"\xef\xbb\xbf")
    result = parse(bom)
    assert result.ok, result.all_problems()
    assert result.rows[0].name == "Łukasz Nowak" and result.rows[0].email == "lukasz@example.com"
    assert import_notes(result)[0] == "Read as CSV in UTF-8, separated by semicolons."

    semicolons = "Email address;Full name;Council;Role\r\nx@example.com;X Y;Babergh, Mid Suffolk;Lead\r\n"
    result = parse(semicolons.encode("cp1252"))
    assert result.ok and result.rows[0].organisation == "Babergh, Mid Suffolk" and result.rows[0].job_title == "Lead"


def test_bytes_that_are_neither_utf8_nor_windows_1252_name_the_line_and_character():
    data = b"email,name,organisation\r\nx@example.com,X,Org\r\ny@example.com,Zo\x81e,Org\r\n"
    error = only_error(parse(data))
    assert error.line == 3
    assert str(error).startswith("Line 3: a character we can't read (the byte 0x81, just after “y@example.com,Zo”)")
    assert "neither UTF-8 nor Windows-1252" in error.reason


def test_other_formats_are_named_with_what_to_do():
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    cases = {
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600): "Excel 97–2003 workbook (.xls)",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n": "This is a PDF, not a spreadsheet",
        docx.getvalue(): "This is a Word document (.docx), not an Excel workbook",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR": "This isn't a spreadsheet or a CSV file",
        b"PK\x03\x04 broken": "damaged",
    }
    for data, named in cases.items():
        error = only_error(parse(data))
        assert named in error.reason, (named, error.reason)
        assert "Save it as .xlsx or CSV" in error.reason


def test_blank_rows_and_stray_spaces_are_counted():
    result = parse(f"{HEADER}\n\n  x@example.com , Ann\u00a0 Smith ,Org,,\n,,,,\ny@example.com,Y,Org,,\n\n\n")
    assert result.ok
    assert result.rows[0].name == "Ann Smith"
    assert result.blank_rows == 2  # the two inside the list; none after its last row
    assert result.trimmed_cells == 2
