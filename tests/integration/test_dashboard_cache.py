"""The organisers' dashboard's stored figures (app/dashboards/overview_cache.py): every write to what they come
from is on the very next view, whichever path made it and whichever app server shows it; a view with no write
since reads the stored figures, which are never older than DASHBOARD_CACHE_SECONDS."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, text, update

from app.core.auth.models import Role
from app.core.db import db, utcnow
from app.dashboards.overview_cache import DashboardCache
from app.factory import create_app
from bench.dashboards import seed_invitations
from invitations import links
from invitations.models import Invitation, InvitationState
from tests.support import both_databases
from tests.support import factories as f
from tests.support.pages import REGISTRATION_FORM, plain

S = InvitationState


@pytest.fixture
def olive(app):
    f.summit(capacity=350, target=300)
    lena = f.user(role=Role.LEADER, name="Lena Leader")
    seed_invitations(30, [lena.id])
    client = app.test_client()
    f.sign_in(client, f.user(role=Role.ORGANISER, name="Olive Organiser"))
    return client


def dashboard(client) -> str:
    response = client.get("/organiser/")
    assert response.status_code == 200
    return plain(response)


def worked_out_afresh(app, client) -> str:
    """The dashboard as it is with nothing kept: what every view must show."""
    seconds = app.config["DASHBOARD_CACHE_SECONDS"]
    app.config["DASHBOARD_CACHE_SECONDS"] = 0
    try:
        return dashboard(client)
    finally:
        app.config["DASHBOARD_CACHE_SECONDS"] = seconds


def stored() -> DashboardCache | None:
    """The row as it is now (read in a transaction that ends at once: outside a request, SQLite's takes the write
    lock, and the other writers here must not wait for the test)."""
    db.session.expire_all()
    row = db.session.get(DashboardCache, 1)
    db.session.commit()
    return row


def shown_after(app, client, change) -> tuple[str, str]:
    """The dashboard before and after `change`, each viewed twice (so the figures are stored); after it, checked
    against the figures worked out with nothing kept. The test's own rows are committed first: outside a request
    its transaction holds SQLite's write lock, and a page that reads doesn't wait for it to keep its figures."""
    db.session.commit()
    worked_out = dashboard(client)
    before = dashboard(client)  # from the stored figures: the same page to the letter
    assert stored() is not None and stored().cached_generation == stored().generation
    assert before == worked_out
    change()
    after = dashboard(client)
    assert after == worked_out_afresh(app, client)
    assert after != before, "the change should show"
    return before, after


@both_databases
def test_a_delegate_registering_or_declining_is_on_the_next_view(app, olive):
    newcomer, doubter = f.invitation(name="Nina Newcomer"), f.invitation(name="Dora Doubter")
    registered = sum(1 for i in db.session.scalars(select(Invitation)) if i.state == S.REGISTERED)

    def register():
        delegate = app.test_client()
        response = delegate.post(f"/i/{links.token_for(newcomer)}/register", data=REGISTRATION_FORM)
        assert response.status_code in (302, 303), response.status_code

    before, after = shown_after(app, olive, register)
    assert f"{registered} registered of the target" in before and f"{registered + 1} registered of the target" in after

    def decline():
        response = app.test_client().post(f"/i/{links.token_for(doubter)}/decline", data={"reason": "Away"})
        assert response.status_code in (302, 303), response.status_code

    shown_after(app, olive, decline)
    assert f.fresh(doubter).state == S.DECLINED


@both_databases
def test_an_import_and_a_champion_change_are_on_the_next_view(app, olive, runner, tmp_path):
    mo = f.user(role=Role.LEADER, name="Mo Other", email="mo@council.example.org")
    sheet = tmp_path / "people.csv"
    sheet.write_text(
        "email,name,organisation,job_title,champion_email\n"
        "new1@example.org,New One,Brand New Trust,Officer,mo@council.example.org\n"
        "new2@example.org,New Two,Brand New Trust,Officer,\n"
    )

    def import_sheet():
        done = runner.invoke(args=["invitations", "import", str(sheet)])
        assert done.exit_code == 0, done.output

    _, after = shown_after(app, olive, import_sheet)
    assert "Brand New Trust 2" in after

    someone = db.session.scalar(select(Invitation).where(Invitation.email == "new2@example.org"))

    otto = app.test_client()  # another organiser: the flash message is on his next page, not on Olive's
    f.sign_in(otto, f.user(role=Role.ORGANISER, name="Otto Organiser", email="otto@example.org"))

    def assign():
        response = otto.post(
            "/organiser/champions/assign", data={"invitation_id": [str(someone.id)], "champion_id": str(mo.id)}
        )
        assert response.status_code == 303

    shown_after(app, olive, assign)
    assert f.fresh(someone).champion_id == mo.id


@both_databases
def test_a_write_from_outside_the_app_is_on_the_next_view(app, olive):
    """The triggers see every writer: here a bulk UPDATE on a connection of its own, as a script would send it."""
    engine = create_engine(app.config["DATABASE_URL"])

    def bounce_everyone_invited():
        with engine.begin() as connection:
            connection.execute(
                update(Invitation.__table__)
                .where(Invitation.__table__.c.state == "invited")
                .values(bounced_at=utcnow(), bounce_reason="550 no such mailbox")
            )

    try:
        _, after = shown_after(app, olive, bounce_everyone_invited)
    finally:
        engine.dispose()
    assert "550 no such mailbox" in after


@both_databases
def test_two_app_servers_on_one_database_show_the_same_figures(app, olive):
    """A second app (another server, another worker) shares the stored figures and sees the first one's writes
    on its next view, and the first sees the second's."""
    other = create_app(dict(app.config))
    other_olive = other.test_client()
    f.sign_in(other_olive, f.user(role=Role.ORGANISER, name="Otto Organiser", email="otto@example.org"))
    try:
        first = dashboard(olive)
        assert dashboard(other_olive) == first
        generation = stored().generation
        # Stored by one, read by the other: no figures worked out again.
        with other.app_context():
            assert db.session.get(DashboardCache, 1).cached_generation == generation
            db.session.rollback()
        newcomer = f.invitation(name="Nina Newcomer", organisation="Brand New Trust")
        response = app.test_client().post(f"/i/{links.token_for(newcomer)}/register", data=REGISTRATION_FORM)
        assert response.status_code in (302, 303)
        seen_by_other = dashboard(other_olive)
        assert seen_by_other != first and seen_by_other == dashboard(olive) == worked_out_afresh(app, olive)
        # And a write through the second app is on the first's next view.
        doubter = f.invitation(name="Dora Doubter")
        with other.test_client() as delegate:
            assert delegate.post(f"/i/{links.token_for(doubter)}/decline", data={"reason": ""}).status_code in (
                302,
                303,
            )
        assert dashboard(olive) == dashboard(other_olive) == worked_out_afresh(app, olive) != seen_by_other
    finally:
        with other.app_context():
            db.engine.dispose()


@both_databases
def test_a_view_with_no_write_since_reads_the_stored_figures_and_never_older_than_the_setting(app, olive):
    dashboard(olive)
    row = stored()
    assert row is not None and row.cached_generation == row.generation and row.payload
    # Figures kept and no write since: the next view shows what was stored. (A payload changed by hand stands
    # for figures that would no longer be right, to show which was read.)
    marked = row.payload.replace('"leader_total":1', '"leader_total":7777')
    assert marked != row.payload
    db.session.execute(update(DashboardCache).values(payload=marked))
    db.session.commit()
    assert "All 7777 leaders" in dashboard(olive)
    # Older than DASHBOARD_CACHE_SECONDS: worked out again, and stored anew.
    db.session.execute(update(DashboardCache).values(cached_at=utcnow() - timedelta(seconds=6)))
    db.session.commit()
    assert "7777" not in dashboard(olive)
    assert "7777" not in stored().payload
    # Off (0): never read, never stored.
    db.session.execute(update(DashboardCache).values(payload=marked))
    db.session.commit()
    app.config["DASHBOARD_CACHE_SECONDS"] = 0
    assert "7777" not in dashboard(olive)


@both_databases
def test_figures_worked_out_before_a_write_are_not_kept(app, olive):
    """A view that read the generation, then lost the race to a write, doesn't store what it worked out."""
    from app.dashboards import overview_cache

    dashboard(olive)
    before = stored().generation
    f.invitation(name="Late Comer")  # a write: the generation moves on
    after = stored().generation
    assert after > before
    overview_cache._store(before, utcnow(), '{"stale": true}')
    db.session.commit()
    assert stored().payload != '{"stale": true}' and stored().generation == after


@both_databases
def test_the_triggers_move_the_generation_on_for_each_table_the_figures_read(app, olive):
    watched = [
        ("invitation", "UPDATE invitation SET dont_chase = NOT dont_chase WHERE id = (SELECT min(id) FROM invitation)"),
        ("registration", "UPDATE registration SET dietary = 'Halal' WHERE id = (SELECT min(id) FROM registration)"),
        ("attendance", "DELETE FROM attendance WHERE id = (SELECT min(id) FROM attendance)"),
        ("fringe_event", "UPDATE fringe_event SET title = 'Renamed' WHERE id = (SELECT min(id) FROM fringe_event)"),
        ("fringe_signup", "DELETE FROM fringe_signup WHERE id = (SELECT min(id) FROM fringe_signup)"),
        ("leader_note", "DELETE FROM leader_note WHERE id = (SELECT min(id) FROM leader_note)"),
        ("user", "UPDATE \"user\" SET name = 'Lena Renamed' WHERE role = 'leader'"),
        ("summit", "UPDATE summit SET target = 299"),
    ]
    dashboard(olive)
    for table, statement in watched:
        before = stored().generation
        assert db.session.execute(text(statement)).rowcount, table
        db.session.commit()
        assert stored().generation > before, table
        assert stored().payload is None, table  # dropped with it: nothing a change took away stays here
        dashboard(olive)
        assert stored().payload, table
    # Through a foreign key's action: deleting an invitation that another was sent in place of (SET NULL).
    original = f.invitation(name="Orla Original")
    colleague = f.invitation(name="Colin Colleague")
    db.session.execute(update(Invitation).where(Invitation.id == colleague.id).values(substitute_for_id=original.id))
    db.session.commit()
    before = stored().generation
    db.session.execute(text("DELETE FROM invitation WHERE id = :id"), {"id": original.id})
    db.session.commit()
    assert stored().generation > before and f.fresh(colleague).substitute_for_id is None
    # A table the figures don't read leaves them be.
    before = stored().generation
    db.session.execute(text("DELETE FROM audit_event"))
    db.session.commit()
    assert stored().generation == before


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_the_migration_makes_the_same_triggers(kind, tmp_path):
    """`db upgrade` (migration 0018), not create_all: a change moves the generation on, and the stored figures
    are dropped by it."""
    from tests.support.organiser import bare_app

    application = bare_app(kind, tmp_path)
    with application.app_context():
        try:
            result = application.test_cli_runner().invoke(args=["db", "upgrade"])
            assert result.exit_code == 0, result.output
            f.summit()
            client = application.test_client()
            f.sign_in(client, f.user(role=Role.ORGANISER))
            first = dashboard(client)
            row = stored()
            before = row.generation
            assert row.cached_generation == before
            f.invitation(name="Nina Newcomer")
            assert stored().generation > before
            assert dashboard(client) != first and "Invited 1 " in dashboard(client)
        finally:
            db.engine.dispose()


@both_databases
def test_the_stored_figures_are_the_figures(app, olive):
    """What is stored reads back as exactly what was worked out: every field, every row, every date."""
    from app.core.summit import settings as summit_settings
    from app.dashboards import organiser_page, overview_cache

    seed_invitations(40, [], start=100)  # the rest of every kind, with no champion
    summit = summit_settings.get_summit()
    overview = organiser_page.organiser_overview(summit)
    assert overview.bounces and overview.fringe and overview.days and overview.champions
    assert any(row.last_activity for row in overview.champions)
    assert overview_cache.loads(overview_cache.dumps(overview), summit) == overview
