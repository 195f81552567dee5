"""`flask users create`, `flask users token` and `flask users revoke-tokens`."""

from __future__ import annotations

import sys

import click

from app.core.auth import credentials
from app.core.auth.models import Role
from app.core.db import db
from app.core.errors import DomainError
from app.core.text_input import SINGLE_LINE


@click.group("users", help="Staff accounts.")
def users_cli():
    pass


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", required=True, type=SINGLE_LINE)
@click.option("--organisation", default="", type=SINGLE_LINE)
def create(email, role, name, organisation):
    """Create a staff account. The password is read from standard input or asked for."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    try:
        user = credentials.create_user(email, name=name, role=Role(role), password=password, organisation=organisation)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    click.echo(f"Created {user.role.value} {user.email}.")


def _account(email: str):
    user = credentials.find_user(email)
    if user is None:
        raise click.ClickException(f"There is no account for {email}.")
    return user


@users_cli.command("token")
@click.argument("email")
def token(email):
    """Print a new API token for a staff account (for scanners)."""
    value = credentials.issue_api_token(_account(email))
    db.session.commit()
    click.echo(value)


@users_cli.command("revoke-tokens")
@click.argument("email")
def revoke_tokens(email):
    """Revoke every API token of a staff account (a lost or stolen scanner). Each is refused from its next request."""
    user = _account(email)
    revoked = credentials.revoke_api_tokens(user)
    db.session.commit()
    click.echo(
        f"Revoked {revoked} API token{'s' if revoked != 1 else ''} of {user.email}; scanners using "
        f"{'them' if revoked != 1 else 'it'} are refused from their next request."
    )
