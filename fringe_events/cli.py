"""`flask fringe list|calendar`: the fringe programme from the command line."""

from __future__ import annotations

import csv
import sys

import click
from sqlalchemy import select

from app.core.db import db
from fringe_events import calendars, history
from fringe_events.models import FringeEvent


@click.group("fringe", help="The fringe events.")
def fringe_cli():
    pass


@fringe_cli.command("list")
def list_events():
    """Print CSV: slug, starts (UTC), title, venue, capacity, signed up, attended, status."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["slug", "starts_at", "title", "venue", "capacity", "signed_up", "attended", "status"])
    for summary in history.event_summaries():
        e = summary.event
        writer.writerow(
            [
                e.slug,
                e.starts_at.isoformat(),
                e.title,
                e.venue,
                "" if e.capacity is None else e.capacity,
                e.places_taken,
                summary.attended,
                e.status.value,
            ]
        )


@fringe_cli.command("calendar")
@click.argument("slug")
def calendar(slug: str):
    """Print an event's public .ics ('summit' for the summit's)."""
    if slug == "summit":
        body = calendars.public_summit_calendar()
    else:
        event = db.session.scalars(select(FringeEvent).where(FringeEvent.slug == slug)).first()
        if event is None:
            raise click.ClickException(f"There is no fringe event '{slug}'. `flask --app wsgi fringe list` shows them.")
        body = calendars.public_event_calendar(event)
    click.echo(body.decode(), nl=False)
