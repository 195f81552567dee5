"""The organisers' dashboard, champion assignment and the CSV exports; and the query count of both
dashboards, which must not grow with the number of invitees."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import event, func, select

from app.core.audit import AuditEvent
from app.core.auth.models import Role
from app.core.db import db, utcnow
from app.dashboards import charts, organiser_page
from bench.dashboards import seed_invitations
from fringe_events.models import Attendance, FringeEvent, FringeSignup
from invitations import chasing, journey, mailing
from invitations.models import Invitation, InvitationState, LeaderNote, NoteKind, Registration
from tests.support import both_databases
from tests.support import factories as f
from tests.support.pages import plain, text

S = InvitationState


def rows_of(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    body = response.get_data().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def staff(app):
    f.summit(capacity=350, target=300)
    lena = f.user(role=Role.LEADER, name="Lena Leader", email="lena@council.example.org")
    mo = f.user(role=Role.LEADER, name="Mo Other")
    olive = f.user(role=Role.ORGANISER, name="Olive Organiser")
    return {"lena": lena, "mo": mo, "olive": olive}


@pytest.fixture
def organiser_client(app, staff):
    client = app.test_client()
    f.sign_in(client, staff["olive"])
    return client


def register(inv: Invitation, **needs) -> Invitation:
    journey.register(inv, f.details(name=inv.name, organisation=inv.organisation, **needs))
    db.session.commit()
    return inv


# --- the dashboard ------------------------------------------------------------------------------


@pytest.fixture
def summit_under_way(staff):
    lena, mo = staff["lena"], staff["mo"]
    event = FringeEvent(
        slug="digital",
        title="Digital by default",
        venue="Ipswich Town Hall",
        starts_at=utcnow() - timedelta(days=6),
        ends_at=utcnow() - timedelta(days=6, hours=-2),
        capacity=40,
    )
    db.session.add(event)
    db.session.commit()
    people = {}
    for name, org, sector, champion in [
        ("Ada Lovelace", "Ipswich Borough Council", "Local government", lena),
        ("Grace Hopper", "Ipswich Borough Council", "Local government", lena),
        ("Alan Turing", "Suffolk PCT", "Health", mo),
        ("Mary Somerville", "Suffolk PCT", "Health", None),
        ("Charles Babbage", "Suffolk Police", "Police", lena),
    ]:
        inv = f.invitation(name=name, organisation=org, champion=champion)
        inv.sector = sector
        mailing.send_invitation(inv)
        people[name.split()[0].lower()] = inv
    db.session.commit()
    for key in ("ada", "grace", "alan"):
        people[key].opened_at = utcnow()
    register(people["ada"], dietary="Vegan")
    register(people["grace"], access_needs="Step-free access")
    journey.decline(people["alan"], "Away that week.")
    people["charles"].bounced_at = utcnow()
    people["charles"].bounce_reason = "550 No such user"
    # Ada came to the fringe event first and registered after; Mary came but hasn't registered.
    for key, when in (("ada", utcnow() - timedelta(days=6)), ("mary", utcnow() - timedelta(days=6))):
        db.session.add(FringeSignup(invitation_id=people[key].id, fringe_event_id=event.id))
        db.session.add(
            Attendance(
                invitation_id=people[key].id, event_key=event.event_key, fringe_event_id=event.id, checked_in_at=when
            )
        )
    db.session.add(Attendance(invitation_id=people["grace"].id, event_key="summit", checked_in_at=utcnow()))
    db.session.commit()
    chasing.add_note(people["charles"], lena, "emailed his PA")
    db.session.commit()
    return people


def test_the_dashboard_shows_figures_funnel_chart_and_tables(organiser_client, summit_under_way):
    response = organiser_client.get("/organiser/")
    assert response.status_code == 200
    body, words = text(response), plain(response)
    for figure, label in (
        ("2", "registered"),
        ("0", "offers held"),
        ("350", "capacity"),
        ("300", "target"),
        ("0", "on the waiting list"),
    ):
        assert re.search(rf'tile__figure">{figure}</span><span class="tile__label">{label}<', body), label
    # The funnel as bars (SVG, sized by attributes: no inline styles under the CSP) and in a table.
    assert 'class="chart chart--funnel"' in body and "style=" not in body
    for stage, people in (
        ("Invited", 5),
        ("Sent", 5),
        ("Opened", 3),
        ("Registered", 2),
        ("Warmed up", 1),
        ("Arrived", 1),
    ):
        assert f"{stage} {people}" in words, stage
    assert re.search(r'<rect class="chart__bar chart__bar--registered" x="0" y="\d+" width="40.0%"', body)
    # Registrations per day: a line and its numbers.
    assert "<polyline" in body or 'class="chart__line"' in body
    assert re.search(r"Running total of registrations.*New Total \w{3} \d+ \w{3} 2 2", words)
    # Organisation, sector, champions, fringe, bounces.
    assert "Ipswich Borough Council 2 2 2 0 100%" in words
    assert "Health 2 1 0 1 0%" in words
    assert "Lena Leader Invitees" not in words
    assert re.search(r"Lena Leader 3 2 2 67% 180 1 0 1 today", words), words[words.index("Conversion per leader") :][
        :600
    ]
    assert "No champion 1 0 0 0% — 0 — — —" in words
    assert re.search(r"Digital by default \w+ \d+ \w+ 2 / 40 2 1 50% 1", words)
    assert "Charles Babbage" in body and "550 No such user" in body and "Bounced emails (1)" in words
    for export in ("delegates", "needs", "attendance", "follow-up"):
        assert f"/organiser/exports/{export}.csv" in body


def test_the_dashboard_for_an_empty_summit(organiser_client):
    body = plain(organiser_client.get("/organiser/"))
    assert "Nobody has registered yet" in body and "No bounces" in body and "No fringe events yet" in body


def test_chart_geometry_is_pure_and_scaled():
    bars, height = charts.funnel_bars(
        organiser_page.FUNNEL, {"invited": 200, "sent": 100, "opened": 1, "registered": 0}
    )
    assert [b.width for b in bars[:4]] == [100.0, 50.0, 0.6, 0.0] and height == 6 * charts.ROW
    line = charts.line_chart([1, 3, 6], "a", "b", target=10)
    assert line.y_max == 10 and line.points.startswith("0.0,360.0") and line.points.endswith("1000.0,160.0")
    assert line.target_y == 0.0
    assert charts.line_chart([], None, None) is None
    assert charts.line_chart([4], "a", "a").single


# --- the number of queries does not grow with the number of invitees ---------------------------------


def count_statements(client, url: str) -> int:
    seen = []

    def listener(conn, cursor, statement, *args):
        if not statement.startswith("BEGIN"):  # whether the page opens its own transaction depends on the test
            seen.append(statement)

    db.session.commit()  # the test's own transaction ends, as a request's would: a page's reads don't wait for it
    client.get(url)  # warm: the first request may load what later ones have cached
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert response.status_code == 200
    return len(seen)


@both_databases
def test_queries_per_page_do_not_grow_with_invitees(app):
    f.summit()
    lena = f.user(role=Role.LEADER, name="Lena Leader")
    olive = f.user(role=Role.ORGANISER)
    leader_client, organiser_client = app.test_client(), app.test_client()
    f.sign_in(leader_client, lena)
    f.sign_in(organiser_client, olive)

    seed_invitations(10, [lena.id])
    small = {
        "leader": count_statements(leader_client, "/leader"),
        "dashboard": count_statements(organiser_client, "/organiser/"),
    }
    seed_invitations(990, [lena.id], start=10)
    assert (
        db.session.scalar(select(func.count()).select_from(Invitation).where(Invitation.champion_id == lena.id)) == 1000
    )
    large = {
        "leader": count_statements(leader_client, "/leader"),
        "dashboard": count_statements(organiser_client, "/organiser/"),
    }
    print(f"\n[{db.engine.dialect.name}] statements with 10 invitees: {small}; with 1,000: {large}")
    assert small == large
    assert small["leader"] <= 6 and small["dashboard"] <= 15
    # Both pages really show the thousand.
    assert "of your 1000 invitees are registered" in plain(leader_client.get("/leader"))
    assert "Invited 1000" in plain(organiser_client.get("/organiser/")).replace("Invited 1,000", "Invited 1000")


# --- champions: in bulk, and by organisation ------------------------------------------------------


def test_organisers_tick_invitations_and_choose_a_leader(app, organiser_client, staff):
    lena = staff["lena"]
    picked = [f.invitation(name=f"Picked {k}") for k in range(3)]
    left = f.invitation(name="Left Alone", champion=staff["mo"])
    page = text(organiser_client.get("/organiser/invitations?state=invited"))
    assert 'form="bulk-champion"' in page and 'id="bulk-champion"' in page
    response = organiser_client.post(
        "/organiser/champions/assign",
        data={
            "invitation_id": [str(p.id) for p in picked],
            "champion_id": str(lena.id),
            "return_to": "/organiser/invitations?state=invited",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/organiser/invitations?state=invited")
    db.session.expire_all()
    assert {db.session.get(Invitation, p.id).champion_id for p in picked} == {lena.id}
    assert db.session.get(Invitation, left.id).champion_id == staff["mo"].id
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "invitation.champion_assigned")
        )
        == 3
    )
    assert "3 invitations now championed by Lena Leader" in text(organiser_client.get("/organiser/invitations"))
    # Nothing ticked, or no leader chosen: a sentence, and nothing changes.
    organiser_client.post("/organiser/champions/assign", data={"champion_id": str(lena.id)})
    assert "Tick the invitations" in text(organiser_client.get("/organiser/invitations"))
    organiser_client.post("/organiser/champions/assign", data={"invitation_id": [str(left.id)], "champion_id": ""})
    assert "Choose a leader" in text(organiser_client.get("/organiser/invitations"))
    assert db.session.get(Invitation, left.id).champion_id == staff["mo"].id
    # The way back never leaves the invitations list.
    response = organiser_client.post(
        "/organiser/champions/assign",
        data={
            "invitation_id": [str(left.id)],
            "champion_id": "0",
            "return_to": "https://evil.example/organiser/invitations",
        },
    )
    assert urlsplit(response.headers["Location"]).netloc in ("", "localhost")
    db.session.expire_all()
    assert db.session.get(Invitation, left.id).champion_id is None  # "No champion" clears it


def test_an_organisation_mapping_fills_only_missing_champions(app, organiser_client, staff):
    lena, mo = staff["lena"], staff["mo"]
    lena.organisation = "Babergh District Council"
    db.session.commit()
    loose = [f.invitation(name=f"Loose {k}", organisation="Babergh District Council") for k in range(2)]
    kept = f.invitation(name="Kept", organisation="Babergh District Council", champion=mo)
    elsewhere = f.invitation(name="Elsewhere", organisation="Suffolk PCT")
    page = text(organiser_client.get("/organiser/champions"))
    assert "Babergh District Council" in page and "Suffolk PCT" in page
    assert re.search(rf'<option value="{lena.id}" selected>Lena Leader', page)  # suggested: she works there
    response = organiser_client.post(
        "/organiser/champions",
        data={"organisation": ["Babergh District Council", "Suffolk PCT"], "leader_id": [str(lena.id), ""]},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert [db.session.get(Invitation, i.id).champion_id for i in loose] == [lena.id, lena.id]
    assert db.session.get(Invitation, kept.id).champion_id == mo.id
    assert db.session.get(Invitation, elsewhere.id).champion_id is None
    assert "2 invitations in 1 organisation now have a champion" in text(organiser_client.get("/organiser/champions"))


def test_the_leaders_list_links_every_leaders_page(organiser_client, staff, summit_under_way):
    body = text(organiser_client.get("/organiser/leaders"))
    assert f'/organiser/leaders/{staff["lena"].id}"' in body and f'/organiser/leaders/{staff["mo"].id}"' in body
    page = plain(organiser_client.get(f"/organiser/leaders/{staff['lena'].id}"))
    assert "2 of their 3 invitees are registered" in page


# --- exports ---------------------------------------------------------------------------------------


def test_delegates_export(organiser_client, summit_under_way):
    rows = rows_of(organiser_client.get("/organiser/exports/delegates.csv"))
    assert rows[0] == [
        "name",
        "email",
        "organisation",
        "job_title",
        "sector",
        "champion",
        "registered_at",
        "attended_a_fringe_event",
    ]
    assert [r[0] for r in rows[1:]] == ["Ada Lovelace", "Grace Hopper"]
    ada = rows[1]
    assert ada[1] == summit_under_way["ada"].email and ada[5] == "Lena Leader" and ada[7] == "yes"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", ada[6])


def test_needs_export_has_names_and_needs_but_no_contact_details(organiser_client, summit_under_way):
    response = organiser_client.get("/organiser/exports/needs.csv")
    rows = rows_of(response)
    assert rows == [
        ["name", "organisation", "dietary", "access"],
        ["Ada Lovelace", "Ipswich Borough Council", "Vegan", ""],
        ["Grace Hopper", "Ipswich Borough Council", "", "Step-free access"],
    ]
    assert "@" not in response.get_data(as_text=True)


def test_attendance_export(organiser_client, summit_under_way):
    rows = rows_of(organiser_client.get("/organiser/exports/attendance.csv"))
    assert rows[0] == [
        "event",
        "event_title",
        "name",
        "organisation",
        "checked_in_at",
        "method",
        "walk_in",
        "checked_in_by",
    ]
    assert [(r[1], r[2]) for r in rows[1:]] == [
        ("Digital by default", "Ada Lovelace"),
        ("Digital by default", "Mary Somerville"),
        ("The summit", "Grace Hopper"),
    ]


def test_leaders_follow_up_export(organiser_client, staff, summit_under_way):
    rows = rows_of(organiser_client.get("/organiser/exports/follow-up.csv"))
    assert rows[0] == [
        "leader",
        "leader_email",
        "invitee",
        "invitee_email",
        "organisation",
        "state",
        "invited_at",
        "last_contact_at",
        "last_nudged_at",
        "dont_chase",
        "notes",
    ]
    by_invitee = {r[2]: r for r in rows[1:]}
    assert set(by_invitee) == {"Ada Lovelace", "Grace Hopper", "Charles Babbage", "Alan Turing"}  # Mary has no champion
    charles = by_invitee["Charles Babbage"]
    assert charles[0] == "Lena Leader" and charles[5] == "invited" and charles[9] == "no"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d note: emailed his PA", charles[10])
    assert by_invitee["Alan Turing"][0] == "Mo Other" and by_invitee["Alan Turing"][5] == "declined"


def test_exports_defuse_spreadsheet_formulas(organiser_client, staff):
    evil = f.invitation(
        name='=HYPERLINK("http://evil.example","Click")', organisation="+Evil Org", champion=staff["lena"]
    )
    register(evil, dietary="@SUM(1+1)", access_needs="-2+3")
    evil = db.session.get(Invitation, evil.id)
    evil.name = '=HYPERLINK("http://evil.example","Click")'  # registering took the name from the form
    evil.organisation = "+Evil Org"
    db.session.commit()
    chasing.add_note(evil, staff["lena"], "=cmd|' /C calc'!A0")
    db.session.commit()
    for export in ("delegates", "needs", "follow-up"):
        rows = rows_of(organiser_client.get(f"/organiser/exports/{export}.csv"))
        row = next(r for r in rows if "HYPERLINK" in ",".join(r))
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@")), (export, cell)
        name_cell = row[2] if export == "follow-up" else row[0]
        assert name_cell == "'" + '=HYPERLINK("http://evil.example","Click")', export
    needs = rows_of(organiser_client.get("/organiser/exports/needs.csv"))
    assert needs[1][1:] == ["'+Evil Org", "'@SUM(1+1)", "'-2+3"]


def test_a_registration_in_the_past_counts_on_its_london_day(app, staff):
    # 11:30pm UTC on a summer evening is already the next day in London.
    inv = register(f.invitation(name="Late Registrant"))
    reg = db.session.scalars(select(Registration).where(Registration.invitation_id == inv.id)).one()
    from datetime import datetime

    reg.registered_at = datetime(2026, 7, 1, 23, 30, tzinfo=UTC)
    db.session.commit()
    days = organiser_page.registrations_per_day(now=datetime(2026, 7, 3, 12, 0, tzinfo=UTC))
    assert [(d.day.isoformat(), d.new, d.total) for d in days] == [("2026-07-02", 1, 1), ("2026-07-03", 0, 1)]


@both_databases
def test_registrations_are_counted_per_london_day_from_hours_either_side_of_midnight(app, staff):
    # Counted in the database per UTC hour, then folded into London days: the last minute before London's
    # midnight and the first after, in summer (UTC+1) and in winter (UTC), and several in one hour.
    stamps = [
        datetime(2026, 7, 1, 22, 59, 59, 999999, tzinfo=UTC),  # 23:59:59 in London: 1 July
        datetime(2026, 7, 1, 23, 0, tzinfo=UTC),  # midnight in London: 2 July
        datetime(2026, 7, 1, 23, 30, tzinfo=UTC),
        datetime(2026, 7, 1, 23, 59, tzinfo=UTC),
        datetime(2026, 12, 1, 23, 59, tzinfo=UTC),  # winter: still 1 December in London
        datetime(2026, 12, 2, 0, 0, tzinfo=UTC),  # 2 December
    ]
    for n, stamp in enumerate(stamps):
        inv = register(f.invitation(name=f"Registrant {n}"))
        reg = db.session.scalars(select(Registration).where(Registration.invitation_id == inv.id)).one()
        reg.registered_at = stamp
    db.session.commit()
    days = organiser_page.registrations_per_day(now=datetime(2026, 12, 2, 12, 0, tzinfo=UTC))
    counted = {d.day.isoformat(): (d.new, d.total) for d in days if d.new}
    assert counted == {"2026-07-01": (1, 1), "2026-07-02": (3, 4), "2026-12-01": (1, 5), "2026-12-02": (1, 6)}
    assert [d.day for d in days] == sorted(d.day for d in days) and len(days) == (days[-1].day - days[0].day).days + 1


def test_the_champions_read_model_counts_nudges_notes_and_shares(staff, summit_under_way):
    lena = staff["lena"]
    inv = f.invitation(name="Nudgee", champion=lena)
    mailing.send_invitation(inv)
    chasing.nudge(inv, lena, "Do come")
    db.session.commit()
    rows = {r.name: r for r in organiser_page.champions(target=300)}
    assert rows["Lena Leader"].invitees == 4 and rows["Lena Leader"].nudges == 1 and rows["Lena Leader"].notes == 1
    assert rows["Lena Leader"].share == round(300 * 4 / 6)
    assert rows["No champion"].invitees == 1
    assert db.session.scalar(select(func.count()).select_from(LeaderNote).where(LeaderNote.kind == NoteKind.NUDGE)) == 1
