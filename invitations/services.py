"""Invitation rules: links, registration, the waiting list, handing on, and the organisers' edits.

Services flush but never commit; the caller commits once. Every place taken or given back goes
through app.summit.services.take_place / release_place in the same transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update

from app import audit
from app.db import db, utcnow
from app.errors import InvalidState, NotFound, OfferLapsed, RegistrationClosed, SummitFull, ValidationFailed
from app.calendar import build_calendar
from app.mail.outbox import attachment, enqueue
from app.security import link_token, new_badge_code, new_link_selector, selector_from_token
from app.summit import services as summit_services
from app.summit.models import Summit
from app.urls import external_url
from invitations import signals, transitions
from invitations.models import (
    LIVE_STATES,
    Invitation,
    InvitationState,
    Registration,
    RegistrationState,
    WaitlistEntry,
    WaitlistState,
)
from app.timefmt import span
from dataclasses import replace

S = InvitationState


# --- links -----------------------------------------------------------------------------------

def invitation_for_token(token: str) -> Invitation | None:
    selector = selector_from_token(token)
    if selector is None:
        return None
    return db.session.scalars(select(Invitation).where(Invitation.link_selector == selector)).first()


def token_for(invitation: Invitation) -> str:
    return link_token(invitation.link_selector)


def personal_url(invitation: Invitation) -> str:
    return external_url("invitations.home", token=token_for(invitation))


def mark_opened(invitation: Invitation, now: datetime | None = None) -> None:
    if invitation.opened_at is None:
        invitation.opened_at = now or utcnow()


def reissue_link(invitation: Invitation, actor=None) -> Invitation:
    """A new link; the old one stops working at once."""
    transitions.lock(invitation)
    invitation.link_selector = new_link_selector()
    audit.record("invitation.link_reissued", actor=actor, invitation_id=invitation.id)
    db.session.flush()
    return invitation


# --- creating and editing --------------------------------------------------------------------

@dataclass(frozen=True)
class InviteeData:
    email: str
    name: str
    organisation: str
    job_title: str = ""
    champion_id: int | None = None
    sector: str = ""


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_by_email(email: str) -> Invitation | None:
    return db.session.scalars(select(Invitation).where(Invitation.email == normalise_email(email))).first()


def create_invitation(data: InviteeData, *, actor=None, substitute_for: Invitation | None = None) -> Invitation:
    email = normalise_email(data.email)
    if find_by_email(email) is not None:
        raise ValidationFailed(f"{email} has already been invited; each person has one invitation.")
    invitation = Invitation(
        email=email,
        name=data.name.strip(),
        organisation=data.organisation.strip(),
        job_title=data.job_title.strip(),
        sector=data.sector.strip(),
        champion_id=data.champion_id,
        state=S.INVITED,
        link_selector=new_link_selector(),
        code=new_badge_code(),
        substitute_for=substitute_for,
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record("invitation.created", actor=actor, invitation_id=invitation.id, email=email)
    return invitation


def update_invitation(invitation: Invitation, data: InviteeData, *, actor=None) -> Invitation:
    transitions.lock(invitation)
    email = normalise_email(data.email)
    if email != invitation.email:
        other = find_by_email(email)
        if other is not None and other.id != invitation.id:
            raise ValidationFailed(f"{email} already has an invitation of its own.")
    before = {"email": invitation.email, "name": invitation.name, "organisation": invitation.organisation,
              "job_title": invitation.job_title, "champion_id": invitation.champion_id}
    if email != invitation.email:
        invitation.bounced_at = None  # a corrected address deserves a fresh start
        invitation.bounce_reason = ""
    invitation.email = email
    invitation.name = data.name.strip()
    invitation.organisation = data.organisation.strip()
    invitation.job_title = data.job_title.strip()
    invitation.champion_id = data.champion_id
    if data.sector:
        invitation.sector = data.sector.strip()
    db.session.flush()
    after = {"email": invitation.email, "name": invitation.name, "organisation": invitation.organisation,
             "job_title": invitation.job_title, "champion_id": invitation.champion_id}
    if before != after:
        audit.record("invitation.updated", actor=actor, invitation_id=invitation.id, before=before, after=after)
    return invitation


@dataclass(frozen=True)
class ImportOutcome:
    created: int
    updated: int


def import_invitees(rows, champions_by_email: dict[str, int], *, actor=None) -> ImportOutcome:
    """Upsert parsed CSV rows (already validated as a whole). A known email is updated, never duplicated."""
    emails = [row.email for row in rows]
    chunks = [emails[start:start + 500] for start in range(0, len(emails), 500)]
    # Hold the people being updated, then read them as they now are.
    transitions.lock_many(id_ for chunk in chunks
                          for id_ in db.session.scalars(select(Invitation.id).where(Invitation.email.in_(chunk))))
    existing: dict[str, Invitation] = {}
    for chunk in chunks:
        for inv in db.session.scalars(select(Invitation).where(Invitation.email.in_(chunk))):
            existing[inv.email] = inv
    created = updated = 0
    for row in rows:
        champion_id = champions_by_email.get(row.champion_email) if row.champion_email else None
        inv = existing.get(row.email)
        if inv is None:
            inv = Invitation(
                email=row.email, name=row.name, organisation=row.organisation, job_title=row.job_title,
                champion_id=champion_id, state=S.INVITED, link_selector=new_link_selector(), code=new_badge_code(),
            )
            db.session.add(inv)
            existing[row.email] = inv
            created += 1
        else:
            changed = False
            for field, value in (("name", row.name), ("organisation", row.organisation), ("job_title", row.job_title)):
                if getattr(inv, field) != value:
                    setattr(inv, field, value)
                    changed = True
            if row.champion_email and inv.champion_id != champion_id:
                inv.champion_id = champion_id
                changed = True
            updated += int(changed)
    db.session.flush()
    audit.record("invitations.imported", actor=actor, created=created, updated=updated)
    return ImportOutcome(created=created, updated=updated)


def revoke_invitation(invitation: Invitation, *, actor=None, now: datetime | None = None) -> Invitation:
    """Withdraw an invitation: its link and badge stop working, and any place it held goes back."""
    now = now or utcnow()
    no_longer = "This invitation is no longer live, so there is nothing to revoke."
    before = transitions.begin(invitation, allowed=LIVE_STATES,
                               refusals={S.REVOKED: no_longer, S.HANDED_ON: no_longer}).value
    give_up_place(invitation, now)
    invitation.state = S.REVOKED
    signals.person_left.send(invitation, now=now)
    audit.record("invitation.revoked", actor=actor, invitation_id=invitation.id, before=before, after="revoked")
    db.session.flush()
    return invitation


@dataclass(frozen=True)
class PlaceGivenUp:
    """What became of a place a person gave back: offered on to someone waiting, or free again."""
    released: bool = False
    offered_on: int = 0


def give_up_place(invitation: Invitation, now: datetime) -> PlaceGivenUp:
    """Release whatever the invitation holds: a confirmed place, an offer or a queue position.
    The caller has begun the person's transition (invitations.transitions)."""
    summit = summit_services.get_summit()
    if invitation.state == S.REGISTERED and invitation.registration is not None:
        invitation.registration.state = RegistrationState.CANCELLED
        invitation.registration.cancelled_at = now
        summit_services.release_place(summit.id)
        return PlaceGivenUp(released=True, offered_on=fill_from_waitlist(summit, now))
    elif invitation.state == S.OFFERED and invitation.waitlist_entry is not None:
        rows = db.session.execute(
            update(WaitlistEntry)
            .where(WaitlistEntry.id == invitation.waitlist_entry.id, WaitlistEntry.state == WaitlistState.OFFERED)
            .values(state=WaitlistState.LEFT)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.refresh(invitation.waitlist_entry)
        if rows == 1:
            summit_services.release_place(summit.id)
            return PlaceGivenUp(released=True, offered_on=fill_from_waitlist(summit, now))
    elif invitation.state == S.WAITLISTED and invitation.waitlist_entry is not None:
        invitation.waitlist_entry.state = WaitlistState.LEFT
    return PlaceGivenUp()


# --- the delegate's journey --------------------------------------------------------------------

@dataclass(frozen=True)
class RegistrationDetails:
    name: str
    organisation: str
    job_title: str
    dietary: str = ""
    access_needs: str = ""


REGISTERABLE = frozenset({S.INVITED, S.DECLINED, S.CANCELLED, S.WAITLISTED})


def _apply_details(invitation: Invitation, details: RegistrationDetails, now: datetime) -> Registration:
    invitation.name = details.name.strip()
    invitation.organisation = details.organisation.strip()
    invitation.job_title = details.job_title.strip()
    registration = invitation.registration
    if registration is None:
        registration = Registration(invitation=invitation)
        db.session.add(registration)
    registration.state = RegistrationState.CONFIRMED
    registration.dietary = details.dietary.strip()
    registration.access_needs = details.access_needs.strip()
    registration.consent_at = now
    registration.registered_at = now
    registration.cancelled_at = None
    return registration


def _check_open(summit: Summit, now: datetime) -> None:
    if not summit.registration_open(now):
        if summit.registration_opens_at and now < summit.registration_opens_at:
            raise RegistrationClosed("Registration has not opened yet. Your link will work when it does.")
        raise RegistrationClosed("Registration for the summit has closed. If you still hope to come, please contact the organisers.")


def register(invitation: Invitation, details: RegistrationDetails, now: datetime | None = None) -> Registration:
    """Take a place for the invitee, or raise SummitFull / RegistrationClosed / InvalidState."""
    now = now or utcnow()
    state = transitions.begin(invitation, allowed=REGISTERABLE | {S.OFFERED}, refusals={
        S.REGISTERED: f"You're already registered — {transitions.AGO} You can change your details on your page."})
    if state == S.OFFERED:
        return accept_offer(invitation, details, now)
    summit = summit_services.get_summit()
    _check_open(summit, now)
    expire_offers(now)
    if invitation.state == S.OFFERED:  # a lapsed offer elsewhere just passed a place to this person
        return accept_offer(invitation, details, now)
    if not summit_services.take_place(summit.id):
        raise SummitFull("The summit is full. You can join the waiting list and we'll offer you the next free place.")
    if invitation.waitlist_entry is not None and invitation.waitlist_entry.state == WaitlistState.WAITING:
        invitation.waitlist_entry.state = WaitlistState.ACCEPTED
    registration = _apply_details(invitation, details, now)
    invitation.state = S.REGISTERED
    invitation.responded_at = now
    db.session.flush()
    _send_confirmation(invitation, summit)
    return registration


def update_details(invitation: Invitation, details: RegistrationDetails, now: datetime | None = None) -> Registration:
    now = now or utcnow()
    only = "Only a registered delegate can change their details."
    transitions.begin(invitation, allowed={S.REGISTERED},
                      refusals={s: only for s in (S.INVITED, S.WAITLISTED, S.OFFERED, S.DECLINED)})
    registration = invitation.registration
    invitation.name = details.name.strip()
    invitation.organisation = details.organisation.strip()
    invitation.job_title = details.job_title.strip()
    registration.dietary = details.dietary.strip()
    registration.access_needs = details.access_needs.strip()
    if registration.consent_at is None:
        registration.consent_at = now
    db.session.flush()
    summit = summit_services.get_summit()
    enqueue(
        "details_changed", to_email=invitation.email, to_name=invitation.name, invitation_id=invitation.id,
        subject="Your details for New Horizons have been updated",
        context=_mail_context(invitation, summit),
    )
    return registration


def cancel_registration(invitation: Invitation, now: datetime | None = None) -> PlaceGivenUp:
    """Give the place back; the next person on the waiting list is offered it in this transaction."""
    now = now or utcnow()
    nothing = "You don't hold a place, so there is nothing to cancel."
    transitions.begin(invitation, allowed={S.REGISTERED},
                      refusals={s: nothing for s in (S.INVITED, S.WAITLISTED, S.OFFERED, S.DECLINED)})
    summit = summit_services.get_summit()
    outcome = give_up_place(invitation, now)
    invitation.state = S.CANCELLED
    invitation.responded_at = now
    db.session.flush()
    enqueue(
        "registration_cancelled", to_email=invitation.email, to_name=invitation.name, invitation_id=invitation.id,
        subject="Your place at New Horizons is cancelled", context=_mail_context(invitation, summit),
    )
    return outcome


def decline(invitation: Invitation, reason: str = "", now: datetime | None = None) -> None:
    now = now or utcnow()
    transitions.begin(invitation, allowed={S.INVITED, S.DECLINED, S.CANCELLED, S.WAITLISTED, S.OFFERED},
                      refusals={S.REGISTERED: "You're registered. To give your place back, use Cancel my place."})
    give_up_place(invitation, now)
    invitation.state = S.DECLINED
    invitation.decline_reason = reason.strip()[:1000]
    invitation.responded_at = now
    db.session.flush()


def join_waitlist(invitation: Invitation, now: datetime | None = None) -> WaitlistEntry:
    now = now or utcnow()
    transitions.begin(invitation, allowed={S.INVITED, S.DECLINED, S.CANCELLED})
    summit = summit_services.get_summit()
    _check_open(summit, now)
    expire_offers(now)
    db.session.refresh(summit)
    if summit.places_taken < summit.capacity:
        raise InvalidState("There are places left, so there's no need to wait: you can register now.")
    entry = invitation.waitlist_entry
    if entry is None:
        entry = WaitlistEntry(invitation=invitation)
        db.session.add(entry)
    # Rejoining puts you at the back: first come, first served.
    entry.state = WaitlistState.WAITING
    entry.joined_at = now
    entry.offered_at = None
    entry.offer_expires_at = None
    invitation.state = S.WAITLISTED
    invitation.responded_at = now
    db.session.flush()
    enqueue(
        "waitlist_joined", to_email=invitation.email, to_name=invitation.name, invitation_id=invitation.id,
        subject="You're on the waiting list for New Horizons",
        context={**_mail_context(invitation, summit), "position": waitlist_position(invitation)},
    )
    return entry


def waitlist_position(invitation: Invitation) -> int | None:
    entry = invitation.waitlist_entry
    if entry is None or entry.state != WaitlistState.WAITING:
        return None
    ahead = db.session.scalar(
        select(func.count()).select_from(WaitlistEntry).where(
            WaitlistEntry.state == WaitlistState.WAITING,
            or_(WaitlistEntry.joined_at < entry.joined_at,
                (WaitlistEntry.joined_at == entry.joined_at) & (WaitlistEntry.id < entry.id)),
        )
    )
    return ahead + 1


def accept_offer(invitation: Invitation, details: RegistrationDetails, now: datetime | None = None) -> Registration:
    """Turn a held offer into a confirmed place. The place is already counted, so no gate here;
    the conditional UPDATE makes acceptance and expiry mutually exclusive."""
    now = now or utcnow()
    no_offer = "There is no offer of a place waiting for you."
    transitions.begin(invitation, allowed={S.OFFERED},
                      refusals={S.INVITED: no_offer, S.WAITLISTED: no_offer, S.DECLINED: no_offer, S.CANCELLED: no_offer})
    entry = invitation.waitlist_entry
    if entry is None:
        raise InvalidState(no_offer)
    accepted = db.session.execute(
        update(WaitlistEntry)
        .where(WaitlistEntry.id == entry.id, WaitlistEntry.state == WaitlistState.OFFERED,
               WaitlistEntry.offer_expires_at > now)
        .values(state=WaitlistState.ACCEPTED)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(entry)
    if accepted != 1:
        expire_offers(now)
        db.session.refresh(invitation)
        raise OfferLapsed("Sorry, this offer has expired and the place has passed to the next person waiting.")
    summit = summit_services.get_summit()
    registration = _apply_details(invitation, details, now)
    invitation.state = S.REGISTERED
    invitation.responded_at = now
    db.session.flush()
    _send_confirmation(invitation, summit)
    return registration


def fill_from_waitlist(summit: Summit, now: datetime) -> int:
    """Offer every free place to the people waiting, in order. Returns how many offers were made."""
    offers = 0
    hold_until = summit_services.hold_until(summit, now)
    while True:
        entry = db.session.scalars(
            select(WaitlistEntry)
            .where(WaitlistEntry.state == WaitlistState.WAITING)
            .order_by(WaitlistEntry.joined_at, WaitlistEntry.id)
            .limit(1)
        ).first()
        if entry is None:
            return offers
        # Hold the person first; then their entry, as it now is, must still be waiting.
        _lock_holder(entry)
        if entry.state != WaitlistState.WAITING:
            continue
        if not summit_services.take_place(summit.id):
            return offers
        claimed = db.session.execute(
            update(WaitlistEntry)
            .where(WaitlistEntry.id == entry.id, WaitlistEntry.state == WaitlistState.WAITING)
            .values(state=WaitlistState.OFFERED, offered_at=now, offer_expires_at=hold_until)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.refresh(entry)
        if claimed != 1:
            # Someone else's transaction moved this entry first; give the place back and try the next.
            summit_services.release_place(summit.id)
            continue
        invitation = entry.invitation
        invitation.state = S.OFFERED
        offers += 1
        db.session.flush()
        enqueue(
            "place_offered", to_email=invitation.email, to_name=invitation.name, invitation_id=invitation.id,
            subject="A place at New Horizons is yours if you want it",
            context={**_mail_context(invitation, summit), "expires_at": hold_until},
        )


def _lock_holder(entry: WaitlistEntry) -> None:
    """Lock the person who holds a waiting-list entry (an entry moves with a hand-on, under its holder's lock)."""
    while True:
        holder = entry.invitation_id
        transitions.lock(entry.invitation)
        db.session.expire(entry)
        if entry.invitation_id == holder:
            return


def expire_offers(now: datetime | None = None) -> int:
    """Expire lapsed offers and pass each place on. Idempotent: safe to run from anywhere, any time."""
    now = now or utcnow()
    lapsed = db.session.scalars(
        select(WaitlistEntry).where(WaitlistEntry.state == WaitlistState.OFFERED, WaitlistEntry.offer_expires_at <= now)
    ).all()
    if not lapsed:
        return 0
    summit = summit_services.get_summit()
    expired = 0
    for entry in lapsed:
        _lock_holder(entry)
        rows = db.session.execute(
            update(WaitlistEntry)
            .where(WaitlistEntry.id == entry.id, WaitlistEntry.state == WaitlistState.OFFERED,
                   WaitlistEntry.offer_expires_at <= now)
            .values(state=WaitlistState.EXPIRED)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.refresh(entry)
        if rows != 1:
            continue
        expired += 1
        invitation = entry.invitation
        invitation.state = S.INVITED
        summit_services.release_place(summit.id)
        db.session.flush()
        enqueue(
            "offer_expired", to_email=invitation.email, to_name=invitation.name, invitation_id=invitation.id,
            subject="The place we offered you has passed on", context=_mail_context(invitation, summit),
        )
    fill_from_waitlist(summit, now)
    db.session.flush()
    return expired


def configure_summit(**settings) -> Summit:
    """Change the summit's settings; places a raised capacity frees go straight to the waiting list."""
    return change_summit(**settings).summit


@dataclass(frozen=True)
class SummitChange:
    summit: Summit
    changes: list[list[str]]  # [label, before, after] in words: [["When", "Wednesday 14 October, 9:30am–4:30pm", …]]
    notified: int             # registered delegates emailed the updated calendar entry


def change_summit(**settings) -> SummitChange:
    """As configure_summit; and when the time or place moves, a higher calendar SEQUENCE and an email with the
    updated .ics (METHOD:REQUEST, same UID) to every registered delegate, in the same transaction."""
    current = summit_services.find_summit()
    before = None
    if current is not None:
        # Lock before reading "before", so a concurrent change can't slip between the comparison and the write.
        current = db.session.scalars(select(Summit).where(Summit.id == current.id).with_for_update()).one()
        db.session.refresh(current)
        before = _summit_time_and_place(current)
    summit = summit_services.configure_summit(**settings)
    fill_from_waitlist(summit, utcnow())
    after = _summit_time_and_place(summit)
    changes = [[label, before[label][1], after[label][1]] for label in after
               if before is not None and before[label][0] != after[label][0]]
    notified = 0
    if changes:
        summit.ics_sequence += 1
        db.session.flush()
        notified = _send_summit_changed(summit, changes)
    return SummitChange(summit, changes, notified)


def _summit_time_and_place(summit: Summit) -> dict[str, tuple]:
    """{label: (the values compared, the words shown)} for what calendar entries carry: time and place."""
    place = summit.address if summit.venue in summit.address else f"{summit.venue}, {summit.address}"
    return {"When": ((summit.starts_at, summit.ends_at), span(summit.starts_at, summit.ends_at)),
            "Where": ((summit.venue, summit.address), place)}


def _send_summit_changed(summit: Summit, changes: list[list[str]]) -> int:
    people = db.session.scalars(select(Invitation).where(Invitation.state == S.REGISTERED).order_by(Invitation.id)).all()
    for invitation in people:
        entry = replace(summit_services.summit_calendar_event(summit, url=personal_url(invitation)),
                        attendee_email=invitation.email, attendee_name=invitation.name)
        enqueue(
            "summit_changed", to_email=invitation.email, to_name=invitation.name, invitation_id=invitation.id,
            subject="A change to New Horizons: please update your diary",
            context={**_mail_context(invitation, summit), "changes": changes},
            attachments=[attachment("new-horizons.ics", "text/calendar; method=REQUEST",
                                    build_calendar([entry], method="REQUEST"))],
        )
    return len(people)


# --- sending a colleague ---------------------------------------------------------------------

@dataclass(frozen=True)
class Colleague:
    name: str
    email: str
    organisation: str
    job_title: str = ""


HANDABLE = frozenset({S.INVITED, S.REGISTERED, S.WAITLISTED, S.OFFERED, S.DECLINED, S.CANCELLED})


def hand_on(invitation: Invitation, colleague: Colleague, now: datetime | None = None) -> Invitation:
    """Send a colleague instead. A confirmed place or a queue position passes straight across."""
    now = now or utcnow()
    previous_state = transitions.begin(invitation, allowed=HANDABLE)
    email = normalise_email(colleague.email)
    if email == invitation.email:
        raise ValidationFailed("That's your own email address: please give your colleague's.")
    if find_by_email(email) is not None:
        raise ValidationFailed(f"{email} has already been invited, so they have a link of their own.")
    summit = summit_services.get_summit()
    new = create_invitation(
        InviteeData(email=email, name=colleague.name, organisation=colleague.organisation,
                    job_title=colleague.job_title, champion_id=invitation.champion_id, sector=invitation.sector),
        substitute_for=invitation,
    )
    transitions.adopt(new)
    new.sent_at = now
    if invitation.state == S.REGISTERED and invitation.registration is not None:
        invitation.registration.state = RegistrationState.TRANSFERRED
        invitation.registration.cancelled_at = now
        # The place moves without touching the counter: it never becomes free.
        db.session.add(Registration(invitation=new, state=RegistrationState.CONFIRMED, registered_at=now))
        new.state = S.REGISTERED
    elif invitation.state in (S.WAITLISTED, S.OFFERED) and invitation.waitlist_entry is not None:
        entry = invitation.waitlist_entry
        entry.invitation = new
        new.state = invitation.state
    signals.person_handed_on.send(invitation, to=new, now=now)
    invitation.state = S.HANDED_ON
    invitation.responded_at = now
    db.session.flush()
    audit.record("invitation.handed_on", actor_label=invitation.name, invitation_id=invitation.id,
                 to_invitation=new.id, before=previous_state.value)
    context = _mail_context(new, summit)
    enqueue(
        "colleague_invited", to_email=new.email, to_name=new.name, invitation_id=new.id,
        subject=f"{invitation.name} has passed their New Horizons invitation to you",
        context={**context, "original": invitation, "had_place": new.state == S.REGISTERED,
                 "offer_expires_at": new.waitlist_entry.offer_expires_at if new.state == S.OFFERED else None,
                 "waiting": new.state == S.WAITLISTED},
    )
    enqueue(
        "handed_on", to_email=invitation.email, to_name=invitation.name, invitation_id=invitation.id,
        subject=f"You've sent {new.name} to New Horizons in your place",
        context={**_mail_context(invitation, summit), "colleague": new},
    )
    return new


# --- email helpers ---------------------------------------------------------------------------

def _mail_context(invitation: Invitation, summit: Summit) -> dict:
    return {"invitation": invitation, "summit": summit, "link": personal_url(invitation)}


def _send_confirmation(invitation: Invitation, summit: Summit) -> None:
    link = personal_url(invitation)
    ics = build_calendar([summit_services.summit_calendar_event(summit, url=link)], method="REQUEST")
    enqueue(
        "registration_confirmed", to_email=invitation.email, to_name=invitation.name, invitation_id=invitation.id,
        subject="You're registered for New Horizons", context=_mail_context(invitation, summit),
        attachments=[attachment("new-horizons.ics", "text/calendar; method=REQUEST", ics)],
    )


def send_invitation(invitation: Invitation, *, actor=None, now: datetime | None = None,
                    summit: Summit | None = None) -> None:
    now = now or utcnow()
    no_longer = "This invitation is no longer live, so it can't be sent."
    transitions.begin(invitation, allowed=LIVE_STATES, refusals={S.REVOKED: no_longer, S.HANDED_ON: no_longer})
    summit = summit or summit_services.get_summit()
    invitation.sent_at = now
    invitation.last_contact_at = now
    enqueue(
        "invitation", to_email=invitation.email, to_name=invitation.name, invitation_id=invitation.id,
        subject="Your invitation to The Lives we Lead: New Horizons",
        context={**_mail_context(invitation, summit),
                 "decline_link": external_url("invitations.decline", token=token_for(invitation))},
    )
    audit.record("invitation.sent", actor=actor, invitation_id=invitation.id)


def get_invitation(invitation_id: int) -> Invitation:
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound("There is no such invitation.")
    return invitation


def unsent_invitations():
    return select(Invitation).where(Invitation.sent_at.is_(None), Invitation.state == S.INVITED)


def send_all_unsent(*, actor=None, now: datetime | None = None) -> int:
    """Queue an invitation to everyone not yet sent one. Returns how many."""
    now = now or utcnow()
    summit = summit_services.get_summit()
    transitions.lock_many(db.session.scalars(unsent_invitations().with_only_columns(Invitation.id)))
    invitations = db.session.scalars(unsent_invitations().order_by(Invitation.id)).all()
    for invitation in invitations:
        send_invitation(invitation, actor=actor, now=now, summit=summit)
    db.session.flush()
    return len(invitations)


REMINDER_GROUPS = {
    "not_answered": "Everyone who hasn't answered",
    "not_opened": "Those who haven't opened their invitation",
    "opened_not_registered": "Those who opened it but haven't registered",
}


def reminder_query(group: str):
    """Sent, still unanswered invitations in the chosen group."""
    query = select(Invitation).where(Invitation.state == S.INVITED, Invitation.sent_at.is_not(None))
    if group == "not_opened":
        return query.where(Invitation.opened_at.is_(None))
    if group == "opened_not_registered":
        return query.where(Invitation.opened_at.is_not(None))
    if group == "not_answered":
        return query
    raise ValidationFailed(f"'{group}' is not a reminder group; choose one of {', '.join(REMINDER_GROUPS)}.")


def _recently_reminded(min_days: int, now: datetime):
    return Invitation.last_reminded_at > now - timedelta(days=min_days)


def reminder_counts(min_days: int, now: datetime | None = None) -> dict[str, dict[str, int]]:
    """For each group: how many would get a reminder now, and how many are skipped as reminded recently."""
    now = now or utcnow()
    counts = {}
    for group in REMINDER_GROUPS:
        sub = reminder_query(group).subquery()
        recent = sub.c.last_reminded_at > now - timedelta(days=min_days)
        row = db.session.execute(select(func.count(), func.count().filter(recent)).select_from(sub)).one()
        counts[group] = {"due": row[0] - row[1], "skipped": row[1]}
    return counts


def send_reminders(group: str, *, min_days: int, actor=None, now: datetime | None = None) -> int:
    """Remind a group, skipping anyone reminded in the last `min_days` days. Returns how many were queued."""
    now = now or utcnow()
    summit = summit_services.get_summit()
    query = reminder_query(group).where(
        or_(Invitation.last_reminded_at.is_(None), ~_recently_reminded(min_days, now))
    ).order_by(Invitation.id)
    invitations = db.session.scalars(query).all()
    for invitation in invitations:
        invitation.last_reminded_at = now
        invitation.last_contact_at = now
        enqueue(
            "reminder", to_email=invitation.email, to_name=invitation.name, invitation_id=invitation.id,
            subject="A reminder: your invitation to New Horizons", context=_mail_context(invitation, summit),
        )
        audit.record("invitation.reminded", actor=actor, invitation_id=invitation.id, group=group)
    db.session.flush()
    return len(invitations)
