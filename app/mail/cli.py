"""`flask mail send-pending` and `flask mail worker`."""
from __future__ import annotations

import time

import click

from app.mail import delivery


@click.group("mail", help="Deliver the outbox.")
def mail_cli():
    pass


@mail_cli.command("send-pending")
def send_pending():
    """Deliver what is waiting in the outbox, once."""
    outcome = delivery.send_pending()
    click.echo(f"Sent {outcome.sent}, failed {outcome.failed}, to retry {outcome.retry}.")


@mail_cli.command("worker")
@click.option("--interval", default=5.0, show_default=True, help="Seconds to wait when the outbox is empty.")
def worker(interval):
    """Keep delivering the outbox until stopped."""
    click.echo("Mail worker running; Ctrl-C to stop.")
    while True:
        outcome = delivery.send_pending()
        if outcome.sent or outcome.failed or outcome.retry:
            click.echo(f"Sent {outcome.sent}, failed {outcome.failed}, to retry {outcome.retry}.")
        if outcome.sent == 0:
            time.sleep(interval)
