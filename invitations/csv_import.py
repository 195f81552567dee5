"""Parse and validate an uploaded invitee CSV file into clean rows and plain-English errors."""

import codecs
import csv
import io
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from app.core.email_addresses import InvalidAddress, normalise_address
from app.core.text_input import single_line

REQUIRED_COLUMNS = ("email", "name", "organisation", "job_title", "champion_email")
MAX_ROWS = 20000
MAX_FIELD_LENGTH = 200
MAX_ERRORS = 200

_SAVE_AS_HINT = "In Excel use File > Save As and choose 'CSV UTF-8 (Comma delimited)', then upload it again."
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True)
class InviteeRow:
    line: int  # physical line the record starts on (the header is line 1)
    email: str  # stripped, lower-cased, validated
    name: str
    organisation: str
    job_title: str  # may be empty
    champion_email: str | None  # lower-cased, or None when blank


@dataclass(frozen=True)
class RowError:
    line: int  # 1 for header and file-level problems
    column: str | None  # None when the problem is not about one column
    reason: str

    def __str__(self) -> str:
        if self.column is None:
            return f"Line {self.line}: {self.reason}"
        return f"Line {self.line}, column {self.column}: {self.reason}"


@dataclass(frozen=True)
class ParseResult:
    rows: list[InviteeRow]  # only the rows that passed every check
    errors: list[RowError]

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


class _CsvSyntaxError(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


class _ErrorList:
    """Keeps the first MAX_ERRORS errors and counts the rest, so a broken 20,000-row file gives a readable report."""

    def __init__(self) -> None:
        self._errors: list[RowError] = []
        self._not_listed = 0

    def add(self, error: RowError) -> None:
        if len(self._errors) < MAX_ERRORS:
            self._errors.append(error)
        else:
            self._not_listed += 1

    def finish(self) -> list[RowError]:
        if not self._not_listed:
            return list(self._errors)
        summary = RowError(
            1, None, f"{self._not_listed} more error(s) were not listed; fix the ones above and upload the file again."
        )
        return [*self._errors, summary]


class _ChampionChecker:
    """Validates champion emails, caching by value because the same few champions repeat on thousands of rows."""

    def __init__(self, known_champions: Collection[str]) -> None:
        self._known = {champion.strip().lower() for champion in known_champions}
        self._cache: dict[str, tuple[str | None, str | None]] = {}

    def check(self, value: str) -> tuple[str | None, str | None]:
        """Return (normalised email, None) or (None, reason)."""
        if value not in self._cache:
            email, reason = _normalise_email(value)
            if email is not None and email not in self._known:
                email, reason = None, f"Unknown champion '{value}' — add them as a leader first."
            self._cache[value] = (email, reason)
        return self._cache[value]


def parse_invitations_csv(data: bytes | str, known_champions: Collection[str]) -> ParseResult:
    """Parse an invitee CSV; the result is ok only if every row is valid and there is at least one."""
    text, decode_error = _decode(data)
    if decode_error is not None:
        return ParseResult([], [decode_error])

    records = _records(text)
    errors = _ErrorList()
    rows: list[InviteeRow] = []
    try:
        first = next(records, None)
        if first is None:
            return ParseResult(
                [], [RowError(1, None, "The file is empty. Upload a CSV with a header row and one row per invitee.")]
            )
        header_line, header = first
        positions = _check_header(header_line, header, errors)
        if positions is None:
            # Without an unambiguous position for every required column the rows cannot be read meaningfully.
            return ParseResult([], errors.finish())
        rows = _check_rows(records, len(header), positions, _ChampionChecker(known_champions), errors)
    except _CsvSyntaxError as exc:
        errors.add(RowError(exc.line, None, exc.reason))
    return ParseResult(rows, errors.finish())


def _decode(data: bytes | str) -> tuple[str, RowError | None]:
    if isinstance(data, str):
        return data.removeprefix("\ufeff"), None
    # Excel's "Unicode Text" export is UTF-16; say so rather than reporting gibberish at line 1.
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "", RowError(1, None, f"The file is saved as UTF-16 (Unicode Text), not UTF-8. {_SAVE_AS_HINT}")
    try:
        # utf-8-sig drops the byte-order mark Excel adds, so the first header name still matches.
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = len(_LINE_BREAK.findall(data, 0, exc.start)) + 1
        reason = (
            f"The file contains characters that are not UTF-8 (byte {data[exc.start : exc.end]!r}). {_SAVE_AS_HINT}"
        )
        return "", RowError(line, None, reason)


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (starting line, fields) for each non-blank CSV record."""
    # newline="" lets csv see \r\n, \r and \n untouched, which it needs for quoted fields containing line breaks.
    reader = csv.reader(io.StringIO(text, newline=""))
    previous_end = 0
    while True:
        start = previous_end + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _CsvSyntaxError(start, f"The file could not be read as CSV from this line on ({exc}).") from exc
        # line_num counts physical lines consumed, so a multi-line record starts right after the previous one ended.
        previous_end = reader.line_num
        # Spreadsheets often export empty rows as ",,,,"; treat them like blank lines.
        if any(field.strip() for field in fields):
            yield start, fields


def _check_header(line: int, header: list[str], errors: _ErrorList) -> dict[str, int] | None:
    """Report header problems; return column positions, or None if the required columns are missing or ambiguous."""
    names = [name.strip().lower() for name in header]
    positions: dict[str, int] = {}
    duplicated: list[str] = []
    for index, name in enumerate(names):
        if name not in positions:
            positions[name] = index
        elif name not in duplicated:
            duplicated.append(name)

    missing = [column for column in REQUIRED_COLUMNS if column not in positions]
    for column in missing:
        errors.add(RowError(line, column, f"The required column '{column}' is missing from the header row."))

    unknown = [name for name in positions if name not in REQUIRED_COLUMNS]
    if unknown:
        listed = ", ".join(f"'{name}'" if name else "(a column with no name)" for name in unknown)
        reason = f"Unknown column(s) {listed}; the allowed columns are {', '.join(REQUIRED_COLUMNS)}."
        if any(";" in name or "\t" in name for name in unknown):
            reason += " The columns seem to be separated by semicolons or tabs; they must be separated by commas."
        errors.add(RowError(line, None, reason))

    for name in duplicated:
        errors.add(RowError(line, name or None, f"The column '{name}' appears more than once in the header row."))

    if missing or any(name in REQUIRED_COLUMNS for name in duplicated):
        return None
    return positions


def _check_rows(
    records: Iterator[tuple[int, list[str]]],
    field_count: int,
    positions: dict[str, int],
    champions: _ChampionChecker,
    errors: _ErrorList,
) -> list[InviteeRow]:
    rows: list[InviteeRow] = []
    first_line_of: dict[str, int] = {}  # email -> line it first appeared on; a dict keeps duplicate checks linear
    data_rows = 0
    for line, fields in records:
        data_rows += 1
        if data_rows > MAX_ROWS:
            errors.add(RowError(1, None, f"The file has more than {MAX_ROWS:,} invitees; split it into smaller files."))
            break
        row, problems = _check_row(line, fields, field_count, positions, champions, first_line_of)
        for problem in problems:
            errors.add(problem)
        if row is not None:
            rows.append(row)
    if data_rows == 0:
        errors.add(
            RowError(1, None, "The file has a header but no invitees. Add one row per invitee below the header.")
        )
    return rows


def _check_row(
    line: int,
    fields: list[str],
    field_count: int,
    positions: dict[str, int],
    champions: _ChampionChecker,
    first_line_of: dict[str, int],
) -> tuple[InviteeRow | None, list[RowError]]:
    if len(fields) != field_count:
        reason = f"Expected {field_count} fields (one per header column) but found {len(fields)}."
        if any("\n" in field or "\r" in field for field in fields):
            # A stray opening quote swallows the following lines into one field; point the user at it.
            reason += " A field here contains a line break: check for a missing closing quote."
        return None, [RowError(line, None, reason)]

    # One line each: a quoted field's line break or a stray control character becomes a space or goes.
    values = {column: single_line(fields[positions[column]]) or "" for column in REQUIRED_COLUMNS}
    problems: list[RowError] = []
    for column, value in values.items():
        if len(value) > MAX_FIELD_LENGTH:
            problems.append(
                RowError(line, column, f"The value is {len(value)} characters long; the maximum is {MAX_FIELD_LENGTH}.")
            )
    too_long = {problem.column for problem in problems}

    email: str | None = None
    if not values["email"]:
        problems.append(RowError(line, "email", "An email address is required."))
    elif "email" not in too_long:
        email, email_problem = _normalise_email(values["email"])
        if email_problem is not None or email is None:
            problems.append(RowError(line, "email", email_problem or "The email address isn't valid."))
        elif email in first_line_of:
            problems.append(
                RowError(line, "email", f"'{values['email']}' is already listed on line {first_line_of[email]}.")
            )
        else:
            first_line_of[email] = line

    if not values["name"]:
        problems.append(RowError(line, "name", "A name is required."))
    if not values["organisation"]:
        problems.append(RowError(line, "organisation", "An organisation is required."))

    champion: str | None = None
    if values["champion_email"] and "champion_email" not in too_long:
        champion, champion_problem = champions.check(values["champion_email"])
        if champion_problem is not None:
            problems.append(RowError(line, "champion_email", champion_problem))

    if problems or email is None:
        return None, problems
    row = InviteeRow(
        line=line,
        email=email,
        name=values["name"],
        organisation=values["organisation"],
        job_title=values["job_title"],
        champion_email=champion,
    )
    return row, []


def _normalise_email(value: str) -> tuple[str | None, str | None]:
    """Return (lower-cased normalised email, None) or (None, reason)."""
    try:
        return normalise_address(value), None
    except InvalidAddress as exc:
        return None, f"'{value}' is not a valid email address: {exc}"
