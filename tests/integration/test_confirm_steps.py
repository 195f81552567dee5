"""Actions that can't be undone ask first and say what they will break: revoking an invitation, making a new
personal link, reissuing a badge code. Their buttons open a page that says it; only that page's button (which
sends confirm=yes) acts. A POST without the confirmation changes nothing and shows the page instead."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.core.audit import AuditEvent
from app.core.auth.models import Role
from app.core.db import db
from app.core.summit.models import Summit
from invitations import journey
from invitations.models import Invitation, InvitationState
from tests.support import both_databases
from tests.support import factories as f
from tests.support.pages import text

S = InvitationState


def audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0


@pytest.fixture
def organiser(client):
    f.summit(capacity=1)
    f.sign_in(client, f.user(Role.ORGANISER))


def state_of(invitation: Invitation) -> tuple:
    db.session.expire_all()
    fresh = db.session.get(Invitation, invitation.id)
    return fresh.state, fresh.code, fresh.link_selector


@both_databases
@pytest.mark.parametrize(
    "path, button, says",
    [
        ("/organiser/invitations/{id}/revoke", "Revoke the invitation", "Their place at the summit is given up"),
        ("/organiser/invitations/{id}/new-link", "Make a new link", "stops working at once"),
        (
            "/organiser/badges/{id}/reissue-code",
            "Reissue the code",
            "Reissuing the code stops the printed badge from working at the door",
        ),
    ],
)
def test_the_page_says_what_breaks_and_a_post_without_the_confirmation_changes_nothing(
    app, client, organiser, path, button, says
):
    ada = f.registered(name="Ada Lovelace")
    f.invitation(name="Will Waite")
    before, events = state_of(ada), audit_count()
    url = path.format(id=ada.id)

    asked = client.get(url)
    page = text(asked)
    assert asked.status_code == 200
    assert says in page and "This can't be undone." in page and button in page
    assert 'name="confirm" value="yes"' in page
    assert state_of(ada) == before and audit_count() == events

    # The old one-click POST (a stale page, a script, a double click) only asks again.
    for data in ({}, {"confirm": ""}, {"back": "invitation"}):
        again = client.post(url, data=data)
        assert again.status_code == 409 and "Please confirm: nothing has changed yet" in text(again), data
    assert client.post(url, data={"confirm": "please"}).status_code == 400
    assert state_of(ada) == before and audit_count() == events
    assert db.session.scalar(select(Summit.places_taken)) == 1

    done = client.post(url, data={"confirm": "yes"})

    assert done.status_code == 302
    assert state_of(ada) != before and audit_count() == events + 1


def test_the_invitation_page_leads_to_the_confirmations_instead_of_acting(app, client, organiser):
    ada = f.registered(name="Ada Lovelace")
    page = client.get(f"/organiser/invitations/{ada.id}").get_data(as_text=True)
    for endpoint in ("revoke", "new-link"):
        assert '<a class="button button--' in page and f'href="/organiser/invitations/{ada.id}/{endpoint}"' in page
        assert f'action="/organiser/invitations/{ada.id}/{endpoint}"' not in page
    assert f'href="/organiser/badges/{ada.id}/reissue-code?back=invitation"' in page
    badges = client.get("/organiser/badges").get_data(as_text=True)
    assert f'href="/organiser/badges/{ada.id}/reissue-code?back=index"' in badges
    assert f'action="/organiser/badges/{ada.id}/reissue-code"' not in badges


def test_revoking_says_what_becomes_of_the_place_for_each_state(app, client, organiser):
    ada = f.registered(name="Ada Lovelace")
    will = f.invitation(name="Will Waite")
    journey.join_waitlist(will)
    db.session.commit()
    nia = f.invitation(name="Nia Newcomer")
    said = {p.name: text(client.get(f"/organiser/invitations/{p.id}/revoke")) for p in (ada, will, nia)}
    assert "offered to the first person on the waiting list" in said["Ada Lovelace"]
    assert "They leave the waiting list." in said["Will Waite"]
    assert "waiting list" not in said["Nia Newcomer"]
    for page in said.values():
        assert "personal link stops working at once, and so does their badge" in page


def test_the_reissue_confirmation_goes_back_where_it_came_from(app, client, organiser):
    ada = f.registered(name="Ada Lovelace")
    from_invitation = text(client.get(f"/organiser/badges/{ada.id}/reissue-code?back=invitation"))
    assert 'name="back" value="invitation"' in from_invitation and "Back to Ada Lovelace" in from_invitation
    done = client.post(f"/organiser/badges/{ada.id}/reissue-code", data={"confirm": "yes", "back": "invitation"})
    assert done.headers["Location"].endswith(f"/organiser/invitations/{ada.id}")
    from_list = text(client.get(f"/organiser/badges/{ada.id}/reissue-code?back=index"))
    assert "Back to the badges" in from_list
    done = client.post(f"/organiser/badges/{ada.id}/reissue-code", data={"confirm": "yes", "back": "index"})
    assert done.headers["Location"].endswith("/organiser/badges")


def test_an_already_revoked_invitation_is_not_revoked_twice(app, client, organiser):
    ada = f.registered(name="Ada Lovelace")
    client.post(f"/organiser/invitations/{ada.id}/revoke", data={"confirm": "yes"})
    events = audit_count()
    again = client.post(f"/organiser/invitations/{ada.id}/revoke", data={"confirm": "yes"})
    assert again.status_code == 303 and audit_count() == events
    assert state_of(ada)[0] == S.REVOKED
