"""`flask db upgrade` and `flask demo`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.core.db import db

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config():
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = db.engine
    return config


def schema_version(revision: str | None) -> str:
    """0003 for the revision 0003_erased_at: the number the migrations are named by."""
    return (revision or "none").split("_", 1)[0]


def database_place() -> str:
    """Where the database is, as a person would look for it: a SQLite file's path (relative to here when it
    is below), or a server's address without its password."""
    from sqlalchemy import make_url

    url = make_url(current_app.config["DATABASE_URL"])
    if url.get_backend_name() == "sqlite" and url.database:
        path = Path(url.database).resolve()
        return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)
    return url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)


def current_revision() -> str | None:
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_database(revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the schema to `revision`; the revisions before and after (None: no schema yet)."""
    from alembic import command

    url = current_app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
    before = current_revision()
    command.upgrade(alembic_config(), revision)
    return before, current_revision()


def upgrade_report(before: str | None, after: str | None, place: str, *, server: bool = False) -> str:
    """What `db upgrade` did, in a sentence. On a database server the database was there already: its tables weren't."""
    if before is None:
        made = "Created the tables in the database" if server else "Created the database"
        return f"{made} at {place}, schema version {schema_version(after)}."
    if before == after:
        return f"The database at {place} is up to date: schema version {schema_version(after)}."
    return f"Upgraded the database at {place} from schema version {schema_version(before)} to {schema_version(after)}."


@click.group("db", help="The database schema.")
def db_cli():
    pass


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision):
    """Bring the schema up to date (Alembic migrations), and say what that did."""
    before, after = upgrade_database(revision)
    server = not current_app.config["DATABASE_URL"].startswith("sqlite")
    click.echo(upgrade_report(before, after, database_place(), server=server))


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def revision(message):
    """Write a new migration from the models (for developers)."""
    from alembic import command

    import app.models  # noqa: F401  (every table)

    command.revision(alembic_config(), message=message, autogenerate=True)


@click.command("demo", help="Load the demo summit, leaders and invitees (safe to run again).")
def demo_command():
    from fringe_events.demo import load_fringe_demo
    from invitations.demo import DEMO_PASSWORD, demo_accounts, load_demo

    outcome = load_demo()
    fringe = load_fringe_demo()
    db.session.commit()
    click.echo(
        f"Demo loaded: {outcome['invitations_created']} new invitations, {outcome['users']} staff accounts, "
        f"{fringe['fringe_events_created']} new fringe events."
    )
    click.echo(f"Sign in at {current_app.config['BASE_URL']}/sign-in with password {DEMO_PASSWORD!r} as:")
    for role, email in demo_accounts().items():
        click.echo(f"  {role:<10} {email}")


@click.command("backup", help="Write a consistent copy of the SQLite database to FILE while the app runs.")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(file: Path):
    """SQLite's online backup API copies a consistent snapshot page by page; writers keep working."""
    import sqlite3

    if db.engine.dialect.name != "sqlite":
        raise click.ClickException(
            "This database is PostgreSQL: back it up with pg_dump (see the README), e.g. "
            'pg_dump --format=custom --file=newhorizons.dump "$DATABASE_URL".'
        )
    if file.exists():
        raise click.ClickException(f"{file} already exists; choose a new file name so no backup is overwritten.")
    file.parent.mkdir(parents=True, exist_ok=True)
    source = db.engine.raw_connection()
    try:
        target = sqlite3.connect(file)
        with target:
            assert source.driver_connection is not None
            source.driver_connection.backup(target, pages=256)
        target.close()
    finally:
        source.close()
    check = sqlite3.connect(file)
    try:
        result = check.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        check.close()
    if result != "ok":
        raise click.ClickException(f"The backup in {file} failed its integrity check: {result}")
    click.echo(f"Backed up to {file} ({file.stat().st_size:,} bytes); integrity check ok.")


@click.command("check", help="Recompute every counter from the rows and list every inconsistency (exit 1 if any).")
@click.option("--repair", is_flag=True, help="Set drifted counters from the rows, in one audited transaction.")
@with_appcontext
def check_command(repair: bool):
    """`summit check`: the places counted must equal the places held (invariant 1), for the summit, each
    limited option of a registration question and each fringe event; and nobody may hold a place, an offer or a queue position their state says they don't."""
    from app.badges.wallet_setup import setup_warnings
    from fringe_events.consistency import fringe_findings, repair_counters
    from invitations.consistency import option_findings, repair_counter, repair_option_counters, summit_findings

    if repair:
        before = repair_counter()
        fringe = repair_counters()
        options = repair_option_counters()
        db.session.commit()
        if before is not None:
            click.echo(f"Repaired the summit's places counter (was {before}).")
        if fringe:
            click.echo(f"Repaired {fringe} fringe event counter(s).")
        if options:
            click.echo(f"Repaired {options} question option counter(s).")
        if before is None and not fringe and not options:
            click.echo("No counter needed repairing.")
    if db.engine.dialect.name == "postgresql":
        # One snapshot for every query, so transactions committing meanwhile can't look like drift.
        db.session.rollback()
        db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    findings = summit_findings() + option_findings() + fringe_findings()
    db.session.rollback()
    for warning in setup_warnings(current_app.config):
        click.echo(f"Warning: {warning}")
    if not findings:
        click.echo(
            "summit check: every counter agrees with the rows, and nobody holds what their state says they don't."
        )
        return
    headers = ("check", "expected", "found", "detail")
    rows = [(f.check, f.expected, f.found, f.detail) for f in findings]
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(3)]
    click.echo(f"summit check: {len(findings)} problem(s)")
    for row in [headers, *rows]:
        click.echo("  ".join(str(cell).ljust(width) for cell, width in zip(row[:3], widths)) + "  " + row[3])
    if any(f.repairable for f in findings) and not repair:
        click.echo("Run `flask --app wsgi summit check --repair` to set the drifted counters from the rows.")
    raise SystemExit(1)
