"""Staff access can be taken back: signing out ends that sign-in and its remember cookie (copies included),
"sign out everywhere", a password change and deactivation end every session, remember cookie and API token of
the account on its next request, and the remember cookie lasts REMEMBER_COOKIE_DAYS. (Across 4 gunicorn
workers: test_staff_access_workers.py.)"""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from flask_login.utils import encode_cookie
from sqlalchemy import func, select

from app.core.audit import AuditEvent
from app.core.auth import accounts, credentials
from app.core.auth.models import Role, StaffSession, User
from app.core.db import db, utcnow
from tests.support import both_databases
from tests.support import factories as f
from tests.support.apps import FreshSessionClient, make_app
from tests.support.pages import csrf_from

NEW_PASSWORD = "a new and longer password"


def signed_in(app, user, *, remember: bool = True, password: str = f.PASSWORD):
    """A browser of its own, signed in as `user` (ticking "Keep me signed in" unless told not to)."""
    browser = app.test_client()
    form = {"email": user.email, "password": password} | ({"remember": "y"} if remember else {})
    answer = browser.post("/sign-in", data=form)
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    return browser


def cookie(browser, name: str) -> str:
    found = browser.get_cookie(name)
    assert found is not None, f"no {name} cookie"
    return found.value


def replayed(app, path: str, **cookies: str):
    """`path` opened by a fresh client holding only these cookies (copied from another browser)."""
    thief = app.test_client()
    for name, value in cookies.items():
        thief.set_cookie(name, value)
    return thief.get(path)


def words(answer) -> str:
    return unescape(answer.get_data(as_text=True))


def refused(answer) -> bool:
    return answer.status_code == 302 and "/sign-in" in answer.headers["Location"]


def api(client, token: str):
    return client.get("/api/v1/checkin/events", headers={"Authorization": f"Bearer {token}"})


def version_of(user: User) -> int:
    db.session.expire_all()
    return db.session.get(User, user.id).session_version


def sign_ins_of(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(StaffSession).where(StaffSession.user_id == user.id))


def audit_page(app) -> str:
    olive = db.session.scalars(select(User).where(User.role == Role.ORGANISER, User.active.is_(True))).first()
    olive = olive or f.user(Role.ORGANISER, name="Olive Organiser")
    return words(signed_in(app, olive).get("/organiser/audit/"))


@both_databases
def test_signing_out_ends_that_sign_in_and_a_copied_remember_cookie_but_not_the_phone(app):
    f.summit()
    leo = f.user(Role.LEADER, name="Leo Leader")
    laptop, phone = signed_in(app, leo), signed_in(app, leo)
    session, remember = cookie(laptop, "session"), cookie(laptop, "remember_token")
    # Each sign-in carries the account's id, its session version and a nonce of its own.
    assert remember.startswith(f"{leo.id}:{leo.session_version}:") and remember != cookie(phone, "remember_token")
    assert replayed(app, "/leader", remember_token=remember).status_code == 200  # the control: a copy works...

    assert laptop.post("/sign-out").status_code == 302

    assert refused(laptop.get("/leader"))
    assert refused(replayed(app, "/leader", remember_token=remember))  # ...and stops working at sign-out
    assert refused(replayed(app, "/leader", session=session))
    assert refused(replayed(app, "/leader", session=session, remember_token=remember))
    assert phone.get("/leader").status_code == 200  # the leader's other device stays signed in
    assert sign_ins_of(leo) == 1 and version_of(leo) == 1


@both_databases
def test_sign_out_everywhere_ends_every_session_remember_cookie_and_api_token(app):
    f.summit()
    sam = f.user(Role.STEWARD, name="Sam Steward")
    token = credentials.issue_api_token(sam)
    db.session.commit()
    laptop, phone = signed_in(app, sam), signed_in(app, sam)
    copied = cookie(phone, "remember_token")
    assert api(app.test_client(), token).status_code == 200
    page = laptop.get("/account").get_data(as_text=True)
    assert "Sign out everywhere" in page and 'action="/account/sign-out-everywhere"' in page

    answer = laptop.post("/account/sign-out-everywhere")

    assert answer.status_code == 303 and answer.headers["Location"].endswith("/sign-in")
    assert "You're signed out everywhere" in words(laptop.get("/sign-in"))
    assert refused(laptop.get("/checkin")) and refused(phone.get("/checkin"))
    assert refused(replayed(app, "/checkin", remember_token=copied))
    assert api(app.test_client(), token).status_code == 401
    assert version_of(sam) == 2 and sign_ins_of(sam) == 0
    assert signed_in(app, sam).get("/checkin").status_code == 200  # and they can sign in again
    assert "Sam Steward signed out everywhere, and 1 scanner API token stopped working." in audit_page(app)


@both_databases
def test_a_password_change_keeps_this_browser_signed_in_and_ends_everything_else(app):
    f.summit()
    sam = f.user(Role.STEWARD, name="Sam Steward")
    token = credentials.issue_api_token(sam)
    db.session.commit()
    laptop, phone = signed_in(app, sam), signed_in(app, sam)
    old_remember = cookie(laptop, "remember_token")

    answer = laptop.post(
        "/account/password",
        data={"current_password": f.PASSWORD, "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD},
    )

    assert answer.status_code == 303 and answer.headers["Location"].endswith("/account")
    assert "Your password is changed. You're still signed in here" in words(laptop.get("/account"))
    assert laptop.get("/checkin").status_code == 200
    new_remember = cookie(laptop, "remember_token")  # remembered as before, on a sign-in of its own
    assert new_remember != old_remember and new_remember.startswith(f"{sam.id}:2:")
    assert replayed(app, "/checkin", remember_token=new_remember).status_code == 200
    assert refused(replayed(app, "/checkin", remember_token=old_remember))
    assert refused(phone.get("/checkin"))
    assert api(app.test_client(), token).status_code == 401
    assert app.test_client().post("/sign-in", data={"email": sam.email, "password": f.PASSWORD}).status_code == 401
    signed_in(app, sam, password=NEW_PASSWORD)
    assert "Sam Steward changed their password, which signed out their other sign-ins" in audit_page(app)


@pytest.mark.parametrize(
    "form,problem",
    [
        ({"current_password": "not my password", "new_password": NEW_PASSWORD}, "That isn't your current password"),
        ({"new_password": "short"}, "at least 10 characters"),
        ({"repeat_password": NEW_PASSWORD + "!"}, "The two new passwords are different"),
        ({"current_password": "", "new_password": ""}, "Enter your current password"),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(app, form, problem):
    sam = f.user(Role.STEWARD)
    laptop, phone = signed_in(app, sam), signed_in(app, sam)
    data = {"current_password": f.PASSWORD, "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD} | form
    if "repeat_password" not in form and "new_password" in form:
        data["repeat_password"] = data["new_password"]

    answer = laptop.post("/account/password", data=data)

    assert answer.status_code == 422 and problem in words(answer)
    assert version_of(sam) == 1 and phone.get("/staff").status_code == 200
    assert db.session.get(User, sam.id).check_password(f.PASSWORD)


@both_databases
def test_an_organiser_deactivates_and_reactivates_a_steward_from_the_team_page(app):
    f.summit()
    olive = f.user(Role.ORGANISER, name="Olive Organiser")
    sam = f.user(Role.STEWARD, name="Sam Steward")
    f.user(Role.LEADER, name="Leo Leader")
    token = credentials.issue_api_token(sam)
    db.session.commit()
    door = signed_in(app, sam)
    copied = cookie(door, "remember_token")
    organiser = signed_in(app, olive)

    team = organiser.get("/organiser/team/").get_data(as_text=True)
    rows = team.split("<tbody>")[1]
    assert rows.index("Olive Organiser") < rows.index("Leo Leader") < rows.index("Sam Steward")
    assert "Steward" in rows and '<span class="pill pill--ok">Active</span>' in rows
    assert f'href="/organiser/team/{sam.id}/deactivate"' in rows
    assert f'href="/organiser/team/{olive.id}/deactivate"' not in rows  # not themselves
    confirm = organiser.get(f"/organiser/team/{sam.id}/deactivate")
    assert confirm.status_code == 200 and "Deactivate Sam Steward’s account?" in confirm.get_data(as_text=True)
    assert door.get("/checkin").status_code == 200  # asking changed nothing

    assert organiser.post(f"/organiser/team/{sam.id}/deactivate").status_code == 303

    assert refused(door.get("/checkin"))
    assert refused(replayed(app, "/checkin", remember_token=copied))
    assert api(app.test_client(), token).status_code == 401
    assert app.test_client().post("/sign-in", data={"email": sam.email, "password": f.PASSWORD}).status_code == 401
    team = organiser.get("/organiser/team/").get_data(as_text=True)
    assert "signed out everywhere, and their scanners" in team and "Deactivated</span>" in team
    assert f'href="/organiser/team/{sam.id}/reactivate"' in team
    again = organiser.get(f"/organiser/team/{sam.id}/deactivate")  # an old tab
    assert again.status_code == 302 and "already deactivated" in words(organiser.get("/organiser/team/"))

    assert organiser.post(f"/organiser/team/{sam.id}/reactivate").status_code == 303

    assert refused(replayed(app, "/checkin", remember_token=copied))  # old sign-ins stay ended
    assert api(app.test_client(), token).status_code == 401  # and so does the old token
    assert signed_in(app, sam).get("/checkin").status_code == 200
    html = words(organiser.get("/organiser/audit/"))
    assert (
        "Olive Organiser deactivated Sam Steward's account: signed out everywhere, and 1 scanner API token "
        "stopped working." in html
    )
    assert "Olive Organiser reactivated Sam Steward's account." in html
    kinds = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert kinds == ["staff.deactivated", "staff.reactivated"]


def test_nobody_deactivates_themselves_and_the_last_organiser_stays(app):
    olive = f.user(Role.ORGANISER, name="Olive Organiser")
    otto = f.user(Role.ORGANISER, name="Otto Organiser")
    organiser = signed_in(app, olive)

    mine = organiser.post(f"/organiser/team/{olive.id}/deactivate")
    assert mine.status_code == 303
    assert "You can't deactivate your own account" in words(organiser.get("/organiser/team/"))
    assert organiser.post(f"/organiser/team/{otto.id}/deactivate").status_code == 303
    db.session.expire_all()
    assert db.session.get(User, olive.id).active and not db.session.get(User, otto.id).active
    # Otto, signed in before he was deactivated, can't act any more; Olive is the last organiser and stays.
    assert refused(app.test_client().get("/organiser/team/"))
    from app.core.errors import DomainError

    with pytest.raises(DomainError, match="deactivated in the meantime"):
        accounts.set_active(db.session.get(User, olive.id), active=False, actor=db.session.get(User, otto.id))
    db.session.rollback()
    assert db.session.get(User, olive.id).active


def test_the_remember_cookie_and_every_sign_in_last_remember_cookie_days(tmp_path):
    assert make_app("sqlite", tmp_path).config["REMEMBER_COOKIE_DAYS"] == 30
    app = make_app("sqlite", tmp_path, REMEMBER_COOKIE_DAYS=7)
    app.test_client_class = FreshSessionClient
    with app.app_context():
        f.summit()
        leo = f.user(Role.LEADER)
        browser = app.test_client()
        answer = browser.post("/sign-in", data={"email": leo.email, "password": f.PASSWORD, "remember": "y"})
        [set_cookie] = [c for c in answer.headers.getlist("Set-Cookie") if c.startswith("remember_token=")]
        expires = browser.get_cookie("remember_token").expires
        assert timedelta(days=6, hours=23) < expires - utcnow() <= timedelta(days=7)
        copied = cookie(browser, "remember_token")
        # A browser (or a copy) that keeps the cookie longer than it was told to gets nothing for it.
        row = db.session.scalars(select(StaffSession)).one()
        row.created_at = utcnow() - timedelta(days=7, minutes=1)
        db.session.commit()
        assert refused(replayed(app, "/leader", remember_token=copied))
        assert refused(browser.get("/leader"))
        signed_in(app, leo)  # signing in again tidies the old sign-in away
        assert db.session.scalar(select(func.count()).select_from(StaffSession)) == 1
        db.engine.dispose()


def test_a_remember_cookie_signed_before_sign_ins_were_versioned_is_refused(app):
    f.summit()
    leo = f.user(Role.LEADER)
    with app.test_request_context():
        old_style = encode_cookie(str(leo.id))  # "<id>|HMAC(SECRET_KEY, id)", as every earlier sign-in carried
    assert refused(replayed(app, "/leader", remember_token=old_style))


@pytest.fixture
def csrf_app(tmp_path):
    application = make_app("sqlite", tmp_path, WTF_CSRF_ENABLED=True)
    application.test_client_class = FreshSessionClient
    with application.app_context():
        yield application
        db.engine.dispose()


def test_every_account_and_team_form_needs_its_csrf_token(csrf_app):
    olive = f.user(Role.ORGANISER)
    sam = f.user(Role.STEWARD)
    browser = csrf_app.test_client()
    token = csrf_from(browser.get("/sign-in").get_data(as_text=True))
    browser.post("/sign-in", data={"email": olive.email, "password": f.PASSWORD, "csrf_token": token})
    change = {"current_password": f.PASSWORD, "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD}

    assert browser.post("/account/password", data=change).status_code == 422
    assert browser.post("/account/sign-out-everywhere").status_code == 303
    assert browser.post(f"/organiser/team/{sam.id}/deactivate").status_code == 303
    db.session.expire_all()
    assert version_of(olive) == 1 and db.session.get(User, sam.id).active
    assert db.session.get(User, olive.id).check_password(f.PASSWORD)

    token = csrf_from(browser.get(f"/organiser/team/{sam.id}/deactivate").get_data(as_text=True))
    assert browser.post(f"/organiser/team/{sam.id}/deactivate", data={"csrf_token": token}).status_code == 303
    db.session.expire_all()
    assert not db.session.get(User, sam.id).active
    token = csrf_from(browser.get("/account").get_data(as_text=True))
    assert browser.post("/account/sign-out-everywhere", data={"csrf_token": token}).status_code == 303
    assert version_of(olive) == 2 and refused(browser.get("/organiser/"))


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_the_migration_gives_existing_accounts_version_1_and_they_sign_in_as_before(kind, tmp_path):
    from alembic import command
    from sqlalchemy import text

    from app.cli import alembic_config
    from tests.support.organiser import bare_app

    (tmp_path / "fresh").mkdir()
    application = bare_app(kind, tmp_path)
    application.test_client_class = FreshSessionClient
    with application.app_context():
        try:
            command.upgrade(alembic_config(), "0007_import_preview")
            with db.engine.begin() as connection:
                connection.execute(
                    text(
                        'INSERT INTO "user" (email, name, role, password_hash, organisation, job_title, active, '
                        "created_at) VALUES ('leo@council.example.org', 'Leo', 'leader', :hash, '', '', true, "
                        "'2026-11-01 09:00:00')"
                    ),
                    {"hash": ""},
                )
            command.upgrade(alembic_config(), "head")
            leo = db.session.scalars(select(User)).one()
            assert leo.session_version == 1
            leo.set_password(f.PASSWORD)
            db.session.commit()
            f.summit()
            browser = signed_in(application, leo)
            assert browser.get("/leader").status_code == 200 and sign_ins_of(leo) == 1
            db.session.close()  # nothing of ours holds a table the downgrade drops
            command.downgrade(alembic_config(), "0007_import_preview")  # and back, for an operator who must
            with db.engine.connect() as connection:
                assert "staff_session" not in db.engine.dialect.get_table_names(connection)
        finally:
            db.session.close()
            db.engine.dispose()


@both_databases
def test_two_organisers_deactivating_each_other_at_once_leave_one_active(app):
    from tests.support import organisers_acting_on_each_other

    for (olive, otto), outcomes in organisers_acting_on_each_other(
        app, lambda target, actor: accounts.set_active(target, active=False, actor=actor)
    ):
        assert outcomes[1] == "done" and "deactivated in the meantime" in outcomes[0], outcomes
        assert [db.session.get(User, u.id).active for u in (olive, otto)].count(True) == 1
