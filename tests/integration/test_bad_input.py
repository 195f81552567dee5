"""Bad input gets a 4xx or a sensible answer, never a 500: page numbers, download names, control characters."""

from __future__ import annotations

import pytest

from app.core import audit
from app.core.db import db
from invitations import mailing
from tests.support import both_databases
from tests.support import factories as f

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
        mailing.send_invitation(person)
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


# --- control characters in one-line fields -----------------------------------------------------------------

RAW_NAME = "Ann\r\nBcc: victim@example.org\tSmith\x07\u202e"
CLEAN_NAME = "Ann Bcc: victim@example.org Smith"


def no_control_characters(*values: str | None) -> bool:
    import unicodedata

    return all(not any(unicodedata.category(c) in ("Cc", "Cf") for c in value or "") for value in values)


@both_databases
def test_a_delegates_details_are_stored_and_emailed_without_control_characters(app, client):
    from sqlalchemy import select

    from app.core.mail.models import OutboxMessage
    from invitations.models import Invitation

    f.summit()
    person = f.invitation()
    response = client.post(
        f.link(person) + "/register",
        data={
            "name": RAW_NAME,
            "organisation": "Suffolk\r\nCounty\x1b[31m Council",
            "job_title": "\ufeffHead\u2028of\u00a0Policy",
            "dietary": "No nuts\r\nNo gluten\x07",
            "access_needs": "",
            "consent": "y",
        },
    )
    assert response.status_code in (302, 303)
    db.session.expire_all()
    stored = db.session.get(Invitation, person.id)
    assert stored.name == CLEAN_NAME
    assert stored.organisation == "Suffolk County[31m Council"
    assert stored.job_title == "Head of\u00a0Policy"  # a no-break space is an ordinary space, kept
    assert stored.registration.dietary == "No nuts\nNo gluten"  # a text area keeps its lines
    message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.invitation_id == person.id)).all()[-1]
    assert message.to_name == CLEAN_NAME and no_control_characters(message.to_name, message.subject)


def test_every_one_line_field_of_every_form_is_cleaned_and_passwords_are_not(app):
    """One filter in the kernel's Form, on every StringField but passwords: a form added later gets it too."""
    import importlib
    import pkgutil

    from wtforms import PasswordField, StringField, TextAreaField

    import app as app_package
    import fringe_events
    import invitations
    from app.core.forms import Form
    from app.core.text_input import multi_line, single_line

    for package in (app_package, invitations, fringe_events):
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if module.name.rsplit(".", 1)[-1] == "forms":
                importlib.import_module(module.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    checked = 0
    with app.test_request_context():
        for form_class in set(subclasses(Form)):
            form = form_class(formdata=None)
            for field in form:
                if isinstance(field, PasswordField):
                    assert single_line not in field.filters and multi_line not in field.filters
                elif isinstance(field, TextAreaField):
                    assert multi_line in field.filters, (form_class.__name__, field.name)
                elif isinstance(field, StringField) and field.type != "CSRFTokenField":
                    assert single_line in field.filters, (form_class.__name__, field.name)
                    checked += 1
    assert checked >= 25  # names, organisations, titles, venues, addresses, emails, hidden fields…


def test_organiser_and_fringe_forms_store_one_line(app, client):
    from sqlalchemy import select

    from fringe_events.models import FringeEvent
    from invitations.models import Invitation

    f.summit()
    f.sign_in(client, f.user())
    added = client.post(
        "/organiser/invitations/new",
        data={"email": "new@example.org", "name": RAW_NAME, "organisation": "Org\nName", "job_title": "", "sector": ""},
    )
    assert added.status_code in (302, 303), added.get_data(as_text=True)[:500]
    person = db.session.scalars(select(Invitation).where(Invitation.email == "new@example.org")).one()
    assert person.name == CLEAN_NAME and person.organisation == "Org Name"

    created = client.post(
        "/organiser/fringe/new",
        data={
            "title": "Warm\r\nup\x08 session",
            "theme": "",
            "description": "Line one\r\nLine two",
            "host_organisation": "Host\tOrg",
            "host_lead": "",
            "venue": "Ipswich\u202e Library",
            "address": "",
            "starts_at": "2030-10-01T10:00",
            "ends_at": "2030-10-01T12:00",
            "capacity": "",
        },
    )
    assert created.status_code in (302, 303), created.get_data(as_text=True)[:500]
    event = db.session.scalars(select(FringeEvent)).one()
    assert (event.title, event.host_organisation, event.venue) == ("Warm up session", "Host Org", "Ipswich Library")
    assert event.description == "Line one\nLine two"


def test_the_csv_import_and_the_command_line_store_one_line(app, runner, tmp_path):
    from sqlalchemy import select

    from app.core.auth.models import User
    from app.core.summit.models import Summit
    from invitations.models import Invitation

    f.summit()
    path = tmp_path / "people.csv"
    path.write_bytes(
        b"email,name,organisation,job_title,champion_email\r\n"
        b'a@example.org,"Ann\r\nSmith",Suffolk\tCounty,"Head\x00 of\x1b Policy",\r\n'
    )
    done = runner.invoke(args=["invitations", "import", str(path)])
    assert done.exit_code == 0, done.output
    person = db.session.scalars(select(Invitation).where(Invitation.email == "a@example.org")).one()
    assert (person.name, person.organisation, person.job_title) == ("Ann Smith", "Suffolk County", "Head of Policy")

    made = runner.invoke(
        args=["users", "create", "lee@staff.example.org", "--role", "leader", "--name", RAW_NAME],
        input="a-long-password\na-long-password\n",
    )
    assert made.exit_code == 0, made.output
    assert db.session.scalars(select(User).where(User.email == "lee@staff.example.org")).one().name == CLEAN_NAME

    configured = runner.invoke(args=["summit", "configure", "--venue", "Adastral\r\nPark", "--capacity", "350"])
    assert configured.exit_code == 0, configured.output
    db.session.expire_all()
    assert db.session.scalars(select(Summit)).one().venue == "Adastral Park"


def test_sendgrid_gets_one_line_even_for_a_name_stored_before_the_filter(tmp_path):
    """A row written before names were cleaned (or by hand): the request to SendGrid still carries one line."""
    from sqlalchemy import update

    from app.core.mail import delivery
    from app.core.mail.models import OutboxMessage
    from tests.support.apps import make_app
    from tests.support.sendgrid_standin import API_KEY, StandIn

    standin = StandIn().start()
    try:
        application = make_app(
            "sqlite", tmp_path, MAIL_BACKEND="sendgrid", SENDGRID_HOST=standin.url, SENDGRID_API_KEY=API_KEY
        )
        with application.app_context():
            f.summit()
            person = f.invitation(name="Ann Smith")
            mailing.send_invitation(person)
            db.session.commit()
            db.session.execute(update(OutboxMessage).values(to_name=RAW_NAME, subject="Hello\r\nBcc: x@example.org"))
            db.session.commit()
            assert delivery.send_pending().sent == 1
            payload = standin.accepted[0]
            to = payload["personalizations"][0]["to"][0]
            assert to["name"] == CLEAN_NAME
            assert payload["subject"] == "Hello Bcc: x@example.org"
            db.engine.dispose()
    finally:
        standin.stop()
