"""The tests' support package: everything a test imports lives here (nothing imports a conftest or a test module).

This module: shared markers for tests, and waiting that holds on a busy machine.
"""

import threading
import time


def __getattr__(name: str):
    """`both_databases`: run a test against SQLite and PostgreSQL (the `app` fixture takes the database kind as its
    param). Made on first use, so that pytest is imported by the tests and not by the servers they start
    (served_app.py is in this package): it was an eighth of each server's start."""
    if name == "both_databases":
        import pytest

        globals()[name] = pytest.mark.parametrize("app", ["sqlite", "postgres"], indirect=True)
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# How long a test waits for what takes a moment on an idle machine (a thread to finish, racers to line up,
# a server to answer) before calling it broken. Generous on purpose: a loaded machine makes tests slower, not red.
PATIENCE_SECONDS = 120


class StartLine:
    """Racers wait here until `expected` of them have arrived, then all go at once: a race that really is one,
    however slowly a loaded machine lines them up. Racers arriving after the start go straight through."""

    def __init__(self, expected: int):
        self.expected = expected
        self._arrived = 0
        self._condition = threading.Condition()
        self._go = threading.Event()

    def wait(self) -> None:
        with self._condition:
            self._arrived += 1
            self._condition.notify_all()
        if not self._go.wait(PATIENCE_SECONDS):
            raise TimeoutError(f"the race was not started within {PATIENCE_SECONDS} s")

    def start_when_ready(self) -> None:
        with self._condition:
            ready = self._condition.wait_for(lambda: self._arrived >= self.expected, PATIENCE_SECONDS)
        self._go.set()  # even if some never came: the others must not wait for ever
        assert ready, f"only {self._arrived} of {self.expected} racers reached the start line in {PATIENCE_SECONDS} s"


def join_all(threads: list[threading.Thread]) -> None:
    """Wait for every thread; fail, naming them, if any is still running after PATIENCE_SECONDS."""
    deadline = time.monotonic() + PATIENCE_SECONDS
    for thread in threads:
        thread.join(max(deadline - time.monotonic(), 0))
    stuck = [thread.name for thread in threads if thread.is_alive()]
    assert not stuck, f"still running after {PATIENCE_SECONDS} s: {stuck}"


def organisers_acting_on_each_other(app, act, *, rounds: int = 5):
    """Two organisers, each at once doing `act(target, actor)` to the other, `rounds` times, each round on a fresh
    pair (the last round's pair are left inactive). Yields (the pair, their two outcomes sorted): "done", or the
    sentence of the refusal (a DomainError). For the last-organiser rules, which must hold under a race."""
    from concurrent.futures import ThreadPoolExecutor

    from app.core.auth.models import Role, User
    from app.core.db import db
    from app.core.errors import DomainError
    from tests.support import factories as f

    def one_side(target_id: int, actor_id: int, start: StartLine) -> str:
        with app.app_context():
            target, actor = db.session.get(User, target_id), db.session.get(User, actor_id)
            db.session.commit()  # end the read: the race starts from a clean transaction
            start.wait()
            try:
                act(target, actor)
                db.session.commit()
                return "done"
            except DomainError as error:
                db.session.rollback()
                return error.message

    for round_ in range(rounds):
        olive = f.user(Role.ORGANISER, name=f"Olive {round_}")
        otto = f.user(Role.ORGANISER, name=f"Otto {round_}")
        start = StartLine(2)
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(one_side, otto.id, olive.id, start), pool.submit(one_side, olive.id, otto.id, start)]
            start.start_when_ready()
            outcomes = sorted(future.result() for future in futures)
        db.session.expire_all()
        yield (olive, otto), outcomes
        for user in (olive, otto):  # the next round's pair are the only organisers left active
            db.session.get(User, user.id).active = False
        db.session.commit()
