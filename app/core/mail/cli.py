"""`flask mail send-pending` and `flask mail worker`."""

from __future__ import annotations

import signal
import time

import click

from app.core.db import db
from app.core.mail import delivery, rounds


@click.group("mail", help="Deliver the outbox.")
def mail_cli():
    pass


@mail_cli.command("send-pending")
def send_pending():
    """Deliver what is due in the outbox, once."""
    outcome = delivery.send_pending()
    click.echo(f"Sent {outcome.sent}, failed {outcome.failed}, to retry later {outcome.retry}.")


@mail_cli.command("worker")
@click.option("--interval", default=2.0, show_default=True, help="Seconds to wait when nothing is due.")
def worker(interval):
    """Keep delivering the outbox until stopped (SIGTERM or Ctrl-C finishes the current message first). Every
    `interval` seconds it also runs the scheduled steps (waiting-list offers that have run out are expired and
    their places offered to the next people waiting), before the round's deliveries so their emails go with it."""
    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    worker_id = delivery.default_worker_id()
    click.echo(f"Mail worker {worker_id} running; Ctrl-C to stop.")
    last_steps = -float("inf")
    try:
        while not stopping:
            if time.monotonic() - last_steps >= interval:
                last_steps = time.monotonic()
                try:
                    for sentence in rounds.run_scheduled_steps():
                        click.echo(sentence)
                finally:
                    db.session.close()
            try:
                outcome = delivery.send_pending(worker_id=worker_id)
            finally:
                db.session.close()  # nothing read in one round is kept for the next
            if outcome.sent or outcome.failed or outcome.retry:
                click.echo(f"Sent {outcome.sent}, failed {outcome.failed}, to retry later {outcome.retry}.")
            else:
                time.sleep(interval)
    except KeyboardInterrupt:
        pass
    click.echo("Mail worker stopped.")
