"""Privacy (data copy, erasure, anonymisation), backups, the audit page, and request hygiene."""

from __future__ import annotations

import json
import secrets
import sqlite3
from datetime import timedelta

from sqlalchemy import func, select

from app.core.audit import AuditEvent
from app.core.db import db, utcnow
from app.core.mail.models import OutboxMessage
from app.core.summit.models import Summit
from invitations import journey, links
from invitations.models import Invitation, InvitationState, LeaderNote, NoteKind
from tests import factories as f
from tests.support import both_databases


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


def test_backup_makes_a_consistent_copy(app, runner, tmp_path):
    f.summit()
    for _ in range(5):
        f.registered()
    target = tmp_path / "backups" / "nh.sqlite3"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    copy = sqlite3.connect(target)
    assert copy.execute("SELECT count(*) FROM registration").fetchone()[0] == 5
    assert copy.execute("SELECT places_taken FROM summit").fetchone()[0] == 5
    copy.close()
    again = runner.invoke(args=["backup", str(target)])
    assert again.exit_code != 0 and "already exists" in again.output


def test_the_audit_page_lists_and_filters_actions(app, client):
    f.summit()
    organiser = f.user(name="Olive Organiser")
    f.sign_in(client, organiser)
    client.post(
        "/organiser/invitations/new",
        data={"email": "new@example.org", "name": "New Person", "organisation": "Babergh", "champion_id": "0"},
    )
    inv = db.session.scalars(select(Invitation)).one()
    client.post(
        f"/organiser/invitations/{inv.id}/edit",
        data={"email": "new@example.org", "name": "Renamed Person", "organisation": "Babergh", "champion_id": "0"},
    )
    page = client.get("/organiser/audit/?action=invitation.updated").get_data(as_text=True)
    assert "Olive Organiser" in page and "Renamed Person" in page and "New Person" in page  # before and after
    assert "invitation.created" not in page.split("<tbody>")[1]
    assert client.get("/organiser/audit/?invitation=abc").status_code == 400


def test_audit_page_is_for_organisers_only(app, client):
    from app.core.auth.models import Role

    leader = f.user(role=Role.LEADER)
    f.sign_in(client, leader)
    assert client.get("/organiser/audit/").status_code == 403


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


def test_security_headers_and_cookie_flags(app, client):
    f.summit()
    organiser = f.user()
    response = client.post("/sign-in", data={"email": organiser.email, "password": f.PASSWORD, "remember": "y"})
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    page = client.get("/")
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "worker-src 'self' blob:" in csp and "media-src 'self' blob:" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in page.headers  # only in production, behind HTTPS


def test_production_sets_hsts_and_secure_cookies(tmp_path):
    from app.factory import create_app
    from config import ProductionConfig, settings_of

    config = settings_of(ProductionConfig)
    config.update(
        SECRET_KEY=secrets.token_urlsafe(48),
        DATABASE_URL=f"sqlite:///{tmp_path / 'p.sqlite3'}",
        BASE_URL="https://newhorizons.example.org",
        RATELIMIT_SINGLE_PROCESS=True,
        MAIL_BACKEND="sendgrid",
        SENDGRID_API_KEY="SG.test-key",
    )
    app = create_app(config)
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    response = app.test_client().get("/privacy")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
