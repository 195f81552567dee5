"""Badges the door needs besides the delegates' sheets: one badge reprinted (from the invitation page or the
scanner's person card), recorded and shown; and badges for staff, speakers and guests, who hold no place."""

from __future__ import annotations

import html
import re

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
import zxingcpp
from sqlalchemy import select

from app.badges import rules as badge_rules
from app.badges.builders import MIN_NAME_PT
from app.core.audit import AuditEvent
from app.core.auth.models import Role
from app.core.db import db
from app.core.forms import STALE_FORM
from app.core.timefmt import clock, day
from invitations import people
from tests.support import both_databases
from tests.support import factories as f
from tests.support.apps import FreshSessionClient, make_app
from tests.support.pages import csrf_from


def barcodes(pdf: bytes) -> list[str]:
    document = pdfium.PdfDocument(pdf)
    return [
        r.text
        for i in range(len(document))
        for r in zxingcpp.read_barcodes(document[i].render(scale=200 / 72).to_pil())
    ]


def pdf_text(pdf: bytes) -> str:
    """The PDF's words, spaces as one (a long name wraps)."""
    document = pdfium.PdfDocument(pdf)
    return " ".join(" ".join(document[i].get_textpage().get_text_range() for i in range(len(document))).split())


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def page(client, url: str) -> str:
    """The page's words: tags taken out (names are links), spaces as one."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", client.get(url).get_data(as_text=True))).split())


# --- one badge again -----------------------------------------------------------------------------------


@both_databases
def test_a_reprint_from_the_invitation_page_is_recorded_and_shown_there(app, client):
    f.summit()
    ada = f.registered(name="Ada Lovelace")
    lucy = f.user(Role.ORGANISER, name="Lucy Organiser")
    f.sign_in(client, lucy)
    assert "Reprint badge" in page(client, f"/organiser/invitations/{ada.id}")
    assert "Reprinted" not in page(client, f"/organiser/invitations/{ada.id}")

    response = client.post(f"/organiser/badges/{ada.id}/reprint")

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert barcodes(response.data) == [ada.code]  # the same badge: its code unchanged
    (reprint,) = events("badge.reprinted")
    assert (reprint.invitation_id, reprint.actor_id, reprint.actor_label) == (ada.id, lucy.id, "Lucy Organiser")
    assert reprint.details["via"] == "invitation" and ada.code not in str(reprint.details)
    shown = page(client, f"/organiser/invitations/{ada.id}")
    assert (
        f"Reprinted at {clock(reprint.at)} on {day(reprint.at)} by Lucy Organiser, from the invitation page." in shown
    )
    # It counts as printed: "new or changed since the last print" no longer holds it.
    assert ada.id not in {inv.id for inv in badge_rules.badges_to_print("new")}
    # And the audit log says it in words.
    assert "Lucy Organiser printed Ada Lovelace's badge again (the same code)." in page(client, "/organiser/audit/")


def test_a_revoked_invitation_has_no_badge_to_reprint(app, client):
    f.summit()
    ada = f.registered()
    people.revoke_invitation(ada)
    db.session.commit()
    f.sign_in(client, f.user(Role.ORGANISER))
    response = client.post(f"/organiser/badges/{ada.id}/reprint")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/organiser/invitations/{ada.id}")
    assert "no badge to print" in page(client, f"/organiser/invitations/{ada.id}")
    assert events("badge.reprinted") == []


@pytest.mark.parametrize("role", [Role.STEWARD, Role.LEADER])
def test_stewards_and_leaders_cannot_reprint_a_badge(app, client, role):
    f.summit()
    ada = f.registered()
    f.sign_in(client, f.user(role))
    assert client.post(f"/organiser/badges/{ada.id}/reprint").status_code == 403
    scanner = client.post("/checkin/reprint", json={"code": ada.code})
    assert scanner.status_code == 403 and scanner.get_json() == {"error": "Only organisers can print a badge again."}
    assert events("badge.reprinted") == []


def test_the_scanners_person_card_reprints_by_code_or_reference(app, client):
    f.summit()
    ada = f.registered(name="Ada Lovelace")
    f.sign_in(client, f.user(Role.ORGANISER, name="Lucy Organiser"))

    by_code = client.post("/checkin/reprint", json={"code": ada.code})
    assert by_code.status_code == 200 and by_code.mimetype == "application/pdf"
    assert by_code.headers["Cache-Control"] == "no-store"
    assert barcodes(by_code.data) == [ada.code]
    by_ref = client.post("/checkin/reprint", json={"ref": f"p{ada.id}"})
    assert by_ref.status_code == 200 and barcodes(by_ref.data) == [ada.code]

    assert [e.details["via"] for e in events("badge.reprinted")] == ["scanner", "scanner"]
    assert "by Lucy Organiser, at the door." in page(client, f"/organiser/invitations/{ada.id}")


def test_the_scanners_reprint_answers_bad_requests_in_json(app, client):
    f.summit()
    ada = f.registered()
    old_code = ada.code
    badge_rules.reissue_code(ada)
    db.session.commit()
    signed_out = client.post("/checkin/reprint", json={"code": ada.code})
    assert signed_out.status_code == 401 and "error" in signed_out.get_json()
    f.sign_in(client, f.user(Role.ORGANISER))
    for body in ({}, {"code": ""}, {"code": 12}, None):
        answer = client.post("/checkin/reprint", json=body)
        assert answer.status_code == 400 and "code" in answer.get_json()["error"], body
    for body in ({"code": old_code}, {"code": "NH2-NOTACODE"}, {"ref": "p999999"}, {"ref": "nonsense"}):
        answer = client.post("/checkin/reprint", json=body)
        assert answer.status_code == 404 and "isn't a live badge" in answer.get_json()["error"], body
    assert events("badge.reprinted") == []


# --- staff, speakers and guests ------------------------------------------------------------------------


def test_staff_and_speaker_badges_carry_the_band_and_no_qr(app, client):
    f.summit()
    olive = f.user(Role.ORGANISER, name="Olive Organiser")
    lucy = f.user(Role.STEWARD, name="Lucy Steward")
    lucy.organisation = "Suffolk County Council"
    f.user(Role.LEADER, name="Len Leader")  # not ticked: no badge
    db.session.commit()
    f.sign_in(client, olive)
    listing = page(client, "/organiser/badges")
    assert "Staff, speakers and guests" in listing and "Lucy Steward (Steward, Suffolk County Council)" in listing

    response = client.post(
        "/organiser/badges/no-place",
        data={
            "staff": [str(lucy.id), str(olive.id)],
            "named": "Ngozi Okonjo, University of Suffolk\n\n  Sam  Guest  ,  Ipswich Town FC, Community Trust  \n",
            "band": "speaker",
            "layout": "a6-2x2",
        },
    )

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    for words in ("Lucy Steward", "Suffolk County Council", "Olive Organiser", "Ngozi Okonjo", "University of Suffolk"):
        assert words in text
    assert "Sam Guest" in text and "Ipswich Town FC, Community Trust" in text and "Len Leader" not in text
    assert text.count("STAFF") >= 2 and text.count("SPEAKER") >= 2  # the band and the large word
    assert barcodes(response.data) == []  # nothing for the scanner: no delegate code, no QR
    # The name is 28 pt or more.
    textpage = pdfium.PdfDocument(response.data)[0].get_textpage()
    whole = textpage.get_text_range()
    assert pdfium_c.FPDFText_GetFontSize(textpage.raw, whole.index("Lucy")) >= MIN_NAME_PT
    # Kept: how many and which bands; not the names.
    (printed,) = events("badges.no_place_printed")
    assert printed.details["count"] == 4 and printed.details["bands"] == {"staff": 2, "speaker": 2}
    assert "Ngozi" not in str(printed.details) and "Lucy" not in str(printed.details)
    assert "printed 4 badges with no delegate place" in page(client, "/organiser/audit/")


def test_a_speaker_alone_and_the_card_layout(app, client):
    f.summit()
    f.sign_in(client, f.user(Role.ORGANISER))
    response = client.post(
        "/organiser/badges/no-place", data={"named": "Guest Person", "band": "guest", "layout": "cards-2x4"}
    )
    assert response.status_code == 200
    assert "GUEST" in pdf_text(response.data) and "Guest Person" in pdf_text(response.data)
    assert barcodes(response.data) == []


@pytest.mark.parametrize(
    "data,message",
    [
        ({"named": "", "band": "speaker", "layout": "a6-2x2"}, "Tick at least one staff member"),
        ({"named": ", University of Suffolk", "band": "speaker", "layout": "a6-2x2"}, "Line 1 has no name"),
        ({"named": "A Person\n" + "x" * 201, "band": "speaker", "layout": "a6-2x2"}, "Line 2 is too long"),
        ({"named": "A Person", "band": "emperor", "layout": "a6-2x2"}, "Not a valid choice"),
        ({"staff": ["99999"], "named": "", "band": "speaker", "layout": "a6-2x2"}, "isn't an active staff account"),
    ],
)
def test_a_staff_badge_form_with_a_mistake_comes_back_with_a_sentence_and_prints_nothing(app, client, data, message):
    f.summit()
    f.sign_in(client, f.user(Role.ORGANISER))
    response = client.post("/organiser/badges/no-place", data=data)
    assert response.status_code == 422 and response.mimetype == "text/html"
    assert message in html.unescape(response.get_data(as_text=True))
    assert events("badges.no_place_printed") == []


@pytest.mark.parametrize("role", [Role.STEWARD, Role.LEADER])
def test_stewards_and_leaders_cannot_print_staff_badges(app, client, role):
    f.summit()
    f.sign_in(client, f.user(role))
    response = client.post("/organiser/badges/no-place", data={"named": "A Person", "band": "speaker"})
    assert response.status_code == 403 and events("badges.no_place_printed") == []


def test_the_staff_badge_pdf_has_no_barcode_a_scanner_could_read(app):
    """Rendered on its own, at the resolution the delegates' badges are tested at: zxing finds nothing."""
    from app.badges.builders import badge_pdf

    badge = badge_rules.no_place_badge("Lucy Steward", "Suffolk County Council", "staff")
    assert badge.code == "" and badge.role_label == "Staff"
    pdf = badge_pdf(badge)
    assert barcodes(pdf) == [] and "STAFF" in pdf_text(pdf)
    with pytest.raises(ValueError):
        badge_rules.no_place_badge("X", "Y", "delegate")


def test_with_csrf_on_the_forms_carry_their_token_and_a_stale_one_keeps_the_names_typed(tmp_path):
    app = make_app("sqlite", tmp_path, WTF_CSRF_ENABLED=True)
    app.test_client_class = FreshSessionClient
    with app.app_context():
        client = app.test_client()
        f.summit()
        ada = f.registered(name="Ada Lovelace")
        organiser = f.user(Role.ORGANISER)
        sign_in = client.get("/sign-in").get_data(as_text=True)
        client.post(
            "/sign-in", data={"email": organiser.email, "password": f.PASSWORD, "csrf_token": csrf_from(sign_in)}
        )

        typed = {"named": "Ngozi Okonjo, University of Suffolk", "band": "speaker", "layout": "a6-2x2"}
        stale = client.post("/organiser/badges/no-place", data={**typed, "csrf_token": "stale"})
        assert stale.status_code == 422 and STALE_FORM in html.unescape(stale.get_data(as_text=True))
        assert "Ngozi Okonjo, University of Suffolk" in stale.get_data(as_text=True)
        assert client.post(f"/organiser/badges/{ada.id}/reprint").status_code in (302, 303)  # no token: nothing
        assert events("badges.no_place_printed") == [] and events("badge.reprinted") == []

        token = csrf_from(client.get(f"/organiser/invitations/{ada.id}").get_data(as_text=True))
        assert client.post(f"/organiser/badges/{ada.id}/reprint", data={"csrf_token": token}).status_code == 200
        assert client.post("/checkin/reprint", json={"code": ada.code}).status_code == 400  # the scanner's: header
        reprint = client.post("/checkin/reprint", json={"code": ada.code}, headers={"X-CSRFToken": token})
        assert reprint.status_code == 200
        assert len(events("badge.reprinted")) == 2
        db.engine.dispose()
