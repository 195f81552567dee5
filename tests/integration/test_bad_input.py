"""Bad input gets a 4xx or a sensible answer, never a 500: page numbers, download names, control characters."""

from __future__ import annotations

import pytest

from app.core import audit
from app.core.db import db
from invitations import services
from tests import factories as f
from tests.support import both_databases

# --- page numbers on the organisers' long lists ------------------------------------------------------------

# What each asks for: the last page (past the end) or the first.
BAD_PAGES = {
    "9223372036854775807": "last",
    "9223372036854775808": "last",
    "1" + "0" * 5000: "last",
    "4": "last",
    "-1": "first",
    "-9223372036854775809": "first",
    "0": "first",
    "two": "first",
    "": "first",
    "1e9": "first",
}


def fill_every_list() -> None:
    """Three pages of invitees (50 a page), two of outbox messages (50) and two of audit events (100)."""
    f.summit()
    people = [f.invitation() for _ in range(120)]
    for person in people[:60]:
        services.send_invitation(person)
    for n in range(101):
        audit.record("test.event", actor_label=f"Tester {n}")
    db.session.commit()


def shown(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


@both_databases
def test_every_organiser_pager_clamps_a_bad_page_number(app, client):
    fill_every_list()
    f.sign_in(client, f.user())
    for bad, expected in BAD_PAGES.items():
        past_the_end = expected == "last"
        invitations = shown(client, f"/organiser/invitations?page={bad}")
        assert ("Page 3 of 3" if past_the_end else "Page 1 of 3") in invitations, bad[:30]
        for path in ("/organiser/mail/", "/organiser/audit/"):
            page = shown(client, f"{path}?page={bad}")
            if past_the_end:  # the last page: a way back, none further
                assert ">Newer</a>" in page and ">Older</a>" not in page, (path, bad[:30])
            else:  # the first page
                assert ">Newer</a>" not in page and ">Older</a>" in page, (path, bad[:30])


@both_databases
def test_a_good_page_number_still_pages(app, client):
    fill_every_list()
    f.sign_in(client, f.user())
    assert "Page 2 of 3" in shown(client, "/organiser/invitations?page=2")
    assert "Page 2 of 3" in shown(client, "/organiser/invitations?page=2&state=invited")
    last = shown(client, "/organiser/mail/?page=2")
    assert ">Newer</a>" in last and ">Older</a>" not in last


# --- download names ---------------------------------------------------------------------------------------

INJECTIONS = [
    "x\"; filename*=UTF-8''evil.exe",
    'summit"; filename="evil.exe',
    "a;b=c",
    '\u0141ukasz "quoted" name',
    "line\r\nSet-Cookie: stolen=1",
    "tab\there\x07bell\u202eexe.csv",
]


def disposition(response) -> tuple[str, dict]:
    from werkzeug.http import parse_options_header

    header = response.headers["Content-Disposition"]
    assert "\r" not in header and "\n" not in header
    return parse_options_header(header)


@pytest.mark.parametrize("event", INJECTIONS)
def test_the_scan_log_download_name_is_one_quoted_filename_whatever_the_event_says(app, client, event):
    f.summit()
    f.sign_in(client, f.user())
    response = client.get("/organiser/checkin/scan-log.csv", query_string={"event": event})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    kind, parts = disposition(response)
    assert kind == "attachment"
    assert set(parts) <= {"filename", "filename*"}  # no part the event added
    name = parts.get("filename*") or parts["filename"]
    assert name.startswith("scan-log-") and name.endswith(".csv")
    assert not any(c in name for c in "\r\n\t\x00\u202e")
    assert "Set-Cookie" not in response.headers


def test_every_csv_and_pdf_download_has_a_werkzeug_made_name(app, client):
    f.summit()
    f.registered(name="Ada Lovelace")
    f.sign_in(client, f.user())
    for path, kind, name in [
        ("/organiser/checkin/scan-log.csv?event=summit", "attachment", "scan-log-summit.csv"),
        ("/organiser/checkin/scan-log.csv?event=", "attachment", "scan-log-all.csv"),
        ("/organiser/checkin/not-arrived.csv?event=summit", "attachment", "not-arrived-summit.csv"),
        ("/organiser/exports/delegates.csv", "attachment", "delegates.csv"),
        ("/organiser/invitations/export.csv", "attachment", "invitations.csv"),
        ("/organiser/badges/preview.pdf", "inline", "badges-preview.pdf"),
        ("/calendar/summit.ics", "attachment", "new-horizons-summit.ics"),
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert disposition(response) == (kind, {"filename": name}), path


def test_a_name_beyond_ascii_gets_an_ascii_filename_and_an_encoded_one():
    from app.core.downloads import disposition_parts

    assert disposition_parts("not-arrived-\u0141owestoft caf\u00e9.csv") == {
        "filename": "not-arrived-owestoft cafe.csv",
        "filename*": "UTF-8''not-arrived-%C5%81owestoft%20caf%C3%A9.csv",
    }
