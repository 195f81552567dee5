"""The councils' spreadsheets, as they save them, through the organisers' import page and the command line: real
.xlsx and CSV files made here, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import re
import time

import openpyxl
from sqlalchemy import func, select

from app.core.audit import AuditEvent
from app.core.auth.models import Role, User
from app.core.db import db
from app.core.mail.models import OutboxMessage
from invitations.models import ImportLayout
from tests.support import both_databases
from tests.support import factories as f
from tests.support.imports import by_email, confirm, count_invitations, upload
from tests.support.mail_helpers import delivered
from tests.support.pages import text

COUNCIL = ["Email address", "Full name", "Council", "Job title", "Champion email"]
LEADER_EMAIL = "leader@staff.example.org"


def xlsx(*rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def plain(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text(response)))


def organiser(client):
    f.summit()
    leader = f.user(role=Role.LEADER, email=LEADER_EMAIL, name="Lena Leader")
    user = f.user()
    f.sign_in(client, user)
    return user, leader


def preview_path(page: str) -> str:
    """The kept file's page, from the address its columns form posts to."""
    match = re.search(r'action="(/organiser/invitations/import/[^"/]+)/columns"', page)
    assert match, "no kept file on the page"
    return match.group(1)


@both_databases
def test_an_xlsx_with_council_headings_is_previewed_and_imported(app, client):
    _, leader = organiser(client)
    data = xlsx(
        COUNCIL,
        ["ann@council.gov.uk", "Ann Smith", "Suffolk County Council", "Officer", LEADER_EMAIL],
        [None] * 5,
        ["bob@council.gov.uk", " Bob  Jones ", "Ipswich Borough Council", None, None],
    )
    preview = upload(client, data, "Invitees from the councils.xlsx")
    assert preview.status_code == 200, plain(preview)
    page = plain(preview)
    assert "Read as an Excel workbook, sheet “Sheet”." in page
    assert "2 people: 2 new, 0 updates to people already invited, 0 unchanged" in page
    assert "1 blank row skipped." in page and "Stray spaces or line breaks taken out of 1 cell." in page
    assert confirm(client, text(preview)).status_code == 302
    assert count_invitations() == 2
    assert by_email("ann@council.gov.uk").champion_id == leader.id
    assert by_email("bob@council.gov.uk").name == "Bob Jones"


@both_databases
def test_a_windows_1252_csv_a_bom_csv_and_a_semicolon_csv(app, client):
    organiser(client)
    files = {
        "cp1252.csv": "Email,Name,Organisation\r\nsian@example.org,Siân Jones,Gwynedd\r\nzoe@example.org,Zoë Renée,"
        "Suffolk\r\n".encode("cp1252"),
        "bom.csv": "\ufeffE-mail,Full name,Council\r\nlukasz@example.org,Łukasz Nowak,Suffolk\r\n".encode(),
        "semicolons.csv": "Email address;Name;Organisation\r\nrene@example.org;René Ávila;Babergh, Mid Suffolk\r\n".encode(
            "cp1252"
        ),
    }
    for name, data in files.items():
        preview = upload(client, data, name)
        assert preview.status_code == 200, (name, plain(preview))
        assert confirm(client, text(preview)).status_code == 302
    assert by_email("sian@example.org").name == "Siân Jones"
    assert by_email("zoe@example.org").name == "Zoë Renée"
    assert by_email("lukasz@example.org").name == "Łukasz Nowak"
    assert by_email("rene@example.org").organisation == "Babergh, Mid Suffolk"


def test_a_legacy_xls_or_a_pdf_is_named_as_such(app, client):
    organiser(client)
    for data, name, named in (
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(1000), "list.xls", "This is an Excel 97–2003 workbook (.xls)"),
        (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "list.pdf", "This is a PDF, not a spreadsheet"),
    ):
        response = upload(client, data, name)
        assert response.status_code == 422
        page = plain(response)
        assert named in page and "Save it as .xlsx or CSV" in page and "Nothing was imported" in page
    assert count_invitations() == 0


@both_databases
def test_columns_chosen_once_are_remembered_for_the_next_file_with_those_headings(app, client, runner, tmp_path):
    organiser(client)
    headings = ["Contact", "Who", "Body", "Notes"]
    data = xlsx(headings, ["ann@example.org", "Ann", "Suffolk", "vegetarian"])

    asked = upload(client, data, "odd.xlsx")
    assert asked.status_code == 422
    page = plain(asked)
    assert "which column is which?" in page
    assert "No column is the email: choose which one is." in page and "No column is the name" in page
    assert 'name="column_0"' in text(asked) and "use this column as…" in page
    assert "For example: ann@example.org" in page
    assert 'name="preview"' not in text(asked)  # nothing to confirm yet

    chosen = client.post(
        preview_path(text(asked)) + "/columns",
        data={"column_0": "email", "column_1": "name", "column_2": "organisation", "column_3": "ignore"},
    )
    assert chosen.status_code == 302
    shown = client.get(chosen.headers["Location"])
    assert shown.status_code == 200
    page = plain(shown)
    assert "looks good" in page and "Not imported: column D “Notes”." in page
    assert db.session.scalar(select(func.count()).select_from(ImportLayout)) == 1
    assert confirm(client, text(shown)).status_code == 302 and by_email("ann@example.org").organisation == "Suffolk"

    # The next file with these headings, from another organiser: read as chosen, no question.
    other = app.test_client()
    f.sign_in(other, f.user(email="olga@staff.example.org"))
    again = upload(other, xlsx(headings, ["bob@example.org", "Bob", "Ipswich", ""]), "odd again.xlsx")
    assert again.status_code == 200, plain(again)
    assert "Columns: as chosen for these headings before" in plain(again)
    # And the command line.
    path = tmp_path / "odd.xlsx"
    path.write_bytes(xlsx(headings, ["cat@example.org", "Cat", "Babergh", ""]))
    done = runner.invoke(args=["invitations", "import", str(path)])
    assert done.exit_code == 0, done.output
    assert by_email("cat@example.org").name == "Cat"


def test_two_columns_for_one_field_ask_which(app, client):
    organiser(client)
    asked = upload(client, b"Email,E-mail address,Name,Council\r\na@example.org,b@example.org,Ann,Suffolk\r\n")
    assert asked.status_code == 422
    assert "Both column A “Email” and column B “E-mail address” could be the email: choose one." in plain(asked)


@both_databases
def test_an_unknown_champion_in_twelve_rows_is_one_line_and_invited_as_a_leader_there(app, client):
    organiser(client)
    rows = [f"p{i}@example.org,Person {i},Suffolk,,jo.smith@council.gov.uk" for i in range(12)]
    rows.insert(5, "not-an-email,Bad,Suffolk,,")
    content = ("\r\n".join(["email,name,organisation,job_title,champion_email", *rows]) + "\r\n").encode()

    checked = upload(client, content)
    assert checked.status_code == 422
    page = plain(checked)
    assert page.count("Unknown champion jo.smith@council.gov.uk") == 1
    assert "Unknown champion jo.smith@council.gov.uk (12 rows: lines 2, 3, 4, 5, 6 …)" in page
    assert "Line 7, column email: 'not-an-email' is not a valid email address" in page  # not buried
    assert "2 problems to fix" in page
    assert 'value="Jo Smith"' in text(checked)  # a first guess at the name, to correct

    # Fix the bad row (a new upload), then invite the champion from the page.
    fixed = content.replace(b"not-an-email", b"bad@example.org")
    checked = upload(client, fixed)
    assert checked.status_code == 422 and "1 problem to fix" in plain(checked)
    added = client.post(preview_path(text(checked)) + "/leaders", data={"name_0": "Jo Smith-Jones"})
    assert added.status_code == 302
    leader = db.session.scalars(select(User).where(User.email == "jo.smith@council.gov.uk")).one()
    # Invited as the Team page invites a leader: an account awaiting its invitation, and a one-time link emailed.
    assert (leader.role, leader.name, leader.password_hash, leader.active, leader.invitation_pending) == (
        Role.LEADER,
        "Jo Smith-Jones",
        None,
        False,
        True,
    )
    invited = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "staff.invited")).one()
    assert invited.details["source"] == "import" and invited.details["user_id"] == leader.id
    [email] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "staff_invitation")).all()
    assert email.to_email == "jo.smith@council.gov.uk"
    join = re.search(r"http://localhost(/sign-in/join/[A-Za-z0-9_-]+)", delivered(email).body_text)
    assert join is not None
    again = client.get(added.headers["Location"])  # the preview, checked again
    assert again.status_code == 200 and "looks good" in plain(again)
    assert "1 leader invited: Jo Smith-Jones. We've emailed each a link to join the team" in plain(again)
    assert "Jo Smith-Jones" in plain(client.get("/organiser/team/")) and "Invited" in plain(
        client.get("/organiser/team/")
    )
    assert "(an unknown champion in an invitee list)" in plain(client.get("/organiser/audit/"))
    assert confirm(client, text(again)).status_code == 302
    assert by_email("p0@example.org").champion_id == leader.id
    # The leader joins from the emailed link, without a password, and sees their invitees.
    phone = app.test_client()
    assert phone.post(join.group(1), data={"how": "link"}).status_code == 303
    assert "Person 0" in plain(phone.get("/leader"))


@both_databases
def test_the_preview_counts_are_what_the_import_does(app, client):
    """A re-import's preview counted every known address as an update (417), while the import counted only
    those it changed (369): now both come from one plan."""
    _, leader = organiser(client)
    for i in range(4):
        f.invitation(email=f"known{i}@example.org", name=f"Known {i}", organisation="Org", job_title="Officer")
    content = (
        "email,name,organisation,job_title,champion_email\r\n"
        "known0@example.org,Known 0,Org,Officer,\r\n"  # unchanged (a blank champion changes nothing)
        "KNOWN1@example.org,Known 1,Org,Officer,\r\n"  # unchanged
        "known2@example.org,Known Two,Org,Officer,\r\n"  # update: the name
        f"known3@example.org,Known 3,Org,Officer,{LEADER_EMAIL}\r\n"  # update: the champion
        "\r\n"
        "new@example.org,New Person,Org,,\r\n"
        "new@example.org,New Person,Org,Head,\r\n"  # repeats line 7: the later one is used
    ).encode()
    preview = upload(client, content)
    assert preview.status_code == 200
    page = plain(preview)
    assert "5 people: 1 new, 2 updates to people already invited, 2 unchanged" in page
    assert "Line 8 repeats line 7 (new@example.org): the later one is used." in page
    assert "1 blank row skipped." in page

    done = client.get(confirm(client, text(preview)).headers["Location"])
    assert "Imported: 1 new invitations, 2 updated, 2 unchanged." in plain(done)
    assert by_email("new@example.org").job_title == "Head" and by_email("known3@example.org").champion_id == leader.id
    assert count_invitations() == 5


def five_thousand(kind: str) -> tuple[bytes, str]:
    rows = [
        [f"{kind}{i:05d}@example.org", f"Person {i}", f"Council {i % 40}", "Officer", LEADER_EMAIL if i % 3 else None]
        for i in range(5000)
    ]
    if kind == "xlsx":
        return xlsx(COUNCIL, *rows), "5000.xlsx"
    lines = [",".join(COUNCIL)] + [",".join(cell or "" for cell in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252"), "5000.csv"


@both_databases
def test_five_thousand_rows_preview_and_import_from_xlsx_and_csv(app, client):
    organiser(client)
    for kind in ("xlsx", "csv"):
        content, name = five_thousand(kind)
        started = time.perf_counter()
        preview = upload(client, content, name)
        checked = time.perf_counter() - started
        assert preview.status_code == 200, plain(preview)[:500]
        assert "5000 people: 5000 new" in plain(preview)
        started = time.perf_counter()
        confirmed = confirm(client, text(preview))
        imported = time.perf_counter() - started
        assert confirmed.status_code == 302
        assert count_invitations() == (5000 if kind == "xlsx" else 10_000)
        print(
            f"\n5,000-row {kind} ({len(content) / 1e6:.2f} MB) on {db.engine.dialect.name}: "
            f"preview {checked:.2f} s, confirm (import) {imported:.2f} s"
        )


def test_the_command_line_imports_an_xlsx(app, runner, tmp_path):
    f.summit()
    path = tmp_path / "invitees.xlsx"
    path.write_bytes(
        xlsx(COUNCIL, [None] * 5, ["ann@example.org", "Ann", "Suffolk", "Officer", None], [None] * 5, [None] * 5)
    )
    done = runner.invoke(args=["invitations", "import", str(path)])
    assert done.exit_code == 0, done.output
    assert "Imported 1 rows: 1 new, 0 updated, 0 unchanged." in done.output
    assert "1 blank row skipped." in done.output
    assert by_email("ann@example.org").job_title == "Officer"


def test_the_confirm_reads_the_columns_the_preview_showed_whatever_is_chosen_meanwhile(app, client):
    organiser(client)
    headings = ["Contact", "Who", "Body"]
    first = upload(client, xlsx(headings, ["ann@example.org", "Ann", "Suffolk"]))
    columns = {"column_0": "email", "column_1": "name", "column_2": "organisation"}
    assert client.post(preview_path(text(first)) + "/columns", data=columns).status_code == 302

    other = app.test_client()
    f.sign_in(other, f.user(email="olga@staff.example.org"))
    previewed = upload(other, xlsx(headings, ["bob@example.org", "Bob", "Ipswich"]))
    assert previewed.status_code == 200 and "Bob" in plain(previewed)

    # Meanwhile the first organiser reads these headings the other way round.
    again = upload(client, xlsx(headings, ["cat@example.org", "Cat", "Babergh"]))
    swapped = {**columns, "column_1": "organisation", "column_2": "name"}
    assert client.post(preview_path(text(again)) + "/columns", data=swapped).status_code == 302

    assert confirm(other, text(previewed)).status_code == 302
    bob = by_email("bob@example.org")
    assert (bob.name, bob.organisation) == ("Bob", "Ipswich")  # as the preview showed, not as chosen since


def test_inviting_a_champion_without_a_name_is_a_422_that_says_so(app, client):
    organiser(client)
    checked = upload(client, b"email,name,organisation,champion_email\r\na@example.org,Ann,Org,jo@council.gov.uk\r\n")
    refused = client.post(preview_path(text(checked)) + "/leaders", data={"name_0": "  "})
    assert refused.status_code == 422 and "Give jo@council.gov.uk a name." in plain(refused)
    assert db.session.scalars(select(User).where(User.email == "jo@council.gov.uk")).first() is None


def test_a_champion_with_a_stewards_account_is_named_not_offered(app, client):
    organiser(client)
    f.user(role=Role.STEWARD, email="sam@council.gov.uk", name="Sam Steward")
    checked = upload(client, b"email,name,organisation,champion_email\r\na@example.org,Ann,Org,sam@council.gov.uk\r\n")
    page = plain(checked)
    assert "Unknown champion sam@council.gov.uk (1 row: line 2) — this address has a steward's account" in page
    assert "Invite them as leaders" not in page
    refused = client.post(preview_path(text(checked)) + "/leaders", data={"name_0": "Sam"})
    assert refused.status_code == 302  # nothing to add: the page says so
    assert db.session.scalars(select(User).where(User.email == "sam@council.gov.uk")).one().role == Role.STEWARD
