"""Arbitrary input at every form: never a 500, never a partial write (property-based, hypothesis)."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app.core.auth.models import Role
from app.core.db import db
from app.core.mail.models import OutboxMessage
from app.core.summit.models import Summit
from invitations import links
from invitations.models import Invitation, InvitationState, Registration
from tests.support import both_databases
from tests.support import factories as f

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Text as people and attackers type it: any unicode, control characters, very long runs, markup, formulas.
nasty = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            '=HYPERLINK("http://x")',
            "<script>alert(1)</script>",
            "' OR 1=1 --",
            "a" * 5000,
            "\u202e\u0000\ud7ff",
            "Zoë Ørsted-Łukasiewicz",
            "\r\n\t",
            "%00",
            "{{ 7*7 }}",
        ]
    ),
)
_counter = itertools.count()


def assert_places_consistent() -> None:
    taken = db.session.scalar(select(Summit.places_taken))
    held = db.session.scalar(
        select(func.count())
        .select_from(Invitation)
        .where(Invitation.state.in_([InvitationState.REGISTERED, InvitationState.OFFERED]))
    )
    assert taken == held


@both_databases
@FUZZ
@given(
    form=st.fixed_dictionaries(
        {k: nasty for k in ("name", "organisation", "job_title", "dietary", "access_needs")},
        optional={"consent": st.sampled_from(["y", "", "no", "\x00"])},
    )
)
def test_register_form(app, client, form):
    if db.session.scalar(select(Summit.id)) is None:
        f.summit(capacity=10_000)
    inv = f.invitation(email=f"fuzz{next(_counter)}@example.org")
    response = client.post(f"/i/{links.token_for(inv)}/register", data=form)
    assert response.status_code < 500
    db.session.expire_all()
    state = db.session.get(Invitation, inv.id).state
    has_registration = (
        db.session.scalar(select(func.count()).select_from(Registration).where(Registration.invitation_id == inv.id))
        == 1
    )
    mails = db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.invitation_id == inv.id)
    )
    if response.status_code == 302:
        assert state == InvitationState.REGISTERED and has_registration and mails == 1
    else:
        assert 400 <= response.status_code < 500
        assert state == InvitationState.INVITED and not has_registration and mails == 0
    assert_places_consistent()


@both_databases
@FUZZ
@given(
    reason=nasty, colleague=st.fixed_dictionaries({k: nasty for k in ("name", "email", "organisation", "job_title")})
)
def test_decline_and_colleague_forms(app, client, reason, colleague):
    if db.session.scalar(select(Summit.id)) is None:
        f.summit()
    inv = f.invitation(email=f"fuzz{next(_counter)}@example.org")
    token = links.token_for(inv)
    before = db.session.scalar(select(func.count()).select_from(Invitation))
    response = client.post(f"/i/{token}/colleague", data=colleague)
    assert response.status_code < 500
    db.session.expire_all()
    after = db.session.scalar(select(func.count()).select_from(Invitation))
    if response.status_code == 302:
        assert after == before + 1 and db.session.get(Invitation, inv.id).state == InvitationState.HANDED_ON
        return
    assert after == before and db.session.get(Invitation, inv.id).state == InvitationState.INVITED
    response = client.post(f"/i/{token}/decline", data={"reason": reason})
    assert response.status_code < 500
    db.session.expire_all()
    expected = InvitationState.DECLINED if response.status_code == 302 else InvitationState.INVITED
    assert db.session.get(Invitation, inv.id).state == expected


@FUZZ
@given(email=nasty, password=nasty)
def test_sign_in_form(app, client, email, password):
    response = client.post("/sign-in", data={"email": email, "password": password})
    assert response.status_code in (401, 422, 400)


@both_databases
@FUZZ
@given(
    form=st.fixed_dictionaries(
        {k: nasty for k in ("email", "name", "organisation", "job_title", "sector")},
        optional={"champion_id": st.one_of(nasty, st.integers().map(str))},
    )
)
def test_organiser_invitation_form(app, client, form):
    if db.session.scalar(select(Summit.id)) is None:
        f.summit()
        organiser = f.user(role=Role.ORGANISER, email="fuzz-organiser@example.org")
        f.sign_in(client, organiser)
    before = db.session.scalar(select(func.count()).select_from(Invitation))
    response = client.post("/organiser/invitations/new", data=form)
    assert response.status_code < 500
    after = db.session.scalar(select(func.count()).select_from(Invitation))
    assert after == before + (1 if response.status_code == 302 else 0)


@FUZZ
@given(
    form=st.fixed_dictionaries(
        {
            "name": nasty,
            "tagline": nasty,
            "venue": nasty,
            "address": nasty,
            "starts_at": st.one_of(nasty, st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M"))),
            "ends_at": st.one_of(nasty, st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M"))),
            "capacity": st.one_of(nasty, st.integers().map(str)),
            "target": st.one_of(nasty, st.integers().map(str)),
            "offer_hold_hours": st.one_of(nasty, st.integers().map(str)),
        }
    )
)
def test_summit_settings_form(app, client, form):
    if db.session.scalar(select(Summit.id)) is None:
        f.summit()
        f.sign_in(client, f.user(role=Role.ORGANISER, email="fuzz-summit@example.org"))
    before = db.session.execute(select(Summit.capacity, Summit.name, Summit.starts_at)).one()
    response = client.post("/organiser/summit", data=form)
    assert response.status_code < 500
    db.session.expire_all()
    summit = db.session.scalars(select(Summit)).one()
    if response.status_code != 302:
        assert (summit.capacity, summit.name, summit.starts_at) == tuple(before)
    assert summit.places_taken <= summit.capacity and summit.ends_at > summit.starts_at


@FUZZ
@given(
    data=st.one_of(st.binary(max_size=2000), st.text(max_size=2000).map(lambda t: t.encode("utf-8", "surrogatepass")))
)
def test_csv_upload(app, client, data):
    import io

    if db.session.scalar(select(Summit.id)) is None:
        f.summit()
        f.sign_in(client, f.user(role=Role.ORGANISER, email="fuzz-import@example.org"))
    response = client.post(
        "/organiser/invitations/import", data={"file": (io.BytesIO(data), "x.csv")}, content_type="multipart/form-data"
    )
    assert response.status_code in (200, 422)
    assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0  # a preview never writes


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), nasty),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(nasty, children, max_size=4),
    max_leaves=12,
)


@both_databases
@FUZZ
@given(
    body=st.one_of(
        json_values,
        st.fixed_dictionaries(
            {"code": json_values, "event": json_values}, optional={"nonce": json_values, "method": json_values}
        ),
        st.fixed_dictionaries(
            {"code": nasty, "event": st.sampled_from(["summit", "no-such-event", ""])}, optional={"nonce": nasty}
        ),
    ),
    raw=st.booleans(),
)
def test_checkin_api(app, client, body, raw):
    import json

    from app.core.auth import credentials
    from fringe_events.models import Attendance

    if db.session.scalar(select(Summit.id)) is None:
        f.summit()
        steward = f.user(role=Role.STEWARD, email="fuzz-steward@example.org")
        app.config["FUZZ_TOKEN"] = credentials.issue_api_token(steward)
        db.session.commit()
        f.registered(email="fuzz-delegate@example.org")
    headers = {"Authorization": f"Bearer {app.config['FUZZ_TOKEN']}"}
    if raw:  # not even JSON
        response = client.post(
            "/api/v1/checkin",
            data=str(body).encode("utf-8", "surrogatepass"),
            headers=headers,
            content_type="application/json",
        )
    else:
        response = client.post(
            "/api/v1/checkin", data=json.dumps(body), headers=headers, content_type="application/json"
        )
    assert response.status_code in (200, 400), response.get_data(as_text=True)[:300]
    assert response.is_json
    if response.status_code == 200:
        assert response.get_json()["status"] in (
            "ok",
            "already_checked_in",
            "invalid",
            "cancelled",
            "not_registered",
            "wrong_event",
        )
    per_person = db.session.execute(
        select(Attendance.invitation_id, func.count()).group_by(Attendance.invitation_id, Attendance.event_key)
    ).all()
    assert all(n == 1 for _, n in per_person)
