"""A copy of the database opens nothing: no personal link, calendar feed or sign-in link works from what it holds
(the SQLite file's own bytes, every text column on PostgreSQL), after a day's mail, sign-ups, a clicked link
reported by SendGrid and a delivered message; and no calendar file the product serves or sends carries the
personal link."""

from __future__ import annotations

import base64
import json
import re
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from app.core.auth import credentials, invites, password_reset
from app.core.auth.models import Role
from app.core.db import db
from app.core.mail import delivery
from app.core.mail.models import OutboxMessage, ProviderEvent
from app.core.security import calendar_feed_token
from invitations import journey, links, mailing
from tests.support import factories as f
from tests.support import fringe_factories as ff
from tests.support.apps import make_app
from tests.support.dumps import OPENERS, candidates, dump, opening, readable, working_mac
from tests.support.mail_helpers import delivered


def signed(private, events: list[dict], timestamp: str | None = None) -> dict:
    timestamp = timestamp or str(int(time.time()))  # signed now: the webhook refuses old signatures
    body = json.dumps(events)
    signature = base64.b64encode(private.sign((timestamp + body).encode(), ec.ECDSA(hashes.SHA256()))).decode()
    return dict(
        data=body,
        content_type="application/json",
        headers={
            "X-Twilio-Email-Event-Webhook-Signature": signature,
            "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        },
    )


def unfolded(ics: bytes) -> bytes:
    return re.sub(rb"\r\n[ \t]", b"", ics)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_dump_opens_nothing_and_no_calendar_file_carries_the_personal_link(kind, tmp_path):
    private = ec.generate_private_key(ec.SECP256R1())
    public = base64.b64encode(
        private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    ).decode()
    app = make_app(kind, tmp_path, SENDGRID_WEBHOOK_PUBLIC_KEY=public)
    with app.app_context():
        client = app.test_client()
        # Invitations sent and delivered; registrations (confirmations with their .ics); a fringe sign-up with
        # its calendar email; a leader's emailed sign-in link; everything delivered.
        f.summit()
        people = [f.invitation(name=name) for name in ("Ada Lovelace", "Grace Hopper", "Mary Somerville")]
        for person in people:
            mailing.send_invitation(person)
        db.session.commit()
        for person in people[:2]:
            journey.register(person, f.details(name=person.name))
        db.session.commit()
        talk = ff.event("Data for neighbourhoods")
        ff.signed_up(people[0], talk)
        f.user(role=Role.LEADER, email="lena@staff.example.org", name="Lena Leader")
        assert credentials.send_sign_in_link("lena@staff.example.org")
        # A steward invited to the team, and a password reset for the leader.
        olive = f.user(role=Role.ORGANISER, email="olive@staff.example.org", name="Olive Organiser")
        invites.invite("sam@staff.example.org", name="Sam Steward", role=Role.STEWARD, actor=olive)
        assert password_reset.send_reset_link("lena@staff.example.org")
        db.session.commit()
        assert delivery.send_pending().sent == 9
        messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        as_sent = [delivered(m) for m in messages]
        assert {m.kind for m in messages} == {
            "invitation",
            "registration_confirmed",
            "fringe_signed_up",
            "sign_in_link",
            "staff_invitation",
            "password_reset",
        }

        # Each person opens their page, subscribes to their feed; SendGrid reports a delivery and the clicks,
        # each with the link clicked (a personal link, an encoded one, a feed, a sign-in link).
        ada = people[0]
        link, feed = (
            links.personal_url(ada),
            f"http://localhost/calendar/feed/{calendar_feed_token(ada.link_selector)}.ics",
        )
        sign_in_link = next(
            re.search(r"http://localhost/sign-in/link/\S+", m.body_text).group()
            for m in as_sent
            if m.kind == "sign_in_link"
        )
        for person in people:
            assert client.get(links.personal_url(person).removeprefix("http://localhost")).status_code == 200
        assert client.get(feed.removeprefix("http://localhost")).status_code == 200
        invitation_message = next(m for m in messages if m.kind == "invitation" and m.invitation_id == ada.id)
        base = {
            "email": ada.email,
            "timestamp": 1700000100,
            "sg_message_id": f"{invitation_message.provider_id}.filter0001",
            "outbox_id": str(invitation_message.id),
        }
        events = [
            {**base, "event": "delivered", "sg_event_id": "ev-delivered"},
            {**base, "event": "click", "sg_event_id": "ev-click-1", "url": link},
            {**base, "event": "click", "sg_event_id": "ev-click-2", "url": link.replace("/", "%2F")},
            {**base, "event": "click", "sg_event_id": "ev-click-3", "url": feed},
            {**base, "event": "click", "sg_event_id": "ev-click-4", "url": sign_in_link},
        ]
        assert client.post("/webhooks/sendgrid", **signed(private, events)).get_json() == {
            "recorded": 5,
            "duplicates": 0,
        }
        db.session.expire_all()
        assert db.session.scalar(select(ProviderEvent).where(ProviderEvent.sg_event_id == "ev-click-1")).payload["url"]

        # The copy: the SQLite file's bytes (and its write-ahead log), and every column of every row as text.
        data = readable(dump(app))
        near_paths, windows = candidates(data)
        assert len(windows) > 1000  # the search really looked
        assert opening(client, near_paths) == set()
        assert {w for w in windows if working_mac(w)} == set()
        assert sum("-token:" in c for c in near_paths) >= 5  # what stands where each link was
        print(
            f"\n[{kind}] dump of {len(data)} bytes: {len(near_paths)} candidates requested on {len(OPENERS)} paths each,"
            f" {len(windows)} token-sized windows checked by MAC: none opens anything"
        )
        tokens = [links.token_for(p) for p in people]
        staff_secrets = [
            re.search(rf"http://localhost/sign-in/{path}/(\S+)", m.body_text).group(1)
            for m in as_sent
            for kind_, path in (("staff_invitation", "join"), ("password_reset", "reset"))
            if m.kind == kind_
        ]
        assert len(staff_secrets) == 2
        for secret in (*tokens, calendar_feed_token(ada.link_selector), sign_in_link.rsplit("/", 1)[1], *staff_secrets):
            assert secret.encode() not in data

        # The control: the same search over the mail as delivered and the click events as SendGrid sent them
        # finds the links, and they open.
        sent = "\n".join(
            part for m in as_sent for part in [m.body_text, m.body_html, *(a["content_b64"] for a in m.attachments)]
        )
        sent_near, sent_windows = candidates(readable((sent + "\n" + json.dumps(events)).encode()))
        working = {w for w in sent_windows if working_mac(w)}
        assert set(tokens) | {calendar_feed_token(ada.link_selector)} | set(staff_secrets) <= working
        assert set(staff_secrets) <= opening(client, working & sent_near)
        assert set(tokens) <= opening(client, working & sent_near)

        # No calendar file the product serves or sends holds the personal link: the downloads, the feed, the
        # public files, and every attachment as delivered (links put back).
        served = [
            client.get(path).get_data()
            for path in (
                f"/i/{tokens[0]}/calendar.ics",
                feed.removeprefix("http://localhost"),
                "/calendar/summit.ics",
                f"/calendar/fringe/{talk.slug}.ics",
            )
        ]
        attached = [
            base64.b64decode(a["content_b64"])
            for m in as_sent
            for a in m.attachments
            if a["content_type"].startswith("text/calendar")
        ]
        assert len(attached) == 3  # two confirmations and the sign-up
        for ics in [*served, *attached]:
            assert ics.startswith(b"BEGIN:VCALENDAR")
            assert b"/i/" not in unfolded(ics) and not any(t.encode() in unfolded(ics) for t in tokens)
            assert b"URL:http://localhost/\r\n" in unfolded(ics)
        db.engine.dispose()
