"""The organisers' screens and the operator CLI, end to end: responses and what the database then holds."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy import text as sql

from app.core.auth.models import Role, User
from app.core.db import Base, db
from app.core.mail.models import OutboxMessage
from app.core.summit.models import Summit
from invitations import handing_on, journey, links, summit_changes
from invitations import people as invitation_people
from invitations.models import Invitation, InvitationState
from tests.support import factories as f
from tests.support.apps import LATEST
from tests.support.factories import fresh
from tests.support.mail_helpers import delivered
from tests.support.organiser import bare_app, summit_form
from tests.support.pages import text
from tests.support.rows import count

S = InvitationState
STATUS_KEYS = {"capacity", "target", "registered", "offers_held", "waitlisted", "declined", "invited"}


def link(invitation: Invitation) -> str:
    return f"/i/{links.token_for(invitation)}"


def listed_names(response) -> set[str]:
    """The names in the invitations table."""
    return set(re.findall(r'<a href="/organiser/invitations/\d+">([^<]+)</a>', response.get_data(as_text=True)))


@pytest.fixture
def organiser(app, client):
    f.summit()
    user = f.user(name="Olive Organiser")
    f.sign_in(client, user)
    return user


# --- the invitations list ----------------------------------------------------------------------------


def test_invitation_list_searches_and_filters(app, client, organiser):
    lena = f.user(role=Role.LEADER, name="Lena Leader")
    f.invitation(name="Ada Lovelace", email="ada@engines.example.org", organisation="Analytical Engines", champion=lena)
    grace = f.invitation(name="Grace Hopper", email="grace@navy.example.org", organisation="Navy")
    f.invitation(name="Alan Turing", email="alan@bletchley.example.org", organisation="Bletchley Park", champion=lena)
    journey.register(grace, f.details(name="Grace Hopper", organisation="Navy"))
    db.session.commit()

    assert listed_names(client.get("/organiser/invitations")) == {"Ada Lovelace", "Grace Hopper", "Alan Turing"}
    assert listed_names(client.get("/organiser/invitations?q=ADA")) == {"Ada Lovelace"}
    assert listed_names(client.get("/organiser/invitations?q=navy.example")) == {"Grace Hopper"}
    assert listed_names(client.get("/organiser/invitations?q=bletchley")) == {"Alan Turing"}
    assert listed_names(client.get("/organiser/invitations?state=registered")) == {"Grace Hopper"}
    assert listed_names(client.get("/organiser/invitations?state=invited")) == {"Ada Lovelace", "Alan Turing"}
    assert listed_names(client.get("/organiser/invitations?organisation=Navy")) == {"Grace Hopper"}
    assert listed_names(client.get(f"/organiser/invitations?champion={lena.id}")) == {"Ada Lovelace", "Alan Turing"}
    assert listed_names(client.get("/organiser/invitations?champion=none")) == {"Grace Hopper"}
    assert listed_names(client.get(f"/organiser/invitations?champion={lena.id}&q=alan")) == {"Alan Turing"}
    empty = client.get("/organiser/invitations?q=nobody-matches")
    assert empty.status_code == 200 and "No invitations match these filters" in text(empty)
    assert client.get("/organiser/invitations?state=bogus").status_code == 400
    assert client.get("/organiser/invitations?champion=abc").status_code == 400


# --- adding and editing -----------------------------------------------------------------------------


def test_adding_an_invitee(app, client, organiser):
    lena = f.user(role=Role.LEADER)
    assert client.get("/organiser/invitations/new").status_code == 200

    response = client.post(
        "/organiser/invitations/new",
        data={
            "email": "New.Person@Example.org",
            "name": "New Person",
            "organisation": "Suffolk Police",
            "job_title": "Inspector",
            "sector": "Police",
            "champion_id": str(lena.id),
        },
    )

    assert response.status_code == 302
    inv = db.session.scalars(select(Invitation).where(Invitation.email == "new.person@example.org")).one()
    assert urlsplit(response.headers["Location"]).path == f"/organiser/invitations/{inv.id}"
    assert inv.name == "New Person" and inv.champion_id == lena.id and inv.state == S.INVITED
    assert inv.sent_at is None and count(OutboxMessage) == 0  # adding sends nothing yet
    page = client.get(f"/organiser/invitations/{inv.id}")
    assert page.status_code == 200 and links.personal_url(inv) in text(page)


def test_adding_a_duplicate_email_is_a_422_with_a_message(app, client, organiser):
    f.invitation(email="taken@example.org", name="First Holder")
    response = client.post(
        "/organiser/invitations/new",
        data={"email": "TAKEN@Example.org", "name": "Second", "organisation": "X", "champion_id": "0"},
    )
    assert response.status_code == 422
    assert "taken@example.org has already been invited" in text(response)
    assert count(Invitation) == 1


def test_adding_with_a_missing_field_is_a_422(app, client, organiser):
    response = client.post(
        "/organiser/invitations/new",
        data={"email": "x@example.org", "name": "", "organisation": "X", "champion_id": "0"},
    )
    assert response.status_code == 422 and "Enter the invitee's name." in text(response)
    assert count(Invitation) == 0


def test_editing_an_invitee(app, client, organiser):
    inv = f.invitation(name="Old Name", email="old@example.org")
    f.invitation(email="other@example.org")
    page = client.get(f"/organiser/invitations/{inv.id}/edit")
    assert page.status_code == 200 and 'value="old@example.org"' in page.get_data(as_text=True)

    response = client.post(
        f"/organiser/invitations/{inv.id}/edit",
        data={
            "email": "New@Example.org",
            "name": "New Name",
            "organisation": "New Org",
            "job_title": "",
            "champion_id": "0",
        },
    )

    assert response.status_code == 302
    inv = fresh(inv)
    assert inv.email == "new@example.org" and inv.name == "New Name" and inv.organisation == "New Org"

    clash = client.post(
        f"/organiser/invitations/{inv.id}/edit",
        data={"email": "other@example.org", "name": "New Name", "organisation": "New Org", "champion_id": "0"},
    )
    assert clash.status_code == 422 and "already has an invitation of its own" in text(clash)
    assert fresh(inv).email == "new@example.org"
    assert client.get("/organiser/invitations/999999").status_code == 404


# --- revoke, re-send, new link -------------------------------------------------------------------------


def test_revoking_stops_the_link(app, client, organiser):
    inv = f.registered(name="Rev Oked")
    assert client.get(link(inv)).status_code == 200

    response = client.post(f"/organiser/invitations/{inv.id}/revoke", data={"confirm": "yes"})

    assert response.status_code == 302
    assert fresh(inv).state == S.REVOKED
    assert db.session.scalar(select(Summit.places_taken)) == 0
    assert client.get(link(inv)).status_code == 404
    again = client.post(f"/organiser/invitations/{inv.id}/revoke", data={"confirm": "yes"})
    # The page as it now stands, with the sentence: nothing changed twice.
    assert again.status_code == 303 and again.headers["Location"].endswith(f"/organiser/invitations/{inv.id}")
    assert "nothing to revoke" in text(client.get(again.headers["Location"]))
    assert db.session.scalar(select(Summit.places_taken)) == 0


def test_resending_queues_an_invitation_email_with_the_personal_link(app, client, organiser):
    inv = f.invitation(name="Sally Sent")

    first = client.post(f"/organiser/invitations/{inv.id}/send")
    second = client.post(f"/organiser/invitations/{inv.id}/send")

    assert first.status_code == second.status_code == 302
    messages = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.invitation_id == inv.id, OutboxMessage.kind == "invitation")
    ).all()
    assert len(messages) == 2
    url = links.personal_url(inv)
    for message in map(delivered, messages):
        assert message.to_email == inv.email
        assert url in message.body_text and url in message.body_html
    assert fresh(inv).sent_at is not None
    # The link in the email opens this invitation.
    assert "Hello Sally" in text(client.get(urlsplit(url).path))


def test_a_revoked_invitation_cannot_be_sent(app, client, organiser):
    inv = f.invitation()
    invitation_people.revoke_invitation(inv)
    db.session.commit()
    response = client.post(f"/organiser/invitations/{inv.id}/send")
    assert response.status_code == 303
    assert "no longer live" in text(client.get(response.headers["Location"]))
    assert count(OutboxMessage) == 0


def test_making_a_new_link_invalidates_the_old_one(app, client, organiser):
    inv = f.invitation(name="Linda Link")
    old = link(inv)
    assert client.get(old).status_code == 200

    response = client.post(f"/organiser/invitations/{inv.id}/new-link", data={"confirm": "yes"})

    assert response.status_code == 302
    inv = fresh(inv)
    new = link(inv)
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200 and "Hello Linda" in text(client.get(new))


# --- export ------------------------------------------------------------------------------------------


def test_export_csv_has_the_header_a_row_per_invitation_and_defuses_formulas(app, client, organiser):
    lena = f.user(role=Role.LEADER, email="lena@staff.example.org")
    f.invitation(name='=HYPERLINK("http://evil.example","x")', email="formula@example.org", organisation="+44 Org")
    f.invitation(name="Plain Person", email="plain@example.org", champion=lena)
    f.registered(name="Reg Istered", email="reg@example.org")

    response = client.get("/organiser/invitations/export.csv")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0] == [
        "email",
        "name",
        "organisation",
        "job_title",
        "champion_email",
        "state",
        "sent_at",
        "opened_at",
        "responded_at",
    ]
    body = {row[0]: row for row in rows[1:]}
    assert set(body) == {"formula@example.org", "plain@example.org", "reg@example.org"}
    assert body["formula@example.org"][1] == '\'=HYPERLINK("http://evil.example","x")'
    assert body["formula@example.org"][2] == "'+44 Org"
    assert body["plain@example.org"][1] == "Plain Person" and body["plain@example.org"][4] == "lena@staff.example.org"
    assert body["reg@example.org"][5] == "registered" and body["reg@example.org"][8] != ""

    filtered = client.get("/organiser/invitations/export.csv?state=registered")
    filtered_rows = list(csv.reader(io.StringIO(filtered.get_data().decode("utf-8-sig"))))
    assert [row[0] for row in filtered_rows[1:]] == ["reg@example.org"]


# --- summit settings -----------------------------------------------------------------------------------


def test_summit_settings_page_saves(app, client, organiser):
    assert client.get("/organiser/summit").status_code == 200

    response = client.post("/organiser/summit", data=summit_form(venue="The Hub"))

    assert response.status_code == 302
    db.session.expire_all()
    summit = db.session.scalars(select(Summit)).one()
    assert (
        summit.venue == "The Hub" and summit.capacity == 200 and summit.target == 180 and summit.offer_hold_hours == 24
    )
    # 9:30am in London in October is 8:30 UTC (British Summer Time).
    assert summit.starts_at == datetime(2027, 10, 14, 8, 30, tzinfo=UTC)
    assert summit.registration_closes_at == datetime(2027, 10, 7, 16, 0, tzinfo=UTC)
    assert summit.registration_opens_at is None


def test_summit_capacity_below_places_taken_is_refused(app, client, organiser):
    f.registered()
    f.registered()

    response = client.post("/organiser/summit", data=summit_form(capacity="1", venue="Changed Venue"))

    assert response.status_code == 422
    assert "The capacity cannot go below the 2 places already taken" in text(response)
    db.session.expire_all()
    summit = db.session.scalars(select(Summit)).one()
    assert summit.capacity == 350 and summit.venue == "Adastral Park" and summit.places_taken == 2


def test_summit_settings_ending_before_starting_is_refused(app, client, organiser):
    response = client.post("/organiser/summit", data=summit_form(ends_at="2027-10-14T08:00"))
    assert response.status_code == 422 and "The summit must end after it starts." in text(response)
    db.session.expire_all()
    assert db.session.scalars(select(Summit)).one().capacity == 350


# --- the waiting list page -----------------------------------------------------------------------------


def test_waiting_list_page_lists_waiting_people_and_offers(app, client, organiser):
    summit_changes.configure_summit(capacity=1)
    db.session.commit()
    holder = f.registered()
    first = f.invitation(name="First Waiting")
    second = f.invitation(name="Second Waiting")
    for inv in (first, second):
        journey.join_waitlist(inv)
        db.session.commit()
    empty_check = text(client.get("/organiser/waiting-list"))
    assert "First Waiting" in empty_check and "Second Waiting" in empty_check and "Offer held" not in empty_check

    journey.cancel_registration(holder)
    db.session.commit()
    response = client.get("/organiser/waiting-list")

    assert response.status_code == 200
    page = text(response)
    assert "First Waiting" in page and "Second Waiting" in page
    rows = re.findall(r"<tr>.*?</tr>", page, flags=re.S)
    first_row = next(r for r in rows if "First Waiting" in r)
    second_row = next(r for r in rows if "Second Waiting" in r)
    assert "Offer held" in first_row and "Waiting" in second_row and "Offer held" not in second_row
    assert fresh(first).state == S.OFFERED


# --- the CLI: summit ----------------------------------------------------------------------------------


def status(runner) -> dict:
    result = runner.invoke(args=["summit", "status"])
    assert result.exit_code == 0, result.output
    assert len(result.output.strip().splitlines()) == 1  # one JSON object on one line
    data = json.loads(result.output)
    assert isinstance(data, dict)
    assert set(data) >= STATUS_KEYS
    return data


def test_summit_configure_and_status(app, runner):
    result = runner.invoke(args=["summit", "configure", "--capacity", "3", "--target", "2"])
    assert result.exit_code == 0, result.output
    _a, _b, c = f.registered(), f.registered(), f.registered()
    w1, w2 = f.invitation(), f.invitation()
    for inv in (w1, w2):
        journey.join_waitlist(inv)
        db.session.commit()
    journey.decline(f.invitation(), "Away")
    f.invitation()  # still invited, not answered
    revoked = f.invitation()
    invitation_people.revoke_invitation(revoked)
    journey.cancel_registration(c)  # w1 is offered c's place
    db.session.commit()

    assert {k: status(runner)[k] for k in STATUS_KEYS} == {
        "capacity": 3,
        "target": 2,
        "registered": 2,
        "offers_held": 1,
        "waitlisted": 1,
        "declined": 1,
        "invited": 7,  # every live invitation: 2 registered, 1 offer, 1 waiting, 1 declined, 1 cancelled, 1 unanswered
    }

    result = runner.invoke(args=["summit", "configure", "--capacity", "120", "--target", "100"])

    assert result.exit_code == 0, result.output
    assert "capacity 120, target 100, 4 places taken" in result.output  # counts the offers just made
    data = status(runner)
    assert {k: data[k] for k in STATUS_KEYS} == {
        "capacity": 120,
        "target": 100,
        "registered": 2,
        "offers_held": 2,
        "waitlisted": 0,
        "declined": 1,
        "invited": 7,
    }
    db.session.expire_all()
    summit = db.session.scalars(select(Summit)).one()
    assert (summit.capacity, summit.target, summit.places_taken) == (120, 100, 4)
    assert fresh(w2).state == S.OFFERED  # the raised capacity went straight to the waiting list


def test_summit_configure_refuses_capacity_below_places_taken(app, runner):
    f.summit(capacity=5)
    f.registered()
    f.registered()
    result = runner.invoke(args=["summit", "configure", "--capacity", "1"])
    assert result.exit_code != 0 and "cannot go below the 2 places already taken" in result.output
    db.session.expire_all()
    assert db.session.scalars(select(Summit)).one().capacity == 5


def test_summit_status_without_a_summit_says_how_to_set_one_up(app, runner):
    result = runner.invoke(args=["summit", "status"])
    assert result.exit_code != 0 and "summit configure" in result.output


# --- the CLI: users ------------------------------------------------------------------------------------


def test_users_create_reads_the_password_from_stdin_and_the_user_can_sign_in(app, runner, client):
    f.summit()
    result = runner.invoke(
        args=["users", "create", "Olga@Staff.example.org", "--role", "organiser", "--name", "Olga O"],
        input="a-long-password\n",
    )

    assert result.exit_code == 0, result.output
    assert "Created organiser olga@staff.example.org." in result.output
    user = db.session.scalars(select(User).where(User.email == "olga@staff.example.org")).one()
    assert user.role == Role.ORGANISER and user.name == "Olga O" and user.password_hash != "a-long-password"

    response = client.post("/sign-in", data={"email": "olga@staff.example.org", "password": "a-long-password"})
    assert response.status_code == 302
    assert client.get("/organiser/").status_code == 200


def test_users_create_refuses_a_short_password_and_a_duplicate(app, runner):
    short = runner.invoke(
        args=["users", "create", "s@staff.example.org", "--role", "steward", "--name", "S"], input="short\n"
    )
    assert short.exit_code != 0
    assert "at least 10 characters" in short.output
    assert count(User) == 0

    runner.invoke(
        args=["users", "create", "s@staff.example.org", "--role", "steward", "--name", "S"], input="a-long-password\n"
    )
    duplicate = runner.invoke(
        args=["users", "create", "S@staff.example.org", "--role", "leader", "--name", "S2"], input="a-long-password\n"
    )
    assert duplicate.exit_code != 0 and "already an account" in duplicate.output
    assert count(User) == 1

    bad_role = runner.invoke(
        args=["users", "create", "x@staff.example.org", "--role", "admin", "--name", "X"], input="a-long-password\n"
    )
    assert bad_role.exit_code != 0 and count(User) == 1


@pytest.mark.parametrize("address", ["org@red.test", "desk@printer.local", "someone@invalid", "no-at-sign.example.org"])
def test_users_create_refuses_an_address_the_sign_in_form_refuses(app, runner, client, address):
    form = client.post("/sign-in", data={"email": address, "password": "a-long-password"})
    assert form.status_code == 422 and "Enter a valid email address." in text(form)

    result = runner.invoke(
        args=["users", "create", address, "--role", "organiser", "--name", "Red Team"], input="a-long-password\n"
    )
    assert result.exit_code != 0
    assert f"'{address}' can't be used to sign in, so no account was made" in result.output
    assert count(User) == 0


def test_an_address_users_create_accepts_can_sign_in_as_typed(app, runner, client):
    f.summit()
    result = runner.invoke(
        args=["users", "create", "  Ian.O'Brien+Summit@Suffolk.Gov.UK ", "--role", "leader", "--name", "Ian O'Brien"],
        input="a-long-password\n",
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalars(select(User.email)).one() == "ian.o'brien+summit@suffolk.gov.uk"
    response = client.post(
        "/sign-in", data={"email": "Ian.O'Brien+Summit@suffolk.gov.uk", "password": "a-long-password"}
    )
    assert response.status_code == 302


# --- the CLI: links ------------------------------------------------------------------------------------


def test_invitations_links_prints_a_working_link_per_live_invitation(app, runner, client):
    f.summit()
    people = [f.invitation(name=f"Linked Person{i}") for i in range(3)]
    revoked = f.invitation(name="Revoked Person")
    invitation_people.revoke_invitation(revoked)
    handed = f.invitation(name="Handing Person")
    handing_on.hand_on(
        handed, handing_on.Colleague(name="Colleague Person", email="colleague@example.org", organisation="X")
    )
    db.session.commit()
    live = {inv.email: inv for inv in people}
    live["colleague@example.org"] = db.session.scalars(
        select(Invitation).where(Invitation.email == "colleague@example.org")
    ).one()

    result = runner.invoke(args=["invitations", "links", "--base-url", "https://nh.example.org/"])

    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0] == ["email", "url"]
    assert {row[0] for row in rows[1:]} == set(live)
    assert len(rows) == 1 + len(live)
    for email, url in rows[1:]:
        assert url.startswith("https://nh.example.org/i/")
        path = url[len("https://nh.example.org") :]
        response = client.get(path)
        assert response.status_code == 200, email
        assert f"Hello {live[email].first_name}" in text(response)
        assert str(live[email].id) not in path.split("/")


# --- the CLI: demo and db upgrade ----------------------------------------------------------------------


def test_demo_is_idempotent(app, runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "420 new invitations" in first.output
    users = count(User)
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert "0 new invitations" in second.output
    assert count(Invitation) == 420
    assert count(User) == users
    data = status(runner)
    assert data["capacity"] == 350 and data["target"] == 300
    registered = count(Invitation, Invitation.state == S.REGISTERED)
    assert data["registered"] == registered > 0
    db.session.expire_all()
    assert db.session.scalar(select(Summit.places_taken)) == registered


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_db_upgrade_creates_a_schema_that_matches_the_models(kind, tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    application = bare_app(kind, tmp_path)
    with application.app_context():
        try:
            result = application.test_cli_runner().invoke(args=["db", "upgrade"])
            assert result.exit_code == 0, result.output
            made = "Created the database at" if kind == "sqlite" else "Created the tables in the database at"
            assert made in result.output and f"schema version {LATEST}." in result.output
            with db.engine.connect() as connection:
                # The same comparison `db revision --autogenerate` makes (migrations/env.py): an empty diff
                # means the migrations build exactly the tables, columns, types, indexes and constraints of the models.
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                differences = compare_metadata(context, Base.metadata)
                tables = set(db.engine.dialect.get_table_names(connection))
            assert differences == []
            assert set(Base.metadata.tables) <= tables and "alembic_version" in tables
            # A second upgrade is a no-op.
            assert application.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
            # The control: the comparison does see a schema that has drifted from the models.
            with db.engine.begin() as connection:
                connection.execute(sql("DROP INDEX ix_invitation_state"))
            with db.engine.connect() as connection:
                drift = compare_metadata(
                    MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
                )
            assert [d for d in drift if d[0] == "add_index" and d[1].name == "ix_invitation_state"]
        finally:
            db.engine.dispose()
