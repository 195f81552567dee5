"""Bad input gets a 4xx or a sensible answer, never a 500 and never a partial write: page numbers, download names,
control characters, NUL, and arbitrary input at every form (property-based, with hypothesis)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.core import audit
from app.core.auth.models import Role
from app.core.db import db
from app.core.mail.models import OutboxMessage
from app.core.summit.models import Summit
from invitations import links, mailing
from invitations.models import Invitation, InvitationState, Registration
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


def test_nul_characters_are_refused_with_a_clear_400(app, client):
    f.summit()
    inv = f.invitation()
    response = client.post(f"/i/{links.token_for(inv)}/decline", data={"reason": "busy\x00day"})
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)
    assert db.session.get(Invitation, inv.id).state == InvitationState.INVITED
    assert client.get("/i/" + "A" * 43 + "%00").status_code == 404
    # In a query string, as it came: `%00` is a NUL once decoded.
    organiser = f.user()
    f.sign_in(client, organiser)
    refused = client.get("/organiser/invitations?q=Ada%00")
    assert refused.status_code == 400 and "NUL" in refused.get_data(as_text=True)
    assert client.get("/organiser/invitations?q=Ada%2500").status_code == 200  # "%00" typed in: no NUL


# --- arbitrary input at every form: never a 500, never a partial write (property-based, hypothesis) ----

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# Text as people and attackers type it: any unicode, control characters, very long runs, markup, formulas.
nasty = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            '=HYPERLINK("http://x")',
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "a" * 5000,
            "\u202e\u0000\ud7ff",
            "Zoë Ørsted-Łukasiewicz",
            "\r\n\t",
            "%00",
            "{{ 7*7 }}",
        ]
    ),
)


_counter = itertools.count()


def assert_places_consistent() -> None:
    taken = db.session.scalar(select(Summit.places_taken))
    held = db.session.scalar(
        select(func.count())
        .select_from(Invitation)
        .where(Invitation.state.in_([InvitationState.REGISTERED, InvitationState.OFFERED]))
    )
    assert taken == held


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), nasty),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(nasty, children, max_size=4),
    max_leaves=12,
)


@both_databases
@FUZZ
@given(
    form=st.fixed_dictionaries(
        {k: nasty for k in ("name", "organisation", "job_title", "dietary", "access_needs")},
        optional={"consent": st.sampled_from(["y", "", "no", "\x00"])},
    )
)
def test_register_form(app, client, form):
    if db.session.scalar(select(Summit.id)) is None:
        f.summit(capacity=10_000)
    inv = f.invitation(email=f"fuzz{next(_counter)}@example.org")
    response = client.post(f"/i/{links.token_for(inv)}/register", data=form)
    assert response.status_code < 500
    db.session.expire_all()
    state = db.session.get(Invitation, inv.id).state
    has_registration = (
        db.session.scalar(select(func.count()).select_from(Registration).where(Registration.invitation_id == inv.id))
        == 1
    )
    mails = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.invitation_id == inv.id)
    )
    if response.status_code == 302:
        assert state == InvitationState.REGISTERED and has_registration and mails == 1
    else:
        assert 400 <= response.status_code < 500
        assert state == InvitationState.INVITED and not has_registration and mails == 0
    assert_places_consistent()


@both_databases
@FUZZ
@given(
    reason=nasty, colleague=st.fixed_dictionaries({k: nasty for k in ("name", "email", "organisation", "job_title")})
)
def test_decline_and_colleague_forms(app, client, reason, colleague):
    if db.session.scalar(select(Summit.id)) is None:
        f.summit()
    inv = f.invitation(email=f"fuzz{next(_counter)}@example.org")
    token = links.token_for(inv)
    before = db.session.scalar(select(func.count()).select_from(Invitation))
    response = client.post(f"/i/{token}/colleague", data=colleague)
    assert response.status_code < 500
    db.session.expire_all()
    after = db.session.scalar(select(func.count()).select_from(Invitation))
    if response.status_code == 302:
        assert after == before + 1 and db.session.get(Invitation, inv.id).state == InvitationState.HANDED_ON
        return
    assert after == before and db.session.get(Invitation, inv.id).state == InvitationState.INVITED
    response = client.post(f"/i/{token}/decline", data={"reason": reason})
    assert response.status_code < 500
    db.session.expire_all()
    expected = InvitationState.DECLINED if response.status_code == 302 else InvitationState.INVITED
    assert db.session.get(Invitation, inv.id).state == expected


@FUZZ
@given(email=nasty, password=nasty)
def test_sign_in_form(app, client, email, password):
    response = client.post("/sign-in", data={"email": email, "password": password})
    assert response.status_code in (401, 422, 400)


@both_databases
@FUZZ
@given(
    form=st.fixed_dictionaries(
        {k: nasty for k in ("email", "name", "organisation", "job_title", "sector")},
        optional={"champion_id": st.one_of(nasty, st.integers().map(str))},
    )
)
def test_organiser_invitation_form(app, client, form):
    if db.session.scalar(select(Summit.id)) is None:
        f.summit()
        organiser = f.user(role=Role.ORGANISER, email="fuzz-organiser@example.org")
        f.sign_in(client, organiser)
    before = db.session.scalar(select(func.count()).select_from(Invitation))
    response = client.post("/organiser/invitations/new", data=form)
    assert response.status_code < 500
    after = db.session.scalar(select(func.count()).select_from(Invitation))
    assert after == before + (1 if response.status_code == 302 else 0)


@FUZZ
@given(
    form=st.fixed_dictionaries(
        {
            "name": nasty,
            "tagline": nasty,
            "venue": nasty,
            "address": nasty,
            "starts_at": st.one_of(nasty, st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M"))),
            "ends_at": st.one_of(nasty, st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M"))),
            "capacity": st.one_of(nasty, st.integers().map(str)),
            "target": st.one_of(nasty, st.integers().map(str)),
            "offer_hold_hours": st.one_of(nasty, st.integers().map(str)),
        }
    )
)
def test_summit_settings_form(app, client, form):
    if db.session.scalar(select(Summit.id)) is None:
        f.summit()
        f.sign_in(client, f.user(role=Role.ORGANISER, email="fuzz-summit@example.org"))
    before = db.session.execute(select(Summit.capacity, Summit.name, Summit.starts_at)).one()
    response = client.post("/organiser/summit", data=form)
    assert response.status_code < 500
    db.session.expire_all()
    summit = db.session.scalars(select(Summit)).one()
    if response.status_code != 302:
        assert (summit.capacity, summit.name, summit.starts_at) == tuple(before)
    assert summit.places_taken <= summit.capacity and summit.ends_at > summit.starts_at


@FUZZ
@given(
    data=st.one_of(st.binary(max_size=2000), st.text(max_size=2000).map(lambda t: t.encode("utf-8", "surrogatepass")))
)
def test_csv_upload(app, client, data):
    import io

    if db.session.scalar(select(Summit.id)) is None:
        f.summit()
        f.sign_in(client, f.user(role=Role.ORGANISER, email="fuzz-import@example.org"))
    response = client.post(
        "/organiser/invitations/import", data={"file": (io.BytesIO(data), "x.csv")}, content_type="multipart/form-data"
    )
    assert response.status_code in (200, 422)
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0  # a preview never writes


@both_databases
@FUZZ
@given(
    body=st.one_of(
        json_values,
        st.fixed_dictionaries(
            {"code": json_values, "event": json_values}, optional={"nonce": json_values, "method": json_values}
        ),
        st.fixed_dictionaries(
            {"code": nasty, "event": st.sampled_from(["summit", "no-such-event", ""])}, optional={"nonce": nasty}
        ),
    ),
    raw=st.booleans(),
)
def test_checkin_api(app, client, body, raw):
    import json

    from app.core.auth import credentials
    from fringe_events.models import Attendance

    if db.session.scalar(select(Summit.id)) is None:
        f.summit()
        steward = f.user(role=Role.STEWARD, email="fuzz-steward@example.org")
        app.config["FUZZ_TOKEN"] = credentials.issue_api_token(steward)
        db.session.commit()
        f.registered(email="fuzz-delegate@example.org")
    headers = {"Authorization": f"Bearer {app.config['FUZZ_TOKEN']}"}
    if raw:  # not even JSON
        response = client.post(
            "/api/v1/checkin",
            data=str(body).encode("utf-8", "surrogatepass"),
            headers=headers,
            content_type="application/json",
        )
    else:
        response = client.post(
            "/api/v1/checkin", data=json.dumps(body), headers=headers, content_type="application/json"
        )
    assert response.status_code in (200, 400), response.get_data(as_text=True)[:300]
    assert response.is_json
    if response.status_code == 200:
        assert response.get_json()["status"] in (
            "ok",
            "already_checked_in",
            "invalid",
            "cancelled",
            "not_registered",
            "wrong_event",
        )
    per_person = db.session.execute(
        select(Attendance.invitation_id, func.count()).group_by(Attendance.invitation_id, Attendance.event_key)
    ).all()
    assert all(n == 1 for _, n in per_person)
