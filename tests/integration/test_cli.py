"""The operator CLI (`flask --app wsgi …`, DESIGN.md's Public interfaces; app/cli.py and each package's cli.py): what each
command prints and what the database then holds."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest
from sqlalchemy import select
from sqlalchemy import text as sql

from app.core.auth.models import Role, User
from app.core.db import Base, db
from app.core.summit.models import Summit
from invitations import handing_on, journey
from invitations import people as invitation_people
from invitations.models import Invitation, InvitationState
from tests.support import factories as f
from tests.support.apps import LATEST, make_app
from tests.support.factories import fresh
from tests.support.organiser import bare_app
from tests.support.pages import text
from tests.support.rows import count

S = InvitationState


STATUS_KEYS = {"capacity", "target", "registered", "offers_held", "waitlisted", "declined", "invited"}


def status(runner) -> dict:
    result = runner.invoke(args=["summit", "status"])
    assert result.exit_code == 0, result.output
    assert len(result.output.strip().splitlines()) == 1  # one JSON object on one line
    data = json.loads(result.output)
    assert isinstance(data, dict)
    assert set(data) >= STATUS_KEYS
    return data


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


def test_summit_configure_and_status(app, runner):
    result = runner.invoke(args=["summit", "configure", "--capacity", "3", "--target", "2"])
    assert result.exit_code == 0, result.output
    _a, _b, c = f.registered(), f.registered(), f.registered()
    w1, w2 = f.invitation(), f.invitation()
    for inv in (w1, w2):
        journey.join_waitlist(inv)
        db.session.commit()
    journey.decline(f.invitation(), "Away")
    f.invitation()  # still invited, not answered
    revoked = f.invitation()
    invitation_people.revoke_invitation(revoked)
    journey.cancel_registration(c)  # w1 is offered c's place
    db.session.commit()

    assert {k: status(runner)[k] for k in STATUS_KEYS} == {
        "capacity": 3,
        "target": 2,
        "registered": 2,
        "offers_held": 1,
        "waitlisted": 1,
        "declined": 1,
        "invited": 7,  # every live invitation: 2 registered, 1 offer, 1 waiting, 1 declined, 1 cancelled, 1 unanswered
    }

    result = runner.invoke(args=["summit", "configure", "--capacity", "120", "--target", "100"])

    assert result.exit_code == 0, result.output
    assert "capacity 120, target 100, 4 places taken" in result.output  # counts the offers just made
    data = status(runner)
    assert {k: data[k] for k in STATUS_KEYS} == {
        "capacity": 120,
        "target": 100,
        "registered": 2,
        "offers_held": 2,
        "waitlisted": 0,
        "declined": 1,
        "invited": 7,
    }
    db.session.expire_all()
    summit = db.session.scalars(select(Summit)).one()
    assert (summit.capacity, summit.target, summit.places_taken) == (120, 100, 4)
    assert fresh(w2).state == S.OFFERED  # the raised capacity went straight to the waiting list


def test_summit_configure_refuses_capacity_below_places_taken(app, runner):
    f.summit(capacity=5)
    f.registered()
    f.registered()
    result = runner.invoke(args=["summit", "configure", "--capacity", "1"])
    assert result.exit_code != 0 and "cannot go below the 2 places already taken" in result.output
    db.session.expire_all()
    assert db.session.scalars(select(Summit)).one().capacity == 5


def test_summit_status_without_a_summit_says_how_to_set_one_up(app, runner):
    result = runner.invoke(args=["summit", "status"])
    assert result.exit_code != 0 and "summit configure" in result.output


def test_users_create_reads_the_password_from_stdin_and_the_user_can_sign_in(app, runner, client):
    f.summit()
    result = runner.invoke(
        args=["users", "create", "Olga@Staff.example.org", "--role", "organiser", "--name", "Olga O"],
        input="a-long-password\n",
    )

    assert result.exit_code == 0, result.output
    assert "Created organiser olga@staff.example.org." in result.output
    user = db.session.scalars(select(User).where(User.email == "olga@staff.example.org")).one()
    assert user.role == Role.ORGANISER and user.name == "Olga O" and user.password_hash != "a-long-password"

    response = client.post("/sign-in", data={"email": "olga@staff.example.org", "password": "a-long-password"})
    assert response.status_code == 302
    assert client.get("/organiser/").status_code == 200


def test_users_create_refuses_a_short_password_and_a_duplicate(app, runner):
    short = runner.invoke(
        args=["users", "create", "s@staff.example.org", "--role", "steward", "--name", "S"], input="short\n"
    )
    assert short.exit_code != 0
    assert "at least 10 characters" in short.output
    assert count(User) == 0

    runner.invoke(
        args=["users", "create", "s@staff.example.org", "--role", "steward", "--name", "S"], input="a-long-password\n"
    )
    duplicate = runner.invoke(
        args=["users", "create", "S@staff.example.org", "--role", "leader", "--name", "S2"], input="a-long-password\n"
    )
    assert duplicate.exit_code != 0 and "already an account" in duplicate.output
    assert count(User) == 1

    bad_role = runner.invoke(
        args=["users", "create", "x@staff.example.org", "--role", "admin", "--name", "X"], input="a-long-password\n"
    )
    assert bad_role.exit_code != 0 and count(User) == 1


@pytest.mark.parametrize("address", ["org@red.test", "desk@printer.local", "someone@invalid", "no-at-sign.example.org"])
def test_users_create_refuses_an_address_the_sign_in_form_refuses(app, runner, client, address):
    form = client.post("/sign-in", data={"email": address, "password": "a-long-password"})
    assert form.status_code == 422 and "Enter a valid email address." in text(form)

    result = runner.invoke(
        args=["users", "create", address, "--role", "organiser", "--name", "Red Team"], input="a-long-password\n"
    )
    assert result.exit_code != 0
    assert f"'{address}' can't be used to sign in, so no account was made" in result.output
    assert count(User) == 0


def test_an_address_users_create_accepts_can_sign_in_as_typed(app, runner, client):
    f.summit()
    result = runner.invoke(
        args=["users", "create", "  Ian.O'Brien+Summit@Suffolk.Gov.UK ", "--role", "leader", "--name", "Ian O'Brien"],
        input="a-long-password\n",
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalars(select(User.email)).one() == "ian.o'brien+summit@suffolk.gov.uk"
    response = client.post(
        "/sign-in", data={"email": "Ian.O'Brien+Summit@suffolk.gov.uk", "password": "a-long-password"}
    )
    assert response.status_code == 302


def test_invitations_links_prints_a_working_link_per_live_invitation(app, runner, client):
    f.summit()
    people = [f.invitation(name=f"Linked Person{i}") for i in range(3)]
    revoked = f.invitation(name="Revoked Person")
    invitation_people.revoke_invitation(revoked)
    handed = f.invitation(name="Handing Person")
    handing_on.hand_on(
        handed, handing_on.Colleague(name="Colleague Person", email="colleague@example.org", organisation="X")
    )
    db.session.commit()
    live = {inv.email: inv for inv in people}
    live["colleague@example.org"] = db.session.scalars(
        select(Invitation).where(Invitation.email == "colleague@example.org")
    ).one()

    result = runner.invoke(args=["invitations", "links", "--base-url", "https://nh.example.org/"])

    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.output)))
    assert rows[0] == ["email", "url"]
    assert {row[0] for row in rows[1:]} == set(live)
    assert len(rows) == 1 + len(live)
    for email, url in rows[1:]:
        assert url.startswith("https://nh.example.org/i/")
        path = url[len("https://nh.example.org") :]
        response = client.get(path)
        assert response.status_code == 200, email
        assert f"Hello {live[email].first_name}" in text(response)
        assert str(live[email].id) not in path.split("/")


def test_demo_is_idempotent(app, runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "420 new invitations" in first.output
    users = count(User)
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert "0 new invitations" in second.output
    assert count(Invitation) == 420
    assert count(User) == users
    data = status(runner)
    assert data["capacity"] == 350 and data["target"] == 300
    registered = count(Invitation, Invitation.state == S.REGISTERED)
    assert data["registered"] == registered > 0
    db.session.expire_all()
    assert db.session.scalar(select(Summit.places_taken)) == registered


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_db_upgrade_creates_a_schema_that_matches_the_models(kind, tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    application = bare_app(kind, tmp_path)
    with application.app_context():
        try:
            result = application.test_cli_runner().invoke(args=["db", "upgrade"])
            assert result.exit_code == 0, result.output
            made = "Created the database at" if kind == "sqlite" else "Created the tables in the database at"
            assert made in result.output and f"schema version {LATEST}." in result.output
            with db.engine.connect() as connection:
                # The same comparison `db revision --autogenerate` makes (migrations/env.py): an empty diff
                # means the migrations build exactly the tables, columns, types, indexes and constraints of the models.
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                differences = compare_metadata(context, Base.metadata)
                tables = set(db.engine.dialect.get_table_names(connection))
            assert differences == []
            assert set(Base.metadata.tables) <= tables and "alembic_version" in tables
            # A second upgrade is a no-op.
            assert application.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
            # The control: the comparison does see a schema that has drifted from the models.
            with db.engine.begin() as connection:
                connection.execute(sql("DROP INDEX ix_invitation_state"))
            with db.engine.connect() as connection:
                drift = compare_metadata(
                    MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
                )
            assert [d for d in drift if d[0] == "add_index" and d[1].name == "ix_invitation_state"]
        finally:
            db.engine.dispose()


def test_db_upgrade_says_it_created_the_database_then_upgraded_it_then_that_it_is_up_to_date(tmp_path):
    from app.core.db import db
    from app.factory import create_app
    from config import settings_of
    from tests.support.apps import TestingConfig

    config = settings_of(TestingConfig)
    database = tmp_path / "new" / "newhorizons.sqlite3"
    config.update(DATABASE_URL=f"sqlite:///{database}", MAIL_FILE_DIR=str(tmp_path / "outbox"))
    application = create_app(config)
    runner = application.test_cli_runner()
    with application.app_context():
        try:
            first = runner.invoke(args=["db", "upgrade", "0002_programme"])
            assert first.exit_code == 0, first.output
            assert f"Created the database at {database}, schema version 0002." in first.output
            second = runner.invoke(args=["db", "upgrade"])
            assert f"Upgraded the database at {database} from schema version 0002 to {LATEST}." in second.output
            third = runner.invoke(args=["db", "upgrade"])
            assert f"The database at {database} is up to date: schema version {LATEST}." in third.output
        finally:
            db.engine.dispose()


def test_the_place_of_a_database_is_said_as_a_person_would_look_for_it(tmp_path, monkeypatch):
    from app.cli import database_place

    monkeypatch.chdir(tmp_path)
    inside = make_app("sqlite", tmp_path)
    with inside.app_context():
        assert database_place() == "test.sqlite3"  # below the working directory: relative, like instance/…
    application = make_app("sqlite", tmp_path)
    application.config["DATABASE_URL"] = "postgresql+psycopg://nh:s3cret@db.internal:5432/newhorizons"
    with application.app_context():
        assert database_place() == "postgresql://nh:***@db.internal:5432/newhorizons"
