"""The organisers' audit log in sentences: "Ann Smith changed the capacity from 350 to 320", "Leo Leader stopped
chasing Jane Doe", with people, leaders and events named and linked to their pages.

One renderer per action kind the code records (SENTENCES); an action without one still reads as words, with
its details as "what: value" pairs, never as raw JSON. tests/integration/test_audit_log.py finds every
kind the code writes and checks each has its renderer here."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from flask import Blueprint, abort, render_template, request, url_for
from sqlalchemy import func, select

from app.core import paging
from app.core.audit import AuditEvent
from app.core.auth.decorators import organiser_required
from app.core.auth.models import Role, User
from app.core.db import db
from app.core.mail.wording_defaults import KINDS
from app.core.timefmt import when
from fringe_events.models import FringeEvent
from invitations.models import Invitation, InvitationState

bp = Blueprint("audit", __name__, url_prefix="/organiser/audit")
PAGE_SIZE = 100
ERASED_PERSON = "an erased delegate"


@dataclass(frozen=True)
class Link:
    text: str
    url: str | None = None


Part = str | Link


@dataclass
class Names:
    """Everyone and everything a page of events mentions, fetched in one query per kind."""

    people: dict[int, Invitation] = field(default_factory=dict)
    users: dict[int, User] = field(default_factory=dict)
    events: dict[int, FringeEvent] = field(default_factory=dict)
    events_by_slug: dict[str, FringeEvent] = field(default_factory=dict)

    @classmethod
    def for_events(cls, events: Iterable[AuditEvent]) -> Names:
        events = list(events)
        people, users, fringe, slugs = set(), set(), set(), set()
        for e in events:
            d = e.details or {}
            people |= {i for i in (e.invitation_id, d.get("to_invitation")) if isinstance(i, int)}
            users |= {i for i in (e.actor_id, d.get("champion_id"), d.get("user_id")) if isinstance(i, int)}
            for side in ("before", "after"):
                if isinstance(d.get(side), dict) and isinstance(d[side].get("champion_id"), int):
                    users.add(d[side]["champion_id"])
            fringe |= {i for i in (d.get("event_id"), d.get("copied_from_id")) if isinstance(i, int)}
            if isinstance(d.get("event"), str):
                slugs.add(d["event"])

        def load(model, ids, column):
            return list(db.session.scalars(select(model).where(column.in_(ids)))) if ids else []

        found = cls()
        found.people = {p.id: p for p in load(Invitation, people, Invitation.id)}
        found.users = {u.id: u for u in load(User, users, User.id)}
        for ev in load(FringeEvent, fringe, FringeEvent.id) + load(FringeEvent, slugs, FringeEvent.slug):
            found.events[ev.id] = ev
            found.events_by_slug[ev.slug] = ev
        return found

    def person(self, invitation_id) -> Link:
        person = self.people.get(invitation_id) if isinstance(invitation_id, int) else None
        if person is None:
            return Link("someone no longer on the list")
        url = url_for("organiser.invitation", invitation_id=person.id)
        if person.erased_at is not None:  # their name is gone from the row, and so from every sentence
            return Link(ERASED_PERSON, url)
        return Link(person.name, url)

    def user(self, user_id, label: str = "") -> Link:
        user = self.users.get(user_id) if isinstance(user_id, int) else None
        if user is None:
            return Link(label or "the system")
        if user.role == Role.LEADER:
            return Link(user.name, url_for("dashboards.leader_view", leader_id=user.id))
        return Link(user.name)

    def event(self, details: dict) -> Link:
        event_id = details.get("event_id")
        ev = (self.events.get(event_id) if isinstance(event_id, int) else None) or self.events_by_slug.get(
            str(details.get("event") or "")
        )
        if ev is not None:
            return Link(ev.title, url_for("fringe_organiser.event", event_id=ev.id))
        if details.get("event") == "summit":
            return Link("the summit")
        return Link(details.get("title") or "a fringe event that no longer exists")


def _state(value) -> str:
    try:
        return InvitationState(value).label.lower()
    except ValueError:
        return str(value)


def _plural(n, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _from_to(changes) -> list[Part]:
    """[[label, before, after], …] as "the capacity from 350 to 320; the name from … to …"."""
    parts: list[Part] = []
    for n, change in enumerate(changes or []):
        label, before, after = (list(change) + ["", "", ""])[:3]
        parts.append(("; " if n else "") + f"the {str(label).lower()} from {before} to {after}")
    return parts


_DETAIL_WORDS = {"email": "email", "name": "name", "organisation": "organisation", "job_title": "job title"}


def _details_changed(e: AuditEvent, names: Names) -> list[Part]:
    """ "the name; the organisation from “A” to “B”": a person's own details (`changed`) are named, never
    quoted (app.core.audit.changes); a row written before that quotes them from and to."""
    details = e.details or {}
    before, after = details.get("before") or {}, details.get("after") or {}
    named = [key for key in details.get("changed") or [] if isinstance(key, str)]
    parts: list[Part] = []
    for key in sorted(
        set(before) | set(after) | set(named), key=lambda k: list(_DETAIL_WORDS).index(k) if k in _DETAIL_WORDS else 9
    ):
        if key not in named and before.get(key) == after.get(key):
            continue
        parts.append("; " if parts else "")
        if key in named and key not in before and key not in after:
            parts.append(f"the {_DETAIL_WORDS.get(key, key.replace('_', ' '))}")
        elif key == "champion_id":
            parts += [
                "the champion from ",
                names.user(before.get(key), "nobody"),
                " to ",
                names.user(after.get(key), "nobody"),
            ]
        else:
            label = _DETAIL_WORDS.get(key, key.replace("_", " "))
            parts.append(f"the {label} from “{before.get(key) or ''}” to “{after.get(key) or ''}”")
    return parts


def _told(n) -> str:
    return f" ({_plural(n, 'person', 'people')} told)" if n else ""


Sentence = Callable[[AuditEvent, Names, Link], list[Part]]


def _summit_configured(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    d = e.details or {}
    changed = list(d.get("settings") or []) + list(d.get("changes") or [])
    if not changed:
        return [who, " saved the summit's settings without changing them."]
    told = d.get("notified") or 0
    tail = f" ({_plural(told, 'registered delegate')} sent the new calendar entry)." if told else "."
    return [who, " changed ", *_from_to(changed), tail]


def _wording(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    d = e.details or {}
    kind = KINDS.get(d.get("kind", ""))
    label = f"the {kind.label.lower()} email" if kind else f"the {d.get('kind', '')} email"
    before, after = d.get("before") or {}, d.get("after") or {}
    done = (
        " put " + label + " back to its default wording" if e.action == "mail.wording_reset" else " reworded " + label
    )
    parts: list[Part] = [who, done]
    if before.get("subject") != after.get("subject"):
        parts.append(f": the subject from “{before.get('subject', '')}” to “{after.get('subject', '')}”")
    if before.get("body") != after.get("body"):
        parts.append(" and its message" if len(parts) > 2 else ": its message")
    return [*parts, "."]


def _summit_set_up(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    d = e.details or {}
    return [
        who,
        f" set up the summit: {d.get('name', '')}, {d.get('when', '')} at {d.get('venue', '')}, "
        f"{_plural(d.get('capacity', 0), 'place')} with a target of {d.get('target', 0)}.",
    ]


def _champion(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    d = e.details or {}
    how = (
        f" (everyone at {d['organisation']} without one)"
        if d.get("how") == "organisation" and d.get("organisation")
        else ""
    )
    if d.get("champion_id") is None:
        return [who, " removed the champion of ", names.person(e.invitation_id), f"{how}."]
    return [who, " made ", names.user(d["champion_id"]), " the champion of ", names.person(e.invitation_id), f"{how}."]


def _fringe_changed(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    d = e.details or {}
    if not d.get("changes"):
        return [who, " edited ", names.event(d), "'s description (nothing in calendars changed)."]
    return [who, " changed ", names.event(d), ": ", *_from_to(d["changes"]), _told(d.get("notified")) + "."]


def _fringe_cancelled(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    d = e.details or {}
    why = f" “{d['reason']}”" if d.get("reason") else ""
    return [who, " cancelled ", names.event(d), f"{_told(d.get('notified'))}.{why}"]


def _did(before: str, after: str = ".", *, at: bool = False) -> Sentence:
    """ "{who}{before}{the person}{after}", and " at {the event}." when `at`: most actions read so."""

    def render(e: AuditEvent, names: Names, who: Link) -> list[Part]:
        parts: list[Part] = [who, before, names.person(e.invitation_id), after]
        return parts + [" at ", names.event(e.details or {}), "."] if at else parts

    return render


def _counter(what: str, counted: str) -> Sentence:
    def render(e: AuditEvent, names: Names, who: Link) -> list[Part]:
        d = e.details or {}
        place: list[Part] = [" at ", names.event(d)] if what == "fringe" else [" for the summit"]
        return [
            who,
            " set the count of places taken",
            *place,
            f" from {d.get('before')} to {d.get('after')}, {counted}.",
        ]

    return render


def _revoked(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    was = _state((e.details or {}).get("before"))
    return [who, " revoked the invitation of ", names.person(e.invitation_id), f" (they were {was})."]


# The groups reminders went to before organisers could filter them, as they were recorded then.
_OLD_REMINDER_GROUPS = {
    "not_answered": "everyone who hadn't answered",
    "not_opened": "those who hadn't opened their invitation",
    "opened_not_registered": "those who opened it but hadn't registered",
}


def _reminded(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    group = str((e.details or {}).get("group", "") or "a reminder group")
    group = _OLD_REMINDER_GROUPS.get(group, group[:1].lower() + group[1:])
    return [who, " sent ", names.person(e.invitation_id), f" a reminder (to: {group})."]


def _scheduled(verb: str):
    def render(e: AuditEvent, names: Names, who: Link) -> list[Part]:
        d = e.details or {}
        when = _at_words(d.get("due_at"))
        group = str(d.get("group", "") or "a group")
        group = group[:1].lower() + group[1:]
        kind = d.get("kind", "messages")
        if verb == "sent":
            return [f"The {kind} scheduled by ", who, f" went: {_plural(d.get('count', 0), 'message')} to {group}."]
        return [who, f" {verb} {kind} to {group}, for {when}."]

    return render


def _scheduled_dropped(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    d = e.details or {}
    reason = str(d.get("reason") or "the group they were for no longer exists.")
    return [f"The {d.get('kind', 'messages')} scheduled by ", who, f" were not sent: {reason[:1].lower()}{reason[1:]}"]


def _at_words(iso: object) -> str:
    try:
        return when(datetime.fromisoformat(str(iso)))
    except ValueError:
        return "a time no longer known"


def _handed_on(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    colleague = names.person((e.details or {}).get("to_invitation"))
    return [names.person(e.invitation_id), " handed their invitation on to ", colleague, "."]


def _imported(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    d = e.details or {}
    return [
        who,
        f" imported invitees: {_plural(d.get('created', 0), 'new invitation')}, {d.get('updated', 0)} updated"
        + (f", {d['unchanged']} unchanged." if "unchanged" in d else "."),
    ]


def _anonymised(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    d = e.details or {}
    many = _plural(d.get("count", 0), "invitation")
    return [
        f"{many} untouched for {d.get('older_than_days')} days had their personal data removed, as the retention rule says."
    ]


def _mail_retried(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    message_id = (e.details or {}).get("message_id")
    message: Part = (
        Link("the message", url_for("mail.message", message_id=message_id))
        if isinstance(message_id, int)
        else "a message"
    )
    return [who, " sent an email to ", names.person(e.invitation_id), " again (", message, ")."]


def _texts_sent(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    d = e.details or {}
    people = _plural(d.get("recipients", 0), "text")
    fragments = _plural(d.get("fragments", 0), "fragment")
    label = str(d.get("audience_label") or "a group")
    return [who, " sent ", Link(people, url_for("texts.index")), f" to {label} ({fragments} each)."]


def _texts_stopped(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    how = " from the link in a text" if (e.details or {}).get("how") == "link" else " from their page"
    return [names.person(e.invitation_id), f" stopped texts{how}."]


def _badge_role(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    d = e.details or {}
    return [who, " changed ", names.person(e.invitation_id), f"'s badge from {d.get('before')} to {d.get('after')}."]


def _printed(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    d = e.details or {}
    which = str(d.get("filter", "")).replace("-", " ")
    return [who, f" printed {_plural(d.get('count', 0), 'badge')} ({which}, {d.get('layout', '')})."]


def _reprinted(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    where = {"scanner": " at the door", "invitation": ""}.get((e.details or {}).get("via", ""), "")
    return [who, " printed ", names.person(e.invitation_id), f"'s badge again{where} (the same code)."]


def _no_place_printed(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    d = e.details or {}
    bands = ", ".join(f"{count} {band}" for band, count in sorted((d.get("bands") or {}).items()))
    return [who, f" printed {_plural(d.get('count', 0), 'badge')} with no delegate place ({bands}; no QR code)."]


def _fringe_created(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    d = e.details or {}
    parts: list[Part] = [who, " added the fringe event ", names.event(d)]
    if d.get("copied_from_id"):
        parts += [" as a copy of ", names.event({"event_id": d["copied_from_id"], "title": d.get("copied_from", "")})]
    return [*parts, "."]


def _reinstated(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    return [who, " put ", names.event(e.details or {}), " back on", _told((e.details or {}).get("notified")) + "."]


def _details_sentence(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    return [who, " changed ", names.person(e.invitation_id), "'s details: ", *_details_changed(e, names), "."]


def _erased(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    person = names.person(e.invitation_id)
    if person.text == ERASED_PERSON:
        return [Link("A delegate", person.url), " had their personal data erased, as they asked."]
    return ["A delegate had their personal data erased, as they asked (", person, ")."]


def _tokens_revoked(e: AuditEvent) -> str:
    n = (e.details or {}).get("tokens_revoked") or 0
    return f", and {_plural(n, 'scanner API token')} stopped working" if n else ""


def _staff_account(done: str) -> Sentence:
    """An organiser's change to a staff account: "Ann Smith deactivated Sam Steward's account (…)."."""

    def render(e: AuditEvent, names: Names, who: Link) -> list[Part]:
        person = names.user((e.details or {}).get("user_id"), "a staff account that no longer exists")
        if done == "deactivated":
            return [who, " deactivated ", person, f"'s account: signed out everywhere{_tokens_revoked(e)}."]
        return [who, " reactivated ", person, "'s account."]

    return render


def _password_changed(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    return [who, f" changed their password, which signed out their other sign-ins{_tokens_revoked(e)}."]


def _signed_out_everywhere(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    return [who, f" signed out everywhere{_tokens_revoked(e)}."]


def _staff_person(e: AuditEvent, names: Names) -> Link:
    return names.user((e.details or {}).get("user_id"), "a staff account that no longer exists")


_ROLE_WORDS = {"organiser": "an organiser", "leader": "a leader", "steward": "a steward"}


def _invited(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    role = _ROLE_WORDS.get(str((e.details or {}).get("role")), "a member of staff")
    source = " (an unknown champion in an invitee list)" if (e.details or {}).get("source") == "import" else ""
    return [who, " invited ", _staff_person(e, names), f" to the team as {role}{source}."]


def _invitation_resent(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    return [who, " re-sent ", _staff_person(e, names), "'s invitation to the team; the earlier link stopped working."]


def _invitation_withdrawn(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    return [who, " withdrew ", _staff_person(e, names), "'s invitation to the team; its link stopped working."]


def _joined(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    details = e.details or {}
    if details.get("with_council_account"):
        how = "by signing in with their council account"
    elif details.get("with_password"):
        how = "choosing a password"
    else:
        how = "to sign in from emailed links"
    return [who, f" accepted their invitation to the team, {how}."]


def _signed_in_with_council_account(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    return [who, " signed in with their council account."]


def _role_changed(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    details = e.details or {}
    before, after = _ROLE_WORDS[details["before"]], _ROLE_WORDS[details["after"]]
    tail = f": signed out everywhere{_tokens_revoked(e)}." if details.get("signed_out") else "."
    return [who, " changed ", _staff_person(e, names), f"'s role from {before} to {after}{tail}"]


def _password_reset(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    return [
        who,
        f" set a new password from an emailed reset link, which signed out every other sign-in{_tokens_revoked(e)}.",
    ]


def _question_changed(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    d = e.details or {}
    change = str(d.get("change") or "changed")
    verb = {"added": "added", "edited": "edited", "hid": "hid", "showed": "showed", "deleted": "deleted"}.get(
        change, change
    )
    return [who, f" {verb} the registration question “{d.get('question', '')}”."]


def _option_counter(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    d = e.details or {}
    return [
        who,
        f" recounted the places of the option “{d.get('option', '')}” from the answers: "
        f"{d.get('before')} to {d.get('after')}.",
    ]


SENTENCES: dict[str, Sentence] = {
    "invitation.created": _did(" invited "),
    "invitation.updated": _details_sentence,
    "invitation.revoked": _revoked,
    "invitation.sent": _did(" sent ", " their invitation."),
    "invitation.reminded": _reminded,
    "invitation.link_reissued": _did(" gave ", " a new personal link; the old one stopped working."),
    "invitation.champion_assigned": _champion,
    "invitation.handed_on": _handed_on,
    "invitations.imported": _imported,
    "leader.nudged": _did(" nudged "),
    "leader.noted": _did(" added a note about "),
    "leader.dont_chase": _did(" stopped chasing "),
    "leader.chase_again": _did(" started chasing ", " again."),
    "summit.configured": _summit_configured,
    "summit.set_up": _summit_set_up,
    "question.changed": _question_changed,
    "question.counter_repaired": _option_counter,
    "scheduled_send.created": _scheduled("scheduled"),
    "scheduled_send.cancelled": _scheduled("cancelled the"),
    "scheduled_send.sent": _scheduled("sent"),
    "scheduled_send.dropped": _scheduled_dropped,
    "summit.counter_repaired": _counter("summit", "recounted from the registrations and offers"),
    "privacy.erased_on_request": _erased,
    "privacy.anonymised": _anonymised,
    "mail.retried": _mail_retried,
    "texts.sent": _texts_sent,
    "texts.stopped": _texts_stopped,
    "texts.started": lambda e, names, who: [names.person(e.invitation_id), " asked for texts on the day again."],
    "mail.wording_changed": _wording,
    "mail.wording_reset": _wording,
    "badge.role_changed": _badge_role,
    "badge.code_reissued": _did(" gave ", " a new badge code; the old badge stopped working."),
    "badges.printed": _printed,
    "badge.reprinted": _reprinted,
    "badges.no_place_printed": _no_place_printed,
    "checkin.undone": _did(" undid the check-in of ", "", at=True),
    "fringe.created": _fringe_created,
    "fringe.changed": _fringe_changed,
    "fringe.cancelled": _fringe_cancelled,
    "fringe.reinstated": _reinstated,
    "fringe.counter_repaired": _counter("fringe", "recounted from the sign-ups"),
    "fringe.attendance_marked": _did(" marked ", " as attended", at=True),
    "fringe.walk_in_recorded": _did(" recorded ", " as a walk-in", at=True),
    "fringe.attendance_undone": _did(" undid the attendance of ", "", at=True),
    "staff.deactivated": _staff_account("deactivated"),
    "staff.reactivated": _staff_account("reactivated"),
    "staff.password_changed": _password_changed,
    "staff.signed_out_everywhere": _signed_out_everywhere,
    "staff.invited": _invited,
    "staff.invitation_resent": _invitation_resent,
    "staff.invitation_withdrawn": _invitation_withdrawn,
    "staff.joined": _joined,
    "staff.signed_in_with_council_account": _signed_in_with_council_account,
    "staff.role_changed": _role_changed,
    "staff.password_reset": _password_reset,
}


def _fallback(e: AuditEvent, names: Names, who: Link) -> list[Part]:
    """An action with no sentence of its own: its name in words, and its details as pairs."""
    words = e.action.replace(".", ": ", 1).replace("_", " ")
    parts: list[Part] = [who, f" — {words}"]
    if e.invitation_id:
        parts += [" (", names.person(e.invitation_id), ")"]
    pairs = [
        f"{key.replace('_', ' ')}: {value}"
        for key, value in (e.details or {}).items()
        if not isinstance(value, dict | list)
    ]
    return parts + ([". " + "; ".join(pairs) + "."] if pairs else ["."])


def sentence(e: AuditEvent, names: Names) -> list[Part]:
    who = names.user(e.actor_id, e.actor_label)
    render = SENTENCES.get(e.action, _fallback)
    try:
        parts = render(e, names, who)
    except (KeyError, TypeError, ValueError, AttributeError):  # details written before a field existed
        parts = _fallback(e, names, who)
    return _capitalised(parts)


def _capitalised(parts: list[Part]) -> list[Part]:
    """A sentence starts with a capital, "The system sent …" included."""
    if parts and isinstance(parts[0], Link) and parts[0].text[:1].islower():
        return [Link(parts[0].text[:1].upper() + parts[0].text[1:], parts[0].url), *parts[1:]]
    if parts and isinstance(parts[0], str) and parts[0][:1].islower():
        return [parts[0][:1].upper() + parts[0][1:], *parts[1:]]
    return parts


def sentences(events: Iterable[AuditEvent]) -> list[tuple[AuditEvent, list[Part]]]:
    events = list(events)
    names = Names.for_events(events)
    return [(e, sentence(e, names)) for e in events]


@bp.app_template_global("audit_sentences")
def audit_sentences(events):
    """For the organisers' invitation page: its history in the same sentences."""
    return sentences(events)


ACTION_WORDS = {
    "invitation.": "Invitations",
    "invitations.": "Imports",
    "leader.": "Leaders' chasing",
    "summit.": "The summit",
    "fringe.": "Fringe events",
    "badge": "Badges",
    "checkin.": "Check-in",
    "mail.": "Mail",
    "privacy.": "Privacy",
    "staff.": "Staff accounts",
}


@bp.get("/")
@organiser_required
def audit_log():
    query = select(AuditEvent)
    action = (request.args.get("action") or "").strip()
    if action:
        query = query.where(AuditEvent.action.like(f"{action}%"))
    actor = (request.args.get("actor") or "").strip()
    if actor:
        query = query.where(func.lower(AuditEvent.actor_label).like(f"%{actor.lower()}%"))
    invitation = request.args.get("invitation") or ""
    if invitation:
        if not invitation.isdigit():
            abort(400)
        query = query.where(AuditEvent.invitation_id == int(invitation))
    page = paging.requested_page(db.session.scalar(select(func.count()).select_from(query.subquery())) or 0, PAGE_SIZE)
    events = db.session.scalars(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    return render_template(
        "dashboards/audit_log.html",
        rows=sentences(events),
        actions=ACTION_WORDS,
        args=request.args,
        page=page,
        has_more=len(events) == PAGE_SIZE,
    )
