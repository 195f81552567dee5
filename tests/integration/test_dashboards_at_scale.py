"""The dashboards as the summit grows: the same statements at 10 and at 200 invitations, the top ten on the
organisers' dashboard with the full lists a page at a time, a leader's list a page at a time in the order
that helps, and the indexes the dashboard reads."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.core.auth.models import Role
from app.core.db import db, utcnow
from app.dashboards import leader_page, organiser_page
from bench.dashboards import ORGANISATIONS, seed_invitations
from invitations.models import Invitation
from tests.support import both_databases
from tests.support import factories as f
from tests.support.pages import plain
from tests.support.statements import plan_text, query_plans, statements

# Worked out afresh: user, staff session, summit, lapsed offers (counted: the page writes nothing), tally ×2, leaders, notes, arrivals,
# days, fringe, bounces, and the registration questions' summary (the questions, and the answers counted by question)
DASHBOARD_STATEMENTS = 13
# The figures stored and no write since (app/dashboards/overview_cache.py): user, staff session, summit, lapsed
# offers (counted: the page writes nothing), the stored figures, and the questions' summary
DASHBOARD_STATEMENTS_STORED = 6
# The first view after a write, the cache on: worked out afresh, with the stored figures read first and the new
# ones stored after
DASHBOARD_STATEMENTS_AFTER_A_WRITE = DASHBOARD_STATEMENTS + 2
# user, staff session, the totals, the page's rows, and the summit (may leaders nudge before the invitation goes?)
LEADER_STATEMENTS = 5


def sent_by(client, url: str, *, warm: bool = True) -> list[str]:
    """The statements one request sends once warm, or as the first after a change (BEGIN and COMMIT left out:
    whether a driver sends its own BEGIN differs between SQLite and PostgreSQL)."""
    if warm:
        assert client.get(url).status_code == 200
    with statements() as seen:
        response = client.get(url)
    assert response.status_code == 200
    return [s for s in seen if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))]


@pytest.fixture
def leaders(app):
    f.summit()
    return [f.user(role=Role.LEADER, name=f"Leader {k:02d}") for k in range(15)]


@pytest.fixture
def organiser(app):
    client = app.test_client()
    f.sign_in(client, f.user(role=Role.ORGANISER, name="Olive Organiser"))
    return client


@both_databases
def test_the_dashboard_sends_the_same_statements_at_10_and_200_invitations(app, leaders, organiser):
    ids = [leader.id for leader in leaders]
    assert organiser.get("/organiser/").status_code == 200  # the first view of all (no invitations yet)
    seed_invitations(10, ids)
    small_after_a_write = sent_by(organiser, "/organiser/", warm=False)
    small = sent_by(organiser, "/organiser/", warm=False)
    seed_invitations(190, ids, start=10)
    large_after_a_write = sent_by(organiser, "/organiser/", warm=False)
    large = sent_by(organiser, "/organiser/", warm=False)
    print(
        f"\n[{db.engine.dialect.name}] dashboard: {len(small)} statements at 10 invitations, {len(large)} at 200 "
        f"({len(small_after_a_write)} and {len(large_after_a_write)} on the first view after a write)"
    )
    assert len(small) == len(large) == DASHBOARD_STATEMENTS_STORED
    assert len(small_after_a_write) == len(large_after_a_write) == DASHBOARD_STATEMENTS_AFTER_A_WRITE
    assert not any(re.search(r"\bFROM invitation\b", statement) for statement in large)  # no tally, no bounces
    app.config["DASHBOARD_CACHE_SECONDS"] = 0  # kept nowhere: worked out on every view, in as many statements
    assert len(sent_by(organiser, "/organiser/")) == DASHBOARD_STATEMENTS
    words = plain(organiser.get("/organiser/"))
    assert "Invited 200" in words
    # The ten leaders with most invitees (five have 14 of the 200, ten have 13: the fives, then by name).
    champions = words[words.index("Conversion is registered out of invitees") : words.index("Fringe events")]
    assert "The 10 leaders with most invitees" in champions and "All 15 leaders" in champions
    assert "Leader 04 14" in champions and "Leader 09 13" in champions and "Leader 10" not in champions
    # The ten organisations with most invitations, and all 80 a click away; the six sectors all shown.
    organisations = words[words.index("By organisation") : words.index("By sector")]
    assert "the 10 with most" in organisations and "All 80 organisations" in organisations
    most = sorted(ORGANISATIONS[:40])  # three invitations each; the other forty have two
    assert all(name in organisations for name in most[:10]) and most[10] not in organisations
    sectors = words[words.index("By sector") : words.index("Bounced emails")]
    assert "Business" in sectors and "All 6 sectors" not in sectors


@both_databases
def test_the_full_lists_come_a_page_at_a_time(app, leaders, organiser):
    seed_invitations(200, [leader.id for leader in leaders])
    for k in range(15):
        f.user(role=Role.LEADER, name=f"Leader {15 + k:02d}")  # 30 leaders: two pages of 25
    first = plain(organiser.get("/organiser/leaders"))
    assert "Leader 00" in first and "Leader 24" in first and "Leader 25" not in first and "Page 1 of 2" in first
    last = plain(organiser.get("/organiser/leaders?page=2"))
    assert "Leader 25" in last and "Leader 29" in last and "Leader 24" not in last
    assert plain(organiser.get("/organiser/leaders?page=99")) == last  # past the end: the last page
    assert plain(organiser.get("/organiser/leaders?page=-3")) == first
    assert plain(organiser.get("/organiser/leaders?page=many")) == first

    tally = organiser_page.breakdown(organiser_page.tally().by_organisation)
    assert len(tally) == 80 and sum(row.invited for row in tally) == 200
    pages = [plain(organiser.get(f"/organiser/breakdown/organisation?page={n}")) for n in (1, 4)]
    assert "Page 1 of 4" in pages[0] and "Page 4 of 4" in pages[1] and "80 organisations" in pages[0]
    for row in tally[:25]:
        assert f"{row.name} {row.invited} {row.opened} {row.registered} {row.declined} {row.conversion}%" in pages[0]
    for row in tally[75:]:
        assert f"{row.name} {row.invited} " in pages[1]
    assert tally[0].name not in pages[1]
    assert plain(organiser.get("/organiser/breakdown/organisation?page=9223372036854775808")) == pages[1]
    sectors = plain(organiser.get("/organiser/breakdown/sector"))
    assert "6 sectors" in sectors and "Page 1 of" not in sectors
    assert organiser.get("/organiser/breakdown/nothing").status_code == 404


@both_databases
def test_a_leaders_page_sends_the_same_statements_at_10_and_200_invitees(app, leaders):
    lena = leaders[0]
    client = app.test_client()
    f.sign_in(client, lena)
    seed_invitations(10, [lena.id])
    small = sent_by(client, "/leader")
    seed_invitations(190, [lena.id], start=10)
    large = sent_by(client, "/leader")
    print(f"\n[{db.engine.dialect.name}] leader's page: {len(small)} statements at 10 invitees, {len(large)} at 200")
    assert len(small) == len(large) == LEADER_STATEMENTS
    words = plain(client.get("/leader"))
    assert "of your 200 invitees are registered" in words and "Page 1 of 8" in words
    assert words.count("Invited ") + words.count("Invitation not sent yet") == leader_page.PAGE_SIZE


@both_databases
def test_a_leaders_list_comes_a_page_at_a_time_most_in_need_of_a_word_first(app, leaders):
    lena = leaders[0]
    seed_invitations(60, [lena.id])  # every kind in turn: unsent, sent, opened, declined, registered, warm…
    db.session.execute(
        Invitation.__table__.update().where(Invitation.id % 7 == 0).values(last_contact_at=utcnow())
    )  # some touched recently, so "longest since contact" really sorts
    db.session.commit()
    pages = [leader_page.leader_page(lena, target=300, page=n) for n in (1, 2, 3)]
    assert [p.page for p in pages] == [1, 2, 3] and pages[0].pages == 3 and pages[0].total == 60
    people = [person for page in pages for group in page.groups for person in group.people]
    assert len(people) == 60 and len({p.id for p in people}) == 60
    order = {key: n for n, (key, *_) in enumerate(leader_page.GROUPS)}
    # The database's order is the leader page's rule (Person.urgency), across pages too.
    assert people == sorted(people, key=lambda p: (order[p.group], p.urgency()))
    assert sum(len(g.people) for g in pages[2].groups) == 10
    # Each group's count is all of it, wherever it is; the jump list knows the page it starts on.
    everyone = {g.key: g.count for g in pages[0].jumps}
    assert sum(everyone.values()) == 60 and everyone == pages[2].counts
    for group in pages[0].jumps:
        assert group.first_page == next(p.page for p in pages if group.key in {g.key for g in p.groups}), group.key
    # Past the last page: the last.
    assert leader_page.leader_page(lena, target=300, page=7).page == 3


@both_databases
def test_a_leaders_page_numbers_are_clamped_and_an_action_comes_back_to_its_page(app, leaders):
    lena = leaders[0]
    seed_invitations(60, [lena.id])
    client = app.test_client()
    f.sign_in(client, lena)
    first, last = plain(client.get("/leader")), plain(client.get("/leader?page=3"))
    assert "Page 1 of 3" in first and "Page 3 of 3" in last
    assert plain(client.get("/leader?page=99")) == last
    assert plain(client.get("/leader?page=0")) == first and plain(client.get("/leader?page=x")) == first
    # A note about someone on the last page: back on the last page, the note's notice in their card.
    someone = leader_page.leader_page(lena, target=300, page=3).groups[-1].people[-1]
    page = client.get(f"/leader/invitees/{someone.id}/note")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True))
    response = client.post(
        f"/leader/invitees/{someone.id}/note", data={"text": "Rang them", "csrf_token": token.group(1) if token else ""}
    )
    assert response.status_code == 303
    back = client.get(response.headers["Location"])
    body = plain(back)
    assert "Page 3 of 3" in body and f"Noted for {someone.name}." in body
    # The organiser's read-only view of the same list has the same pages.
    organiser = app.test_client()
    f.sign_in(organiser, f.user(role=Role.ORGANISER))
    assert "Page 2 of 3" in plain(organiser.get(f"/organiser/leaders/{lena.id}?page=2"))


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_the_dashboard_reads_its_indexes(app, leaders, organiser):
    """The tally reads the covering index alone (no table rows, no sort); the latest bounces come through
    the index of those that bounced."""
    app.config["DASHBOARD_CACHE_SECONDS"] = 0  # every view works the figures out: this looks at how
    seed_invitations(200, [leader.id for leader in leaders])
    organiser.get("/organiser/")
    with query_plans() as nodes:
        assert organiser.get("/organiser/").status_code == 200
    plans = {sql: plan_text(rows) for sql, rows in nodes.items()}
    tally_sql = next(sql for sql in plans if "GROUP BY invitation.champion_id" in sql and "attendance" not in sql)
    tally = plans[tally_sql]
    # The grouped read of the invitations: the covering index alone, in order (no sort under it).
    (grouping,) = [node for node, _, _, detail in nodes[tally_sql] if detail.startswith("MATERIALIZE")]
    under = [detail for _, parent, _, detail in nodes[tally_sql] if parent == grouping]
    assert under == ["SCAN invitation USING COVERING INDEX ix_invitation_tally"], tally
    bounces = next(plan for sql, plan in plans.items() if "invitation.bounce_reason" in sql)
    assert "ix_invitation_bounced_at" in bounces and "TEMP B-TREE" not in bounces, bounces
    # The tally is the only statement that reads through the invitations; the rest look them up by key.
    scans = [plan for plan in plans.values() if re.search(r"SCAN invitation\b", plan)]
    assert scans == [tally], scans
    # Registrations per day from the registrations alone, counted per hour in the database.
    days = next(sql for sql in plans if "strftime" in sql and "registration.registered_at" in sql)
    assert "invitation" not in days and "GROUP BY" in days, days
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 200
