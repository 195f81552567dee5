import time

from invitations.csv_import import MAX_ERRORS, MAX_ROWS, InviteeRow, RowError, parse_invitations_csv

HEADER = "email,name,organisation,job_title,champion_email"
CHAMPIONS = {"lead@summit.org"}


def parse(text_or_bytes, champions=CHAMPIONS):
    return parse_invitations_csv(text_or_bytes, champions)


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


def test_missing_columns_one_error_each():
    result = parse("email,name\nx@example.com,X\n")
    assert not result.ok
    assert [(e.line, e.column) for e in result.errors] == [(1, "organisation"), (1, "job_title"), (1, "champion_email")]
    assert "'organisation' is missing" in result.errors[0].reason
    assert result.rows == []


def test_extra_column_is_named():
    result = parse(f"{HEADER},Notes\nx@example.com,X,Y,,,hello\n")
    error = only_error(result)
    assert (error.line, error.column) == (1, None)
    assert "'notes'" in error.reason


def test_duplicated_header_column():
    result = parse(f"{HEADER},Name\nx@example.com,X,Y,,,X\n")
    error = only_error(result)
    assert (error.line, error.column) == (1, "name")
    assert "more than once" in error.reason


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


def test_duplicate_email_with_different_case_points_to_first_line():
    result = parse(f"{HEADER}\nalice@example.com,A,Org,,\nb@example.com,B,Org,,\nALICE@Example.com,A2,Org,,\n")
    error = only_error(result)
    assert (error.line, error.column) == (4, "email")
    assert "already listed on line 2" in error.reason
    assert [row.line for row in result.rows] == [2, 3]


def test_unknown_champion():
    result = parse(f"{HEADER}\nx@example.com,X,Org,,stranger@example.com\n")
    error = only_error(result)
    assert (error.line, error.column) == (2, "champion_email")
    assert error.reason == "Unknown champion 'stranger@example.com' — add them as a leader first."


def test_invalid_champion_email():
    result = parse(f"{HEADER}\nx@example.com,X,Org,,not-an-email\n")
    error = only_error(result)
    assert (error.line, error.column) == (2, "champion_email")
    assert "'not-an-email' is not a valid email address" in error.reason


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
        assert "has a header but no invitees" in error.reason


def test_non_utf8_bytes_name_the_line():
    data = f"{HEADER}\r\nx@example.com,X,Org,,\r\n".encode() + "y@example.com,Zoë,Org,,\r\n".encode("cp1252")
    error = only_error(parse(data))
    assert (error.line, error.column) == (3, None)
    assert "UTF-8" in error.reason
    assert "CSV UTF-8" in error.reason


def test_utf16_file_is_explained():
    error = only_error(parse(f"{HEADER}\nx@example.com,X,Org,,\n".encode("utf-16")))
    assert "UTF-16" in error.reason
    assert "CSV UTF-8" in error.reason


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
