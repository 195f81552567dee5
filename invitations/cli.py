"""`flask invitations import|links` and `flask summit configure|status|expire-offers`."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import select

from app.core.auth.models import Role, User
from app.core.db import db
from app.core.errors import DomainError
from app.core.text_input import SINGLE_LINE
from app.core.timefmt import parse_local
from invitations import dashboards, import_columns, people, summit_changes, waitlist
from invitations import links as invitation_links
from invitations.import_check import check_invitee_file, import_notes
from invitations.models import LIVE_STATES, Invitation
from invitations.privacy import anonymise_older_than


@click.group("invitations", help="Invitees and their personal links.")
def invitations_cli():
    pass


@invitations_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_file(file: Path):
    """Import invitees from a CSV file or an Excel workbook (.xlsx): all rows or none."""
    champions = {u.email: u.id for u in db.session.scalars(select(User).where(User.role == Role.LEADER))}
    data = file.read_bytes()
    check = check_invitee_file(data, champions.keys())
    if check.table is not None:
        remembered = import_columns.remembered_columns(check.table.headings)
        if remembered is not None:  # the columns an organiser chose in the browser for these headings
            check = check_invitee_file(data, champions.keys(), remembered=remembered)
    if not check.ok:
        problems = check.all_problems()
        for problem in problems:
            click.echo(f"{file.name}: {problem}", err=True)
        if check.needs_columns:
            click.echo(
                f"{file.name}: name the columns {', '.join(import_columns.FIELDS)}, or choose them once on the "
                "organisers' import page, which remembers the choice for files with these headings.",
                err=True,
            )
        raise click.ClickException(f"Nothing was imported: {len(problems)} problem(s) in {file.name}.")
    for note in import_notes(check):
        click.echo(f"{file.name}: {note}", err=True)
    outcome = people.import_invitees(check.rows, champions)
    db.session.commit()
    click.echo(
        f"Imported {len(check.rows)} rows: {outcome.created} new, {outcome.updated} updated, "
        f"{outcome.unchanged} unchanged."
    )


@invitations_cli.command("links")
@click.option("--base-url", required=True, help="The public address, e.g. https://newhorizons.example.org")
def links(base_url: str):
    """Print CSV `email,url`: each live invitee's personal link."""
    current_app.config["BASE_URL"] = base_url.rstrip("/")
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["email", "url"])
    for inv in db.session.scalars(
        select(Invitation).where(Invitation.state.in_(LIVE_STATES)).order_by(Invitation.email)
    ):
        writer.writerow([inv.email, invitation_links.personal_url(inv)])


@click.group("summit", help="The summit's settings and status.")
def summit_cli():
    pass


def _when(value: str | None):
    if value is None:
        return None
    try:
        return parse_local(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date and time; use e.g. 2026-10-14T09:30 (UK time).") from None


@summit_cli.command("configure")
@click.option("--capacity", type=click.IntRange(min=0))
@click.option("--target", type=click.IntRange(min=0))
@click.option("--name", type=SINGLE_LINE)
@click.option("--venue", type=SINGLE_LINE)
@click.option("--address", type=SINGLE_LINE)
@click.option("--starts", help="UK time, e.g. 2026-10-14T09:30")
@click.option("--ends", help="UK time, e.g. 2026-10-14T16:30")
@click.option("--opens", help="When registration opens (UK time)")
@click.option("--closes", help="When registration closes (UK time)")
@click.option("--hold-hours", type=click.IntRange(min=1, max=336), help="How long a waiting-list offer is held")
def configure(capacity, target, name, venue, address, starts, ends, opens, closes, hold_hours):
    """Create or change the summit."""
    try:
        summit = summit_changes.configure_summit(
            capacity=capacity,
            target=target,
            name=name,
            venue=venue,
            address=address,
            starts_at=_when(starts),
            ends_at=_when(ends),
            registration_opens_at=_when(opens),
            registration_closes_at=_when(closes),
            offer_hold_hours=hold_hours,
        )
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    click.echo(
        f"{summit.name}: capacity {summit.capacity}, target {summit.target}, {summit.places_taken} places taken."
    )


@summit_cli.command("status")
def status():
    """Print one JSON object: capacity, target, registered, offers_held, waitlisted, declined, invited."""
    try:
        waitlist.expire_offers()
        db.session.commit()
        click.echo(json.dumps(dashboards.summit_status()))
    except DomainError as error:
        raise click.ClickException(error.message) from error


@summit_cli.command("expire-offers")
def expire_offers():
    """Expire lapsed waiting-list offers and pass the places on (safe to run as often as you like)."""
    count = waitlist.expire_offers()
    db.session.commit()
    click.echo(f"Expired {count} offer(s).")


@click.group("privacy", help="Personal data after the event.")
def privacy_cli():
    pass


@privacy_cli.command("anonymise")
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=0),
    help="Days since an invitation last changed (default: PRIVACY_RETENTION_DAYS).",
)
def anonymise(days):
    """Remove names, emails, needs and notes from invitations untouched for DAYS days; counts are kept."""
    days = current_app.config["PRIVACY_RETENTION_DAYS"] if days is None else days
    try:
        count = anonymise_older_than(days)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    click.echo(f"Anonymised {count} invitation(s) untouched for {days} days or more.")
