"""An uploaded invitee list checked row by row: clean rows, each bad row named (line, column, reason), unknown
champions one line each, and what was tidied on the way (blank rows, stray spaces, a person listed twice)."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

from app.core.email_addresses import InvalidAddress, normalise_address
from app.core.text_input import single_line
from invitations import import_columns
from invitations.import_columns import Columns
from invitations.spreadsheets import Table, UnreadableFile, read_table

MAX_ROWS = 20000
MAX_FIELD_LENGTH = 200
MAX_ERRORS = 200
MAX_LISTED = 50  # duplicates listed one by one; the rest counted

_SPACES = re.compile(r"[ \u00a0\u2007\u202f]+")  # Excel keeps non-breaking spaces pasted from web pages


@dataclass(frozen=True)
class InviteeRow:
    line: int  # the line (CSV) or sheet row (workbook) it was on; the headings are usually line 1
    email: str  # validated, lower-cased
    name: str
    organisation: str
    job_title: str | None  # None: the file has no job-title column, so a known person's stays as it is
    champion_email: str | None  # lower-cased, or None when blank or the file has no champion column


@dataclass(frozen=True)
class RowError:
    line: int  # the headings' line for problems with the file as a whole
    column: str | None  # the column's heading as the file has it; None when not about one column
    reason: str

    def __str__(self) -> str:
        if self.column is None:
            return f"Line {self.line}: {self.reason}"
        return f"Line {self.line}, column {self.column}: {self.reason}"


@dataclass(frozen=True)
class UnknownChampion:
    email: str
    lines: list[int]

    def __str__(self) -> str:
        shown = ", ".join(str(line) for line in self.lines[:5]) + (" …" if len(self.lines) > 5 else "")
        rows = f"{len(self.lines)} row{'s' if len(self.lines) != 1 else ''}"
        return f"Unknown champion {self.email} ({rows}: line{'s' if len(self.lines) != 1 else ''} {shown})"


@dataclass
class ImportCheck:
    table: Table | None = None
    columns: Columns | None = None
    rows: list[InviteeRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    unknown_champions: list[UnknownChampion] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    duplicate_count: int = 0
    blank_rows: int = 0
    trimmed_cells: int = 0

    @property
    def needs_columns(self) -> bool:
        return self.columns is not None and bool(self.columns.problems)

    @property
    def problem_count(self) -> int:
        return len(self.errors) + len(self.unknown_champions)

    @property
    def ok(self) -> bool:
        return self.table is not None and not self.needs_columns and not self.problem_count and bool(self.rows)

    def all_problems(self) -> list[str]:
        """Every problem in words, one a line: for the command line."""
        lines = [f"Line {self.table.heading_line if self.table else 1}: {p}" for p in self._column_problems()]
        lines += [str(e) for e in self.errors]
        lines += [f"{c} — add them as a leader first." for c in self.unknown_champions]
        return lines

    def _column_problems(self) -> list[str]:
        return list(self.columns.problems) if self.columns is not None else []


class _ErrorList:
    """Keeps the first MAX_ERRORS errors and counts the rest, so a broken 20,000-row file gives a readable report."""

    def __init__(self) -> None:
        self.errors: list[RowError] = []
        self.not_listed = 0

    def add(self, error: RowError) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)
        else:
            self.not_listed += 1

    def finish(self) -> list[RowError]:
        if not self.not_listed:
            return self.errors
        summary = f"{self.not_listed} more error(s) were not listed; fix the ones above and upload the file again."
        return [*self.errors, RowError(1, None, summary)]


def _clean(value: str) -> str:
    return _SPACES.sub(" ", single_line(value) or "").strip()


def _normalise_email(value: str) -> tuple[str | None, str | None]:
    try:
        return normalise_address(value), None
    except InvalidAddress as exc:
        return None, f"'{value}' is not a valid email address: {exc}"


def check_invitee_file(
    data: bytes | str,
    known_champions: Collection[str],
    *,
    chosen: list[str] | None = None,
    remembered: list[str] | None = None,
) -> ImportCheck:
    """Read and check the whole file. `chosen` is the organiser's columns for this file, `remembered` an earlier
    choice for these headings; without either, the headings' meaning decides."""
    check = ImportCheck()
    try:
        table = read_table(data)
    except UnreadableFile as exc:
        check.errors = [RowError(exc.line, None, str(exc))]
        return check
    check.table = table
    check.columns = import_columns.decide(table.headings, chosen, remembered)
    if check.needs_columns:
        return check
    _check_rows(check, table, check.columns, {c.strip().lower() for c in known_champions})
    return check


def _check_rows(check: ImportCheck, table: Table, columns: Columns, known: set[str]) -> None:
    errors = _ErrorList()
    headings = table.headings
    width = len(headings)
    where = {name: columns.position(name) for name in import_columns.FIELDS}
    heading_of = {
        name: (headings[i].strip() or import_columns.column_name(i)) for name, i in where.items() if i is not None
    }
    is_csv = bool(table.encoding)

    # The last row with anything in it: blank rows before it are counted; a sheet's empty rows after it are not.
    last_filled = max((i for i, (_, cells) in enumerate(table.records) if any(c.strip() for c in cells)), default=-1)
    by_email: dict[str, int] = {}  # email -> index in rows, so a later line replaces an earlier one
    rows: list[InviteeRow | None] = []
    unknown: dict[str, list[int]] = {}
    invalid_champions: dict[str, list[int]] = {}
    champion_cache: dict[str, tuple[str | None, str | None]] = {}
    data_rows = 0
    for line, cells in table.records[: last_filled + 1]:
        if not any(cell.strip() for cell in cells):
            check.blank_rows += 1
            continue
        data_rows += 1
        if data_rows > MAX_ROWS:
            errors.add(RowError(1, None, f"The file has more than {MAX_ROWS:,} invitees; split it into smaller files."))
            break
        if is_csv and len(cells) != width and not (len(cells) > width and not any(c.strip() for c in cells[width:])):
            reason = f"Expected {width} fields (one per heading) but found {len(cells)}."
            if any("\n" in cell or "\r" in cell for cell in cells):
                # A stray opening quote swallows the following lines into one field; point the user at it.
                reason += " A field here contains a line break: check for a missing closing quote."
            errors.add(RowError(line, None, reason))
            continue
        stray = [i for i in range(width, len(cells)) if cells[i].strip()]
        if stray:
            column = import_columns.column_name(stray[0])
            errors.add(RowError(line, None, f"Column {column} has a value but no heading: give it one, or remove it."))
            continue

        values: dict[str, str | None] = {}
        for name, i in where.items():
            if i is None:
                values[name] = None
                continue
            raw = cells[i] if i < len(cells) else ""
            values[name] = _clean(raw)
            if values[name] != raw:
                check.trimmed_cells += 1

        problems: list[RowError] = []
        for name, value in values.items():
            if value is not None and len(value) > MAX_FIELD_LENGTH:
                reason = f"The value is {len(value)} characters long; the maximum is {MAX_FIELD_LENGTH}."
                problems.append(RowError(line, heading_of[name], reason))
        too_long = {p.column for p in problems}

        email: str | None = None
        raw_email = values["email"] or ""
        if not raw_email:
            problems.append(RowError(line, heading_of["email"], "An email address is required."))
        elif heading_of["email"] not in too_long:
            email, problem = _normalise_email(raw_email)
            if problem is not None:
                problems.append(RowError(line, heading_of["email"], problem))
        if not values["name"]:
            problems.append(RowError(line, heading_of["name"], "A name is required."))
        if not values["organisation"]:
            problems.append(RowError(line, heading_of["organisation"], "An organisation is required."))

        champion: str | None = None
        raw_champion = values["champion_email"]
        if raw_champion and heading_of["champion_email"] not in too_long:
            if raw_champion not in champion_cache:
                champion_cache[raw_champion] = _normalise_email(raw_champion)
            champion, champion_problem = champion_cache[raw_champion]
            if champion_problem is not None:
                invalid_champions.setdefault(raw_champion, []).append(line)
            elif champion not in known:
                assert champion is not None
                unknown.setdefault(champion, []).append(line)

        for row_error in problems:
            errors.add(row_error)
        if problems or email is None:
            continue
        row = InviteeRow(
            line=line,
            email=email,
            name=values["name"] or "",
            organisation=values["organisation"] or "",
            job_title=values["job_title"],
            champion_email=champion if champion in known else None,
        )
        if email in by_email:
            earlier = rows[by_email[email]]
            assert earlier is not None
            check.duplicate_count += 1
            if len(check.duplicates) < MAX_LISTED:
                same = (earlier.name, earlier.organisation, earlier.job_title, earlier.champion_email) == (
                    row.name,
                    row.organisation,
                    row.job_title,
                    row.champion_email,
                )
                what = "with the same details: counted once" if same else "the later one is used"
                check.duplicates.append(f"Line {line} repeats line {earlier.line} ({email}): {what}.")
            rows[by_email[email]] = None
        by_email[email] = len(rows)
        rows.append(row)

    if data_rows == 0:
        errors.add(
            RowError(
                table.heading_line, None, "The file has headings but no invitees. Add one row per invitee below them."
            )
        )
    for value, lines in invalid_champions.items():
        count = f"{len(lines)} row{'s' if len(lines) != 1 else ''}"
        reason = champion_cache[value][1] or f"'{value}' is not a valid email address"
        errors.add(RowError(lines[0], heading_of["champion_email"], f"{reason} ({count})."))
    check.errors = errors.finish()
    check.unknown_champions = [UnknownChampion(email, lines) for email, lines in unknown.items()]
    check.rows = [row for row in rows if row is not None]


def import_notes(check: ImportCheck) -> list[str]:
    """What was tidied or left out on the way, in words (the preview shows them; the command line prints them)."""
    notes: list[str] = []
    if check.table is not None:
        notes.append(f"Read as {check.table.read_as}.")
    if check.blank_rows:
        notes.append(f"{check.blank_rows} blank row{'s' if check.blank_rows != 1 else ''} skipped.")
    if check.trimmed_cells:
        many = "s" if check.trimmed_cells != 1 else ""
        notes.append(f"Stray spaces or line breaks taken out of {check.trimmed_cells} cell{many}.")
    notes.extend(check.duplicates)
    if check.duplicate_count > len(check.duplicates):
        notes.append(f"… and {check.duplicate_count - len(check.duplicates)} more repeated addresses.")
    if check.table is not None and check.columns is not None:
        headings = check.table.headings
        ignored = [
            import_columns.describe(i, headings)
            for i, choice in enumerate(check.columns.choices)
            if choice == import_columns.IGNORE and headings[i].strip()
        ]
        if ignored:
            notes.append("Not imported: " + ", ".join(ignored) + ".")
    return notes
