"""Importing invitees from CSV, through the CLI and the organiser's upload page: all rows or none."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import func, select

from app.core.auth.models import Role
from app.core.db import db
from invitations.models import ImportPreview, Invitation
from tests.support import both_databases
from tests.support import factories as f
from tests.support.imports import by_email, confirm, count_invitations, preview_from, upload
from tests.support.pages import text

HEADER = "email,name,organisation,job_title,champion_email"
LEADER_EMAIL = "leader@staff.example.org"


def csv_bytes(*lines: str, newline: str = "\n") -> bytes:
    return (newline.join(lines) + newline).encode("utf-8")


@pytest.fixture
def leader(app):
    f.summit()
    return f.user(role=Role.LEADER, email=LEADER_EMAIL, name="Lena Leader")


# --- through the CLI ---------------------------------------------------------------------------------


def cli_import(runner, tmp_path, content: bytes, name: str = "invitees.csv"):
    path = tmp_path / name
    path.write_bytes(content)
    return runner.invoke(args=["invitations", "import", str(path)])


BAD_FILES = {
    "missing column": (
        csv_bytes("email,name,job_title", "a@example.org,Ann,Officer"),
        ["No column is the organisation"],
    ),
    "bad email": (
        csv_bytes(HEADER, "a@example.org,Ann,Org,Officer,", "not-an-email,Bob,Org,Officer,"),
        ["Line 3, column email:", "'not-an-email' is not a valid email address"],
    ),
    "unknown champion": (
        csv_bytes(
            HEADER, f"a@example.org,Ann,Org,Officer,{LEADER_EMAIL}", "b@example.org,Bob,Org,,nobody@staff.example.org"
        ),
        ["Unknown champion nobody@staff.example.org (1 row: line 3)"],
    ),
    "empty file": (b"", ["Line 1:", "The file is empty"]),
    "header only": (csv_bytes(HEADER), ["Line 1:", "no invitees"]),
    "missing name": (csv_bytes(HEADER, "a@example.org,,Org,Officer,"), ["Line 2, column name:", "A name is required"]),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_cli_import_of_a_bad_file_names_the_problem_and_imports_nothing(app, runner, tmp_path, leader, case):
    f.invitation(email="already@example.org")
    content, expected = BAD_FILES[case]
    before = count_invitations()

    result = cli_import(runner, tmp_path, content)

    assert result.exit_code != 0
    for fragment in expected:
        assert fragment in result.output, (case, result.output)
    assert "Nothing was imported" in result.output
    assert count_invitations() == before
    assert by_email("a@example.org") is None


def test_cli_import_with_one_bad_row_among_good_ones_imports_none_of_them(app, runner, tmp_path, leader):
    rows = [f"person{i}@example.org,Person {i},Org,Officer," for i in range(50)]
    rows.insert(30, "broken@,Broken,Org,,")
    result = cli_import(runner, tmp_path, csv_bytes(HEADER, *rows))
    assert result.exit_code != 0
    assert "Line 32, column email:" in result.output
    assert count_invitations() == 0


def test_cli_import_creates_invitations_with_their_champion(app, runner, tmp_path, leader):
    result = cli_import(
        runner,
        tmp_path,
        csv_bytes(
            HEADER,
            f"Ann.Example@Example.org,Ann Example,Suffolk County Council,Officer,{LEADER_EMAIL.upper()}",
            '"bob@example.org","Bob ""Bobby"" Smith","Ipswich, Borough Council",,',
        ),
    )
    assert result.exit_code == 0, result.output
    assert "2 new, 0 updated" in result.output
    ann = by_email("ann.example@example.org")
    assert ann.name == "Ann Example" and ann.champion_id == leader.id and ann.state.value == "invited"
    bob = by_email("bob@example.org")
    assert (
        bob.name == 'Bob "Bobby" Smith' and bob.organisation == "Ipswich, Borough Council" and bob.champion_id is None
    )
    assert ann.link_selector != bob.link_selector and ann.code != bob.code


def test_cli_import_accepts_a_byte_order_mark(app, runner, tmp_path, leader):
    content = "\ufeff".encode() + csv_bytes(HEADER, "a@example.org,Ann,Org,Officer,")
    assert content.startswith(b"\xef\xbb\xbf")
    result = cli_import(runner, tmp_path, content)
    assert result.exit_code == 0, result.output
    assert count_invitations() == 1 and by_email("a@example.org").name == "Ann"


def test_cli_import_accepts_windows_line_endings(app, runner, tmp_path, leader):
    content = csv_bytes(
        HEADER, "a@example.org,Ann,Org,Officer,", f"b@example.org,Bob,Org,Head,{LEADER_EMAIL}", newline="\r\n"
    )
    assert b"\r\n" in content
    result = cli_import(runner, tmp_path, content)
    assert result.exit_code == 0, result.output
    assert count_invitations() == 2
    bob = by_email("b@example.org")
    assert bob.job_title == "Head" and bob.champion_id == leader.id  # no stray \r on the last column
    assert by_email("a@example.org").job_title == "Officer"


def test_cli_import_of_ten_thousand_rows(app, runner, tmp_path, leader):
    rows = [
        f"person{i:05d}@example.org,Person {i},Organisation {i % 40},Officer," + (LEADER_EMAIL if i % 3 == 0 else "")
        for i in range(10_000)
    ]
    content = csv_bytes(HEADER, *rows)

    started = time.perf_counter()
    result = cli_import(runner, tmp_path, content)
    elapsed = time.perf_counter() - started

    print(f"\nimported 10,000 invitees through the CLI in {elapsed:.2f}s")
    assert result.exit_code == 0, result.output
    assert "10000 new, 0 updated" in result.output
    assert count_invitations() == 10_000
    assert (
        db.session.scalar(select(func.count()).select_from(Invitation).where(Invitation.champion_id == leader.id))
        == 3334
    )
    assert db.session.scalar(select(func.count(func.distinct(Invitation.link_selector)))) == 10_000


def test_cli_reimport_updates_a_known_email_case_insensitively_and_never_duplicates(app, runner, tmp_path, leader):
    f.invitation(email="ann@example.org", name="Ann Old", organisation="Old Org")
    original = by_email("ann@example.org")
    original_id, original_selector = original.id, original.link_selector

    result = cli_import(
        runner,
        tmp_path,
        csv_bytes(
            HEADER, f"ANN@Example.ORG,Ann New,New Org,Director,{LEADER_EMAIL}", "new@example.org,New Person,Org,,"
        ),
    )

    assert result.exit_code == 0, result.output
    assert "1 new, 1 updated" in result.output
    assert count_invitations() == 2
    ann = by_email("ann@example.org")
    assert ann.id == original_id and ann.link_selector == original_selector  # the same invitation, same link
    assert ann.name == "Ann New" and ann.organisation == "New Org" and ann.job_title == "Director"
    assert ann.champion_id == leader.id

    again = cli_import(runner, tmp_path, csv_bytes(HEADER, f"ann@example.org,Ann New,New Org,Director,{LEADER_EMAIL}"))
    assert again.exit_code == 0 and "0 new, 0 updated" in again.output
    assert count_invitations() == 2


# --- through the organiser's upload page -------------------------------------------------------------


def test_upload_shows_a_preview_with_new_and_update_counts_and_writes_nothing(app, client, leader):
    f.sign_in(client, f.user())
    f.invitation(email="known@example.org", name="Known Old")
    before = count_invitations()

    preview = upload(
        client,
        csv_bytes(
            HEADER,
            "KNOWN@example.org,Known New,Org,,",
            f"a@example.org,Ann,Org,Officer,{LEADER_EMAIL}",
            "b@example.org,Bob,Org,,",
        ),
    )

    assert preview.status_code == 200
    page = text(preview)
    plain = re.sub(r"<[^>]+>", "", page)
    assert "2 new, 1 update to people already invited, 0 unchanged" in plain
    assert "Import 3 rows" in page
    assert count_invitations() == before
    assert by_email("a@example.org") is None and by_email("known@example.org").name == "Known Old"

    confirmed = confirm(client, page)

    assert confirmed.status_code == 302
    assert count_invitations() == before + 2
    assert by_email("known@example.org").name == "Known New"
    assert by_email("a@example.org").champion_id == leader.id
    assert "Imported: 2 new invitations, 1 updated, 0 unchanged." in text(client.get(confirmed.headers["Location"]))


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_upload_of_a_bad_file_names_the_problem_and_imports_nothing(app, client, leader, case):
    f.sign_in(client, f.user())
    content, expected = BAD_FILES[case]
    before = count_invitations()

    response = upload(client, content)

    assert response.status_code == 422
    page = text(response)
    assert "Nothing was imported" in page
    for fragment in expected:
        assert fragment in page, (case, fragment)
    assert 'name="preview"' not in page  # nothing to confirm
    assert count_invitations() == before


def test_upload_accepts_bom_and_windows_line_endings(app, client, leader):
    f.sign_in(client, f.user())
    content = "\ufeff".encode() + csv_bytes(
        HEADER, "a@example.org,Ann,Org,Officer,", "b@example.org,Bob,Org,Head,", newline="\r\n"
    )
    preview = upload(client, content)
    assert preview.status_code == 200
    confirmed = confirm(client, text(preview))
    assert confirmed.status_code == 302
    assert count_invitations() == 2 and by_email("b@example.org").job_title == "Head"


def test_confirm_with_a_file_that_no_longer_checks_out_imports_nothing(app, client, leader):
    from app.core.auth.models import User

    f.sign_in(client, f.user())
    preview = upload(client, csv_bytes(HEADER, f"a@example.org,Ann,Org,,{LEADER_EMAIL}"))
    assert preview.status_code == 200
    db.session.get(User, leader.id).role = Role.STEWARD  # no longer a leader, so no longer a champion
    db.session.commit()
    response = confirm(client, text(preview))
    assert response.status_code == 422 and "Unknown champion" in text(response)
    assert count_invitations() == 0


def test_upload_without_a_file_is_a_422(app, client, leader):
    f.sign_in(client, f.user())
    response = client.post("/organiser/invitations/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 422 and "Choose a spreadsheet or CSV file to upload." in text(response)
    assert count_invitations() == 0


# --- the checked file is kept on the server, not posted back ------------------------------------------------


def twenty_thousand_rows() -> bytes:
    rows = [
        f"person{i:05d}@example.org,Person {i},Organisation {i % 40},Officer," + (LEADER_EMAIL if i % 3 == 0 else "")
        for i in range(20_000)
    ]
    return csv_bytes(HEADER, *rows)


@both_databases
def test_twenty_thousand_rows_preview_and_import_with_a_small_confirm_form(app, client, leader):
    """The confirm form carries the id of the file kept on the server: a few dozen bytes, not the file
    (which was posted back base64-encoded, 413 above about 6 MB, and past a proxy's 1 MB body limit)."""
    f.sign_in(client, f.user())
    content = twenty_thousand_rows()

    started = time.perf_counter()
    preview = upload(client, content)
    checked = time.perf_counter() - started
    assert preview.status_code == 200
    page = text(preview)
    assert "20000 rows" in page and "Import 20000 rows" in page
    kept = preview_from(page)
    assert 40 <= len(kept) <= 64 and len(page) < 100_000  # the page shows 100 rows, and holds no copy of the file
    body = f"preview={kept}&csrf_token={'x' * 100}"
    assert len(body.encode()) < 300  # what the confirm form posts

    started = time.perf_counter()
    confirmed = client.post("/organiser/invitations/import/confirm", data={"preview": kept})
    imported = time.perf_counter() - started
    assert confirmed.status_code == 302
    assert count_invitations() == 20_000
    assert db.session.scalar(select(func.count()).select_from(ImportPreview)) == 0  # forgotten once imported
    print(
        f"\n20,000-row CSV ({len(content) / 1e6:.1f} MB) on {db.engine.dialect.name}: "
        f"preview {checked:.2f} s, confirm (import) {imported:.2f} s"
    )


def test_a_kept_file_is_confirmed_once_by_its_own_organiser_within_the_hour(app, client, leader):
    from datetime import timedelta

    from sqlalchemy import update

    from app.core.db import utcnow
    from invitations.import_previews import forget_old_previews

    ann = f.user()
    f.sign_in(client, ann)
    page = text(upload(client, csv_bytes(HEADER, "a@example.org,Ann,Org,,")))

    # Someone else's client, signed in as another organiser, can't confirm Ann's file.
    other = app.test_client()
    f.sign_in(other, f.user())
    refused = other.post("/organiser/invitations/import/confirm", data={"preview": preview_from(page)})
    assert refused.status_code == 410 and "Upload it again" in text(refused)
    assert count_invitations() == 0

    # Made-up, missing or over-long ids: 410 or 400, nothing imported.
    assert client.post("/organiser/invitations/import/confirm", data={"preview": "made-up"}).status_code == 410
    assert client.post("/organiser/invitations/import/confirm", data={}).status_code == 400
    assert client.post("/organiser/invitations/import/confirm", data={"preview": "x" * 65}).status_code == 400

    assert confirm(client, page).status_code == 302 and count_invitations() == 1
    again = confirm(client, page)  # a second press, or the back button: imported once
    assert again.status_code == 410 and "it was imported already" in text(again)

    # A file checked more than an hour ago is no longer kept, and is removed.
    late = text(upload(client, csv_bytes(HEADER, "b@example.org,Bob,Org,,")))
    db.session.execute(update(ImportPreview).values(created_at=utcnow() - timedelta(minutes=61)))
    db.session.commit()
    assert confirm(client, late).status_code == 410 and by_email("b@example.org") is None
    assert forget_old_previews() == 1
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(ImportPreview)) == 0
