"""The door list PDF for the summit and each fringe event: who is on it, in what order, with their needs, who may
print it, and where organisers find it."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest

from app.core.auth.models import Role
from app.core.db import db
from fringe_events import programme
from invitations import journey
from tests.support import both_databases
from tests.support import factories as f
from tests.support import fringe_factories as ff


def pdf_lines(data: bytes) -> list[str]:
    document = pdfium.PdfDocument(data)
    text = "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def organiser(client):
    f.sign_in(client, f.user(Role.ORGANISER, name="Olive Organiser"))


@both_databases
def test_the_summits_door_list_has_everyone_registered_by_surname_with_needs(app, client):
    f.summit(name="The Lives we Lead: New Horizons")
    for name in ("Zara Ahmed", "Óscar Ortiz", "Aaron Lewis"):
        f.registered(name=name)
    lukasz = f.invitation(name="Łukasz Lis", organisation="Babergh District Council")
    journey.register(lukasz, f.details(name="Łukasz Lis", dietary="Vegan", organisation="Babergh District Council"))
    f.invitation(name="Ivy Invited")  # invited, not registered: not expected at the door
    cancelled = f.registered(name="Carl Cancelled")
    journey.cancel_registration(cancelled)
    db.session.commit()
    organiser(client)

    response = client.get("/organiser/door-list/summit.pdf")

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "door-list-summit.pdf" in response.headers["Content-Disposition"]
    lines = pdf_lines(response.data)
    names = [line for line in lines if line in {"Ahmed, Zara", "Lewis, Aaron", "Lis, Łukasz", "Ortiz, Óscar"}]
    assert names == ["Ahmed, Zara", "Lewis, Aaron", "Lis, Łukasz", "Ortiz, Óscar"]
    assert "Babergh District Council" in lines and "Dietary: Vegan" in lines
    text = "\n".join(lines)
    assert "Invited" not in text and "Cancelled" not in text
    assert "The Lives we Lead: New Horizons" in text and "Page 1 of 1" in text
    assert "Door list: 4 people expected" in text


@both_databases
def test_a_fringe_events_door_list_has_the_people_signed_up(app, client):
    f.summit()
    event = ff.event("Social marketing warm-up")
    for name in ("Zoë Lee", "Ann De Souza"):
        ff.signed_up(f.invitation(name=name), event)
    f.invitation(name="Not Signed")
    db.session.commit()
    organiser(client)

    response = client.get(f"/organiser/door-list/{event.slug}.pdf")

    assert response.status_code == 200
    lines = pdf_lines(response.data)
    assert lines[0] == "Social marketing warm-up"
    assert [line for line in lines if "," in line and "·" not in line and "Printed" not in line] == [
        "De Souza, Ann",
        "Lee, Zoë",
    ]
    assert "Signed, Not" not in lines


def test_a_cancelled_or_unknown_event_has_no_door_list(app, client):
    f.summit()
    event = ff.event()
    programme.cancel_event(event, reason="Snow")
    db.session.commit()
    organiser(client)
    assert client.get(f"/organiser/door-list/{event.slug}.pdf").status_code == 404
    assert client.get("/organiser/door-list/no-such-event.pdf").status_code == 404


@pytest.mark.parametrize("role", [Role.STEWARD, Role.LEADER])
def test_stewards_and_leaders_cannot_print_the_door_list(app, client, role):
    f.summit()
    f.registered(name="Ada Lovelace")
    f.sign_in(client, f.user(role))
    response = client.get("/organiser/door-list/summit.pdf")
    assert response.status_code == 403 and b"Lovelace" not in response.data


def test_signed_out_visitors_are_sent_to_sign_in(app, client):
    f.summit()
    response = client.get("/organiser/door-list/summit.pdf")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_organisers_find_it_on_the_summit_and_fringe_event_pages_and_the_check_in_overview(app, client):
    f.summit()
    event = ff.event()
    organiser(client)
    links = {
        "/organiser/summit": "/organiser/door-list/summit.pdf",
        f"/organiser/fringe/{event.id}": f"/organiser/door-list/{event.slug}.pdf",
        "/organiser/checkin?event=summit": "/organiser/door-list/summit.pdf",
    }
    for page, target in links.items():
        html = client.get(page).get_data(as_text=True)
        assert f'href="{target}"' in html and "Door list (PDF)" in html, page
