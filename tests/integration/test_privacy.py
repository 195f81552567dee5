"""Privacy (invitations/privacy.py): a delegate's copy of their data, erasure on request, and anonymisation after the
summit. (That erasure leaves nothing behind, anywhere: tests/integration/test_erasure_leaves_nothing.py.)"""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from app.core.audit import AuditEvent
from app.core.db import db, utcnow
from app.core.mail.models import OutboxMessage
from app.core.summit.models import Summit
from invitations import journey, links
from invitations.models import Invitation, InvitationState, LeaderNote, NoteKind
from tests.support import both_databases
from tests.support import factories as f


def test_a_delegate_downloads_their_data(app, client):
    f.summit()
    inv = f.registered(name="Ada Lovelace")
    inv.registration.dietary = "Vegan"
    db.session.commit()
    response = client.get(f"/i/{links.token_for(inv)}/my-data.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.data)
    assert data["invitation"]["email"] == inv.email and data["invitation"]["name"] == "Ada Lovelace"
    assert data["registration"]["dietary"] == "Vegan"
    assert [e["subject"] for e in data["emails"]] == ["You're registered for The Lives we Lead: New Horizons"]


@both_databases
def test_erasure_on_request_frees_the_place_and_removes_personal_data(app, client):
    f.summit(capacity=1)
    inv = f.registered(name="Ada Lovelace")
    waiting = f.invitation()
    journey.join_waitlist(waiting)
    db.session.add(LeaderNote(invitation_id=inv.id, kind=NoteKind.NOTE, text="Phoned Ada at home"))
    db.session.commit()
    token = links.token_for(inv)
    page = client.get(f"/i/{token}/erase")
    assert page.status_code == 200 and "can't be undone" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Invitation, inv.id).name == "Ada Lovelace"  # GET changes nothing
    assert client.post(f"/i/{token}/erase").status_code == 200
    db.session.expire_all()
    erased = db.session.get(Invitation, inv.id)
    assert erased.name == "Erased" and "ada" not in erased.email.lower()
    assert erased.state == InvitationState.REVOKED
    assert erased.registration.dietary == "" and erased.registration.access_needs == ""
    assert db.session.scalar(select(LeaderNote.text).where(LeaderNote.invitation_id == inv.id)) == ""
    bodies = db.session.scalars(select(OutboxMessage.body_text).where(OutboxMessage.invitation_id == inv.id)).all()
    assert bodies and all("Ada" not in body for body in bodies)
    assert db.session.get(Invitation, waiting.id).state == InvitationState.OFFERED  # the place moved on
    assert db.session.scalar(select(Summit.places_taken)) == 1
    assert client.get(f"/i/{token}").status_code == 404  # the old link is dead
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "privacy.erased_on_request")
        )
        == 1
    )


def test_anonymise_after_the_event_keeps_the_counts(app, runner):
    f.summit(starts_at=utcnow() - timedelta(days=200), ends_at=utcnow() - timedelta(days=199, hours=16))
    registered = f.registered(name="Ada Lovelace")
    declined = f.invitation(name="Grace Hopper")
    journey.decline(declined, "Busy")
    db.session.commit()
    db.session.execute(Invitation.__table__.update().values(updated_at=utcnow() - timedelta(days=120)))
    db.session.commit()
    before = runner.invoke(args=["summit", "status"]).output
    result = runner.invoke(args=["privacy", "anonymise", "--older-than", "90"])
    assert result.exit_code == 0 and "Anonymised 2 invitation(s)" in result.output
    db.session.expire_all()
    names = db.session.scalars(select(Invitation.name)).all()
    assert names == ["Erased", "Erased"]
    assert db.session.get(Invitation, registered.id).state == InvitationState.REGISTERED
    assert db.session.get(Invitation, declined.id).decline_reason == ""
    assert runner.invoke(args=["summit", "status"]).output == before  # the counts survive


def test_anonymise_refuses_before_the_summit_and_uses_the_configured_retention(app, runner):
    f.summit()
    f.invitation()
    result = runner.invoke(args=["privacy", "anonymise"])
    assert result.exit_code != 0 and "hasn't happened yet" in result.output
    assert app.config["PRIVACY_RETENTION_DAYS"] == 90
