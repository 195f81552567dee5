"""Sending to a group: the filters, the count and preview, the confirmation, the quiet days, the full-summit
warning, the leaders' nudge gate, and scheduled sends made by the mail worker exactly once."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from app.core.audit import AuditEvent
from app.core.auth.models import Role
from app.core.db import db, utcnow
from app.core.mail import delivery
from app.core.mail.models import OutboxMessage
from app.core.summit import settings as summit_settings
from invitations import audiences, chasing, journey, mailing, scheduled_sends
from invitations.models import Invitation, ScheduledKind, ScheduledSend, ScheduledStatus
from tests.support import both_databases, join_all
from tests.support import factories as f
from tests.support import fringe_factories as ff
from tests.support.apps import make_app

A, B = "Babergh District Council", "Ipswich Borough Council"


def reminders(*where) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reminder", *where)))


def age_messages(days: float) -> None:
    """Make every message so far `days` old, as if sent then."""
    db.session.execute(update(OutboxMessage).values(created_at=utcnow() - timedelta(days=days)))
    db.session.commit()


@pytest.fixture
def group(app):
    """One person in each state, across two organisations, two champions and a fringe event."""
    f.summit()
    leader = f.user(role=Role.LEADER, name="Lena Leader")
    other = f.user(role=Role.LEADER, name="Mo Other")
    event = ff.event("Data for good")
    made = {
        "not_opened": f.invitation(name="Ann Notopened", organisation=A, champion=leader),
        "opened": f.invitation(name="Ben Opened", organisation=B, champion=other),
        "registered": f.invitation(name="Cat Registered", organisation=A, champion=leader),
        "waitlisted": f.invitation(name="Dan Waiting", organisation=B),
        "declined": f.invitation(name="Eve Declined", organisation=A),
        "unsent": f.invitation(name="Fay Unsent", organisation=A, champion=leader),
    }
    for key, inv in made.items():
        if key != "unsent":
            mailing.send_invitation(inv)
    made["opened"].opened_at = utcnow()
    journey.register(made["registered"], f.details(name="Cat Registered"))
    db.session.commit()
    ff.signed_up(made["registered"], event)
    summit = summit_settings.get_summit()
    summit.capacity = summit.places_taken  # full, so the next person waits
    db.session.commit()
    journey.join_waitlist(made["waitlisted"])
    journey.decline(made["declined"])
    db.session.commit()
    age_messages(10)  # all of it long enough ago for the quiet days
    return {**made, "leader": leader, "other": other, "event": event, "organiser": f.user(name="Olive Organiser")}


def names(audience: audiences.Audience) -> set[str]:
    return {inv.name for inv in db.session.scalars(audiences.members(audience))}


@both_databases
def test_each_filter_selects_the_right_people(app, group):
    A_ = audiences.Audience
    assert names(A_(state="not_answered")) == {"Ann Notopened", "Ben Opened"}
    assert names(A_(state="not_opened")) == {"Ann Notopened"}
    assert names(A_(state="opened_not_registered")) == {"Ben Opened"}
    assert names(A_(state="registered")) == {"Cat Registered"}
    assert names(A_(state="waitlisted")) == {"Dan Waiting"}
    assert names(A_(state="declined")) == {"Eve Declined"}
    assert names(A_(state=audiences.NOT_SENT)) == {"Fay Unsent"}
    assert names(A_(organisation=B)) == {"Ben Opened", "Dan Waiting"}
    assert names(A_(champion=str(group["leader"].id))) == {"Ann Notopened", "Cat Registered", "Fay Unsent"}
    assert names(A_(champion="none")) == {"Dan Waiting", "Eve Declined"}
    assert names(A_(fringe=str(group["event"].id))) == {"Cat Registered"}
    assert "Cat Registered" not in names(A_(fringe="none")) and "Ann Notopened" in names(A_(fringe="none"))
    assert names(A_(state="not_answered", organisation=A, champion=str(group["leader"].id))) == {"Ann Notopened"}
    with pytest.raises(Exception, match="not a group we know"):
        A_.from_mapping({"state": "everyone-ever"})


@both_databases
def test_the_page_counts_previews_then_asks_before_sending(app, client, group):
    f.sign_in(client, group["organiser"])
    page = client.get(f"/organiser/reminders?state=not_answered&organisation={A}").get_data(as_text=True)
    assert "<strong>1</strong> reminder would go now" in page
    assert f"Invited, not answered yet, at {A}" in page
    assert "What Ann Notopened would get" in page and "A reminder: your invitation to" in page
    assert "We haven&#39;t heard from you yet" in page  # the text version, as sent
    frame = re.search(r'<iframe[^>]+src="([^"]+)"', page)
    assert frame
    preview = client.get(frame.group(1).replace("&amp;", "&"))
    html = preview.get_data(as_text=True)
    assert (
        preview.status_code == 200 and "Dear Ann," in html and "sandbox" in preview.headers["Content-Security-Policy"]
    )
    assert "/i/" in html and re.search(r"/i/[A-Za-z0-9_-]{40,}", html) is None  # the link masked
    # The organisations and leaders present are offered as choices.
    assert f"<option selected>{A}</option>" in page and "Lena Leader</option>" in page
    assert "Signed up for Data for good" in page

    asked = client.post("/organiser/reminders", data={"state": "not_answered", "organisation": A})
    body = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Send 1 reminder?" in body and "1 person" in body
    assert reminders() == []  # asked, nothing sent
    done = client.post("/organiser/reminders", data={"state": "not_answered", "organisation": A, "confirm": "yes"})
    assert done.status_code == 302
    assert [m.invitation_id for m in reminders()] == [group["not_opened"].id]
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "invitation.reminded")
        )
        == 1
    )


@both_databases
def test_the_quiet_days_leave_out_anyone_sent_a_message_even_by_hand(app, client, group):
    app.config["REMIND_QUIET_DAYS"] = 3
    f.sign_in(client, group["organiser"])
    ben = group["opened"]
    # The organiser sends Ben's invitation again by hand: that is a message, so no reminder for 3 days.
    assert client.post(f"/organiser/invitations/{ben.id}/send").status_code == 302
    page = client.get("/organiser/reminders?state=not_answered").get_data(as_text=True)
    assert "<strong>1</strong> reminder would go now" in page
    assert "1 person is left out: they were sent a message in the last 3 days" in page
    client.post("/organiser/reminders", data={"state": "not_answered", "confirm": "yes"})
    assert [m.invitation_id for m in reminders()] == [group["not_opened"].id]
    # A second round the same day reaches nobody: Ann has just been reminded.
    client.post("/organiser/reminders", data={"state": "not_answered", "confirm": "yes"})
    assert len(reminders()) == 1
    # Four days on, both are due again.
    age_messages(4)
    assert audiences.count(audiences.Audience(state="not_answered"), 3).to_send == 2


@both_databases
def test_the_page_warns_when_the_summit_is_full(app, client, group):
    f.sign_in(client, group["organiser"])
    warning = "The summit is full: these people would join the waiting list"
    page = client.get("/organiser/reminders?state=not_answered").get_data(as_text=True)
    assert warning in page
    assert warning in client.post("/organiser/reminders", data={"state": "not_answered"}).get_data(as_text=True)
    # Registered people aren't urged to register, so no warning for them.
    assert warning not in client.get("/organiser/reminders?state=registered").get_data(as_text=True)
    client.post("/organiser/reminders", data={"state": "not_answered", "confirm": "yes"})
    delivery.send_pending()
    written = reminders(OutboxMessage.invitation_id == group["not_opened"].id)[0]
    assert "The summit is full now" in (written.body_text or "")
    # With a place free, no warning.
    summit = summit_settings.get_summit()
    summit.capacity += 1
    db.session.commit()
    age_messages(10)
    assert warning not in client.get("/organiser/reminders?state=not_answered").get_data(as_text=True)


@both_databases
def test_a_leader_cant_nudge_an_unsent_invitation_until_the_organisers_allow_it(app, client, group):
    lena, fay = group["leader"], group["unsent"]
    f.sign_in(client, lena)
    page = client.get("/leader").get_data(as_text=True)
    assert "Not invited yet" in page and f"/leader/invitees/{fay.id}/nudge" not in page
    refused = client.post(f"/leader/invitees/{fay.id}/nudge", data={"message": "Do come!"}, follow_redirects=True)
    assert "Not invited yet: the organisers haven" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).where(OutboxMessage.kind == "leader_nudge")) == 0
    with pytest.raises(chasing.NudgeRefused):
        chasing.nudge(db.session.get(Invitation, fay.id), lena, "Do come!")
    db.session.rollback()

    organiser = app.test_client()
    f.sign_in(organiser, group["organiser"])
    settings = organiser.get("/organiser/summit").get_data(as_text=True)
    assert "Leaders may nudge before the invitation is sent" in settings
    summit = summit_settings.get_summit()
    form = {
        "name": summit.name,
        "tagline": summit.tagline,
        "venue": summit.venue,
        "address": summit.address,
        "starts_at": "2027-10-14T09:30",
        "ends_at": "2027-10-14T16:30",
        "capacity": str(summit.capacity),
        "target": str(min(summit.target, summit.capacity)),
        "offer_hold_hours": "24",
        "leaders_may_nudge_unsent": "y",
    }
    assert organiser.post("/organiser/summit", data=form).status_code == 302
    db.session.expire_all()
    assert summit_settings.get_summit().leaders_may_nudge_unsent is True
    log = organiser.get("/organiser/audit/").get_data(as_text=True)
    assert "leaders may nudge before the invitation is sent" in log

    assert f"/leader/invitees/{fay.id}/nudge" in client.get("/leader").get_data(as_text=True)
    sent = client.post(f"/leader/invitees/{fay.id}/nudge", data={"message": "Do come!"}, follow_redirects=True)
    assert "Nudge sent" in sent.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).where(OutboxMessage.kind == "leader_nudge")) == 1


@both_databases
def test_schedule_list_and_cancel(app, client, group):
    organiser = group["organiser"]
    f.sign_in(client, organiser)
    past = client.post("/organiser/reminder/schedule", data={"state": "not_answered", "due_at": "2020-01-01T09:00"})
    assert past.status_code == 422 and "That time has passed" in past.get_data(as_text=True)
    empty = client.post("/organiser/reminder/schedule", data={"state": "not_answered", "due_at": ""})
    assert empty.status_code == 422 and "Enter the date and time" in empty.get_data(as_text=True)
    made = client.post(
        "/organiser/reminder/schedule", data={"state": "not_opened", "organisation": A, "due_at": "2030-05-01T09:30"}
    )
    assert made.status_code == 302 and made.headers["Location"].endswith("/organiser/scheduled")
    row = db.session.scalars(select(ScheduledSend)).one()
    assert row.due_at == datetime(2030, 5, 1, 8, 30, tzinfo=UTC)  # 9:30am BST is 8:30 UTC
    assert row.audience["organisation"] == A and row.created_by_id == organiser.id
    listing = client.get("/organiser/scheduled").get_data(as_text=True)
    assert "Wednesday 1 May 2030, 9:30am" in listing and "Reminders" in listing
    assert f"Invited, not opened their invitation, at {A}" in listing and "Olive Organiser" in listing
    assert re.search(r'data-label="How many now">1<', listing)

    assert client.post(f"/organiser/scheduled/{row.id}/cancel", data={}).status_code == 302
    db.session.expire_all()
    assert row.status == ScheduledStatus.CANCELLED and row.cancelled_by_id == organiser.id
    again = client.post(f"/organiser/scheduled/{row.id}/cancel", data={}, follow_redirects=True)
    assert "already cancelled" in again.get_data(as_text=True)
    assert "Nothing is scheduled" in client.get("/organiser/scheduled").get_data(as_text=True)
    log = client.get("/organiser/audit/").get_data(as_text=True)
    assert "Olive Organiser scheduled reminders to invited, not opened their invitation" in log
    assert "Olive Organiser cancelled the reminders to" in log
    # A cancelled send never goes.
    db.session.execute(update(ScheduledSend).values(due_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    delivery.send_pending()
    assert reminders() == []


@both_databases
def test_invitations_can_be_sent_to_a_group_or_scheduled(app, client, group):
    f.sign_in(client, group["organiser"])
    extra = f.invitation(name="Gus Unsent", organisation=B)
    page = client.get(f"/organiser/invitations/send?organisation={A}").get_data(as_text=True)
    assert "<strong>1</strong> invitation would go now" in page and "What Fay Unsent would get" in page
    made = client.post("/organiser/invitation/schedule", data={"organisation": B, "due_at": "2030-01-01T10:00"})
    assert made.status_code == 302
    db.session.execute(update(ScheduledSend).values(due_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    delivery.send_pending()
    sent = db.session.scalars(select(OutboxMessage.invitation_id).where(OutboxMessage.kind == "invitation")).all()
    assert extra.id in sent and group["unsent"].id not in sent  # only the group scheduled


@both_databases
def test_scheduled_invitations_carry_the_covering_note_typed_on_the_page(app, client, group):
    """The note typed above the invitations goes with them when they are scheduled, and the worker's round that
    makes the due send puts it above each one; a note with a mistake is refused when scheduling, not later."""
    f.sign_in(client, group["organiser"])
    page = client.get("/organiser/invitations/send").get_data(as_text=True)
    form = page[page.index('action="/organiser/invitations/send"') :]
    form = form[: form.index("</form>")]
    assert 'name="note"' in form and 'formaction="/organiser/invitation/schedule"' in form  # one form, two ways
    note = "A word from the **chief executives**, ((first_name)): please come."
    refused = client.post(
        "/organiser/invitation/schedule", data={"due_at": "2030-01-01T10:00", "note": note + " ((secret))"}
    )
    assert refused.status_code == 422 and "((secret)) is not a placeholder" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ScheduledSend)) == 0
    made = client.post("/organiser/invitation/schedule", data={"due_at": "2030-01-01T10:00", "note": note})
    assert made.status_code == 302
    listing = client.get("/organiser/scheduled").get_data(as_text=True)
    assert "with a covering note" in listing
    db.session.execute(update(ScheduledSend).values(due_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()

    delivery.send_pending(worker_id="worker-1")  # the worker's round: the due send is made, then delivered

    sent = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.kind == "invitation", OutboxMessage.invitation_id == group["unsent"].id
        )
    ).one()
    assert "A word from the chief executives, Fay: please come." in sent.body_text
    assert "<strong>chief executives</strong>, Fay:" in sent.body_html
    assert sent.body_text.index("A word from") < sent.body_text.index("We would like to invite you")
    others = db.session.scalars(select(OutboxMessage).where(OutboxMessage.invitation_id != group["unsent"].id)).all()
    assert others and all("chief executives" not in (m.body_text or "") for m in others)  # a one-off


@both_databases
def test_a_due_send_goes_once_for_the_group_as_it_is_then_and_not_before(app, group):
    organiser = group["organiser"]
    row = scheduled_sends.schedule(
        ScheduledKind.REMINDER, audiences.Audience(state="not_answered"), utcnow() + timedelta(hours=1), actor=organiser
    )
    db.session.commit()
    delivery.send_pending()
    assert reminders() == [] and row.status == ScheduledStatus.WAITING  # not before its time
    # Before it is due, Ben answers: the group is worked out when it goes, so he gets no reminder.
    journey.decline(db.session.get(Invitation, group["opened"].id))
    db.session.commit()
    db.session.execute(update(ScheduledSend).values(due_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert scheduled_sends.send_due("worker-1") == 1
    assert scheduled_sends.send_due("worker-1") == 0  # called twice: made once
    delivery.send_pending()
    delivery.send_pending()
    assert [m.invitation_id for m in reminders()] == [group["not_opened"].id]
    db.session.expire_all()
    assert row.status == ScheduledStatus.SENT and row.sent_count == 1 and row.sent_by == "worker-1"
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert actions.count("scheduled_send.sent") == 1 and actions.count("invitation.reminded") == 1


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_two_workers_racing_make_each_due_send_exactly_once(kind, tmp_path):
    app = make_app(kind, tmp_path)
    with app.app_context():
        f.summit()
        organiser = f.user()
        organisations = [f"Council {n}" for n in range(6)]
        for organisation in organisations:
            for _ in range(5):
                mailing.send_invitation(f.invitation(organisation=organisation))
        db.session.commit()
        age_messages(10)
        for organisation in organisations:
            scheduled_sends.schedule(
                ScheduledKind.REMINDER,
                audiences.Audience(state="not_answered", organisation=organisation),
                utcnow() + timedelta(minutes=5),
                actor=organiser,
            )
        db.session.commit()
        db.session.execute(update(ScheduledSend).values(due_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()

    start = threading.Barrier(4)
    went: dict[str, int] = {}

    def work(name: str) -> None:
        with app.app_context():
            start.wait()
            went[name] = scheduled_sends.send_due(name)
            db.session.close()

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    join_all(threads)
    with app.app_context():
        print(f"\n[{kind}] scheduled sends made per worker: {went}")
        assert sum(went.values()) == 6
        per_person = db.session.execute(
            select(OutboxMessage.invitation_id, func.count())
            .where(OutboxMessage.kind == "reminder")
            .group_by(OutboxMessage.invitation_id)
        ).all()
        assert len(per_person) == 30 and {n for _, n in per_person} == {1}
        rows = db.session.scalars(select(ScheduledSend)).all()
        assert {r.status for r in rows} == {ScheduledStatus.SENT} and all(r.sent_count == 5 for r in rows)
        db.engine.dispose()


@both_databases
def test_times_are_entered_and_shown_in_uk_time_across_the_clock_change(app, client, group):
    f.sign_in(client, group["organiser"])
    # The clocks go forward at 1am on Sunday 28 March 2027.
    for typed in ("2027-03-27T09:00", "2027-03-29T09:00"):
        assert (
            client.post("/organiser/reminder/schedule", data={"state": "declined", "due_at": typed}).status_code == 302
        )
    due = sorted(db.session.scalars(select(ScheduledSend.due_at)))
    assert due == [
        datetime(2027, 3, 27, 9, 0, tzinfo=UTC),
        datetime(2027, 3, 29, 8, 0, tzinfo=UTC),
    ]  # GMT, then BST (stored UTC)
    listing = client.get("/organiser/scheduled").get_data(as_text=True)
    assert "Saturday 27 March 2027, 9am" in listing and "Monday 29 March 2027, 9am" in listing
