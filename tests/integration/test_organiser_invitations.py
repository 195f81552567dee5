"""The organisers' invitation pages (invitations/organiser_routes.py): the list, adding and editing, revoking,
re-sending and new links, the export, and the waiting list page; responses and what the database then holds.
(The operator CLI: tests/integration/test_cli.py; the summit's settings page: test_summit_setup.py.)"""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from app.core.auth.models import Role
from app.core.db import db
from app.core.mail.models import OutboxMessage
from app.core.summit.models import Summit
from invitations import journey, links, summit_changes
from invitations import people as invitation_people
from invitations.models import Invitation, InvitationState
from tests.support import factories as f
from tests.support.factories import fresh
from tests.support.mail_helpers import delivered
from tests.support.pages import text
from tests.support.rows import count

S = InvitationState


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
