"""The team, in the browser: organisers invite a person by email (an account inactive until its one-time link is
accepted), re-send the invitation (the old link stops working), change a role (never their own, never the last
organiser's); staff reset a forgotten password by emailed link, with the same answer and work for any address."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select
from werkzeug import security as werkzeug_security

from app.core.audit import AuditEvent
from app.core.auth import accounts, credentials
from app.core.auth import models as auth_models
from app.core.auth.models import ApiToken, Role, StaffLink, User
from app.core.db import db, utcnow
from app.core.errors import Conflict
from app.core.mail import delivery
from app.core.mail.links import masked
from app.core.mail.models import OutboxMessage
from tests.support import both_databases
from tests.support import factories as f
from tests.support.apps import FreshSessionClient, make_app
from tests.support.mail_helpers import delivered

PASSWORD = "correct horse battery staple"
JOIN_RE = re.compile(r"http://localhost(/sign-in/join/[A-Za-z0-9_-]+)")
RESET_RE = re.compile(r"http://localhost(/sign-in/reset/[A-Za-z0-9_-]+)")


def words(answer) -> str:
    return unescape(answer.get_data(as_text=True))


def outbox(kind: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)))


def emailed_path(message: OutboxMessage, pattern: re.Pattern) -> str:
    match = pattern.search(delivered(message).body_text)
    assert match, delivered(message).body_text
    return match.group(1)


def account(email: str) -> User:
    db.session.expire_all()
    user = credentials.find_user(email)
    assert user is not None
    return user


def audit_actions() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.fixture
def olive(app):
    f.summit()
    return f.user(Role.ORGANISER, email="olive@staff.example.org", name="Olive Organiser")


def organiser_browser(app, user):
    browser = app.test_client()
    f.sign_in(browser, user)
    return browser


def invite(browser, email: str, name: str, role: str):
    return browser.post("/organiser/team/invite", data={"email": email, "name": name, "role": role})


@both_databases
def test_an_invited_steward_accepts_chooses_a_password_and_signs_in(app, olive):
    browser = organiser_browser(app, olive)
    answer = invite(browser, "Sam.Steward@council.example.org", "Sam Steward", "steward")
    assert answer.status_code == 303
    sam = account("sam.steward@council.example.org")
    assert (sam.role, sam.active, sam.invitation_pending, sam.password_hash) == (Role.STEWARD, False, True, None)
    [message] = outbox("staff_invitation")
    assert message.to_email == "sam.steward@council.example.org"
    path = emailed_path(message, JOIN_RE)
    token = path.rsplit("/", 1)[1]
    # Only a hash is stored; the outbox holds a placeholder, before and after the worker writes it.
    [row] = db.session.scalars(select(StaffLink))
    assert token not in row.token_hash and len(token) >= 44
    assert token not in json.dumps(message.params)
    delivery.send_pending()
    db.session.refresh(message)
    assert token not in message.body_text + message.body_html
    assert "/sign-in/join/••••••" in masked(message.body_text)
    # Not yet accepted: the account can't sign in.
    assert app.test_client().post("/sign-in", data={"email": sam.email, "password": PASSWORD}).status_code == 401

    phone = app.test_client()
    opened = phone.get(path)
    assert opened.status_code == 200 and "Set my password and sign in" in words(opened)
    assert "Sign in without a password" not in words(opened)  # stewards choose a password
    assert opened.headers["Cache-Control"] == "no-store" and opened.headers["Referrer-Policy"] == "same-origin"
    assert account(sam.email).invitation_pending  # opening it (a mail scanner) changes nothing
    short = phone.post(path, data={"how": "password", "new_password": "short", "repeat_password": "short"})
    assert short.status_code == 422 and "at least 10 characters" in words(short)
    accepted = phone.post(path, data={"how": "password", "new_password": PASSWORD, "repeat_password": PASSWORD})
    assert accepted.status_code == 303 and accepted.headers["Location"].endswith("/checkin")
    sam = account(sam.email)
    assert sam.active and not sam.invitation_pending and sam.check_password(PASSWORD)
    assert phone.get("/checkin").status_code == 200  # signed in
    again = app.test_client().post("/sign-in", data={"email": sam.email, "password": PASSWORD})
    assert again.status_code == 302
    # The link worked once.
    used = app.test_client().get(path)
    assert used.status_code == 410 and "This invitation has been used" in words(used)
    assert audit_actions()[-2:] == ["staff.invited", "staff.joined"]
    log = words(organiser_browser(app, olive).get("/organiser/audit/"))
    assert "Olive Organiser invited Sam Steward to the team as a steward." in log
    assert "Sam Steward accepted their invitation to the team, choosing a password." in log


@both_databases
def test_an_invited_leader_may_join_without_a_password_and_then_sign_in_by_emailed_link(app, olive):
    browser = organiser_browser(app, olive)
    assert invite(browser, "leo@council.example.org", "Leo Leader", "leader").status_code == 303
    path = emailed_path(outbox("staff_invitation")[0], JOIN_RE)
    phone = app.test_client()
    assert "Sign in without a password" in words(phone.get(path))
    joined = phone.post(path, data={"how": "link"})
    assert joined.status_code == 303 and phone.get("/leader").status_code == 200
    leo = account("leo@council.example.org")
    assert leo.active and leo.password_hash is None
    # The leader's own emailed sign-in link now works for them.
    assert app.test_client().post("/sign-in/email-link", data={"email": leo.email}).status_code == 200
    assert len(outbox("sign_in_link")) == 1


def test_a_steward_cant_skip_the_password(app, olive):
    invite(organiser_browser(app, olive), "sam@council.example.org", "Sam Steward", "steward")
    path = emailed_path(outbox("staff_invitation")[0], JOIN_RE)
    refused = app.test_client().post(path, data={"how": "link"})
    assert refused.status_code == 422 and "Choose a password" in words(refused)
    assert account("sam@council.example.org").invitation_pending


@both_databases
def test_inviting_an_address_that_has_an_account_says_so_whatever_its_case(app, olive):
    f.user(Role.LEADER, email="leo@council.example.org", name="Leo Leader")
    answer = invite(organiser_browser(app, olive), "LEO@Council.Example.org", "Leo Again", "steward")
    assert answer.status_code == 422
    assert "There is already an account for LEO@Council.Example.org" in words(answer)
    assert 'id="email-error"' in answer.get_data(as_text=True)  # against the email field
    assert db.session.scalar(select(func.count()).select_from(User)) == 2 and outbox("staff_invitation") == []


def test_bad_invitation_input_gets_422_with_the_field_named(app, olive):
    browser = organiser_browser(app, olive)
    answer = browser.post("/organiser/team/invite", data={"email": "not an address", "name": "", "role": "admin"})
    page = words(answer)
    assert answer.status_code == 422
    assert 'id="email-error"' in page and 'id="name-error"' in page and 'id="role-error"' in page
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


@both_databases
def test_an_expired_or_unknown_invitation_gets_a_sentence_not_a_stack_trace(app, olive):
    invite(organiser_browser(app, olive), "sam@council.example.org", "Sam Steward", "steward")
    path = emailed_path(outbox("staff_invitation")[0], JOIN_RE)
    db.session.execute(StaffLink.__table__.update().values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    expired = app.test_client().get(path)
    assert expired.status_code == 410 and "This invitation has expired" in words(expired)
    pressed = app.test_client().post(
        path, data={"how": "password", "new_password": PASSWORD, "repeat_password": PASSWORD}
    )
    assert pressed.status_code == 410 and account("sam@council.example.org").invitation_pending
    for bad in (path[:-1] + ("A" if path[-1] != "A" else "B"), "/sign-in/join/" + "A" * 44, "/sign-in/join/short"):
        unknown = app.test_client().get(bad)
        assert unknown.status_code == 404 and "This invitation doesn't work" in words(unknown)
    # A reset link's token doesn't open an invitation, nor the other way round.
    reset_path = "/sign-in/reset/" + path.rsplit("/", 1)[1]
    assert app.test_client().get(reset_path).status_code == 404


@both_databases
def test_re_sending_an_invitation_kills_the_old_link(app, olive):
    browser = organiser_browser(app, olive)
    invite(browser, "sam@council.example.org", "Sam Steward", "steward")
    sam = account("sam@council.example.org")
    old = emailed_path(outbox("staff_invitation")[0], JOIN_RE)
    resent = browser.post(f"/organiser/team/{sam.id}/resend")
    assert resent.status_code == 303
    first, second = outbox("staff_invitation")
    new = emailed_path(second, JOIN_RE)
    assert new != old
    assert app.test_client().get(old).status_code == 404
    assert app.test_client().get(new).status_code == 200
    assert "Olive Organiser re-sent Sam Steward's invitation to the team" in words(browser.get("/organiser/audit/"))
    # Once accepted, there is nothing to re-send.
    app.test_client().post(new, data={"how": "password", "new_password": PASSWORD, "repeat_password": PASSWORD})
    browser.post(f"/organiser/team/{sam.id}/resend")
    assert len(outbox("staff_invitation")) == 2
    assert "already accepted their invitation" in words(browser.get("/organiser/team/"))


@both_databases
def test_a_pending_invitation_can_be_withdrawn_after_a_confirm_step_and_its_link_then_says_so(app, olive):
    browser = organiser_browser(app, olive)
    invite(browser, "sam@council.example.org", "Sam Steward", "steward")
    sam = account("sam@council.example.org")
    path = emailed_path(outbox("staff_invitation")[0], JOIN_RE)
    team = words(browser.get("/organiser/team/"))
    assert f'href="/organiser/team/{sam.id}/withdraw"' in team and "Withdraw invitation" in team
    asked = browser.get(f"/organiser/team/{sam.id}/withdraw")  # asks first, changes nothing
    assert asked.status_code == 200 and "Withdraw Sam Steward’s invitation?" in words(asked)
    assert account(sam.email).invitation_pending and app.test_client().get(path).status_code == 200

    done = browser.post(f"/organiser/team/{sam.id}/withdraw")
    assert done.status_code == 303
    sam = account(sam.email)
    assert (sam.invitation_pending, sam.active) == (False, False) and sam.invitation_withdrawn_at is not None
    page = words(browser.get("/organiser/team/"))
    assert "Sam Steward's invitation is withdrawn" in page and "Invitation withdrawn" in page
    assert "Invite again" in page
    assert audit_actions()[-1] == "staff.invitation_withdrawn"
    log = words(browser.get("/organiser/audit/"))
    assert "Olive Organiser withdrew Sam Steward's invitation to the team; its link stopped working." in log

    # The link refuses, with a sentence, whether opened or pressed; nothing opens the account.
    for answer in (
        app.test_client().get(path),
        app.test_client().post(path, data={"how": "password", "new_password": PASSWORD, "repeat_password": PASSWORD}),
    ):
        assert answer.status_code == 410 and "This invitation was withdrawn" in words(answer)
        assert "ask them to invite you again" in words(answer)
    assert not account(sam.email).active
    assert app.test_client().post("/sign-in", data={"email": sam.email, "password": PASSWORD}).status_code == 401
    # Withdrawn twice (an old tab), or reactivated into an account without a password: refused with a sentence.
    browser.post(f"/organiser/team/{sam.id}/withdraw")
    assert "already withdrawn" in words(browser.get("/organiser/team/"))
    browser.post(f"/organiser/team/{sam.id}/reactivate")
    assert not account(sam.email).active and "invite them again instead" in words(browser.get("/organiser/team/"))

    # Invited again: a new link that works; the withdrawn one still doesn't.
    assert browser.post(f"/organiser/team/{sam.id}/resend").status_code == 303
    fresh = emailed_path(outbox("staff_invitation")[-1], JOIN_RE)
    assert account(sam.email).invitation_pending and account(sam.email).invitation_withdrawn_at is None
    assert app.test_client().get(path).status_code == 404
    joined = app.test_client().post(
        fresh, data={"how": "password", "new_password": PASSWORD, "repeat_password": PASSWORD}
    )
    assert joined.status_code == 303 and account(sam.email).active
    # Once accepted, there is nothing to withdraw.
    browser.post(f"/organiser/team/{sam.id}/withdraw")
    assert account(sam.email).active and "nothing to withdraw" in words(browser.get("/organiser/team/"))


def test_a_pending_invitation_cant_be_reactivated_into_an_account_without_a_password(app, olive):
    browser = organiser_browser(app, olive)
    invite(browser, "sam@council.example.org", "Sam Steward", "steward")
    sam = account("sam@council.example.org")
    browser.post(f"/organiser/team/{sam.id}/reactivate")
    assert not account(sam.email).active
    assert "hasn't accepted their invitation yet" in words(browser.get("/organiser/team/"))


@both_databases
def test_a_role_change_downwards_signs_the_person_out_everywhere(app, olive):
    other = f.user(Role.ORGANISER, email="otto@staff.example.org", name="Otto Organiser")
    otto_browser = organiser_browser(app, other)
    token = credentials.issue_api_token(other)
    db.session.commit()
    browser = organiser_browser(app, olive)
    assert browser.get(f"/organiser/team/{other.id}/role").status_code == 200
    changed = browser.post(f"/organiser/team/{other.id}/role", data={"role": "steward"})
    assert changed.status_code == 303
    assert account(other.email).role == Role.STEWARD
    assert otto_browser.get("/organiser/").status_code == 302  # their session ended: sign in again
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0
    log = words(browser.get("/organiser/audit/"))
    assert "Olive Organiser changed Otto Organiser's role from an organiser to a steward: signed out everywhere" in log
    assert "1 scanner API token stopped working" in log
    # Raised back to organiser: the new sign-in stays.
    steward_browser = organiser_browser(app, account(other.email))
    browser.post(f"/organiser/team/{other.id}/role", data={"role": "organiser"})
    assert account(other.email).role == Role.ORGANISER
    assert steward_browser.get("/organiser/").status_code == 200
    assert token  # issued, then revoked above


@both_databases
def test_nobody_demotes_themselves_or_the_last_active_organiser(app, olive):
    browser = organiser_browser(app, olive)
    own = browser.post(f"/organiser/team/{olive.id}/role", data={"role": "leader"})
    assert own.status_code == 422 and "You can't change your own role" in words(own)
    assert account(olive.email).role == Role.ORGANISER
    # An invited organiser who hasn't accepted isn't an active organiser: demoting Olive would leave none.
    invite(browser, "nia@staff.example.org", "Nia New", "organiser")
    assert account("nia@staff.example.org").invitation_pending
    assert (
        db.session.scalar(
            select(func.count()).select_from(User).where(User.role == Role.ORGANISER, User.active.is_(True))
        )
        == 1
    )


@both_databases
def test_two_organisers_demoting_each_other_cant_both_succeed(app, olive):
    otto = f.user(Role.ORGANISER, email="otto@staff.example.org", name="Otto Organiser")
    olive_browser, otto_browser = organiser_browser(app, olive), organiser_browser(app, otto)
    assert olive_browser.post(f"/organiser/team/{otto.id}/role", data={"role": "leader"}).status_code == 303
    # Otto's page was still open: his press is refused (his sign-in ended with the change), and Olive stays.
    assert otto_browser.post(f"/organiser/team/{olive.id}/role", data={"role": "leader"}).status_code == 302
    with pytest.raises(Conflict, match="no longer an active organiser"):
        accounts.change_role(account(olive.email), role=Role.LEADER, actor=account(otto.email))
    db.session.rollback()
    assert account(olive.email).role == Role.ORGANISER and account(otto.email).role == Role.LEADER


# --- "Forgotten your password?" --------------------------------------------------------------------------


def ask_for_reset(client, email: str):
    return client.post("/sign-in/forgotten-password", data={"email": email})


@both_databases
def test_a_reset_link_sets_a_new_password_and_ends_every_other_sign_in(app, olive):
    sam = f.user(Role.STEWARD, email="sam@staff.example.org", name="Sam Steward")
    old_phone = app.test_client()
    f.sign_in(old_phone, sam)
    credentials.issue_api_token(sam)
    db.session.commit()
    assert "Forgotten your password?" in words(app.test_client().get("/sign-in"))
    answer = ask_for_reset(app.test_client(), "SAM@staff.example.org")
    assert answer.status_code == 200 and "Check your email" in words(answer)
    [message] = outbox("password_reset")
    path = emailed_path(message, RESET_RE)
    token = path.rsplit("/", 1)[1]
    delivery.send_pending()
    db.session.refresh(message)
    assert token not in message.body_text + message.body_html + json.dumps(message.params)

    laptop = app.test_client()
    opened = laptop.get(path)
    assert opened.status_code == 200 and "Choose a new password" in words(opened)
    assert account(sam.email).check_password(f.PASSWORD)  # opening it changed nothing
    version = account(sam.email).session_version
    mismatch = laptop.post(path, data={"new_password": PASSWORD, "repeat_password": PASSWORD + "!"})
    assert mismatch.status_code == 422 and "different" in words(mismatch)
    done = laptop.post(path, data={"new_password": PASSWORD, "repeat_password": PASSWORD})
    assert done.status_code == 303
    sam = account(sam.email)
    assert sam.check_password(PASSWORD) and not sam.check_password(f.PASSWORD)
    assert sam.session_version == version + 1
    assert old_phone.get("/checkin").status_code == 302  # the other sign-in ended
    assert laptop.get("/checkin").status_code == 200  # this one signed in afresh
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0
    used = app.test_client().post(
        path, data={"new_password": "another password!", "repeat_password": "another password!"}
    )
    assert used.status_code == 410 and "has been used" in words(used)
    assert "Sam Steward set a new password from an emailed reset link" in words(
        organiser_browser(app, olive).get("/organiser/audit/")
    )


def test_a_reset_link_expires_and_a_newer_one_replaces_it(app, olive):
    sam = f.user(Role.STEWARD, email="sam@staff.example.org", name="Sam Steward")
    ask_for_reset(app.test_client(), sam.email)
    ask_for_reset(app.test_client(), sam.email)
    first, second = (emailed_path(m, RESET_RE) for m in outbox("password_reset"))
    assert app.test_client().get(first).status_code == 404
    db.session.execute(StaffLink.__table__.update().values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    expired = app.test_client().get(second)
    assert expired.status_code == 410 and "has expired" in words(expired)


@both_databases
def test_a_reset_request_answers_and_works_the_same_for_any_address(app, olive, monkeypatch):
    sam = f.user(Role.STEWARD, email="sam@staff.example.org", name="Sam Steward")
    gone = f.user(Role.STEWARD, email="gone@staff.example.org", name="Gone Steward")
    gone.active = False
    db.session.commit()
    hashed: list[str] = []
    for module in (auth_models, werkzeug_security):
        for name in ("generate_password_hash", "check_password_hash"):
            real = getattr(module, name)
            monkeypatch.setattr(
                module, name, lambda *a, _real=real, _name=name, **k: hashed.append(_name) or _real(*a, **k)
            )

    def attempt(email: str) -> tuple[int, str, int, int]:
        hashed.clear()
        before = len(outbox("password_reset"))
        answer = ask_for_reset(app.test_client(), email)
        page = re.sub(r'name="csrf_token"[^>]*>', "", words(answer)).replace(email, "ADDRESS")
        return answer.status_code, page, len(hashed), len(outbox("password_reset")) - before

    known = attempt(sam.email)
    for other in ("nobody@staff.example.org", gone.email):
        unknown = attempt(other)
        assert unknown[:3] == known[:3]  # same status, same page, same password-hash work (none)
        assert unknown[3] == 0
    assert known[2] == 0 and known[3] == 1  # the account's owner, and only they, get an email


def test_reset_requests_are_limited_per_address_and_per_client(tmp_path):
    app = make_app(
        "sqlite",
        tmp_path,
        RATELIMIT_ENABLED=True,
        EMAIL_LINK_RATE_LIMIT="2 per hour",
        EMAIL_LINK_CLIENT_RATE_LIMIT="3 per hour",
    )
    app.test_client_class = FreshSessionClient
    with app.app_context():
        f.summit()
        client = app.test_client()
        answers = [ask_for_reset(client, "Someone@staff.example.org").status_code for _ in range(3)]
        assert answers == [200, 200, 429]  # the same address, in any case
        assert ask_for_reset(client, "SOMEONE@staff.example.org").status_code == 429
        assert ask_for_reset(client, "other@staff.example.org").status_code == 200  # another address
        # Three of this client's requests went through: a new address is refused to it too.
        refused = ask_for_reset(client, "third@staff.example.org")
        assert refused.status_code == 429 and "paused sending" in words(refused)
        db.engine.dispose()


def test_the_email_link_page_says_only_what_is_true(app):
    page = words(app.test_client().post("/sign-in/email-link", data={"email": "sam@staff.example.org"}))
    assert "the organisers can check the address on your account" not in page
    assert "Links are only for leaders' accounts" in page and "Forgotten your password?" in page
    assert "Team page" in page and "Mail page" in page


@both_databases
def test_two_organisers_demoting_each_other_at_once_leave_one_organiser(app):
    from tests.support import organisers_acting_on_each_other

    for (olive, otto), outcomes in organisers_acting_on_each_other(
        app, lambda target, actor: accounts.change_role(target, role=Role.STEWARD, actor=actor)
    ):
        assert outcomes[1] == "done" and "no longer an active organiser" in outcomes[0], outcomes
        assert [db.session.get(User, u.id).role for u in (olive, otto)].count(Role.ORGANISER) == 1


def test_invitation_and_reset_tokens_never_reach_a_log(tmp_path, capsys):
    logged_app = make_app("sqlite", tmp_path, LOG_LEVEL="DEBUG")
    logged_app.test_client_class = FreshSessionClient
    with logged_app.app_context():
        f.summit()
        olive = f.user(Role.ORGANISER, email="olive@staff.example.org", name="Olive Organiser")
        invite(organiser_browser(logged_app, olive), "sam@staff.example.org", "Sam Steward", "steward")
        ask_for_reset(logged_app.test_client(), olive.email)
        paths = [
            emailed_path(outbox("staff_invitation")[0], JOIN_RE),
            emailed_path(outbox("password_reset")[0], RESET_RE),
        ]
        for path in paths:
            logged_app.logger.warning("opened %s", path)  # as any line naming the path would
            logged_app.test_client().get(path)
            logged_app.test_client().post(path, data={"new_password": "x", "repeat_password": "y"})
        db.engine.dispose()
    err = capsys.readouterr().err
    assert "opened /sign-in/join/[token]" in err and "opened /sign-in/reset/[token]" in err
    for path in paths:
        token = path.rsplit("/", 1)[1]
        assert token not in err and token[:16] not in err
