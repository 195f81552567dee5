"""Every confirmation says what actually happened, and nobody waiting or holding an offer is shown a form they
can't use."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.core.db import db
from app.core.mail.models import OutboxMessage
from invitations import journey
from invitations.models import InvitationState
from tests.support import factories as f
from tests.support.factories import fresh, link
from tests.support.mail_helpers import delivered
from tests.support.pages import text

S = InvitationState
REGISTRATION = {"name": "Ada Lovelace", "organisation": "Engines", "job_title": "", "consent": "y"}


def after(client, response) -> str:
    """The page a redirect lands on, flash and all."""
    assert response.status_code in (302, 303), response.status_code
    return text(client.get(response.headers["Location"]))


def full_summit_with(waiting: int):
    """A summit of one place, taken; `waiting` people on the waiting list behind it."""
    f.summit(capacity=1)
    holder = f.registered(name="Holder Person")
    queue = []
    for _ in range(waiting):
        person = f.invitation()
        journey.join_waitlist(person)
        queue.append(person)
    db.session.commit()
    return holder, queue


def last_email(kind: str):
    db.session.expire_all()
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id.desc())
    ).first()


@pytest.mark.parametrize("waiting", [1, 0])
def test_cancelling_says_where_the_place_went(client, waiting):
    holder, queue = full_summit_with(waiting)

    page = text(client.get(link(holder, "cancel")))
    done = after(client, client.post(link(holder, "cancel")))
    email = delivered(last_email("registration_cancelled")).body_text

    if waiting:
        assert "Your place will go to the next person on the waiting list." in page
        assert "has been offered to the next person on the waiting list" in done
        assert "your place has gone to the next person on the waiting list" in email
        assert fresh(queue[0]).state == S.OFFERED
    else:
        assert "Your place will be free again for someone else to take." in page and "waiting list." not in page
        assert "it's free again for someone else" in done and "waiting list" not in done.split("flash")[1][:300]
        assert "your place is free again for someone else to take" in email and "waiting list" not in email
    assert fresh(holder).state == S.CANCELLED


def offered_place(waiting: int):
    """Someone holding an offer of the summit's one place, with `waiting` people behind them."""
    holder, queue = full_summit_with(1 + waiting)
    journey.cancel_registration(holder)
    db.session.commit()
    assert fresh(queue[0]).state == S.OFFERED
    return queue


@pytest.mark.parametrize("waiting", [1, 0])
def test_turning_down_an_offer_says_where_the_place_went(client, waiting):
    queue = offered_place(waiting)
    offered = queue[0]

    done = after(client, client.post(link(offered, "decline"), data={"reason": ""}))

    if waiting:
        assert "turned down the place we offered you, and it has gone to the next person on the waiting list" in done
        assert fresh(queue[1]).state == S.OFFERED
    else:
        assert "turned down the place we offered you, and it's free again for someone else" in done


def test_leaving_the_waiting_list_says_so(client):
    _, queue = full_summit_with(1)
    done = after(client, client.post(link(queue[0], "decline"), data={"reason": ""}))
    assert "You've left the waiting list." in done
    assert fresh(queue[0]).state == S.DECLINED


def test_declining_an_invitation_says_so(client):
    f.summit()
    inv = f.invitation()
    done = after(client, client.post(link(inv, "decline"), data={"reason": "Away"}))
    assert "Thank you for letting us know. If your plans change, this link will still let you register" in done


def test_a_waitlisted_person_opening_register_sees_their_place_in_the_queue_not_the_form(client):
    _, queue = full_summit_with(2)
    second = queue[1]

    opened = client.get(link(second, "register"))

    assert opened.status_code == 302 and opened.headers["Location"].endswith(link(second))
    page = after(client, opened)
    assert "You're on the waiting list (number 2 in the queue), so there's nothing to fill in yet" in page
    assert 'name="organisation"' not in page and "Join the waiting list" not in page


def test_a_waitlisted_person_who_sends_an_old_register_form_is_not_offered_the_list_they_are_on(client):
    _, queue = full_summit_with(1)
    sent = client.post(link(queue[0], "register"), data=REGISTRATION)
    page = after(client, sent)
    assert "You're on the waiting list (number 1 in the queue)" in page
    assert "Join the waiting list" not in page and "the last place has just gone" not in page
    assert fresh(queue[0]).state == S.WAITLISTED


def test_someone_holding_an_offer_sees_the_offer_on_the_register_page(client):
    queue = offered_place(0)

    page = text(client.get(link(queue[0], "register")))

    assert "A place is held for you until" in page and "Accept my place" in page


def test_an_invited_person_opening_register_when_the_summit_is_full_is_offered_the_waiting_list(client):
    full_summit_with(0)
    late = f.invitation()

    page = client.get(link(late, "register"))

    html = text(page)
    assert page.status_code == 200 and "The summit is full" in html and "Join the waiting list" in html
    assert 'name="organisation"' not in html and "the last place has just gone" not in html
