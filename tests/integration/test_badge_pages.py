"""Badges through the app: the delegate's QR, badge page and PDF, and the organisers' printing and code reissue."""

from __future__ import annotations

import html
import io

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select

from app.core.audit import AuditEvent
from app.core.auth.models import Role
from app.core.db import db
from invitations import handing_on, journey, links, people
from invitations.models import Invitation
from tests.support import factories as f


def link(inv: Invitation, page: str) -> str:
    return f"/i/{links.token_for(inv)}/{page}"


def decoded_png(data: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))]


def decoded_pdf(data: bytes) -> list[list[str]]:
    document = pdfium.PdfDocument(data)
    return [
        sorted(r.text for r in zxingcpp.read_barcodes(document[i].render(scale=200 / 72).to_pil()))
        for i in range(len(document))
    ]


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


# --- the delegate's badge ----------------------------------------------------------------------------


def test_a_registered_delegate_gets_the_qr_the_badge_page_and_the_pdf(app, client):
    f.summit()
    ada = f.registered(name="Ada Lovelace")

    png = client.get(link(ada, "badge.png"))
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert decoded_png(png.data) == [ada.code]
    assert png.headers["Cache-Control"] == "no-store"
    assert png.headers["Referrer-Policy"] == "same-origin"

    page = client.get(link(ada, "badge"))
    assert page.status_code == 200
    text = page_text(page)
    assert "Ada Lovelace" in text and "Suffolk County Council" in text and ada.code in text
    assert 'src="data:image/png;base64,' in text  # the QR is in the page itself: nothing else to fetch offline
    assert "fringe events only" not in text
    assert "/badge-sw.js" in text and "js/badge-page.js" in text

    pdf = client.get(link(ada, "badge.pdf"))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert decoded_pdf(pdf.data) == [[ada.code]]

    personal = page_text(client.get(f"/i/{links.token_for(ada)}"))
    assert "Your badge" in personal and link(ada, "badge.png") in personal and link(ada, "badge") in personal


@pytest.mark.parametrize("state", ["invited", "declined", "cancelled"])
def test_someone_without_a_summit_place_is_told_the_badge_is_for_fringe_events(app, client, state):
    f.summit()
    inv = f.registered() if state == "cancelled" else f.invitation()
    if state == "cancelled":
        journey.cancel_registration(inv)
    elif state == "declined":
        journey.decline(inv)
    db.session.commit()
    text = page_text(client.get(link(inv, "badge")))
    assert "You don't have a place at the summit" in text and "Fringe events only" in text
    assert client.get(link(inv, "badge.png")).status_code == 200
    welcome = page_text(client.get(f"/i/{links.token_for(inv)}"))
    assert "Your badge for fringe events" in welcome and link(inv, "badge") in welcome


def test_handed_on_and_revoked_invitations_have_no_badge(app, client):
    f.summit()
    ada = f.registered()
    handing_on.hand_on(ada, handing_on.Colleague(name="Bob", email="bob@example.org", organisation="Suffolk"))
    grace = f.registered()
    people.revoke_invitation(grace)
    db.session.commit()
    for inv in (ada, grace):
        for page in ("badge", "badge.png", "badge.pdf"):
            assert client.get(link(inv, page)).status_code == 404, (inv.state, page)


def test_a_made_up_token_has_no_badge(app, client):
    f.summit()
    assert client.get("/i/not-a-token/badge.png").status_code == 404
    assert client.get("/i/" + "A" * 44 + "/badge").status_code == 404


def test_the_service_worker_is_served_from_the_root(app, client):
    response = client.get("/badge-sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert b"caches.open" in response.data


# --- organisers: printing ---------------------------------------------------------------------------


def organiser(client):
    user = f.user(role=Role.ORGANISER, name="Olive Organiser")
    f.sign_in(client, user)
    return user


def test_batch_print_all_then_only_new_or_changed(app, client):
    f.summit()
    first = [f.registered(name=f"First {i}") for i in range(3)]
    f.invitation(name="Not Registered")
    organiser(client)

    listing = page_text(client.get("/organiser/badges"))
    assert "3 registered delegates" in listing and "Nothing printed yet" in listing

    sheet = client.post("/organiser/badges/print", data={"which": "all", "layout": "cards-2x4"})
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"
    assert "attachment" in sheet.headers["Content-Disposition"]
    assert decoded_pdf(sheet.data) == [sorted(p.code for p in first)]
    batch = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "badges.printed")).one()
    assert batch.details["count"] == 3 and batch.actor_label == "Olive Organiser"

    nothing = client.post("/organiser/badges/print", data={"which": "new", "layout": "a6-2x2"})
    assert nothing.status_code == 302
    assert "no badges to print" in page_text(client.get("/organiser/badges"))

    newcomer = f.registered(name="Newcomer")
    renamed = first[0]
    renamed.name = "First Renamed"
    db.session.commit()
    new_sheet = client.post("/organiser/badges/print", data={"which": "new", "layout": "a6-2x2"})
    assert decoded_pdf(new_sheet.data) == [sorted([newcomer.code, renamed.code])]
    assert client.post("/organiser/badges/print", data={"which": "new", "layout": "a6-2x2"}).status_code == 302

    preview = client.get("/organiser/badges/preview.pdf?which=all&layout=a6-2x2")
    assert preview.status_code == 200 and len(decoded_pdf(preview.data)) == 1
    assert (
        db.session.query(AuditEvent).filter(AuditEvent.action == "badges.printed").count() == 2
    )  # a preview records nothing
    assert client.get("/organiser/badges/preview.pdf?which=everyone&layout=a6-2x2").status_code == 400


def test_reissuing_a_code_stops_the_old_badge_and_queues_a_reprint(app, client):
    f.summit()
    ada = f.registered(name="Ada Lovelace")
    organiser(client)
    client.post("/organiser/badges/print", data={"which": "all", "layout": "cards-2x4"})
    old = ada.code
    response = client.post(f"/organiser/badges/{ada.id}/reissue-code", data={"back": "invitation", "confirm": "yes"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/organiser/invitations/{ada.id}")
    db.session.expire_all()
    ada = db.session.get(Invitation, ada.id)
    assert ada.code != old and ada.code.startswith("NH2-")
    assert decoded_png(client.get(link(ada, "badge.png")).data) == [ada.code]
    history = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "badge.code_reissued")).one()
    assert old not in str(history.details) and ada.code not in str(history.details)
    reprint = client.post("/organiser/badges/print", data={"which": "new", "layout": "cards-2x4"})
    assert decoded_pdf(reprint.data) == [[ada.code]]


def test_an_organiser_sets_the_badge_role_from_the_invitation_page(app, client):
    f.summit()
    ada = f.registered()
    organiser(client)
    page = page_text(client.get(f"/organiser/invitations/{ada.id}"))
    assert "Reissue badge code" in page and 'name="badge_role"' in page
    client.post(f"/organiser/badges/{ada.id}/role", data={"badge_role": "speaker", "back": "invitation"})
    db.session.expire_all()
    assert db.session.get(Invitation, ada.id).badge_role == "speaker"
    pdf = client.get(link(ada, "badge.pdf")).data
    assert "SPEAKER" in pdfium.PdfDocument(pdf)[0].get_textpage().get_text_range()
    assert client.post(f"/organiser/badges/{ada.id}/role", data={"badge_role": "emperor"}).status_code == 400


def test_a_revoked_invitation_cannot_have_its_code_reissued(app, client):
    f.summit()
    ada = f.registered()
    people.revoke_invitation(ada)
    db.session.commit()
    code = ada.code
    organiser(client)
    client.post(f"/organiser/badges/{ada.id}/reissue-code", data={"confirm": "yes"})
    db.session.expire_all()
    assert db.session.get(Invitation, ada.id).code == code
