"""Badge sheets, the door's not-arrived list and a fringe event's attendance list come in surname order, accents
known, on SQLite and PostgreSQL alike (sorted by app.core.collation, never by the database's collation)."""

from __future__ import annotations

import csv
import io

import pypdfium2 as pdfium

from app.core.auth.models import Role
from app.core.db import db
from tests.support import both_databases
from tests.support import factories as f
from tests.support import fringe_factories as ff

# Registered in an order that is neither the answer nor its reverse.
PEOPLE = ["Óscar Ortiz", "Zara Ahmed", "Łukasz Lis", "Aaron Lewis", "María de la Cruz", "Zoë Abbott"]
IN_ORDER = ["Zoë Abbott", "Zara Ahmed", "María de la Cruz", "Aaron Lewis", "Łukasz Lis", "Óscar Ortiz"]


def organiser(client):
    f.sign_in(client, f.user(Role.ORGANISER, name="Olive Organiser"))


def positions(text: str, names: list[str]) -> list[int]:
    return [text.index(name) for name in names]


@both_databases
def test_badge_sheets_come_off_the_printer_by_surname(app, client):
    f.summit()
    for name in PEOPLE:
        f.registered(name=name)
    organiser(client)
    pdf = client.get("/organiser/badges/preview.pdf?which=all&layout=a6-2x2")
    assert pdf.status_code == 200
    document = pdfium.PdfDocument(pdf.data)
    text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    found = positions(text.replace("\r\n", " ").replace("\n", " "), [n.split()[-1] for n in IN_ORDER])
    assert found == sorted(found)
    # The organisers' table on the badges page is in the same order.
    page = client.get("/organiser/badges").get_data(as_text=True)
    assert positions(page, IN_ORDER) == sorted(positions(page, IN_ORDER))


@both_databases
def test_the_not_arrived_csv_is_in_the_door_lists_order(app, client):
    f.summit()
    for name in PEOPLE:
        f.registered(name=name)
    organiser(client)
    body = client.get("/organiser/checkin/not-arrived.csv?event=summit").data.decode("utf-8-sig")
    names = [row["name"] for row in csv.DictReader(io.StringIO(body))]
    assert names == IN_ORDER


@both_databases
def test_a_fringe_events_attendance_list_is_by_surname(app, client):
    f.summit()
    event = ff.event("Warm-up")
    for name in PEOPLE:
        ff.signed_up(f.invitation(name=name), event)
    db.session.commit()
    organiser(client)
    page = client.get(f"/organiser/fringe/{event.id}/attendance").get_data(as_text=True)
    assert positions(page, IN_ORDER) == sorted(positions(page, IN_ORDER))
