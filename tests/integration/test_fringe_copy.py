"""Copying a fringe event ("Copy this event", fringe_events/organiser_routes.py): it fills the new-event form with the
event's details, adds the copy only when the form is saved, and sends a mistake back with the field named."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.core.audit import AuditEvent
from app.core.auth.models import Role
from app.core.db import db
from app.core.timefmt import input_value
from fringe_events import programme as fringe_programme
from fringe_events.models import FringeEvent, FringeSignup
from tests.support import both_databases
from tests.support import factories as f
from tests.support import fringe_factories as ff
from tests.support.fringe_factories import TEAMS, event_form


@both_databases
def test_copy_this_event_fills_the_form_and_adds_a_copy_only_when_saved(app, client):
    f.summit()
    organiser = f.user(Role.ORGANISER, name="Olive Organiser")
    f.sign_in(client, organiser)
    client.post("/organiser/fringe/new", data=event_form())
    original = db.session.scalars(select(FringeEvent)).one()
    ff.signed_up(f.invitation(), original)
    assert "Copy this event" in client.get(f"/organiser/fringe/{original.id}").get_data(as_text=True)

    form = client.get(f"/organiser/fringe/{original.id}/copy")
    page = form.get_data(as_text=True)
    assert form.status_code == 200
    assert 'value="Copy of Digital inclusion online"' in page
    for value in ("Online (Microsoft Teams)", "Julian Herbert", "Suffolk County Council", 'value="40"'):
        assert value in page
    assert input_value(original.starts_at) in page and "An hour on what works." in page
    assert db.session.scalar(select(func.count()).select_from(FringeEvent)) == 1  # nothing made by looking

    later = original.starts_at + timedelta(days=7)
    response = client.post(
        f"/organiser/fringe/{original.id}/copy",
        data=event_form(
            title="Copy of Digital inclusion online",
            starts_at=input_value(later),
            ends_at=input_value(later + timedelta(hours=1)),
        ),
    )

    db.session.expire_all()
    copy = db.session.scalars(select(FringeEvent).where(FringeEvent.id != original.id)).one()
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/organiser/fringe/{copy.id}")
    assert copy.title == "Copy of Digital inclusion online" and copy.slug != original.slug
    for name in ("venue", "address", "description", "theme", "host_organisation", "host_lead", "capacity"):
        assert getattr(copy, name) == getattr(original, name), name
    assert copy.joining_link == TEAMS and copy.starts_at == later
    assert copy.places_taken == 0
    assert db.session.scalar(select(func.count()).where(FringeSignup.fringe_event_id == copy.id)) == 0
    assert db.session.get(FringeEvent, original.id).places_taken == 1  # the original is as it was
    created = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "fringe.created").order_by(AuditEvent.id.desc())
    ).first()
    assert created.details["copied_from_id"] == original.id
    audit_page = client.get("/organiser/audit/").get_data(as_text=True)
    assert "as a copy of" in audit_page


def test_a_copy_with_a_mistake_is_sent_back_with_the_field_named(app, client):
    f.summit()
    f.sign_in(client, f.user(Role.ORGANISER))
    client.post("/organiser/fringe/new", data=event_form())
    original = db.session.scalars(select(FringeEvent)).one()
    response = client.post(f"/organiser/fringe/{original.id}/copy", data=event_form(ends_at=event_form()["starts_at"]))
    assert response.status_code == 422 and "The event must end after it starts." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(FringeEvent)) == 1
    assert fringe_programme.get_event(original.id).title == "Digital inclusion online"
