"""The door's paper: an event's expected people in surname order, as the door list PDF shows them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import selectinload

from app.badges.door_list import DoorList, DoorRow
from app.checkin.door import expected_query
from app.checkin.scans import needs_of
from app.core.collation import by_surname, split_name
from app.core.db import db, utcnow
from app.core.summit.settings import find_summit
from app.core.timefmt import span, when
from fringe_events.attendance import EventRef
from invitations.models import Invitation


def expected_in_order(event: EventRef) -> list[Invitation]:
    """Everyone the door expects at the event, by surname (app.core.collation), needs loaded with them."""
    people = db.session.scalars(expected_query(event).options(selectinload(Invitation.registration))).all()
    return by_surname(people, lambda person: person.name, lambda person: person.id)


def door_row(person: Invitation) -> DoorRow:
    parts = split_name(person.name)
    return DoorRow(
        name=parts.filed_as,
        organisation=person.organisation,
        needs=tuple(f"{need['label']}: {need['text']}" for need in needs_of(person)),
        surname=parts.surname,
    )


def door_list_for(event: EventRef, now: datetime | None = None) -> DoorList:
    """The event's door list: its title, when and where, and the people expected, in order."""
    if event.is_summit:
        summit = find_summit()
        title = summit.name if summit else event.title
        starts, ends, where = (summit.starts_at, summit.ends_at, summit.venue) if summit else (None, None, "")
    else:
        fringe = event.fringe
        title, starts, ends, where = fringe.title, fringe.starts_at, fringe.ends_at, fringe.venue
    return DoorList(
        title=title,
        when=span(starts, ends, now) if starts and ends else "",
        where=where,
        rows=tuple(door_row(person) for person in expected_in_order(event)),
        printed=f"Printed {when(now or utcnow(), now)}",
    )
