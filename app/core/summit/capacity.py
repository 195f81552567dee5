"""The summit's capacity gate (invariant 1): a place is taken by one conditional UPDATE, and given back in
its own. The fringe events' gate is fringe_events.signups."""

from __future__ import annotations

from sqlalchemy import update

from app.core.db import changed, db
from app.core.summit.models import Summit


def take_summit_place(summit_id: int) -> bool:
    """Take one place if there is one. The conditional UPDATE is the whole guarantee: one statement
    that both checks and increments, so two transactions can never both see the last place free."""
    result = db.session.execute(
        update(Summit)
        .where(Summit.id == summit_id, Summit.places_taken < Summit.capacity)
        .values(places_taken=Summit.places_taken + 1)
        # "fetch" keeps a Summit already loaded in this session in step with the row.
        .execution_options(synchronize_session="fetch")
    )
    return changed(result) == 1


def release_summit_place(summit_id: int) -> None:
    db.session.execute(
        update(Summit)
        .where(Summit.id == summit_id, Summit.places_taken > 0)
        .values(places_taken=Summit.places_taken - 1)
        .execution_options(synchronize_session="fetch")
    )
