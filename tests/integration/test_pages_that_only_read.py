"""Staff pages that only read (issue: near the floor): the organisers' dashboard, the waiting list and the door's
reading routes write nothing and commit nothing. An offer that has run out shows as lapsed, from the time alone,
until the mail worker's step (or the next write that needs the place) expires it."""

from __future__ import annotations

import html as html_lib
import re

from sqlalchemy import select, update

from app.core.auth import credentials
from app.core.auth.models import ApiToken, Role
from app.core.db import db
from app.core.mail import rounds
from invitations.models import InvitationState, WaitlistEntry, WaitlistState
from tests.support import both_databases
from tests.support import factories as f
from tests.support.factories import fresh, offer_that_ran_out
from tests.support.rows import places_taken
from tests.support.statements import statements, writes

S = InvitationState


def plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html_lib.unescape(html)))


def read(client, path: str, **kwargs) -> tuple[str, list[str]]:
    """The page as a reader sees it once warm, and the statements it sent."""
    assert client.get(path, **kwargs).status_code == 200
    with statements() as seen:
        response = client.get(path, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return plain(response.get_data(as_text=True)), seen


def no_write(seen: list[str]) -> bool:
    return writes(seen) == [] and "COMMIT" not in seen


def tile(words: str, label: str) -> int:
    found = re.search(rf"(\d+) {label}", words)
    assert found, label
    return int(found.group(1))


@both_databases
def test_the_dashboard_and_the_waiting_list_write_nothing_and_show_a_lapsed_offer_as_lapsed(app):
    offered, behind = offer_that_ran_out()
    organiser = app.test_client()
    f.sign_in(organiser, f.user(Role.ORGANISER, name="Olive Organiser"))

    dashboard, seen = read(organiser, "/organiser/")
    assert no_write(seen), writes(seen)
    assert tile(dashboard, "offers held") == 0 and tile(dashboard, "on the waiting list") == 1
    assert "1 offer ran out and is passing to the next person waiting" in dashboard

    waiting, seen = read(organiser, "/organiser/waiting-list")
    assert no_write(seen), writes(seen)
    # The lapsed offer, then the person behind it, first in the queue.
    assert re.search(r"— Waiting 0 .* Offer lapsed at .* 1 Waiting 1 .* Waiting", waiting), waiting
    assert "Offer held" not in waiting
    # Nothing changed: the rows are as they were until the worker (or a write that needs the place) acts.
    assert fresh(offered).state == S.OFFERED and fresh(behind).state == S.WAITLISTED and places_taken() == 1
    assert db.session.scalar(select(WaitlistEntry.state).where(WaitlistEntry.invitation_id == offered.id)) == (
        WaitlistState.OFFERED
    )

    assert rounds.run_scheduled_steps() == ["Expired 1 waiting-list offer(s) that had run out."]

    dashboard, _ = read(organiser, "/organiser/")
    assert tile(dashboard, "offers held") == 1 and "ran out" not in dashboard
    waiting, _ = read(organiser, "/organiser/waiting-list")
    assert "Offer held" in waiting and "Offer lapsed" not in waiting and "Waiting 1" in waiting


@both_databases
def test_a_live_offer_is_held_on_both_pages(app):
    offered, _ = offer_that_ran_out()
    db.session.execute(
        update(WaitlistEntry).where(WaitlistEntry.invitation_id == offered.id).values(offer_expires_at=f.future(2))
    )
    db.session.commit()
    organiser = app.test_client()
    f.sign_in(organiser, f.user(Role.ORGANISER))

    dashboard, seen = read(organiser, "/organiser/")
    assert no_write(seen) and tile(dashboard, "offers held") == 1 and "ran out" not in dashboard
    waiting, seen = read(organiser, "/organiser/waiting-list")
    assert no_write(seen) and "Offer held" in waiting and "Offer lapsed" not in waiting


@both_databases
def test_the_doors_reading_routes_commit_only_a_tokens_last_use(app):
    f.summit()
    f.registered(name="Ada Lovelace")
    steward = f.user(Role.STEWARD, name="Sam Steward")
    token = credentials.issue_api_token(steward)
    db.session.commit()
    bearer = {"Authorization": f"Bearer {token}"}
    client = app.test_client()

    # The token's first use is written (and committed); after that a reading route writes and commits nothing.
    with statements() as first:
        assert client.get("/api/v1/checkin/counts?event=summit", headers=bearer).status_code == 200
    assert any(s.startswith("UPDATE api_token") for s in first) and "COMMIT" in first
    assert db.session.scalar(select(ApiToken.last_used_at)) is not None
    for path in (
        "/api/v1/checkin/counts?event=summit",
        "/api/v1/checkin/search?event=summit&q=Ada",
        "/api/v1/checkin/events",
    ):
        _, seen = read(client, path, headers=bearer)
        assert no_write(seen), (path, writes(seen))

    door = app.test_client()
    f.sign_in(door, steward)
    for path in (
        "/checkin/expected?event=summit",
        "/checkin/counts?event=summit",
        "/checkin/search?event=summit&q=Ada",
    ):
        _, seen = read(door, path)
        assert no_write(seen), (path, writes(seen))
