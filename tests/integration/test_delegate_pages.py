"""The delegate's journey over HTTP, under the personal link /i/<token>: every page, every link state."""

from __future__ import annotations

import logging
import re
import secrets

import pytest
from sqlalchemy import select

from app.core.db import db
from app.core.mail.models import OutboxMessage
from app.core.security import CODE_ALPHABET
from app.core.timefmt import day_year
from invitations import journey, links, waitlist
from invitations import people as invitation_people
from invitations.models import Invitation, InvitationState, Registration, RegistrationState
from tests.support import both_databases
from tests.support import factories as f
from tests.support.factories import fresh, full_summit_with, link, offered_place
from tests.support.mail_helpers import delivered, last_email, mail_kinds
from tests.support.pages import REGISTRATION_FORM, after, text
from tests.support.pages import REGISTRATION_FORM_SHORT as REGISTRATION
from tests.support.rows import count, places_taken
from tests.support.servers import InThread

S = InvitationState

NOT_FOUND_TITLE = "This link doesn't work"  # and it offers "Lost your link?" (test_lost_link.py)


# --- the welcome page ------------------------------------------------------------------------------


def test_first_visit_records_opened_and_the_welcome_page_names_person_summit_venue_and_date(app, client):
    summit = f.summit()
    inv = f.invitation(name="Ada Lovelace")
    assert inv.opened_at is None

    response = client.get(link(inv))

    assert response.status_code == 200
    html = text(response)
    assert "Hello Ada" in html
    assert summit.name in html
    assert summit.venue in html and "Martlesham Heath" in html
    assert day_year(summit.starts_at) in html
    for action in ("Register for my place", "I can't come", "Send a colleague instead"):
        assert action in html
    first_opened = fresh(inv).opened_at
    assert first_opened is not None
    assert fresh(inv).state == S.INVITED

    client.get(link(inv))
    assert fresh(inv).opened_at == first_opened  # the first visit is what counts


# --- registering ------------------------------------------------------------------------------------


@both_databases
def test_register_over_http_takes_a_place_and_writes_the_confirmation(app, client):
    f.summit(capacity=10)
    inv = f.invitation(name="A Lovelace")
    form_page = client.get(link(inv, "register"))
    assert form_page.status_code == 200 and "Register for your place" in text(form_page)

    response = client.post(link(inv, "register"), data=REGISTRATION_FORM)

    assert response.status_code == 302
    assert response.headers["Location"].endswith(link(inv))
    home = client.get(link(inv))
    assert home.status_code == 200 and "You're registered" in text(home)
    inv = fresh(inv)
    assert inv.state == S.REGISTERED and inv.name == "Ada Lovelace" and inv.job_title == "Head of Computing"
    registration = db.session.scalars(select(Registration).where(Registration.invitation_id == inv.id)).one()
    assert registration.state == RegistrationState.CONFIRMED
    assert registration.dietary == "Vegan" and registration.access_needs == "Step-free access"
    assert registration.consent_at is not None
    assert places_taken() == 1
    assert mail_kinds(inv) == ["registration_confirmed"]


def test_register_without_consent_is_refused_with_the_fields_error_and_writes_nothing(app, client):
    f.summit()
    inv = f.invitation()
    data = {k: v for k, v in REGISTRATION_FORM.items() if k != "consent"}

    response = client.post(link(inv, "register"), data=data)

    assert response.status_code == 422
    assert "Please tick to agree, so that we can hold your place." in text(response)
    inv = fresh(inv)
    assert inv.state == S.INVITED and inv.name != "Ada Lovelace"
    assert count(Registration) == 0 and count(OutboxMessage) == 0 and places_taken() == 0


def test_register_with_an_over_long_name_is_refused(app, client):
    f.summit()
    inv = f.invitation()

    response = client.post(link(inv, "register"), data={**REGISTRATION_FORM, "name": "A" * 201})

    assert response.status_code == 422
    assert "Keep the name under 200 characters." in text(response)
    assert fresh(inv).state == S.INVITED
    assert count(Registration) == 0 and count(OutboxMessage) == 0 and places_taken() == 0


# --- declining --------------------------------------------------------------------------------------


def test_declining_needs_a_post_so_a_mail_scanner_following_the_link_changes_nothing(app, client):
    f.summit()
    inv = f.invitation()

    page = client.get(link(inv, "decline"))

    assert page.status_code == 200
    html = text(page)
    assert '<form method="post"' in html and "Tell the organisers I can't come" in html
    inv = fresh(inv)
    assert inv.state == S.INVITED and inv.responded_at is None and inv.decline_reason == ""

    response = client.post(link(inv, "decline"), data={"reason": "Council meeting that day"})

    assert response.status_code == 302 and response.headers["Location"].endswith(link(inv))
    inv = fresh(inv)
    assert inv.state == S.DECLINED
    assert inv.decline_reason == "Council meeting that day"
    assert inv.responded_at is not None


# --- a full summit ----------------------------------------------------------------------------------


@both_databases
def test_full_summit_offers_the_waiting_list_and_refuses_to_register(app, client):
    f.summit(capacity=1)
    f.registered()
    late = f.invitation()

    welcome = text(client.get(link(late)))
    assert "The summit is full" in welcome and "Join the waiting list" in welcome
    assert "Register for my place" not in welcome

    refused = client.post(link(late, "register"), data=REGISTRATION_FORM)

    assert refused.status_code == 409
    assert "Join the waiting list" in text(refused)
    late = fresh(late)
    assert late.state == S.INVITED and late.registration is None and late.name != "Ada Lovelace"
    assert places_taken() == 1 and mail_kinds(late) == []

    joined = client.post(link(late, "waiting-list"))

    assert joined.status_code == 302
    late = fresh(late)
    assert late.state == S.WAITLISTED
    assert waitlist.waitlist_position(late) == 1
    assert places_taken() == 1
    assert mail_kinds(late) == ["waitlist_joined"]
    assert "You're on the waiting list" in text(client.get(link(late)))


@both_databases
def test_an_offered_place_is_accepted_through_the_register_form(app, client):
    f.summit(capacity=1)
    holder = f.registered()
    waiting = f.invitation()
    journey.join_waitlist(waiting)
    db.session.commit()
    journey.cancel_registration(holder)
    db.session.commit()
    assert fresh(waiting).state == S.OFFERED and places_taken() == 1

    welcome = text(client.get(link(waiting)))
    assert "A place is free, and it's yours if you want it" in welcome and "Accept my place" in welcome

    response = client.post(link(waiting, "register"), data=REGISTRATION_FORM)

    assert response.status_code == 302
    waiting = fresh(waiting)
    assert waiting.state == S.REGISTERED and waiting.registration.state == RegistrationState.CONFIRMED
    assert places_taken() == 1  # the offer already held the place
    assert mail_kinds(waiting)[-1] == "registration_confirmed"


def test_leaving_the_waiting_list_with_an_offer_passes_the_place_on(app, client):
    f.summit(capacity=1)
    holder = f.registered()
    first, second = f.invitation(), f.invitation()
    for inv in (first, second):
        journey.join_waitlist(inv)
        db.session.commit()
    journey.cancel_registration(holder)
    db.session.commit()
    assert "Leave the waiting list" in text(client.get(link(first, "decline")))

    client.post(link(first, "decline"), data={"reason": ""})

    assert fresh(first).state == S.DECLINED
    assert fresh(second).state == S.OFFERED and places_taken() == 1


# --- once registered: change, cancel, hand on ------------------------------------------------------


def test_changing_details_saves_them_and_tells_the_delegate(app, client):
    f.summit()
    inv = f.registered()
    page = client.get(link(inv, "details"))
    assert page.status_code == 200 and "Change my details" in text(page)

    response = client.post(
        link(inv, "details"),
        data={
            "name": "Grace Hopper",
            "organisation": "Navy",
            "job_title": "Rear Admiral",
            "dietary": "No nuts",
            "access_needs": "Hearing loop",
        },
    )

    assert response.status_code == 302
    inv = fresh(inv)
    assert inv.name == "Grace Hopper" and inv.organisation == "Navy"
    assert inv.registration.dietary == "No nuts" and inv.registration.access_needs == "Hearing loop"
    assert mail_kinds(inv)[-1] == "details_changed"
    assert "Grace Hopper" in text(client.get(link(inv)))


def test_changing_details_with_a_blank_name_is_refused(app, client):
    f.summit()
    inv = f.registered(name="Kept Name")
    response = client.post(link(inv, "details"), data={"name": "", "organisation": "Navy"})
    assert response.status_code == 422 and "Enter your full name." in text(response)
    assert fresh(inv).name == "Kept Name"


@both_databases
def test_cancelling_needs_a_post_and_gives_the_place_back(app, client):
    f.summit(capacity=1)
    inv = f.registered()
    assert places_taken() == 1

    confirm = client.get(link(inv, "cancel"))

    assert confirm.status_code == 200 and "Yes, cancel my place" in text(confirm)
    assert fresh(inv).state == S.REGISTERED and places_taken() == 1

    response = client.post(link(inv, "cancel"))

    assert response.status_code == 302
    inv = fresh(inv)
    assert inv.state == S.CANCELLED
    assert inv.registration.state == RegistrationState.CANCELLED and inv.registration.cancelled_at is not None
    assert places_taken() == 0
    assert mail_kinds(inv)[-1] == "registration_cancelled"
    # The place really is free again: someone else can take it.
    other = f.invitation()
    assert client.post(link(other, "register"), data=REGISTRATION_FORM).status_code == 302
    assert fresh(other).state == S.REGISTERED and places_taken() == 1


@both_databases
def test_sending_a_colleague_moves_the_place_and_retires_the_original_link(app, client):
    f.summit(capacity=1)
    original = f.registered(name="Olive Original")
    page = client.get(link(original, "colleague"))
    assert page.status_code == 200 and "Your place passes straight to your colleague" in text(page)

    response = client.post(
        link(original, "colleague"),
        data={"name": "Sam Deputy", "email": "Sam.Deputy@Example.org", "organisation": "Ipswich Borough Council"},
    )

    assert response.status_code == 302
    original = fresh(original)
    assert original.state == S.HANDED_ON
    assert original.registration.state == RegistrationState.TRANSFERRED
    colleague = db.session.scalars(select(Invitation).where(Invitation.email == "sam.deputy@example.org")).one()
    assert colleague.state == S.REGISTERED and colleague.substitute_for_id == original.id
    assert places_taken() == 1

    home = client.get(link(original))
    assert home.status_code == 200
    html = text(home)
    assert "You passed this invitation to Sam Deputy" in html
    assert "<form" not in html and "Register for my place" not in html
    for page in ("register", "decline", "details", "cancel", "colleague"):
        assert client.get(link(original, page)).status_code == 410, page
        assert client.post(link(original, page), data=REGISTRATION_FORM).status_code == 410, page
    assert client.post(link(original, "waiting-list")).status_code == 410
    assert fresh(original).state == S.HANDED_ON

    theirs = client.get(link(colleague))
    assert theirs.status_code == 200
    assert "You're registered" in text(theirs) and "Sam" in text(theirs)
    assert mail_kinds(colleague) == ["colleague_invited"]


def test_sending_a_colleague_to_someone_already_invited_is_refused(app, client):
    f.summit()
    inv = f.invitation()
    f.invitation(email="taken@example.org")
    response = client.post(
        link(inv, "colleague"), data={"name": "T", "email": "TAKEN@example.org", "organisation": "X"}
    )
    assert response.status_code == 422 and "already been invited" in text(response)
    assert fresh(inv).state == S.INVITED and count(Invitation) == 2


# --- every state a link can be in -------------------------------------------------------------------


def wrong_tokens(inv: Invitation) -> dict[str, str]:
    token = links.token_for(inv)
    tampered_last = "A" if token[-1] != "A" else "B"
    return {
        "random, right length": secrets.token_urlsafe(33),
        "random, too short": secrets.token_urlsafe(8),
        "random, too long": secrets.token_urlsafe(60),
        "valid selector, tampered MAC": token[:-1] + tampered_last,
        "valid selector, another link's MAC": token[:22] + links.token_for(f.invitation())[22:],
        "not ascii": token[:-1] + "é",
    }


def test_wrong_tokens_get_a_friendly_404_that_names_nobody(app, client):
    f.summit()
    inv = f.invitation(name="Zebedee Quartermaine", organisation="Secret Org")
    for label, token in wrong_tokens(inv).items():
        response = client.get(f"/i/{token}")
        assert response.status_code == 404, label
        html = text(response)
        assert NOT_FOUND_TITLE in html, label
        assert "Zebedee" not in html and "Quartermaine" not in html and "Secret Org" not in html, label
        assert client.post(f"/i/{token}/register", data=REGISTRATION_FORM).status_code == 404, label
    assert fresh(inv).opened_at is None and count(Registration) == 0


def test_a_revoked_link_looks_exactly_like_a_wrong_one(app, client):
    f.summit()
    inv = f.invitation(name="Rita Revoked")
    invitation_people.revoke_invitation(inv)
    db.session.commit()

    revoked = client.get(link(inv))
    wrong = client.get(f"/i/{secrets.token_urlsafe(33)}")

    assert revoked.status_code == wrong.status_code == 404
    assert revoked.get_data() == wrong.get_data()
    assert "Rita" not in text(revoked)
    for page in ("register", "decline", "cancel", "colleague", "details"):
        assert client.get(link(inv, page)).status_code == 404, page
    assert client.post(link(inv, "register"), data=REGISTRATION_FORM).status_code == 404
    assert fresh(inv).state == S.REVOKED and fresh(inv).opened_at is None


def test_registration_closed_says_so_and_does_not_register(app, client):
    f.summit(registration_closes_at=f.past(1))
    inv = f.invitation()

    html = text(client.get(link(inv)))
    assert "Registration has closed" in html
    assert "Register for my place" not in html

    response = client.post(link(inv, "register"), data=REGISTRATION_FORM)

    assert response.status_code in (302, 409)
    assert "Registration for the summit has closed" in text(client.get(link(inv)))
    assert fresh(inv).state == S.INVITED
    assert count(Registration) == 0 and places_taken() == 0 and count(OutboxMessage) == 0


def test_registration_not_yet_open_says_when_and_does_not_register(app, client):
    f.summit(registration_opens_at=f.future(48))
    inv = f.invitation()

    html = text(client.get(link(inv)))
    assert "Registration opens on" in html
    assert "Register for my place" not in html

    client.post(link(inv, "register"), data=REGISTRATION_FORM)

    assert "Registration has not opened yet" in text(client.get(link(inv)))
    assert fresh(inv).state == S.INVITED
    assert count(Registration) == 0 and places_taken() == 0


# --- headers, logs and what URLs carry -------------------------------------------------------------


def test_personal_pages_are_never_cached_or_leaked_as_referrers(app, client):
    f.summit()
    inv = f.invitation()
    registered = f.registered()
    responses = {
        "home": client.get(link(inv)),
        "register": client.get(link(inv, "register")),
        "decline": client.get(link(inv, "decline")),
        "colleague": client.get(link(inv, "colleague")),
        "personal": client.get(link(registered)),
        "details": client.get(link(registered, "details")),
        "cancel": client.get(link(registered, "cancel")),
        "wrong token": client.get(f"/i/{secrets.token_urlsafe(33)}"),
    }
    for page, response in responses.items():
        assert response.headers.get("Referrer-Policy") == "same-origin", page
        assert response.headers.get("Cache-Control") == "no-store", page


def test_the_token_never_reaches_the_logs(app, client, caplog):
    f.summit()
    inv = f.invitation()
    token = links.token_for(inv)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="werkzeug")
    caplog.set_level(logging.DEBUG, logger="app")

    client.get(f"/i/{token}")
    client.get(f"/i/{token}/register")
    client.post(f"/i/{token}/register", data=REGISTRATION_FORM)
    client.get(f"/i/{token}/no-such-page")

    assert fresh(inv).state == S.REGISTERED
    assert token not in caplog.text
    for record in caplog.records:
        assert token not in record.getMessage()

    # The access log (werkzeug's request line) is redacted by a filter on its logger.
    werkzeug_logger = logging.getLogger("werkzeug")
    for path in (f"/i/{token}", f"/i/{token}/register", f"/i/{token}?utm=x"):
        record = logging.LogRecord(
            "werkzeug",
            logging.INFO,
            __file__,
            1,
            "%s - - [%s] %s %s %s",
            ("127.0.0.1", "01/Oct/2026 09:30:00", f'"GET {path} HTTP/1.1"', "200", "-"),
            None,
        )
        werkzeug_logger.filter(record)
        message = record.getMessage()
        assert token not in message and token[:22] not in message
        assert "/i/[token]" in message
    # A message that carries the path in its format string is redacted too.
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, f"GET /i/{token} HTTP/1.1", None, None)
    werkzeug_logger.filter(record)
    assert token not in record.getMessage()


def test_the_token_stays_out_of_a_real_servers_access_log_and_the_error_log(app, caplog, monkeypatch):
    import urllib.error
    import urllib.request

    from werkzeug.serving import make_server

    f.summit()
    inv = f.invitation()
    token = links.token_for(inv)
    caplog.set_level(logging.DEBUG)
    server = make_server("127.0.0.1", 0, app, threaded=False)
    stop = InThread(server)
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        with urllib.request.urlopen(f"{base}/i/{token}") as response:
            assert response.status == 200
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{base}/i/{token}/no-such-page")
        assert missing.value.code == 404

        # An unexpected error on a personal page is logged with the path, but not the token.
        def explode(*args, **kwargs):
            raise RuntimeError("boom")

        monkeypatch.setattr(links, "mark_opened", explode)
        with pytest.raises(urllib.error.HTTPError) as crashed:
            urllib.request.urlopen(f"{base}/i/{token}")
        assert crashed.value.code == 500
    finally:
        stop()

    access = [r for r in caplog.records if r.name == "werkzeug"]
    assert len(access) >= 3  # the control: the access log really was captured
    assert any("/i/[token]" in r.getMessage() for r in access)
    assert any("Unhandled error on /i/[token]" in r.getMessage() for r in caplog.records)
    assert token not in caplog.text
    assert all(token not in r.getMessage() for r in caplog.records)


def test_no_public_url_carries_a_database_id(app):
    f.summit()
    people = [f.invitation() for _ in range(3)]
    tokens = set()
    for inv in people:
        token = links.token_for(inv)
        url = links.personal_url(inv)
        assert not token.isdigit() and not re.fullmatch(r"[0-9]+", token)
        assert len(token) >= 43  # 2 x 128 bits, base64url
        assert str(inv.id) not in url.split("/")
        assert str(inv.id) not in re.split(r"[/?&=#]", url)
        assert inv.email not in url and inv.name.split()[0] not in url
        assert inv.code != str(inv.id)
        assert re.fullmatch(rf"NH2-[{CODE_ALPHABET}]{{28}}", inv.code)
        assert str(inv.id) not in inv.code.split("-")
        tokens.add(token)
    assert len(tokens) == 3


def test_a_database_dump_alone_yields_no_working_link(app, client):
    f.summit()
    inv = f.invitation(name="Dora Dump")
    selector = inv.link_selector  # what a dump of the invitation table shows
    for guess in (selector, selector + "A" * 22, selector + selector, selector + inv.code[:22]):
        response = client.get(f"/i/{guess}")
        assert response.status_code == 404, guess
        assert "Dora" not in text(response)
    assert fresh(inv).opened_at is None
    # The real link needs the key the database does not hold.
    assert client.get(link(inv)).status_code == 200


def test_a_new_link_retires_the_old_one(app, client):
    f.summit()
    inv = f.invitation()
    old = link(inv)
    links.reissue_link(inv)
    db.session.commit()
    assert client.get(old).status_code == 404
    assert client.get(link(inv)).status_code == 200


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
